//! Behaviour that follows from the original's fixed buffers and C types:
//! cut header fields, the width of the -C table's names, clipped
//! complaints, the `-r` count, and relays found by `-R`.

mod common;

use common::{code, run, scratch, stderr, stdout};

fn home(name: &str) -> (std::path::PathBuf, String) {
    let h = scratch(name);
    let s = h.to_string_lossy().into_owned();
    (h, s)
}

/// The text of the one log file in `dir`.
fn only_log(dir: &std::path::Path) -> String {
    let logs = tally_testkit::files::texts(dir);
    assert_eq!(logs.len(), 1, "{logs:?}");
    logs[0].clone()
}

const RCVD_MSG: &[u8] = b"From: a@example.com\n\
List-Unsubscribe: <mailto:x@example.com>\n\
Received: from relay.example (relay.example [192.0.2.7]) by mx.example\n\
Subject: s\n\
\n\
body\n";

#[test]
fn header_fields_cut_for_length_count_as_crlf() {
    // the original keeps 1024 bytes of a field longer than 2048 and puts
    // CR LF after them, and counts that field as ending with CR LF
    let (h, hs) = home("long-fields");
    std::fs::write(h.join("map"), b"").expect("map");
    let long = "x".repeat(3000);
    let m = format!("Subject: {long}\nX-Other: {long}\n\nbody\n");
    let out = run(&["-h", &hs, "-Q"], m.as_bytes());
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    let at = text.find("X-DCC--Metrics: ").expect("header");
    assert!(text[at..].contains("\r\n\nbody\n"), "{}", &text[at..]);
    // the fields are copied whole
    assert!(text.starts_with(&format!("Subject: {long}\nX-Other: {long}\nX-DCC")));
    // a long field whose last line is short keeps its own line end
    let m = format!("Subject: {long}\n a\nX-Other: {long}\n b\n\nbody\n");
    let out = run(&["-h", &hs, "-Q"], m.as_bytes());
    let text = stdout(&out);
    let at = text.find("X-DCC--Metrics: ").expect("header");
    assert!(!text[at..].contains('\r'), "{}", &text[at..]);
}

#[test]
fn long_substitute_names_are_cut_in_the_table() {
    let (_h, hs) = home("long-sub");
    let out = run(&["-h", &hs, "-Q", "-C", "-S", "List-Unsubscribe"], RCVD_MSG);
    let text = stdout(&out);
    assert!(text.contains("\nsubstitute list-unsubscri: "), "{text}");
    for l in text.lines().skip(1) {
        assert_eq!(l.find(": "), Some(25), "{l}");
    }
}

#[test]
fn r_count_is_a_c_int() {
    let (_h, hs) = home("r-count");
    let ip = |n: &str| {
        let out = run(&["-h", &hs, "-Q", "-C", "-r", n], RCVD_MSG);
        stdout(&out).contains("\n                       IP: ")
    };
    // negative: the first Received header
    assert!(ip("-1"));
    assert!(ip("1"));
    assert!(!ip("2"));
    assert!(!ip("0"));
    // the low 32 bits
    assert!(!ip("4294967296"));
    assert!(ip("4294967297"));
}

#[test]
fn long_complaints_are_clipped() {
    let (_h, hs) = home("clip");
    let long = format!("/nonexistent/{}", "d".repeat(600));
    let out = run(&["-h", &hs, "-i", &long], b"From: a\n\nb\n");
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    let line = err.lines().next().unwrap_or_default();
    let want = format!("bad input file \"{long}");
    assert_eq!(line, format!("{}...; fatal error", &want[..508]));
    // an ordinary complaint too
    let bad = "7".repeat(600) + "x";
    let out = run(&["-h", &hs, "-Q", "-t", &bad], RCVD_MSG);
    let err = stderr(&out);
    let line = err.lines().next().unwrap_or_default();
    assert_eq!(line.len(), 511, "{line}");
    assert!(line.starts_with("invalid count \"-t 777") && line.ends_with("7..."));
}

