//! Behaviour of the original dccifd 2.3.167 found by reading its source
//! (dccifd/dccifd.c) where no recording covers it: the `body` option
//! with `header`, a client line with an address that cannot be read or a
//! host name that is an address, null recipients with a user name, the
//! letters of a `T` answer, the checksum table without recipients,
//! `spam` under `-Q`, and how the unix socket is taken at start.

mod common;

use common::Daemon;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tally_testkit::{map_text, FakeDccd};

const MSG: &str = "Received: from mail.example.com (mail.example.com [192.0.2.10])\n\
\tby mx.example.net (Postfix) with ESMTP id 4ABC123\n\
\tfor <bob@example.net>; Mon, 3 Jun 2024 10:15:00 +0000 (UTC)\n\
From: Alice <alice@example.com>\n\
Subject: original compat\n\
Message-ID: <original-compat-1@example.com>\n\
\n\
Hello Bob,\n\
a message for the comparison with the original.\n";

fn req(opts: &str, client: &str, rcpts: &[&str]) -> Vec<u8> {
    let mut r = format!("{opts}\n{client}\nmail.example.com\n<alice@example.com>\n");
    for x in rcpts {
        r.push_str(x);
        r.push('\n');
    }
    r.push('\n');
    r.push_str(MSG);
    r.into_bytes()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Wait until dccifd's stderr holds `what`.
fn wait_stderr(d: &Daemon, what: &str) {
    let t0 = Instant::now();
    while !d.stderr().contains(what) {
        assert!(t0.elapsed() < Duration::from_secs(5), "{}", d.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The log files of the main `-l` directory.
fn logs(d: &Daemon) -> Vec<String> {
    std::fs::read_dir(d.home.join("logs/if"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn body_with_header_returns_only_the_message() {
    // ascii_done(): with `body` the message follows the two result lines;
    // `header` and `cksums` add nothing then
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("oc-body", &srv, &[]);
    for opts in ["body header", "header body", "cksums body"] {
        let a = text(&d.ask(&req(
            opts,
            "192.0.2.1\rmx.example.org",
            &["<bob@example.net>\rbob"],
        )));
        // (the repeated message becomes bulk: the letters may be R)
        let rest = a.splitn(3, '\n').nth(2).unwrap_or("");
        assert!(
            rest.starts_with("Received: from mail.example.com"),
            "{opts}: {a}"
        );
        assert_eq!(
            a.matches("X-DCC-behbrand-Metrics:").count(),
            1,
            "{opts}: {a}"
        );
        assert!(
            a.contains("Message-ID: <original-compat-1@example.com>\nX-DCC-behbrand-Metrics: "),
            "{opts}: {a}"
        );
        assert!(!a.contains("reported:"), "{opts}: {a}");
    }
}

#[test]
fn unreadable_client_address_leaves_the_client_unknown() {
    // ascii_job(): an address that str2su() refuses is complained about and
    // the Received: headers are not searched for the client
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("oc-badip", &srv, &[]);
    let rcpt = ["<bob@example.net>\rbob"];
    let a = text(&d.ask(&req("cksums", "999.1.2.3\rbad.example.com", &rcpt)));
    assert!(a.starts_with("A\nA\nX-DCC-behbrand-Metrics: "), "{a}");
    assert!(!a.contains("\n                       IP: "), "{a}");
    wait_stderr(&d, "unrecognized IP address \"999.1.2.3\"");
    // with no client line the first Received: header gives it
    let a = text(&d.ask(&req("cksums", "", &rcpt)));
    assert!(a.contains("\n                       IP: "), "{a}");
    // the log file has no IP: line for the unknown client
    let l = logs(&d);
    assert_eq!(
        l.iter().filter(|l| l.contains("\nIP: ")).count(),
        1,
        "{l:?}"
    );
}

#[test]
fn client_name_that_is_an_address_is_a_literal() {
    // ascii_job(): a host name that is an address becomes [addr] or
    // [IPv6:addr], as the log file's IP: line shows
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("oc-literal", &srv, &[]);
    let rcpt = ["<bob@example.net>\rbob"];
    d.ask(&req("log header", "192.0.2.7\r192.0.2.7", &rcpt));
    d.ask(&req("log header", "2001:db8::7\r2001:db8::7", &rcpt));
    let l = logs(&d).join("\n");
    assert!(l.contains("\nIP: [192.0.2.7] ::ffff:192.0.2.7\n"), "{l}");
    assert!(l.contains("\nIP: [IPv6:2001:db8::7] 2001:db8::7\n"), "{l}");
}

#[test]
fn null_recipient_with_a_user_name_is_malformed() {
    // check_addr(): an empty mailbox, or <>, before a user name ends the
    // request without an answer; <> alone is a recipient (recorded, 27)
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("oc-nullrcpt", &srv, &[]);
    assert!(d.ask(&req("header", "192.0.2.1", &["<>\rbob"])).is_empty());
    wait_stderr(&d, "null recipient address");
    assert!(d.ask(&req("header", "192.0.2.1", &["\rbob"])).is_empty());
    wait_stderr(&d, "null recipient\n");
    let a = text(&d.ask(&req("header", "192.0.2.1", &["<>\r"])));
    assert!(a.starts_with("A\nA\n"), "{a}");
}

#[test]
fn temporary_failure_refuses_every_recipient() {
    // ascii_job(): after a -x DCC failure the answer `T` is given before
    // any recipient is accepted, so that every letter is `R`
    let dead = map_text(tally_testkit::closed_port());
    let d = Daemon::start_map("oc-tempfail", &dead, &["-x"]);
    let a = text(&d.ask(&req(
        "header",
        "192.0.2.1\rmx.example.org",
        &["<bob@example.net>\rbob", "<carol@example.net>\rcarol"],
    )));
    assert!(a.starts_with("T\nRR\n"), "{a}");
}

fn start_second(home: &std::path::Path, sock: &std::path::Path) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dccifd"));
    c.args(["-b", "-h"])
        .arg(home)
        .arg("-p")
        .arg(sock)
        .arg("-R")
        .arg(home)
        .stdin(Stdio::null());
    tally_testkit::child::output_within(&mut c, Duration::from_secs(30), "second dccifd")
}

#[test]
fn a_running_daemons_socket_is_not_taken() {
    // bind_unix_listen(): a socket that a daemon answers on is left alone
    // (after 5 s: "something running with socket at", EX_CANTCREAT); a
    // file that is not a socket stops the start the same way
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("oc-sock", &srv, &[]);
    let other = common::scratch("oc-sock2");
    let out = start_second(&other, &d.sock);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(73), "{err}");
    assert!(err.contains("something running with socket at"), "{err}");
    let a = text(&d.ask(&req("header", "192.0.2.1", &["<bob@example.net>\rbob"])));
    assert!(a.starts_with("A\nA\n"), "{a}");

    let plain = other.join("not-a-socket");
    std::fs::write(&plain, "x").expect("file");
    let out = start_second(&other, &plain);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(73), "{err}");
    assert!(err.contains("non-socket present at"), "{err}");
    assert_eq!(std::fs::read(&plain).expect("kept"), b"x");
    let _ = std::fs::remove_dir_all(&other);
}

#[test]
fn bad_job_limit_and_action_are_reported() {
    // main(): -j below 2 is an "invalid queue length", an unknown -a an
    // "unrecognized -a action"; both are reported and dccifd goes on
    let o = Command::new(env!("CARGO_BIN_EXE_dccifd"))
        .args(["-j", "1", "-a", "bogus", "-V"])
        .output()
        .expect("run dccifd");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("invalid queue length 1"), "{err}");
    assert!(err.contains("unrecognized -a action: bogus"), "{err}");
}

#[test]
fn checksums_without_recipients() {
    // ascii_done(): `cksums` prints the checksum table whatever the
    // recipients; without any the server is not asked
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("oc-cks-norcpt", &srv, &[]);
    let a = text(&d.ask(&req("cksums", "192.0.2.1\rmx.example.org", &[])));
    assert!(a.starts_with("A\n\n"), "{a}");
    assert!(a.contains("reported: 0 "), "{a}");
    assert!(a.contains("\n                       IP: "), "{a}");
    assert!(a.contains("\n               Message-ID: "), "{a}");
    assert!(a.ends_with("\n\n"), "{a}");
    assert!(!a.contains("server"), "{a}");
}

#[test]
fn spam_under_query_only_is_dropped_with_a_complaint() {
    // cmn_clear() makes every message a query with -Q; ascii_job() then
    // drops `spam` as for the `query` option, and says so
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("oc-q-spam", &srv, &["-Q"]);
    let a = text(&d.ask(&req(
        "spam header",
        "192.0.2.1\rmx.example.org",
        &["<bob@example.net>\rbob"],
    )));
    assert!(a.starts_with("A\nA\nX-DCC-behbrand-Metrics: "), "{a}");
    wait_stderr(&d, "spam and query are incompatible");
    assert!(srv.ops(tally_wire::Op::Report).is_empty());
}

#[test]
fn tcp_listen_host_at_means_every_address() {
    // bind_tcp_listen(): an empty or `@` local host is every address
    // (and the refused client is "unauthorized client address IP,port")
    use std::io::{Read, Write};
    let srv = FakeDccd::start(1200, "behbrand");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let p = format!("@,{port},127.0.0.1");
    let d = Daemon::start("oc-tcp-at", &srv, &["-p", &p]);
    let t0 = Instant::now();
    let mut s = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(e) => assert!(
                t0.elapsed() < Duration::from_secs(10),
                "connect: {e}\n{}",
                d.stderr()
            ),
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(&req("header", "192.0.2.1", &["<bob@example.net>\rbob"]))
        .expect("write");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert!(text(&out).starts_with("A\nA\n"), "{}", text(&out));
}
