//! The SMTP dialogue of proxy mode (-o) as the original dccifd speaks it
//! (its proxy_job(), get_smtp_verb(), smtp_xpostfix(), get_smtp_rcpt()
//! and smtp_data()): its own replies with `-o /dev/null`, the commands it
//! refuses itself (out of sequence, missing or bad arguments) without
//! passing them on, SMTP transparency, XFORWARD values lasting one
//! transaction and the end of the session after a DCC failure with -x.

mod common;

use common::smtp::{downstream, keeping_downstream, Smtp};
use common::Daemon;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use tally_testkit::FakeDccd;

fn proxy(name: &str, srv: &FakeDccd, downstream: &str, extra: &[&str]) -> (Daemon, Smtp) {
    let mut args = vec!["-o", downstream];
    args.extend_from_slice(extra);
    let (d, s) = Daemon::start_tcp(name, srv, "127.0.0.1", &args);
    (d, Smtp::new(s))
}

const MSG: &str = "From: A <a@example.org>\r\nTo: bob@example.net\r\nSubject: dialogue\r\nMessage-ID: <dialogue-1@example.org>\r\n\r\nHello Bob,\r\nbye\r\n";

/// A downstream that answers every command with 250 (354 to DATA, then
/// 250 after the message) and records the command lines it received.
fn recording(s: TcpStream, got: &Mutex<Vec<String>>) {
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    let _ = w.write_all(b"220 down.example ESMTP\r\n");
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        got.lock().unwrap().push(line.trim_end().to_string());
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        if verb == "DATA" {
            let _ = w.write_all(b"354 go ahead\r\n");
            loop {
                let mut l = String::new();
                if r.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                    break;
                }
            }
        } else if verb == "QUIT" {
            let _ = w.write_all(b"221 2.0.0 Bye\r\n");
            return;
        } else if line.contains("nobody@") {
            let _ = w.write_all(b"550 5.1.1 no such user\r\n");
            continue;
        }
        let _ = w.write_all(b"250 2.0.0 Ok\r\n");
    }
}

#[test]
fn own_replies_to_dev_null() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (_d, mut c) = proxy("dlg-null", &srv, "/dev/null", &[]);
    assert_eq!(c.reply(), "220 dccifd proxy ready\r\n");
    assert_eq!(c.cmd("EHLO front.example"), "250 dccifd HELO ok\r\n");
    assert_eq!(c.cmd("NOOP"), "500 5.0.0 dccifd command unrecognized\r\n");
    assert_eq!(
        c.cmd("XFORWARD ADDR=192.0.2.9 NAME=mx.example.org"),
        "250 dccifd Postfix extension ok\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.org>"),
        "250 dccifd Sender ok\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:<bob@example.net>"),
        "250 dccifd Recipient ok\r\n"
    );
    assert_eq!(c.cmd("DATA"), "354 Enter mail to dccifd\r\n");
    assert_eq!(c.cmd(&format!("{MSG}.")), "250 dccifd mail ok\r\n");
    assert_eq!(c.cmd("RSET"), "250 dccifd RSET ok\r\n");
    assert_eq!(c.cmd("QUIT"), "221 dccifd closing connection\r\n");
}

#[test]
fn refused_commands_are_not_passed_on() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (port, got) = downstream(recording);
    let (_d, mut c) = proxy("dlg-seq", &srv, &format!("127.0.0.1,{port}"), &[]);
    let seq = "503 5.0.0 bad dccifd command sequence\r\n";
    assert!(c.reply().starts_with("220 down.example"));
    assert!(c.cmd("EHLO front.example").starts_with("250"));
    // out of sequence: refused here, then nothing until RSET or HELO
    assert_eq!(c.cmd("RCPT TO:<bob@example.net>"), seq);
    assert_eq!(c.cmd("MAIL FROM:<a@example.org>"), seq);
    assert!(c.cmd("RSET").starts_with("250 2.0.0"));
    // arguments
    assert_eq!(c.cmd("MAIL"), "501 5.5.4 dccifd command arg required\r\n");
    assert_eq!(
        c.cmd("MAIL <a@example.org>"),
        "501 5.5.1 dccifd command unrecognized\r\n"
    );
    assert_eq!(c.cmd("HELO"), "501 5.5.4 dccifd command arg required\r\n");
    assert_eq!(
        c.cmd("XFORWARD NAME=mx.example.org PROTO"),
        "501 5.5.2 dccifd Postfix extension syntax error\r\n"
    );
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250 2.0.0"));
    assert_eq!(
        c.cmd("RCPT TO:<>"),
        "501 5.5.2 dccifd RCPT command syntax error\r\n"
    );
    // DATA without a recipient, XFORWARD and MAIL within a transaction
    assert_eq!(c.cmd("DATA"), seq);
    assert!(c.cmd("RSET").starts_with("250 2.0.0"));
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250 2.0.0"));
    assert_eq!(c.cmd("XFORWARD ADDR=192.0.2.9"), seq);
    assert!(c.cmd("HELO again.example").starts_with("250 2.0.0"));
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250 2.0.0"));
    assert!(c.cmd("RCPT TO:<bob@example.net>").starts_with("250 2.0.0"));
    assert_eq!(c.cmd("MAIL FROM:<b@example.org>"), seq);
    assert!(c.cmd("QUIT").starts_with("221"));
    let g = got.lock().unwrap().clone();
    assert_eq!(
        g,
        [
            "EHLO front.example",
            "RSET",
            "MAIL FROM:<a@example.org>",
            "RSET",
            "MAIL FROM:<a@example.org>",
            "HELO again.example",
            "MAIL FROM:<a@example.org>",
            "RCPT TO:<bob@example.net>",
            "QUIT",
        ]
    );
}

