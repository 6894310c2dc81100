//! A DCC server and a greylist server in one home directory each keep
//! their own pid file (`dccd.pid`, `grey_dccd.pid`): whichever stops first
//! removes only its own.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, temp_home, Dccd};

fn pid_in(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// SIGTERM, then wait (bounded) for an orderly exit.
fn stop(d: &mut Dccd) {
    let ok = Command::new("kill")
        .args(["-TERM", &d.child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(st)) = d.child.try_wait() {
            assert!(st.success(), "{st}");
            return;
        }
        assert!(Instant::now() < deadline, "dccd did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn dcc_and_greylist_servers_keep_their_own_pid_files() {
    let home = temp_home("pid-files");
    let (dcc_pid, grey_pid) = (home.join("dccd.pid"), home.join("grey_dccd.pid"));

    // the DCC server stops first: the greylist server's file stays
    let mut dcc = Dccd::start(&home, free_port(), &[]);
    let mut grey = Dccd::start(&home, free_port(), &["-G", "on"]);
    assert_eq!(pid_in(&dcc_pid), Some(dcc.child.id()));
    assert_eq!(pid_in(&grey_pid), Some(grey.child.id()));
    stop(&mut dcc);
    assert!(!dcc_pid.exists(), "dccd.pid left behind");
    assert_eq!(pid_in(&grey_pid), Some(grey.child.id()));

    // the greylist server stops first: the DCC server's file stays
    let mut dcc = Dccd::start(&home, free_port(), &[]);
    assert_eq!(pid_in(&dcc_pid), Some(dcc.child.id()));
    stop(&mut grey);
    assert!(!grey_pid.exists(), "grey_dccd.pid left behind");
    assert_eq!(pid_in(&dcc_pid), Some(dcc.child.id()));
    stop(&mut dcc);
    assert!(!dcc_pid.exists());
    let _ = std::fs::remove_dir_all(&home);
}
