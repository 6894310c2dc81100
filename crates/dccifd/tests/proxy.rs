//! SMTP proxy mode (-o) between a client and a small downstream SMTP
//! server: the envelope and XFORWARD attributes reach the checks, clean
//! mail is delivered with the X-DCC header, blacklisted mail is refused
//! with the default rejection reply, and SMTP transparency is kept.

mod common;

use common::smtp::Smtp;
use common::Daemon;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use tally_testkit::FakeDccd;

/// A downstream SMTP server keeping the messages it receives.
fn downstream() -> (u16, Arc<Mutex<Vec<String>>>) {
    common::smtp::downstream(serve)
}

fn serve(s: TcpStream, got: &Mutex<Vec<String>>) {
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    let _ = w.write_all(b"220 down.example ESMTP\r\n");
    let mut line = String::new();
    let (mut lmtp, mut rcpts) = (false, 0usize);
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "LHLO" => {
                lmtp = verb == "LHLO";
                b"250-down.example\r\n250 XFORWARD NAME ADDR HELO\r\n"
            }
            "RCPT" => {
                rcpts += 1;
                b"250 2.1.5 Ok\r\n"
            }
            "MAIL" | "RSET" => {
                rcpts = 0;
                b"250 2.0.0 Ok\r\n"
            }
            "DATA" => {
                let _ = w.write_all(b"354 go ahead\r\n");
                let mut msg = String::new();
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                        break;
                    }
                    msg.push_str(&l);
                }
                got.lock().unwrap().push(msg);
                for _ in 1..if lmtp { rcpts } else { 1 } {
                    let _ = w.write_all(b"250 2.0.0 Ok: queued as D1\r\n");
                }
                b"250 2.0.0 Ok: queued as D1\r\n"
            }
            "QUIT" => {
                let _ = w.write_all(b"221 2.0.0 Bye\r\n");
                return;
            }
            _ => b"250 2.0.0 Ok\r\n",
        };
        let _ = w.write_all(reply);
    }
}

/// Start dccifd as a proxy (on a free loopback TCP port, `-o` towards
/// `downstream`) and connect an SMTP client to it.
fn proxy(name: &str, srv: &FakeDccd, downstream: &str) -> (Daemon, Smtp) {
    let (d, s) = Daemon::start_tcp(name, srv, "127.0.0.1", &["-o", downstream]);
    (d, Smtp::new(s))
}

const MSG: &str = "From: A <a@example.org>\r\nTo: bob@example.net\r\nSubject: proxy\r\nMessage-ID: <proxy-1@example.org>\r\n\r\nHello Bob,\r\n..a line that starts with a dot\r\nbye\r\n";

#[test]
fn proxy_delivers_and_refuses() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (down_port, got) = downstream();
    let (d, mut c) = proxy("proxy", &srv, &format!("127.0.0.1,{down_port}"));
    assert!(c.reply().starts_with("220 down.example"));
    assert!(c.cmd("EHLO front.example").contains("XFORWARD"));
    assert!(c
        .cmd("XFORWARD NAME=mx.example.org ADDR=192.0.2.55 HELO=mx.example.org")
        .starts_with("250"));
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<bob@example.net>").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("354"));
    let r = c.cmd(&format!("{MSG}."));
    assert!(r.starts_with("250 2.0.0 Ok: queued as D1"), "{r}");
    {
        let g = got.lock().unwrap();
        assert_eq!(g.len(), 1);
        let m = &g[0];
        assert!(m.contains("X-DCC-behbrand-Metrics: "), "{m}");
        assert!(m.contains("Body=1"), "{m}");
        // transparency: one dot removed on the way in, added on the way out
        assert!(m.contains("\r\n..a line that starts"), "{m}");
        let hdr = m.find("X-DCC").unwrap_or(0);
        assert!(
            hdr < m.find("\r\n\r\n").unwrap_or(0),
            "header before the body: {m}"
        );
    }

    // a blacklisted sender is refused and not delivered
    assert!(c.cmd("MAIL FROM:<spammer@example.com>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<bob@example.net>").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("354"));
    let r = c.cmd(&format!("{MSG}."));
    assert!(r.starts_with("550 5.7.1 mail "), "{r}");
    assert!(r.contains("from 192.0.2.55 rejected by DCC"), "{r}");
    assert_eq!(got.lock().unwrap().len(), 1);

    // DATA without recipients
    assert!(c.cmd("DATA").starts_with("503"));
    assert!(c.cmd("QUIT").starts_with("221"));
    drop(d);
}

#[test]
fn proxy_to_dev_null() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (_d, mut c) = proxy("proxynull", &srv, "/dev/null");
    assert!(c.reply().starts_with("220 "));
    assert!(c.cmd("HELO front.example").starts_with("250"));
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<bob@example.net>").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("354"));
    assert!(c.cmd(&format!("{MSG}.")).starts_with("250 2.0.0 Ok"));
    assert!(c.cmd("QUIT").starts_with("221"));
}

#[test]
fn proxy_lmtp_one_reply_per_recipient() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (down_port, got) = downstream();
    let (_d, mut c) = proxy("lmtp", &srv, &format!("127.0.0.1,{down_port}"));
    assert!(c.reply().starts_with("220 "));
    assert!(c.cmd("LHLO front.example").starts_with("250"));
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<bob@example.net>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<carol@example.net>").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("354"));
    assert!(c
        .cmd(&format!("{MSG}."))
        .starts_with("250 2.0.0 Ok: queued as D1"));
    // the second recipient's reply
    assert!(c.reply().starts_with("250 2.0.0 Ok: queued as D1"));
    assert_eq!(got.lock().unwrap().len(), 1);
    assert!(c.cmd("MAIL FROM:<spammer@example.com>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<bob@example.net>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<carol@example.net>").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("354"));
    assert!(c.cmd(&format!("{MSG}.")).starts_with("550 5.7.1"));
    assert!(c.reply().starts_with("550 5.7.1"));
    assert!(c.cmd("QUIT").starts_with("221"));
}