#[test]
fn received_clients_listed_ok_or_submit_are_not_reported() {
    let (h, hs) = home("rcvd-ok");
    std::fs::create_dir(h.join("log")).expect("log dir");
    let table = |line: &str| {
        std::fs::write(h.join("whiteclnt"), line).expect("whiteclnt");
        let out = run(
            &["-h", &hs, "-Q", "-C", "-R", "-w", "whiteclnt", "-l", "log"],
            RCVD_MSG,
        );
        stdout(&out)
    };
    // the IP checksum stays in the table, its reputations go
    for line in ["ok ip 192.0.2.7\n", "submit ip 192.0.2.7\n"] {
        let t = table(line);
        assert!(t.contains("\n                       IP: "), "{t}");
        assert!(!t.contains("rep-total:"), "{line}: {t}");
        assert!(!t.contains("\n                      rep:"), "{line}: {t}");
    }
    // not listed: reported
    let t = table("ok env_From nobody@example.com\n");
    assert!(t.contains("rep-total:"), "{t}");
    // the note of a submission client goes into the log file
    std::fs::write(h.join("whiteclnt"), "submit ip 192.0.2.7\n").expect("whiteclnt");
    for e in std::fs::read_dir(h.join("log")).expect("log").flatten() {
        let _ = std::fs::remove_file(e.path());
    }
    let out = run(
        &["-h", &hs, "-Q", "-R", "-w", "whiteclnt", "-l", "log"],
        RCVD_MSG,
    );
    assert_eq!(code(&out), 0);
    let text = only_log(&h.join("log"));
    assert!(
        text.contains("192.0.2.7 is a listed 'submit' client\n"),
        "{text}"
    );
}

#[test]
fn version_line_is_the_originals() {
    let out = run(&["-V"], b"");
    assert_eq!(code(&out), 0);
    assert_eq!(stderr(&out), "2.3.167\n");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_terminating_signal_gives_the_originals_exit_code() {
    use std::process::{Command, Stdio};
    let (_h, hs) = home("sigterm");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dccproc"))
        .args(["-h", &hs, "-Q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dccproc");
    // still reading the message when the signal comes, once dccproc
    // catches SIGTERM (bit 15 of SigCgt in its /proc status; bounded wait)
    let stdin = child.stdin.take();
    let status_file = format!("/proc/{}/status", child.id());
    let caught = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .is_some_and(|m| m & (1 << (15 - 1)) != 0)
    };
    for _ in 0..500 {
        if std::fs::read_to_string(&status_file).is_ok_and(|t| caught(&t)) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    drop(stdin);
    // exit(-SIGTERM)
    assert_eq!(status.code(), Some(241), "{status:?}");
}

#[test]
fn skipped_received_headers_are_noted_in_order_with_relays() {
    // -R passes over Received headers of a known local form without an
    // address, noting each (`skip NAME Received: header`), and looks
    // past a listed MX relay, in the order the headers come
    let (h, hs) = home("rcvd-skip");
    std::fs::create_dir(h.join("log")).expect("log dir");
    std::fs::write(h.join("whiteclnt"), "mx ip 192.0.2.7\n").expect("whiteclnt");
    let msg: &[u8] = b"Received: (qmail 4824 invoked by uid 1000); 8 Nov 2005\n\
Received: from relay.example (relay.example [192.0.2.7]) by mx.example\n\
Received: (qmail 21530 invoked from network); 29 Aug 2005\n\
Received: from sender.example (sender.example [198.51.100.5]) by relay.example\n\
From: a@example.com\n\
Subject: s\n\
\n\
body\n";
    let out = run(
        &["-h", &hs, "-Q", "-R", "-w", "whiteclnt", "-l", "log"],
        msg,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = only_log(&h.join("log"));
    let want = "skip qmail Received: header\n\
192.0.2.7 is a whitelisted MX server\n\
skip qmail Received: header\n";
    assert!(text.contains(want), "{text}");
    assert!(text.contains("198.51.100.5"), "{text}");
}
