//! dccifd as an SMTP proxy refuses, at RCPT time, a recipient whose
//! whiteclnt setup is incompatible with the earlier recipients' (the
//! original's `cmn_compat_whitelist`), with
//! `452 4.5.3 reject temporarily for incompatible whitelists`; the refused
//! recipient never reaches the downstream server, so the message is
//! delivered only to the accepted ones.

mod common;

use common::smtp::Smtp;
use common::Daemon;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use tally_testkit::FakeDccd;

/// A downstream SMTP server noting the recipients of each delivered
/// message.
fn downstream() -> (u16, Arc<Mutex<Vec<Vec<String>>>>) {
    common::smtp::downstream(serve)
}

fn serve(s: TcpStream, got: &Mutex<Vec<Vec<String>>>) {
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    let _ = w.write_all(b"220 down.example ESMTP\r\n");
    let mut rcpts = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-down.example\r\n250 XFORWARD NAME ADDR HELO\r\n",
            "RCPT" => {
                rcpts.push(line.trim_end().to_string());
                b"250 2.1.5 Ok\r\n"
            }
            "MAIL" | "RSET" => {
                rcpts.clear();
                b"250 2.0.0 Ok\r\n"
            }
            "DATA" => {
                let _ = w.write_all(b"354 go ahead\r\n");
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                        break;
                    }
                }
                got.lock().unwrap().push(std::mem::take(&mut rcpts));
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

const MSG: &str = "From: A <a@example.org>\r\nTo: team@example.net\r\nSubject: compat\r\nMessage-ID: <compat-1@example.org>\r\n\r\nHello all,\r\nsee you.\r\n.";
const WLIST_452: &str = "452 4.5.3 reject temporarily for incompatible whitelists\r\n";

#[test]
fn incompatible_recipients_are_refused_at_rcpt() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (port, got) = downstream();
    let down = format!("127.0.0.1,{port}");
    // users from the recipients' addresses; bob's and carol's per-user
    // files are those of the recorded cases (bob: entries; carol:
    // threshold CMN,MANY only); the main file lists env_To wlbob
    let (d, s) = Daemon::start_tcp(
        "proxycompat",
        &srv,
        "127.0.0.1",
        &["-o", &down, "-D", "example.net"],
    );
    // bob2 has the same file as bob
    let bob2 = d.home.join("userdirs-if/bob2");
    std::fs::create_dir_all(&bob2).expect("mkdir");
    std::fs::copy(
        d.home.join("userdirs-if/bob/whiteclnt"),
        bob2.join("whiteclnt"),
    )
    .expect("copy");
    let mut c = Smtp::new(s);
    assert!(c.reply().starts_with("220 down.example"));
    assert!(c.cmd("EHLO front.example").starts_with("250"));

    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<carol@example.net>").starts_with("250"));
    // a lower threshold (the program's CMN,3): refused, with the
    // whitelists text as the original proxy answers either conflict
    assert_eq!(c.cmd("RCPT TO:<dave@example.net>"), WLIST_452);
    // a per-user file with entries where carol's has none
    assert_eq!(c.cmd("RCPT TO:<bob@example.net>"), WLIST_452);
    // whitelisted by env_To in the main file: its threshold does not matter
    assert!(c.cmd("RCPT TO:<wlbob@example.net>").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("354"));
    let r = c.cmd(MSG);
    assert!(r.starts_with("250 2.0.0 Ok: queued as D1"), "{r}");

    // the same file is compatible, another is not
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<bob@example.net>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<bob2@example.net>").starts_with("250"));
    assert_eq!(c.cmd("RCPT TO:<carol@example.net>"), WLIST_452);
    assert!(c.cmd("DATA").starts_with("354"));
    let r = c.cmd(MSG);
    assert!(r.starts_with("250 2.0.0 Ok: queued as D1"), "{r}");

    // a new transaction forgets the earlier recipients
    assert!(c.cmd("RSET").starts_with("250"));
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<carol@example.net>").starts_with("250"));
    assert!(c.cmd("QUIT").starts_with("221"));

    let got = got.lock().unwrap();
    assert_eq!(
        *got,
        vec![
            vec![
                "RCPT TO:<carol@example.net>".to_string(),
                "RCPT TO:<wlbob@example.net>".to_string()
            ],
            vec![
                "RCPT TO:<bob@example.net>".to_string(),
                "RCPT TO:<bob2@example.net>".to_string()
            ],
        ]
    );
    drop(d);
}