#[test]
fn only_crlf_dot_crlf_ends_the_message() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (port, got) = keeping_downstream();
    let (_d, mut c) = proxy("dlg-dot", &srv, &format!("127.0.0.1,{port}"), &[]);
    assert!(c.reply().starts_with("220 "));
    assert!(c.cmd("EHLO front.example").starts_with("250"));
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<bob@example.net>").starts_with("250"));
    assert_eq!(c.cmd("DATA"), "354 Enter mail to dccifd\r\n");
    // a dot after a bare LF is text, not transparency; a dot line ended
    // by a bare LF does not end the message (its dot is transparency)
    let r = c.cmd(&format!("{MSG}one\n.x\r\ntwo\r\n.\nthree\r\n."));
    assert!(r.starts_with("250 2.0.0 Ok: queued as D1"), "{r}");
    assert!(c.cmd("QUIT").starts_with("221"));
    let m = got.lock().unwrap()[0].clone();
    assert!(m.ends_with("bye\r\none\n.x\r\ntwo\r\n\nthree\r\n"), "{m:?}");
}

/// One transaction for bob@example.net from `from`: MAIL, RCPT and DATA
/// accepted, then the message with `subject` (None: as it is); the reply
/// to its end.
fn transaction(c: &mut Smtp, from: &str, subject: Option<&str>) -> String {
    assert!(c.cmd(&format!("MAIL FROM:<{from}>")).starts_with("250"));
    assert!(c.cmd("RCPT TO:<bob@example.net>").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("354"));
    let m = match subject {
        Some(t) => MSG.replace("Subject: dialogue", &format!("Subject: {t}")),
        None => MSG.to_string(),
    };
    c.cmd(&format!("{m}."))
}

#[test]
fn xforward_values_last_one_transaction() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (_d, mut c) = proxy("dlg-xfwd", &srv, "/dev/null", &[]);
    let spam = |c: &mut Smtp| transaction(c, "spammer@example.com", None);
    assert!(c.reply().starts_with("220 "));
    assert!(c.cmd("EHLO front.example").starts_with("250"));
    // the connection's address at first
    let r = spam(&mut c);
    assert!(r.contains(" from 127.0.0.1 rejected by DCC"), "{r}");
    assert!(c.cmd("XFORWARD ADDR=192.0.2.55").starts_with("250"));
    let r = spam(&mut c);
    assert!(r.contains(" from 192.0.2.55 rejected by DCC"), "{r}");
    // forgotten with the transaction, as the connection's address
    let r = spam(&mut c);
    assert!(r.contains(" from  rejected by DCC"), "{r}");
    // XCLIENT lasts
    assert!(c.cmd("XCLIENT ADDR=192.0.2.77").starts_with("250"));
    let r = spam(&mut c);
    assert!(r.contains(" from 192.0.2.77 rejected by DCC"), "{r}");
    let r = spam(&mut c);
    assert!(r.contains(" from 192.0.2.77 rejected by DCC"), "{r}");
}

#[test]
fn dcc_failure_with_x_ends_the_session() {
    let dead = tally_testkit::map_text(tally_testkit::closed_port());
    let (_d, s) = Daemon::start_tcp_map("dlg-fail", &dead, "127.0.0.1", &["-o", "/dev/null", "-x"]);
    let mut c = Smtp::new(s.try_clone().expect("clone"));
    assert!(c.reply().starts_with("220 "));
    assert!(c.cmd("EHLO front.example").starts_with("250"));
    assert_eq!(
        transaction(&mut c, "a@example.org", None),
        // smtp_temp_fail(): dcc_fail_reply's text, as dccm's recorded
        // `451 4.4.0 DCC failure` (i2)
        "451 4.4.0 DCC failure\r\n"
    );
    // the connection is closed
    let mut rest = Vec::new();
    let mut s = s;
    let _ = s.write_all(b"NOOP\r\n");
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}

