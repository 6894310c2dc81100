//! dccifd with its `-l` log directory (which is also where it spools
//! messages, without `-T`) on a full file system: every message is still
//! answered with its X-DCC header and given back whole, dccifd's log gets
//! one line when writing log files starts failing (naming the directory
//! and the error) and one when it works again, not a line per message, and
//! log files are written again once there is room.
//!
//! Needs root to mount a small tmpfs; elsewhere it prints `SKIPPED` and
//! passes.

mod common;

use common::{host, Daemon};
use std::path::Path;
use tally_testkit::small_fs::SmallFs;
use tally_testkit::{map_text, FakeDccd};

/// Messages sent while the file system is full.
const WHILE_FULL: usize = 200;
/// Clients sending them at the same time.
const CLIENTS: usize = 8;

fn message(n: usize) -> String {
    format!(
        "From: alice@example.com\nTo: bob@example.net\nSubject: note {n}\n\
         Message-ID: <note-{n}@example.com>\n\nHello Bob,\nthis is note number {n}.\n"
    )
}

/// One request asking for the message back; panics unless it is
/// accepted, with its X-DCC header and its body intact.
fn check(d: &Daemon, n: usize) {
    let msg = message(n);
    let req = format!("body\n192.0.2.25\rmail.example.com\nmail.example.com\n<alice@example.com>\n<bob@example.net>\n\n{msg}");
    let a = String::from_utf8_lossy(&d.ask(req.as_bytes())).into_owned();
    assert!(a.starts_with("A\nA\n"), "message {n}: {a:?}");
    let hdr = format!("X-DCC-fullbrand-Metrics: {} 1200;", host());
    assert!(
        a.contains(&hdr),
        "message {n} without its X-DCC header: {a:?}"
    );
    assert!(
        a.ends_with(&format!("this is note number {n}.\n")),
        "message {n} not given back whole: {a:?}"
    );
}

fn send(d: &Daemon, from: usize, to: usize, clients: usize) {
    std::thread::scope(|s| {
        for k in 0..clients {
            s.spawn(move || {
                for n in (from..to).filter(|n| n % clients == k) {
                    check(d, n);
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

/// dccifd's log lines naming the log directory and containing `what`.
fn lines_about(d: &Daemon, dir: &Path, what: &str) -> Vec<String> {
    let dir = dir.display().to_string();
    d.stderr()
        .lines()
        .filter(|l| l.contains(&dir) && l.contains(what))
        .map(str::to_string)
        .collect()
}

#[test]
fn full_log_directory_loses_no_mail_and_logs_once() {
    let fs = match SmallFs::mount("dccifd", 64) {
        Ok(f) => f,
        Err(why) => {
            eprintln!("SKIPPED full_log_directory_loses_no_mail_and_logs_once: {why}");
            return;
        }
    };
    let logs = fs.path().to_path_buf();
    let srv = FakeDccd::start(1200, "fullbrand");
    let l = logs.display().to_string();
    let d = Daemon::start_args("logfull", &map_text(srv.addr), &["-l", &l]);

    // with room: every message logged
    send(&d, 0, 5, 1);
    assert_eq!(
        files(&logs, "msg."),
        5,
        "log files before the file system is full"
    );

    let filled = fs.fill();
    assert!(!fs.has_room(), "{} still has room", logs.display());
    send(&d, 5, 5 + WHILE_FULL, CLIENTS);
    let failing = lines_about(&d, &logs, "");
    eprintln!(
        "dccifd: {WHILE_FULL} messages answered with a full log directory ({filled} bytes filled); \
         log lines about it: {}: {failing:?}",
        failing.len()
    );
    assert_eq!(failing.len(), 1, "one line while full: {failing:?}");
    assert!(failing[0].contains("failing"), "{failing:?}");
    assert!(
        failing[0].contains("No space left on device"),
        "{failing:?}"
    );
    assert_eq!(files(&logs, "msg."), 5, "no log file while full");
    assert_eq!(files(&logs, "tmp."), 0, "abandoned log files are removed");

    fs.free();
    send(&d, 5 + WHILE_FULL, 15 + WHILE_FULL, 1);
    let again = lines_about(&d, &logs, "work again");
    eprintln!("dccifd: after freeing space: {again:?}");
    assert_eq!(again.len(), 1, "one recovery line: {again:?}");
    assert_eq!(lines_about(&d, &logs, "").len(), 2);
    assert_eq!(files(&logs, "msg."), 15, "log files written again");
    drop(d);
}
