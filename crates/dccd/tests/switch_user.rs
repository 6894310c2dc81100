//! `-I host-ID,user`: dccd started as root runs as that user, still
//! answers, and can remove its pid file; an unknown user is refused.

mod common;

use std::process::{Command, Stdio};

use common::{free_port, temp_home, Dccd};

use tally_testkit::as_user::*;

#[test]
fn runs_as_the_user_and_still_answers() {
    let home = temp_home("switch-user");
    let Some((name, uid, gid)) = test_user(&home) else {
        return;
    };
    give(&home, uid, gid);
    // Dccd::start waits for the answer to a NOP
    let mut d = Dccd::start(&home, free_port(), &["-I", &format!(",{name}")]);
    assert_runs_as(d.child.id(), uid, gid);
    let pid_file = home.join("dccd.pid");
    assert_eq!(owner(&pid_file), uid);
    assert_eq!(owner(&home.join("tally-db")), uid);
    stop_and_check(&mut d.child, "dccd", &pid_file);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn in_the_background_with_host_id() {
    let home = temp_home("switch-user-bg");
    let Some((name, uid, gid)) = test_user(&home) else {
        return;
    };
    give(&home, uid, gid);
    // the user,group form when the system has another group
    let (spec, gid) = match other_group(gid) {
        Some((group, other)) => (format!("{name},{group}"), other),
        None => (name, gid),
    };
    let port = free_port();
    // without -b: this process checks the user and starts the server
    // again in the background, which switches
    let st = Command::new(env!("CARGO_BIN_EXE_dccd"))
        .args(["-i", "1100", "-n", "vecbrand", "-h"])
        .arg(&home)
        .args(["-a", &format!("127.0.0.1,{port}")])
        .args(["-I", &format!("tally-test,{spec}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run dccd");
    assert!(st.success(), "{st:?}");
    let pid_file = home.join("dccd.pid");
    let mut pid = 0u32;
    wait_for("no pid file", || {
        pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        pid != 0
    });
    assert_runs_as(pid, uid, gid);
    signal(pid, "-TERM");
    wait_for("dccd did not stop on SIGTERM", || !pid_file.exists());
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn home_the_user_cannot_use_is_reported() {
    if !is_root() {
        println!("SKIPPED: needs root");
        return;
    }
    let (name, _, _) = ordinary_user().expect("a user other than root");
    // left to root: the ids file (mode 0600) is unreadable after the switch
    let home = temp_home("switch-user-root-home");
    let out = Command::new(env!("CARGO_BIN_EXE_dccd"))
        .args(["-b", "-i", "1100", "-h"])
        .arg(&home)
        .args(["-a", &format!("127.0.0.1,{}", free_port())])
        .args(["-I", &format!(",{name}")])
        .stdin(Stdio::null())
        .output()
        .expect("run dccd");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("ids: Permission denied"), "{err}");
    assert!(err.contains(&format!("; running as {name} (uid ")), "{err}");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn unknown_user_is_refused() {
    let home = temp_home("switch-user-unknown");
    let daemon = |bg: bool, arg: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dccd"));
        if bg {
            cmd.arg("-b");
        }
        cmd.args(["-i", "1100", "-h"]).arg(&home).args([
            "-a",
            &format!("127.0.0.1,{}", free_port()),
            "-I",
            arg,
        ]);
        cmd
    };
    assert_unknown_refused(
        daemon,
        &[
            (
                true,
                ",no-such-user-of-tally",
                "getpwnam(no-such-user-of-tally): no such user",
            ),
            (
                false,
                "h,no-such-user-of-tally",
                "getpwnam(no-such-user-of-tally): no such user",
            ),
            (
                true,
                "h,root,no-such-group-of-tally",
                "getgrnam(no-such-group-of-tally): no such group",
            ),
        ],
        &home.join("dccd.pid"),
    );
    let _ = std::fs::remove_dir_all(&home);
}
