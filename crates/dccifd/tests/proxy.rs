//! SMTP proxy mode (-o) between a client and a small downstream SMTP
//! server: the envelope and XFORWARD attributes reach the checks, clean
//! mail is delivered with the X-DCC header, blacklisted mail is refused
//! with the default rejection reply, and SMTP transparency is kept.

mod common;

use common::smtp::{keeping_downstream as downstream, Smtp};
use common::Daemon;
use tally_testkit::FakeDccd;

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

    // a blacklisted sender is refused and not delivered (XFORWARD lasts
    // one transaction, so Postfix sends it again)
    assert!(c
        .cmd("XFORWARD NAME=mx.example.org ADDR=192.0.2.55 HELO=mx.example.org")
        .starts_with("250"));
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
    assert_eq!(c.cmd(&format!("{MSG}.")), "250 dccifd mail ok\r\n");
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
