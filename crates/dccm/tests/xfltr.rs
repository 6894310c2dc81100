//! The `-X` external filter through the milter protocol (docs/xfltr.md):
//! a unix-socket filter and a filter program answering accept, reject,
//! discard and tempfail, with and without `option xfltr-on` in the main
//! and per-user whiteclnt files; a filter that never answers (the
//! message is delivered after `set:msg-secs`), one that answers garbage
//! and one that crashes; recipients whose `xfltr-on` differs get 452.

mod common;

use common::milter::{connect, envelope, Client, Reply};
use common::{make_home, start_dccm};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tally_testkit::xfltr::{self, Key};
use tally_testkit::{closed_port, log_with_subject, write_map};

const WLIST_452: &str = "452 4.5.3 reject temporarily for incompatible whitelists";

/// A unix-socket filter answering by the queue ID's prefix up to `-` (see
/// `tally_testkit::xfltr`).
fn socket_filter(home: &Path) -> PathBuf {
    let path = home.join("run/xfltr.sock");
    xfltr::socket_filter(&path, Key::QueueId);
    path
}

/// A filter program doing what [`socket_filter`] does.
fn program_filter(home: &Path) -> PathBuf {
    let path = home.join("xfltr.sh");
    xfltr::program_filter(&path, Key::QueueId);
    path
}

/// The rest of a small message (its subject is `id`, which names its
/// log file); the replies to its end.
fn data(c: &mut Client, id: &str) -> Vec<Reply> {
    common::milter::short_content(c, id)
}

/// One message to `users`: the replies to its end.
fn message(c: &mut Client, id: &str, users: &[&str]) -> Vec<Reply> {
    let r = envelope(c, id, users);
    assert!(r.iter().all(|r| r == &vec![Reply::Final('c')]), "{r:?}");
    data(c, id)
}

/// What a verdict looks like to the MTA.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Delivered,
    Discarded,
    Refused(String),
}

fn seen(r: &[Reply]) -> Seen {
    match r.last() {
        Some(Reply::Code(s)) => Seen::Refused(s.clone()),
        Some(Reply::Final('d')) => Seen::Discarded,
        Some(Reply::Final('a' | 'c')) => {
            assert!(
                r.iter()
                    .any(|x| matches!(x, Reply::AddHeader(n, _) if n.starts_with("X-DCC"))),
                "a delivered message has its X-DCC header: {r:?}"
            );
            Seen::Delivered
        }
        _ => panic!("unexpected end of message: {r:?}"),
    }
}

/// The kept log file of message `id` (every message is logged: log-all).
fn log_of(home: &Path, id: &str) -> String {
    log_with_subject(&home.join("logs"), id)
}

/// A home with a closed DCC server, main whiteclnt text `main` and
/// per-user files (`userdirs/local/NAME/whiteclnt`).
fn home_with(tag: &str, main: &str, users: &[(&str, &str)]) -> PathBuf {
    let home = make_home(tag);
    write_map(&home, closed_port());
    std::fs::write(home.join("whiteclnt-x"), main).unwrap();
    for (u, text) in users {
        let d = home.join("userdirs/local").join(u);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("whiteclnt"), text).unwrap();
    }
    home
}

fn dccm_args(home: &Path, filter: &str) -> Vec<String> {
    common::local_args(
        home,
        &[
            "-X",
            filter,
            "-X",
            "set:msg-secs=1",
            "-w",
            "whiteclnt-x",
            "-U",
            "userdirs",
            "-l",
            "logs",
        ],
    )
}

/// Every answer of a filter with and without option xfltr-on in the
/// main file, and the failures.
fn every_answer(filter_of: fn(&Path) -> PathBuf, unix: bool) {
    for on in [true, false] {
        let main = if on {
            "option xfltr-on\noption log-all\n"
        } else {
            "option log-all\n"
        };
        let home = home_with(if unix { "xu" } else { "xp" }, main, &[]);
        let f = filter_of(&home);
        let target = if unix {
            format!("unix:{}", f.display())
        } else {
            f.display().to_string()
        };
        let d = start_dccm(&home, &dccm_args(&home, &target));
        let mut c = connect(&d.sock, "192.0.2.7");
        let refused = |t: &str| Seen::Refused(t.to_string());
        let cases = [
            ("ACC-1", Seen::Delivered, "external filter: accept"),
            (
                "REJ-1",
                refused("554 5.7.9 refused by the local filter"),
                "external filter: reject 554 5.7.9 refused by the local filter",
            ),
            ("DIS-1", Seen::Discarded, "external filter: discard"),
            (
                "TMP-1",
                refused("451 4.7.1 try again later"),
                "external filter: tempfail 451 4.7.1 try again later",
            ),
            ("SAME-1", Seen::Delivered, "external filter: same\n"),
        ];
        for (id, acted, line) in cases {
            let got = seen(&message(&mut c, id, &["bob"]));
            let log = log_of(&home, id);
            assert!(log.contains(line), "{id}: {log}");
            if on || id.starts_with("SAME") {
                assert_eq!(got, acted, "{id} (xfltr-on {on})");
                assert!(!log.contains("ignored"), "{id}: {log}");
            } else {
                assert_eq!(got, Seen::Delivered, "{id} (xfltr-on {on})");
                assert!(
                    log.contains("; ignored without option xfltr-on"),
                    "{id}: {log}"
                );
            }
        }
        // failures keep dccm's verdict: the message is delivered
        let t0 = Instant::now();
        assert_eq!(seen(&message(&mut c, "SLEEP-1", &["bob"])), Seen::Delivered);
        let waited = t0.elapsed();
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
            "{waited:?}"
        );
        assert!(log_of(&home, "SLEEP-1")
            .contains("external filter: no answer after 1 seconds; verdict kept"));
        assert_eq!(seen(&message(&mut c, "JUNK-1", &["bob"])), Seen::Delivered);
        assert!(log_of(&home, "JUNK-1").contains(
            "external filter: malformed answer \"perhaps tomorrow\": unknown verdict at byte 0"
        ));
        assert_eq!(seen(&message(&mut c, "CRASH-1", &["bob"])), Seen::Delivered);
        let crash = if unix {
            "external filter: closed without answering; verdict kept"
        } else {
            "external filter: killed by signal 11 without answering; verdict kept"
        };
        assert!(
            log_of(&home, "CRASH-1").contains(crash),
            "{}",
            log_of(&home, "CRASH-1")
        );
        // dccm is still there
        assert_eq!(seen(&message(&mut c, "ACC-2", &["bob"])), Seen::Delivered);
        drop(d);
        let stderr = std::fs::read_to_string(home.join("stderr.txt")).unwrap_or_default();
        assert!(
            stderr.contains("no answer after 1 seconds; SLEEP-1 keeps its verdict"),
            "{stderr}"
        );
        let _ = std::fs::remove_dir_all(&home);
    }
}

