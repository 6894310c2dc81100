//! dccm with its `-l` log directory on a full file system: every message
//! is still accepted with its X-DCC header, dccm's log gets one line when
//! writing log files starts failing (naming the directory and the error)
//! and one when it works again, not a line per message, and log files are
//! written again once there is room.
//!
//! Needs root to mount a small tmpfs; elsewhere it prints `SKIPPED` and
//! passes.

mod common;

use common::milter::{connect_data, macro_pkt, Client, Reply};
use common::{make_home, start_dccm};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tally_testkit::small_fs::SmallFs;
use tally_testkit::{write_map, FakeDccd};

/// Messages sent while the file system is full.
const WHILE_FULL: usize = 200;
/// Connections sending them at the same time.
const CONNS: usize = 4;

/// Removes the DCC home directory, also when the test fails.
struct Home(PathBuf);

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn retry_connect(sock: &Path) -> Client {
    for _ in 0..500 {
        if let Ok(c) = Client::connect(sock) {
            return c;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("cannot connect to dccm at {}", sock.display());
}

fn smtp_connect(c: &mut Client) {
    c.send(b'C', &connect_data("mail.example.com", "192.0.2.25"))
        .expect("send connect");
    assert_eq!(c.replies().expect("connect reply"), vec![Reply::Final('c')]);
}

/// One message, distinct by `n`; panics unless it is accepted with an
/// X-DCC header.
fn message(c: &mut Client, n: usize) {
    let id = format!("Q{n}");
    c.send(b'D', &macro_pkt(b'M', &[("i", &id)])).expect("send");
    c.send(b'M', b"<alice@example.com>\0").expect("send");
    assert_eq!(c.replies().expect("mail reply"), vec![Reply::Final('c')]);
    c.send(b'R', b"<bob@example.net>\0").expect("send");
    assert_eq!(c.replies().expect("rcpt reply"), vec![Reply::Final('c')]);
    for (h, v) in [
        ("From", "alice@example.com"),
        ("Subject", &format!("note {n}")),
    ] {
        c.send(b'L', format!("{h}\0{v}\0").as_bytes())
            .expect("send");
        c.replies().expect("header reply");
    }
    c.send(b'N', b"").expect("send");
    c.replies().expect("eoh reply");
    let body = format!("Hello Bob,\r\nthis is note number {n}.\r\n");
    c.send(b'B', body.as_bytes()).expect("send");
    c.replies().expect("body reply");
    c.send(b'E', b"").expect("send");
    let r = c.replies().expect("end of message reply");
    assert_eq!(r.last(), Some(&Reply::Final('a')), "message {n}: {r:?}");
    assert!(
        r.iter()
            .any(|x| matches!(x, Reply::AddHeader(h, _) if h == "X-DCC-fullbrand-Metrics")),
        "message {n} without its X-DCC header: {r:?}"
    );
}

/// Send messages `from..to` over `conns` connections at the same time.
fn send(sock: &Path, from: usize, to: usize, conns: usize) {
    std::thread::scope(|s| {
        for k in 0..conns {
            s.spawn(move || {
                let mut c = retry_connect(sock);
                smtp_connect(&mut c);
                for n in (from..to).filter(|n| n % conns == k) {
                    message(&mut c, n);
                }
            });
        }
    });
}

/// Files in `dir` whose names start with `prefix`.
fn files(dir: &Path, prefix: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with(prefix))
        })
        .count()
}

fn kept_logs(dir: &Path) -> usize {
    files(dir, "msg.")
}

/// dccm's log lines naming the log directory and containing `what`.
fn lines_about(home: &Path, dir: &Path, what: &str) -> Vec<String> {
    let text = std::fs::read_to_string(home.join("stderr.txt")).unwrap_or_default();
    let dir = dir.display().to_string();
    text.lines()
        .filter(|l| l.contains(&dir) && l.contains(what))
        .map(str::to_string)
        .collect()
}

/// dccm logging every message (`option log-all`) into a small tmpfs,
/// with a fake DCC server. Fields drop in the order declared: dccm
/// first, the tmpfs last.
struct Scene {
    dccm: common::Dccm,
    _srv: FakeDccd,
    home: Home,
    logs: PathBuf,
    fs: SmallFs,
}

