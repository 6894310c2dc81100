//! `-j` and the open-file limit, as the original: the largest and default
//! `-j` is `(hard limit - 52) / 3`, a larger `-j` is complained about
//! with its source, and the soft limit is raised to `3 * jobs + 52`.
//! dccm is started by a shell that lowers its limits first.

mod common;

use common::{local_args, make_home, spawn_dccm};
use std::path::Path;
use std::process::Command;
use tally_testkit::{closed_port, write_map};

/// dccm with the open-file limits `soft` and `hard` and `extra` options:
/// its limits once it listens (from /proc), and its stderr.
fn run(home: &Path, soft: u32, hard: u32, extra: &[&str]) -> (Option<(u64, u64)>, String) {
    write_map(home, closed_port());
    let script = format!("ulimit -Sn {soft} && ulimit -Hn {hard} && exec \"$0\" \"$@\"");
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_dccm"))
        .args(local_args(home, extra));
    let dccm = spawn_dccm(home, cmd);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", dccm.child.id()))
        .ok()
        .and_then(|t| {
            let l = t
                .lines()
                .find(|l| l.starts_with("Max open files"))?
                .to_string();
            let mut w = l.split_whitespace().skip(3);
            Some((w.next()?.parse().ok()?, w.next()?.parse().ok()?))
        });
    drop(dccm);
    let err = std::fs::read_to_string(home.join("stderr.txt")).unwrap_or_default();
    (limits, err)
}

/// A `-j` over the limit is cut to it, and the soft limit raised for it;
/// `-d` writes the original's line about the jobs.
#[test]
fn limit_and_raise() {
    let home = make_home("jobs1");
    let (limits, err) = run(&home, 100, 400, &["-d", "-j", "500"]);
    assert!(
        err.contains("dccm: -j queue length 500 larger than RLIMIT_NOFILE limit; using 116\n"),
        "{err}"
    );
    assert!(
        err.contains("init_work=50 max_work=116 max_max_work=116 (RLIMIT_NOFILE limit)"),
        "{err}"
    );
    assert_eq!(limits, Some((400, 400)), "{err}");
    let _ = std::fs::remove_dir_all(&home);
}

/// A `-j` within the limit is kept; the soft limit is raised only as far
/// as it needs.
#[test]
fn raise_for_the_jobs_asked() {
    let home = make_home("jobs2");
    let (limits, err) = run(&home, 100, 400, &["-d", "-j", "50"]);
    assert!(!err.contains("queue length"), "{err}");
    assert!(err.contains("max_work=50 max_max_work=116"), "{err}");
    assert_eq!(limits, Some((202, 400)), "{err}");
    let _ = std::fs::remove_dir_all(&home);
    // a soft limit that is enough stays
    let home = make_home("jobs3");
    let (limits, err) = run(&home, 300, 400, &["-j", "50"]);
    assert_eq!(limits, Some((300, 400)), "{err}");
    let _ = std::fs::remove_dir_all(&home);
}