#[test]
fn socket_filter_answers() {
    every_answer(socket_filter, true);
}

#[test]
fn program_filter_answers() {
    every_answer(program_filter, false);
}

/// Per-user files: the filter acts for recipients whose own file (or,
/// without a word there, the main file) says xfltr-on; a recipient whose
/// setting differs from the transaction's first recipient's gets 452.
#[test]
fn per_user_options_and_mixed_recipients() {
    let home = home_with(
        "xuser",
        "option log-all\n",
        &[
            ("on", "option xfltr-on\n"),
            ("on2", "option xfltr-on\n"),
            ("off", "option xfltr-off\n"),
        ],
    );
    let f = socket_filter(&home);
    let d = start_dccm(&home, &dccm_args(&home, &format!("unix:{}", f.display())));
    let mut c = connect(&d.sock, "192.0.2.7");
    assert_eq!(
        seen(&message(&mut c, "REJ-on", &["on", "on2"])),
        Seen::Refused("554 5.7.9 refused by the local filter".into())
    );
    assert_eq!(seen(&message(&mut c, "REJ-off", &["off"])), Seen::Delivered);
    assert_eq!(
        seen(&message(&mut c, "REJ-none", &["dave"])),
        Seen::Delivered
    );
    // mixed: the second recipient must come back in its own transaction
    let r = envelope(&mut c, "REJ-mix", &["on", "off", "on2"]);
    assert_eq!(r[0], vec![Reply::Final('c')]);
    assert!(
        matches!(&r[1][..], [Reply::Code(s)] if s.starts_with(WLIST_452)),
        "{r:?}"
    );
    assert_eq!(r[2], vec![Reply::Final('c')]);
    assert_eq!(
        seen(&data(&mut c, "REJ-mix")),
        Seen::Refused("554 5.7.9 refused by the local filter".into())
    );
    let r = envelope(&mut c, "ACC-mix", &["dave", "on"]);
    assert!(
        matches!(&r[1][..], [Reply::Code(s)] if s.starts_with(WLIST_452)),
        "{r:?}"
    );
    assert_eq!(seen(&data(&mut c, "ACC-mix")), Seen::Delivered);
    drop(d);

    // the main file turns it on; a per-user xfltr-off turns it off again
    std::fs::write(
        home.join("whiteclnt-x"),
        "option xfltr-on\noption log-all\n",
    )
    .unwrap();
    let d = start_dccm(&home, &dccm_args(&home, &format!("unix:{}", f.display())));
    let mut c = connect(&d.sock, "192.0.2.7");
    assert_eq!(
        seen(&message(&mut c, "DIS-dave", &["dave", "on"])),
        Seen::Discarded
    );
    assert_eq!(seen(&message(&mut c, "DIS-off", &["off"])), Seen::Delivered);
    assert!(log_of(&home, "DIS-off").contains("; ignored without option xfltr-on"));
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

/// A deferred message (here `-x` and no DCC server) stays deferred
/// whatever the filter says; its answer is logged.
#[test]
fn deferral_stands() {
    let home = home_with("xdefer", "option xfltr-on\noption log-all\n", &[]);
    let f = socket_filter(&home);
    let mut args = dccm_args(&home, &format!("unix:{}", f.display()));
    args.push("-x".to_string());
    let d = start_dccm(&home, &args);
    let mut c = connect(&d.sock, "192.0.2.7");
    assert_eq!(
        seen(&message(&mut c, "ACC-x", &["bob"])),
        Seen::Refused("451 4.4.0 DCC failure".into())
    );
    assert!(log_of(&home, "ACC-x")
        .contains("external filter: accept; ignored while the message is deferred"));
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}