/// The scene, or `None` (after printing why) where a tmpfs cannot be
/// mounted.
fn scene(test: &str, tag: &str) -> Option<Scene> {
    let fs = match SmallFs::mount(tag, 64) {
        Ok(f) => f,
        Err(why) => {
            eprintln!("SKIPPED {test}: {why}");
            return None;
        }
    };
    let logs = fs.path().to_path_buf();
    let home = Home(make_home(tag));
    std::fs::write(home.0.join("whiteclnt"), "option log-all\n").expect("write whiteclnt");
    let srv = FakeDccd::start(1200, "fullbrand");
    write_map(&home.0, srv.addr);
    let l = logs.display().to_string();
    let args = common::local_args(&home.0, &["-l", &l, "-w", "whiteclnt"]);
    let dccm = start_dccm(&home.0, &args);
    Some(Scene {
        dccm,
        _srv: srv,
        home,
        logs,
        fs,
    })
}

#[test]
fn full_log_directory_loses_no_mail_and_logs_once() {
    let Some(sc) = scene("full_log_directory_loses_no_mail_and_logs_once", "logfull") else {
        return;
    };
    let (dccm, home, logs, fs) = (&sc.dccm, &sc.home, &sc.logs, &sc.fs);
    // with room: every message logged
    send(&dccm.sock, 0, 5, 1);
    assert_eq!(
        kept_logs(logs),
        5,
        "log files before the file system is full"
    );

    let filled = fs.fill();
    assert!(!fs.has_room(), "{} still has room", logs.display());
    send(&dccm.sock, 5, 5 + WHILE_FULL, CONNS);
    let failing = lines_about(&home.0, logs, "");
    eprintln!(
        "dccm: {WHILE_FULL} messages accepted with a full log directory ({filled} bytes filled); \
         log lines about it: {}: {failing:?}",
        failing.len()
    );
    assert_eq!(failing.len(), 1, "one line while full: {failing:?}");
    assert!(failing[0].contains("failing"), "{failing:?}");
    assert!(
        failing[0].contains("No space left on device"),
        "{failing:?}"
    );
    assert_eq!(kept_logs(logs), 5, "no log file while full");
    assert_eq!(files(logs, "tmp."), 0, "abandoned log files are removed");

    fs.free();
    send(&dccm.sock, 5 + WHILE_FULL, 15 + WHILE_FULL, 1);
    let again = lines_about(&home.0, logs, "work again");
    eprintln!("dccm: after freeing space: {again:?}");
    assert_eq!(again.len(), 1, "one recovery line: {again:?}");
    assert!(
        again[0].contains(&format!("{WHILE_FULL} messages")),
        "{again:?}"
    );
    assert_eq!(lines_about(&home.0, logs, "").len(), 2);
    assert_eq!(kept_logs(logs), 15, "log files written again");
}

/// The first failure in a transaction the MTA aborts is said too (one
/// line), and the messages after it add no line.
#[test]
fn failure_first_seen_in_an_aborted_transaction_is_logged_once() {
    let Some(sc) = scene(
        "failure_first_seen_in_an_aborted_transaction_is_logged_once",
        "logfullab",
    ) else {
        return;
    };
    let (dccm, home, logs, fs) = (&sc.dccm, &sc.home, &sc.logs, &sc.fs);
    fs.fill();

    let mut c = retry_connect(&dccm.sock);
    smtp_connect(&mut c);
    c.send(b'D', &macro_pkt(b'M', &[("i", "AB1")]))
        .expect("send");
    c.send(b'M', b"<alice@example.com>\0").expect("send");
    assert_eq!(c.replies().expect("mail reply"), vec![Reply::Final('c')]);
    c.send(b'R', b"<bob@example.net>\0").expect("send");
    assert_eq!(c.replies().expect("rcpt reply"), vec![Reply::Final('c')]);
    let long = "x".repeat(900);
    for n in 0..100 {
        c.send(b'L', format!("X-Filler-{n}\0{long}\0").as_bytes())
            .expect("send");
        c.replies().expect("header reply");
    }
    c.send(b'A', b"").expect("send abort");
    let mut said = Vec::new();
    for _ in 0..250 {
        said = lines_about(&home.0, logs, "failing");
        if !said.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(said.len(), 1, "the aborted transaction's failure: {said:?}");
    drop(c);
    send(&dccm.sock, 0, 20, 2);
    assert_eq!(lines_about(&home.0, logs, "").len(), 1);
}
