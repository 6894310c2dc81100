//! dccproc with `-l` on a full file system (which is also where it
//! spools the message, without `-T`): it still prints the whole message
//! with its X-DCC header and exits 0, with a single complaint naming the
//! log directory and the error; once there is room it writes log files
//! again without complaint.
//!
//! Needs root to mount a small tmpfs; elsewhere it prints `SKIPPED` and
//! passes.

mod common;

use common::{code, run, scratch, stderr, stdout};
use std::path::{Path, PathBuf};
use tally_testkit::small_fs::SmallFs;
use tally_testkit::{write_map, FakeDccd};

/// Runs while the file system is full.
const WHILE_FULL: usize = 10;

/// Removes the DCC home directory, also when the test fails.
struct Home(PathBuf);

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn message(n: usize) -> String {
    format!(
        "From: alice@example.com\nTo: bob@example.net\nSubject: note {n}\n\n\
         Hello Bob,\nthis is note number {n}.\n"
    )
}

/// Run dccproc on message `n`; its standard error.
fn check(home: &Path, logs: &Path, n: usize) -> String {
    let (h, l) = (home.display().to_string(), logs.display().to_string());
    let msg = message(n);
    let out = run(&["-h", &h, "-l", &l, "-c", "CMN,1,"], msg.as_bytes());
    let (o, e) = (stdout(&out), stderr(&out));
    assert_eq!(code(&out), 0, "run {n}: {e}");
    assert!(
        o.contains("X-DCC-fullbrand-Metrics: "),
        "run {n}: {o:?} {e}"
    );
    assert!(o.starts_with("From: alice@example.com\n"), "run {n}: {o:?}");
    let tail = format!("\n\nHello Bob,\nthis is note number {n}.\n");
    assert!(o.ends_with(&tail), "run {n}: {o:?}");
    e
}

fn kept_logs(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("msg."))
        })
        .count()
}

#[test]
fn full_log_directory_still_delivers() {
    let fs = match SmallFs::mount("dccproc", 64) {
        Ok(f) => f,
        Err(why) => {
            eprintln!("SKIPPED full_log_directory_still_delivers: {why}");
            return;
        }
    };
    let logs = fs.path().to_path_buf();
    let home = Home(scratch("logfull"));
    let srv = FakeDccd::start(1200, "fullbrand");
    write_map(&home.0, srv.addr);

    assert_eq!(check(&home.0, &logs, 0), "");
    assert_eq!(kept_logs(&logs), 1);

    fs.fill();
    assert!(!fs.has_room(), "{} still has room", logs.display());
    let dir = logs.display().to_string();
    for n in 1..=WHILE_FULL {
        let e = check(&home.0, &logs, n);
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 1, "run {n}: one complaint: {e}");
        assert!(lines[0].contains(&dir), "{e}");
        assert!(lines[0].contains("No space left on device"), "{e}");
        if n == 1 {
            eprintln!("dccproc while full: {e}");
        }
    }
    assert_eq!(kept_logs(&logs), 1, "no log file while full");

    fs.free();
    assert_eq!(check(&home.0, &logs, 99), "");
    assert_eq!(kept_logs(&logs), 2, "log files written again");
}
