//! The `-X` external filter in dccproc (docs/xfltr.md) on a message
//! file: with `option xfltr-on` in the `-w` whiteclnt file the answer
//! sets the exit code (accept 0, reject and discard the `-x` code,
//! tempfail 75); without it the answer is only logged; a filter that
//! never answers, answers garbage or crashes changes nothing. The
//! message is copied out with its header every time.

mod common;

use common::{code, run, scratch, stderr};
use std::path::Path;
use std::time::{Duration, Instant};
use tally_testkit::xfltr::{self, Key};
use tally_testkit::{closed_port, write_map};

const MSG: &[u8] = b"From: Alice <alice@example.com>\n\
To: Bob <bob@example.net>\n\
Subject: xfltr\n\
Message-ID: <xfltr-1@example.com>\n\
\n\
Hi Bob,\nsee you tomorrow.\n";

/// A unix-socket filter answering by the sender's local part up to `-` (see
/// `tally_testkit::xfltr`).
fn socket_filter(home: &Path) -> String {
    let path = home.join("xfltr.sock");
    xfltr::socket_filter(&path, Key::Sender);
    format!("unix:{}", path.display())
}

/// A filter program doing what [`socket_filter`] does.
fn program_filter(home: &Path) -> String {
    let path = home.join("xfltr.sh");
    xfltr::program_filter(&path, Key::Sender);
    path.display().to_string()
}

/// The log file of the message from `from` (every message is logged).
fn log_of(home: &Path, from: &str) -> String {
    std::fs::read_dir(home.join("logs"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .find(|t| t.contains(&format!("env_From: <{from}>")))
        .unwrap_or_else(|| panic!("no log file for {from}"))
}

fn every_answer(tag: &str, filter: fn(&Path) -> String, crash_line: &str) {
    for on in [true, false] {
        let home = scratch(&format!("{tag}-{on}"));
        write_map(&home, closed_port());
        std::fs::create_dir_all(home.join("logs")).unwrap();
        let main = if on {
            "option xfltr-on\noption log-all\n"
        } else {
            "option log-all\n"
        };
        std::fs::write(home.join("whiteclnt"), main).unwrap();
        std::fs::write(home.join("msg.eml"), MSG).unwrap();
        let target = filter(&home);
        let hs = home.display().to_string();
        let input = home.join("msg.eml").display().to_string();
        let dccproc = |from: &str| {
            let out = run(
                &[
                    "-h",
                    &hs,
                    "-w",
                    "whiteclnt",
                    "-l",
                    "logs",
                    "-E",
                    "-a",
                    "192.0.2.7",
                    "-f",
                    &format!("<{from}>"),
                    "-i",
                    &input,
                    "-X",
                    &target,
                    "-X",
                    "set:msg-secs=1",
                ],
                b"",
            );
            // the message is copied out every time
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(text.contains("Subject: xfltr\n") && text.ends_with("see you tomorrow.\n"));
            out
        };
        for (from, acted, line) in [
            ("acc-1@example.com", 0, "external filter: accept"),
            (
                "rej-1@example.com",
                67,
                "external filter: reject 554 5.7.9 refused by the local filter",
            ),
            ("dis-1@example.com", 67, "external filter: discard"),
            (
                "tmp-1@example.com",
                75,
                "external filter: tempfail 451 4.7.1 try again later",
            ),
            ("same-1@example.com", 0, "external filter: same"),
        ] {
            let out = dccproc(from);
            let log = log_of(&home, from);
            assert!(log.contains(line), "{from}: {log}");
            if on {
                assert_eq!(code(&out), acted, "{from}: {}", stderr(&out));
            } else {
                assert_eq!(code(&out), 0, "{from}");
                if !from.starts_with("same") {
                    assert!(log.contains("; ignored without option xfltr-on"), "{log}");
                }
            }
        }
        let t0 = Instant::now();
        let out = dccproc("sleep-1@example.com");
        let waited = t0.elapsed();
        assert_eq!(code(&out), 0);
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
            "{waited:?}"
        );
        assert!(
            stderr(&out).contains("no answer after 1 seconds"),
            "{}",
            stderr(&out)
        );
        assert!(log_of(&home, "sleep-1@example.com")
            .contains("external filter: no answer after 1 seconds; verdict kept"));
        let out = dccproc("junk-1@example.com");
        assert_eq!(code(&out), 0);
        assert!(log_of(&home, "junk-1@example.com")
            .contains("malformed answer \"perhaps tomorrow\": unknown verdict at byte 0"));
        let out = dccproc("crash-1@example.com");
        assert_eq!(code(&out), 0);
        assert!(log_of(&home, "crash-1@example.com").contains(crash_line));
        let _ = std::fs::remove_dir_all(&home);
    }
}

#[test]
fn socket_filter_answers() {
    every_answer(
        "xfltr-socket",
        socket_filter,
        "external filter: closed without answering; verdict kept",
    );
}

#[test]
fn program_filter_answers() {
    every_answer(
        "xfltr-program",
        program_filter,
        "external filter: killed by signal 11 without answering; verdict kept",
    );
}

/// `set:debug=2`: every request and answer on standard error (and the
/// system log's information messages).
#[test]
fn debug_lines() {
    let home = scratch("xfltr-debug");
    write_map(&home, closed_port());
    std::fs::write(home.join("whiteclnt"), "option xfltr-on\n").unwrap();
    let target = socket_filter(&home);
    let hs = home.display().to_string();
    let out = run(
        &[
            "-h",
            &hs,
            "-w",
            "whiteclnt",
            "-f",
            "<rej-9@example.com>",
            "-X",
            &target,
            "-X",
            "set:debug=2",
        ],
        MSG,
    );
    assert_eq!(code(&out), 67);
    let e = stderr(&out);
    assert!(
        e.contains(&format!("-X {target}: request for the message: id \\nclient  \\nhelo \\nfrom <rej-9@example.com>\\nverdict accept")),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "-X {target}: the message: reject 554 5.7.9 refused by the local filter\n"
        )),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&home);
}
