//! Greylisting in SMTP proxy mode (`-o`, Postfix before-queue): the first
//! attempt of a new triple is deferred with the greylist reply (`452 4.2.1
//! mail %ID from %CIP temporary greylist embargoed`, or the second `-r`)
//! and not passed downstream; the retry after the embargo is delivered
//! with the X-DCC header. The log files of the deferrals end with the
//! reply and the greylist result, as the original's. With `-x`, a DCC
//! server that does not answer defers the message before greylisting can.

mod common;

use common::smtp::{keeping_downstream, Smtp};
use common::Daemon;
use tally_testkit::{grey_map_text, map_text, FakeDccd, FakeGrey};

const MSG: &str = "From: A <a@example.org>\r\nTo: bob@example.net\r\nSubject: greylisted\r\nMessage-ID: <grey-1@example.org>\r\n\r\nHello Bob,\r\nthis comes twice.\r\n";

/// One SMTP transaction of `MSG` from a@example.org to `rcpts`; the
/// final reply.
fn send(c: &mut Smtp, rcpts: &[&str]) -> String {
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    for r in rcpts {
        assert!(c.cmd(&format!("RCPT TO:<{r}>")).starts_with("250"));
    }
    assert!(c.cmd("DATA").starts_with("354"));
    c.cmd(&format!("{MSG}."))
}

#[test]
fn first_attempt_deferred_retry_delivered() {
    let srv = FakeDccd::start(1200, "behbrand");
    let grey = FakeGrey::start(1202, "behgrey", "on,5");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let (down_port, got) = keeping_downstream();
    let down = format!("127.0.0.1,{down_port}");
    let (d, s) = Daemon::start_tcp_map("proxy-grey", &map, "127.0.0.1", &["-G", "on", "-o", &down]);
    let mut c = Smtp::new(s);
    assert!(c.reply().starts_with("220 down.example"));
    assert!(c.cmd("EHLO front.example").contains("XFORWARD"));
    let xf = "XFORWARD NAME=mx.example.org ADDR=198.51.100.9 HELO=mx.example.org";
    assert!(c.cmd(xf).starts_with("250"));
    let r = send(&mut c, &["bob@example.net"]);
    assert!(r.starts_with("452 4.2.1 mail "), "{r}");
    assert!(
        r.ends_with(" from 198.51.100.9 temporary greylist embargoed\r\n"),
        "{r}"
    );
    assert!(
        got.lock().unwrap().is_empty(),
        "deferred mail was delivered"
    );

    // a retry within the embargo is deferred again (XFORWARD lasts one
    // transaction, as Postfix sends it for each)
    grey.advance(2);
    assert!(c.cmd(xf).starts_with("250"));
    let r = send(&mut c, &["bob@example.net"]);
    assert!(r.starts_with("452 4.2.1 "), "{r}");
    assert!(got.lock().unwrap().is_empty());

    // after the embargo the same message goes through
    grey.advance(4);
    assert!(c.cmd(xf).starts_with("250"));
    let r = send(&mut c, &["bob@example.net"]);
    assert!(r.starts_with("250 2.0.0 Ok: queued as D1"), "{r}");
    {
        let g = got.lock().unwrap();
        assert_eq!(g.len(), 1);
        assert!(g[0].contains("X-DCC-behbrand-Metrics: "), "{}", g[0]);
    }
    assert!(c.cmd("QUIT").starts_with("221"));
    // the log file of the deferral says so
    let logs: Vec<String> = std::fs::read_dir(d.home.join("logs/if"))
        .expect("logs")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert_eq!(logs.len(), 3);
    let deferred = logs
        .iter()
        .filter(|l| l.ends_with(" from 198.51.100.9 temporary greylist embargoed\nresult: temporary greylist embargo\n"))
        .filter(|l| l.contains("\nrejection message: 452 4.2.1 mail "))
        .count();
    assert_eq!(deferred, 2, "{logs:?}");
}

#[test]
fn second_r_is_the_greylist_reply_for_each_lmtp_recipient() {
    let srv = FakeDccd::start(1200, "behbrand");
    let grey = FakeGrey::start(1202, "behgrey", "on,5");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let (_d, s) = Daemon::start_tcp_map(
        "proxy-grey-r",
        &map,
        "127.0.0.1",
        &[
            "-G",
            "on",
            "-o",
            "/dev/null",
            "-r",
            "",
            "-r",
            "4.7.0 451 Greylisted %ID from %CIP, retry later",
        ],
    );
    let mut c = Smtp::new(s);
    assert!(c.reply().starts_with("220 "));
    assert!(c.cmd("LHLO front.example").starts_with("250"));
    let r = send(&mut c, &["bob@example.net", "carol@example.net"]);
    assert!(r.starts_with("451 4.7.0 Greylisted "), "{r}");
    assert!(r.ends_with(" from 127.0.0.1, retry later\r\n"), "{r}");
    // %ID: the unique part of the log file's name
    let id = r.split(' ').nth(3).unwrap_or("");
    assert!(
        id.len() == 6 && id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{r}"
    );
    // LMTP: a reply for each recipient
    assert!(c.reply().starts_with("451 4.7.0 Greylisted "));
    assert!(c.cmd("QUIT").starts_with("221"));
}

#[test]
fn dcc_failure_with_x_defers_before_the_embargo() {
    // smtp_data(): with -x, a DCC server that does not answer makes
    // get_body() fail and smtp_temp_fail() give dcc_fail_reply, before
    // users_process() could embargo the message; the session ends and
    // the log ends with the reply (no greylist lines, no result)
    let grey = FakeGrey::start(1342, "pgrey", "on,5");
    let map = format!(
        "{}{}",
        map_text(tally_testkit::closed_port()),
        grey_map_text(grey.addr)
    );
    let (d, s) = Daemon::start_tcp_map(
        "proxy-grey-xdead",
        &map,
        "127.0.0.1",
        &["-G", "on", "-x", "-o", "/dev/null"],
    );
    let mut c = Smtp::new(s);
    assert!(c.reply().starts_with("220 "));
    assert!(c.cmd("EHLO front.example").starts_with("250"));
    let r = send(&mut c, &["bob@example.net"]);
    assert_eq!(r, "451 4.4.0 DCC failure\r\n");
    assert!(grey
        .seen()
        .iter()
        .any(|s| s.op == tally_wire::Op::GreyReport));
    drop(c);
    // the log file is finished after the reply
    let read = || -> Vec<String> {
        std::fs::read_dir(d.home.join("logs/if"))
            .expect("logs")
            .flatten()
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .filter(|l| l.contains("\nrejection message: "))
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut logs = read();
    while logs.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        logs = read();
    }
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(
        logs[0].ends_with("\nrejection message: 451 4.4.0 DCC failure\n"),
        "{}",
        logs[0]
    );
    assert!(!logs[0].contains("greylist recipient"), "{}", logs[0]);
}
