//! `-I user`: dccm started as root runs as that user; its socket (open to
//! the MTA) and pid file belong to it; a log directory it cannot write is
//! reported; an unknown user is refused.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use tally_testkit::as_user::*;

fn scratch(tag: &str) -> PathBuf {
    tally_testkit::scratch("tally-dccm-switch", tag)
}

#[test]
fn runs_as_the_user_and_accepts_connections() {
    let home = scratch("run");
    let Some((name, uid, gid)) = test_user(&home) else {
        return;
    };
    let run = home.join("run");
    std::fs::create_dir_all(&run).expect("run");
    give(&home, uid, gid);
    // a log directory only root may write
    let logs = home.join("rootlogs");
    std::fs::create_dir_all(&logs).expect("logs");
    std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let sock = run.join("dccm.sock");
    let err_path = scratch("run-stderr");
    let err = std::fs::File::create(err_path.join("stderr")).expect("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dccm"))
        .args(["-b", "-h"])
        .arg(&home)
        .arg("-R")
        .arg(&run)
        .arg("-p")
        .arg(format!("local:{}", sock.display()))
        .arg("-l")
        .arg(&logs)
        .args(["-I", &name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .expect("spawn dccm");
    wait_for("dccm did not listen", || UnixStream::connect(&sock).is_ok());
    assert_runs_as(child.id(), uid, gid);
    let pid_file = run.join("dccm.pid");
    assert_socket_and_pid_file(&sock, &pid_file, uid);
    let stderr = std::fs::read_to_string(err_path.join("stderr")).unwrap_or_default();
    let want = format!("-l {}: not writable by {name}", logs.display());
    assert!(stderr.contains(&want), "{stderr}");
    stop_and_check(&mut child, "dccm", &pid_file);
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_dir_all(&err_path);
}

#[test]
fn unknown_user_is_refused() {
    let home = scratch("unknown");
    assert_client_daemon_refuses_unknown(env!("CARGO_BIN_EXE_dccm"), &home, "dccm.pid");
    let _ = std::fs::remove_dir_all(&home);
}
