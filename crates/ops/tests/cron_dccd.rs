//! `cron-dccd` on a temporary home: a DCC server and a greylist server
//! started through `start-dccd` and `start-grey` from the same
//! `dcc_conf`, log files old and new in the main and per-user log
//! directories. While the servers run, they are asked to clean their
//! databases; once stopped, dbclean cleans them.

use std::fs;
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use tally_e2e::bins;
use tally_e2e::dccd::free_udp_port;
use tally_e2e::mailer::Outbox;
use tally_e2e::tmp::TempDir;

const DAY: u64 = 86_400;

fn cron(home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cron-dccd"))
        .args(["-h", &home.display().to_string()])
        .output()
        .expect("run cron-dccd")
}

/// A file `days` old (and a minute).
fn old_file(path: &Path, days: u64) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, "log\n").unwrap();
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(days * DAY + 60))
        .unwrap();
}

fn start(prog: &str, home: &Path, log: &str) -> Child {
    let out = fs::File::create(home.join(log)).unwrap();
    Command::new(prog)
        .args(["-h", &home.display().to_string()])
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("start")
}

/// Wait (at most 10 s) until something has bound UDP `port` of 127.0.0.1.
fn wait_bound(port: u16, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if UdpSocket::bind(("127.0.0.1", port)).is_err() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "exited {st}: {}",
                fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "nothing on port {port}: {}",
        fs::read_to_string(log).unwrap_or_default()
    );
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn cleans_databases_and_old_logs_while_the_servers_run_and_after() {
    for b in ["dccd", "dbclean", "cdcc"] {
        if let Err(e) = bins::binary(b) {
            eprintln!("skipped: {b} not built: {e:?}");
            return;
        }
    }
    let dir = TempDir::new("ops-cron").unwrap();
    let home = dir.path();
    let (port, gport) = (free_udp_port().unwrap(), free_udp_port().unwrap());
    let ids = home.join("ids");
    fs::write(&ids, "32800 clientpw\n1100 serverpw\n1101 greypw\n").unwrap();
    fs::set_permissions(&ids, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    fs::write(
        home.join("dcc_conf"),
        format!(
            "DCCUID=\nDCCD_ENABLE=on\nSRVR_ID=1100\nBRAND=crontest\n\
             DCCD_ARGS=\"-a 127.0.0.1,{port}\"\n\
             GREY_CLIENT_ARGS=on\nGREY_SRVR_ID=1101\nGREY_DCCD_ARGS=\"-a 127.0.0.1,{gport}\"\n\
             DCCM_LOGDIR=\"D?log\"\nDCCM_USERDIRS=userdirs\n\
             DCCIFD_LOGDIR=/nonexistent\nDCCIFD_USERDIRS=\"$DCCM_USERDIRS/local\"\n\
             DBCLEAN_LOGDAYS=7\nDBCLEAN_ARGS=\"-e 2d -E 30d\"\n"
        ),
    )
    .unwrap();
    let old = [
        "log/msg.aaa",
        "log/001/msg.bbb",
        "log/tmp.ccc",
        "userdirs/local/bob/log/msg.ddd",
        "userdirs/esmtp/alice/log/002/03/msg.eee",
    ];
    let kept = [
        "log/msg.new",
        "log/002/msg.new",
        "userdirs/local/bob/log/msg.new",
        "userdirs/local/bob/whiteclnt",
    ];
    for f in old {
        old_file(&home.join(f), 8);
    }
    for (f, days) in kept.iter().zip([6, 0, 1, 400]) {
        old_file(&home.join(f), days);
    }
    old_file(&home.join("log/tmp.young"), 1);

    let mut dccd = start(env!("CARGO_BIN_EXE_start-dccd"), home, "dccd.log");
    wait_bound(port, &mut dccd, &home.join("dccd.log"));
    let mut grey = start(env!("CARGO_BIN_EXE_start-grey"), home, "grey.log");
    wait_bound(gport, &mut grey, &home.join("grey.log"));

    let out = cron(home);
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("{err}");
    assert!(out.status.success(), "{out:?}");
    assert!(
        err.contains("greylist database of the running server-ID 1101 cleaned by the server"),
        "{err}"
    );
    assert!(
        err.contains("DCC database of the running server-ID 1100 cleaned by the server"),
        "{err}"
    );
    assert!(
        err.contains("removed 5 log files older than 7 days and 3 empty directories"),
        "{err}"
    );
    for f in old {
        assert!(!home.join(f).exists(), "{f} removed");
    }
    for f in kept.iter().chain(&["log/tmp.young"]) {
        assert!(home.join(f).exists(), "{f} kept");
    }
    assert!(!home.join("log/001").exists() && home.join("log/002").exists());
    assert!(!home.join("userdirs/esmtp/alice/log/002").exists());

    stop(dccd);
    stop(grey);
    let cleaned = |log: &str| {
        fs::read_to_string(home.join(log))
            .unwrap_or_default()
            .contains("database cleaned")
    };
    assert!(
        cleaned("dccd.log"),
        "{}",
        fs::read_to_string(home.join("dccd.log")).unwrap()
    );
    assert!(
        cleaned("grey.log"),
        "{}",
        fs::read_to_string(home.join("grey.log")).unwrap()
    );

    // the servers stopped: dbclean itself
    let out = cron(home);
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("{err}");
    assert!(out.status.success(), "{out:?}");
    assert!(
        err.contains("greylist database of server-ID 1101 cleaned by dbclean"),
        "{err}"
    );
    assert!(
        err.contains("DCC database of server-ID 1100 cleaned by dbclean"),
        "{err}"
    );
    assert!(err.contains("removed 0 log files"), "{err}");
}

/// The notification step: with `WEBUSER_NOTIFY_URL` set, the users with
/// new log files are handed to `webuser-notify`, which mails those who
/// asked for it (a mailer script here keeps the mail); a second run finds
/// nothing new.
#[test]
fn users_with_new_log_files_are_notified() {
    let notify = match bins::binary("webuser-notify") {
        Ok(p) => p,
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "CI: {e:?}");
            eprintln!("SKIPPED: webuser-notify: {e:?}");
            return;
        }
    };
    let cron_bin = Path::new(env!("CARGO_BIN_EXE_cron-dccd"));
    assert_eq!(
        notify.parent(),
        cron_bin.parent(),
        "cron-dccd looks for webuser-notify beside itself"
    );
    let dir = TempDir::new("ops-notify").unwrap();
    let home = dir.path().to_path_buf();
    let outbox = Outbox::new(&home).unwrap();
    let mailer = outbox.script.clone();
    fs::write(
        home.join("dcc_conf"),
        format!(
            "DCCD_ENABLE=off\nGREY_ENABLE=off\nDCCM_USERDIRS=userdirs\nDBCLEAN_LOGDAYS=14\n\
             WEBUSER_NOTIFY_URL=https://dcc.example.com\nWEBUSER_NOTIFY_MAILER={}\n",
            mailer.display()
        ),
    )
    .unwrap();
    let users = home.join("userdirs/local");
    for (u, on) in [("bob", "on"), ("carol", "off")] {
        fs::create_dir_all(users.join(u).join("log")).unwrap();
        fs::write(
            users.join(u).join("whiteclnt"),
            format!("#webuser mail-notify={on} mailbox=\n"),
        )
        .unwrap();
        old_file(&users.join(u).join("log/123/msg.AAAAAA"), 1);
    }
    let o = cron(&home);
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains("2 users with new log files") && said.contains("local/bob: mail sent to bob"),
        "{said}"
    );
    let mails = outbox.mails();
    assert_eq!(mails.len(), 1, "{said}");
    let m = &mails[0];
    assert!(m.starts_with("ARGS: -i -- bob\nTo: bob\n"), "{m}");
    assert!(m.contains("https://dcc.example.com/log"), "{m}");
    assert!(home.join("userdirs/notify.marker").exists());
    // nothing new: nobody is handed over
    let o = cron(&home);
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && said.contains("0 users with new log files"),
        "{said}"
    );
    assert_eq!(outbox.mails().len(), 1);
}