/// A downstream that takes the message and then refuses it.
fn refusing(s: TcpStream, _got: &Mutex<Vec<String>>) {
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    let _ = w.write_all(b"220 down.example ESMTP\r\n");
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        if verb == "DATA" {
            let _ = w.write_all(b"354 go ahead\r\n");
            loop {
                let mut l = String::new();
                if r.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                    break;
                }
            }
            let _ = w.write_all(b"554 5.7.1 no thanks\r\n");
            continue;
        }
        let _ = w.write_all(b"250 2.0.0 Ok\r\n");
    }
}

/// The main log file of the message with `subject`.
fn main_log(d: &Daemon, subject: &str) -> String {
    let dir = d.home.join("logs/if");
    for _ in 0..100 {
        let found = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_file())
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            // written after the reply: wait for its last line too
            .find(|t| t.contains(&format!("Subject: {subject}\r\n")) && t.contains("\nresult: "));
        if let Some(t) = found {
            return t;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("no log file for {subject}");
}

#[test]
fn downstream_refusal_and_discard_are_logged() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (port, _got) = downstream(refusing);
    let (d, mut c) = proxy("dlg-refused", &srv, &format!("127.0.0.1,{port}"), &[]);
    assert!(c.reply().starts_with("220 "));
    assert!(c.cmd("EHLO front.example").starts_with("250"));
    assert_eq!(
        transaction(&mut c, "a@example.org", Some("refused downstream")),
        "554 5.7.1 no thanks\r\n"
    );
    let log = main_log(&d, "refused downstream");
    assert!(
        log.ends_with(
            "SMTP server rejection message: 554 5.7.1 no thanks\nresult: rejected by SMTP server\n"
        ),
        "{log}"
    );

    let (d, mut c) = proxy("dlg-discard", &srv, "/dev/null", &["-a", "DISCARD"]);
    assert!(c.reply().starts_with("220 "));
    assert_eq!(
        transaction(&mut c, "spammer@example.com", Some("discarded")),
        "250 dccifd mail ok\r\n"
    );
    let log = main_log(&d, "discarded");
    assert!(log.ends_with("\nresult: discard\n"), "{log}");
}

#[test]
fn recipients_refused_downstream_are_logged() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (port, _got) = downstream(recording);
    let (d, mut c) = proxy("dlg-rcpts", &srv, &format!("127.0.0.1,{port}"), &[]);
    assert!(c.reply().starts_with("220 "));
    assert!(c.cmd("EHLO front.example").starts_with("250"));
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c
        .cmd("RCPT TO:<nobody@example.net>")
        .starts_with("550 5.1.1"));
    assert!(c.cmd("RCPT TO:<bob@example.net>").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("354"));
    let m = MSG.replace("Subject: dialogue", "Subject: one refused");
    assert!(c.cmd(&format!("{m}.")).starts_with("250"));
    let log = main_log(&d, "one refused");
    assert!(
        log.contains("env_To: nobody@example.net  addr=  dir=\nenv_To: bob@example.net  addr="),
        "{log}"
    );
}

/// A host name that cannot be looked up, refused by the resolver itself
/// (a label of 64 bytes has no DNS form), so that no query leaves the
/// machine.
const NO_DNS_NAME: &str =
    "downstream-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.invalid";

#[test]
fn unknown_downstream_host_stops_at_start() {
    // main(): the -o host is looked up before listening (EX_NOHOST)
    let home = common::scratch("dlg-nohost");
    let sock = home.join("sock");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dccifd"))
        .arg("-b")
        .arg("-h")
        .arg(&home)
        .arg("-p")
        .arg(&sock)
        .args(["-o", &format!("{NO_DNS_NAME},25")])
        .output()
        .expect("run dccifd");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(68), "{err}");
    assert!(err.contains(&format!("dccifd: {NO_DNS_NAME}: ")), "{err}");
    assert!(!sock.exists());
}

#[test]
fn ignored_spam_is_logged_as_ignore_and_accept() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (d, mut c) = proxy("dlg-ignore", &srv, "/dev/null", &["-a", "IGNORE"]);
    assert!(c.reply().starts_with("220 "));
    assert_eq!(
        transaction(&mut c, "spammer@example.com", Some("ignored")),
        "250 dccifd mail ok\r\n"
    );
    let log = main_log(&d, "ignored");
    assert!(log.ends_with("\nresult: ignore and accept\n"), "{log}");
}
