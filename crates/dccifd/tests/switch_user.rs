//! `-I user[,group]`: dccifd started as root runs as that user and group,
//! answers a request on its socket (open to the MTA), removes its socket
//! and pid file when stopped; an unknown user or group is refused.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use tally_testkit::FakeDccd;

use tally_testkit::as_user::*;

fn scratch(tag: &str) -> PathBuf {
    tally_testkit::scratch("tally-dccifd-switch", tag)
}

const REQUEST: &[u8] = b"header\n198.51.100.44\rrelay.example.org\nrelay.example.org\n\
someone@example.org\nbob@example.net\n\n\
From: Someone <someone@example.org>\nSubject: switched\n\nbody\n";

fn ask(sock: &std::path::Path) -> String {
    let mut s = UnixStream::connect(sock).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(REQUEST).expect("write");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn runs_as_the_user_and_answers() {
    let home = scratch("run");
    let Some((name, uid, gid)) = test_user(&home) else {
        return;
    };
    // the user,group form when the system has another group
    let (spec, gid) = match other_group(gid) {
        Some((group, other)) => (format!("{name},{group}"), other),
        None => (name.clone(), gid),
    };
    let srv = FakeDccd::start(1200, "switchbrand");
    tally_testkit::write_map(&home, srv.addr);
    std::fs::create_dir_all(home.join("run")).expect("run");
    std::fs::create_dir_all(home.join("logs")).expect("logs");
    give(&home, uid, gid);
    let sock = home.join("dccifd.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dccifd"))
        .args(["-b", "-h"])
        .arg(&home)
        .arg("-p")
        .arg(&sock)
        .arg("-R")
        .arg(home.join("run"))
        .args(["-l", "logs", "-t", "CMN,2,3", "-I", &spec])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn dccifd");
    wait_for("dccifd did not listen", || {
        UnixStream::connect(&sock).is_ok()
    });
    assert_runs_as(child.id(), uid, gid);
    let pid_file = home.join("run/dccifd.pid");
    assert_socket_and_pid_file(&sock, &pid_file, uid);
    let answer = ask(&sock);
    assert!(
        answer.starts_with("A\nA\nX-DCC-switchbrand-Metrics:"),
        "{answer}"
    );
    stop_and_check(&mut child, "dccifd", &pid_file);
    assert!(!sock.exists(), "socket left behind");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn unknown_user_is_refused() {
    let home = scratch("unknown");
    assert_client_daemon_refuses_unknown(env!("CARGO_BIN_EXE_dccifd"), &home, "dccifd.pid");
    let _ = std::fs::remove_dir_all(&home);
}
