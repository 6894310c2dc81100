//! `${dcc_isspam}` and `${dcc_notspam}` through the real dccm, as the
//! original's `ask_sm` and `ask_white_rcpt` treat them:
//!
//! - the log file says `sendmail.cf-->{dcc_isspam}: "text"` for the first
//!   `${dcc_isspam}` text and again for a relay text, and
//!   `sendmail.cf-->{dcc_notspam}: "text"` once, after the body, before
//!   the recipients' whitelist lines and the decision;
//! - by default (`option MTA-last`) sendmail's opinion wins over the
//!   whiteclnt files; with `option MTA-first` the files' white- or
//!   blacklisting wins and sendmail decides only where they say nothing
//!   (a relay text refuses a whitelisted message all the same);
//! - a message that is spam by `${dcc_isspam}` is reported to the DCC
//!   server as spam.

mod common;

use common::milter::{connect, macro_pkt, Client, Reply};
use common::{local_args, make_home, start_dccm};
use std::path::Path;
use tally_testkit::{write_map, FakeDccd};
use tally_wire::tgts::Tgts;
use tally_wire::Op;

/// What sendmail says at a recipient or at the end: `{dcc_isspam}`,
/// `{dcc_notspam}`.
type Says<'a> = (Option<&'a str>, Option<&'a str>);

/// The macros of what sendmail says.
fn says<'a>(s: Says<'a>) -> Vec<(&'static str, &'a str)> {
    let mut m = Vec::new();
    if let Some(v) = s.0 {
        m.push(("{dcc_isspam}", v));
    }
    if let Some(v) = s.1 {
        m.push(("{dcc_notspam}", v));
    }
    m
}

/// A message from `from` to bob with sendmail's macros `rcpt` (with the
/// RCPT) and `eom` (with the end of the message): the answers to the end.
fn message(c: &mut Client, id: &str, from: &str, rcpt: Says, eom: Says) -> Vec<Reply> {
    c.send(b'D', &macro_pkt(b'M', &[("i", id)])).unwrap();
    c.send(b'M', format!("<{from}>\0").as_bytes()).unwrap();
    assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
    let mut m = vec![("{rcpt_mailer}", "local"), ("{rcpt_addr}", "bob")];
    m.extend(says(rcpt));
    c.send(b'D', &macro_pkt(b'R', &m)).unwrap();
    c.send(b'R', b"<bob@example.net>\0").unwrap();
    assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
    for (n, v) in [("From", from), ("Subject", id)] {
        c.send(b'L', format!("{n}\0{v}\0").as_bytes()).unwrap();
        c.replies().unwrap();
    }
    c.send(b'N', b"").unwrap();
    c.replies().unwrap();
    c.send(b'B', format!("Hello Bob,\r\nnote {id}.\r\n").as_bytes())
        .unwrap();
    c.replies().unwrap();
    c.send(b'D', &macro_pkt(b'E', &says(eom))).unwrap();
    c.send(b'E', b"").unwrap();
    c.replies().unwrap()
}

struct Run {
    answers: Vec<Vec<Reply>>,
    logs: Vec<String>,
    /// The target counts of the reports the DCC server got.
    reports: Vec<u32>,
}

/// dccm with the main whiteclnt file `white` and `-l logs`, one message
/// per entry of `msgs` (sender, RCPT macros, end macros) on one
/// connection.
fn run(tag: &str, white: &str, msgs: &[(&str, Says, Says)]) -> Run {
    let home = make_home(tag);
    std::fs::write(home.join("whiteclnt"), white).unwrap();
    let srv = FakeDccd::start(1200, "behbrand");
    write_map(&home, srv.addr);
    let logdir = home.join("logs").display().to_string();
    let d = start_dccm(
        &home,
        &local_args(&home, &["-w", "whiteclnt", "-l", &logdir]),
    );
    let mut c = connect(&d.sock, "192.0.2.60");
    let mut answers = Vec::new();
    for (i, (from, rcpt, eom)) in msgs.iter().enumerate() {
        answers.push(message(&mut c, &format!("MT{i:04}"), from, *rcpt, *eom));
    }
    drop(c);
    drop(d);
    let logs = logs(&home.join("logs"));
    let reports = srv.ops(Op::Report).iter().map(|s| s.tgts).collect();
    let _ = std::fs::remove_dir_all(&home);
    Run {
        answers,
        logs,
        reports,
    }
}

/// The kept log files, ordered by their subject (the queue ID).
fn logs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    let key = |s: &String| {
        s.lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or("")
            .to_string()
    };
    v.sort_by_key(key);
    v
}

fn last(r: &[Reply]) -> Reply {
    r.last().cloned().expect("an answer")
}

fn code(s: &str) -> Reply {
    Reply::Code(s.to_string())
}

/// The lines of a log file between the body and the checksum table.
fn after_body(log: &str) -> Vec<&str> {
    let sep = log.find("### end of message body").expect("separator");
    log[sep..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("X-DCC") && !l.trim_start().starts_with("reported:"))
        .filter(|l| !l.is_empty())
        .collect()
}

const ISSPAM: &str = "sendmail.cf-->{dcc_isspam}";

#[test]
fn sendmail_cf_log_lines() {
    let r = run(
        "mta-log",
        "",
        &[
            // the first text is logged, the later one is not
            (
                "alice@example.com",
                (Some("REJECT: go \"away\""), None),
                (Some("5.7.0 554 later text"), None),
            ),
            // a relay text at the end is logged again
            (
                "alice@example.com",
                (Some("ERROR:553 blocked"), None),
                (Some("DISCARD: Relaying denied"), None),
            ),
            // notspam once, and not after isspam
            (
                "alice@example.com",
                (None, Some("\"trusted\"")),
                (None, Some("again")),
            ),
            (
                "alice@example.com",
                (Some("yes"), Some("too")),
                (None, None),
            ),
        ],
    );
    let a: Vec<Reply> = r.answers.iter().map(|a| last(a)).collect();
    assert_eq!(a[0], code("554 5.7.0 later text"));
    assert_eq!(a[1], Reply::Final('d'));
    assert_eq!(a[2], Reply::Final('a'));
    assert_eq!(a[3], code("550 5.7.1 yes"));
    // the notspam message is whitelisted: not kept without a reason
    assert_eq!(r.logs.len(), 3, "{:#?}", r.logs);
    assert_eq!(
        after_body(&r.logs[0]).first().copied(),
        Some(format!("{ISSPAM}: \"REJECT: go away\"").as_str())
    );
    assert_eq!(r.logs[0].matches("sendmail.cf-->").count(), 1);
    let l1 = after_body(&r.logs[1]);
    assert_eq!(
        l1.get(..2),
        Some(
            &[
                &*format!("{ISSPAM}: \"blocked\""),
                &*format!("{ISSPAM}: \"DISCARD: Relaying denied\""),
            ][..]
        ),
        "{}",
        r.logs[1]
    );
    assert_eq!(
        after_body(&r.logs[2]).first().copied(),
        Some(format!("{ISSPAM}: \"yes\"").as_str())
    );
    assert!(!r.logs[2].contains("{dcc_notspam}"), "{}", r.logs[2]);
    // the decision line names sendmail's opinion
    assert!(r.logs[0].contains("MTA-->spam"), "{}", r.logs[0]);
    // reported to the DCC server as spam
    assert!(!r.reports.is_empty());
    assert!(
        r.reports.iter().all(|t| t & Tgts::SPAM_FLAG != 0),
        "{:x?}",
        r.reports
    );
}

#[test]
fn notspam_log_line() {
    // with option log-all the whitelisted message's log is kept
    let r = run(
        "mta-notspam",
        "option log-all\n",
        &[(
            "alice@example.com",
            (None, Some("\"trusted\" relay")),
            (None, Some("again")),
        )],
    );
    assert_eq!(last(&r.answers[0]), Reply::Final('a'));
    assert_eq!(r.logs.len(), 1);
    let l = after_body(&r.logs[0]);
    assert_eq!(
        l.first().copied(),
        Some("sendmail.cf-->{dcc_notspam}: \"trusted relay\"")
    );
    assert_eq!(r.logs[0].matches("sendmail.cf-->").count(), 1);
    assert!(r.logs[0].contains("MTA-->OK"), "{}", r.logs[0]);
    assert!(r.reports.is_empty(), "{:x?}", r.reports);
}

const FILES: &str = "ok env_from friend@example.com\nmany env_from foe@example.com\n";

/// The answers to: a whitelisted sender with `${dcc_isspam}`, a
/// blacklisted one with `${dcc_notspam}`, an unlisted one with each, a
/// whitelisted one with a relay text.
fn order(tag: &str, white: &str) -> (Vec<Reply>, Vec<u32>, Vec<String>) {
    let r = run(
        tag,
        white,
        &[
            ("friend@example.com", (Some("yes"), None), (None, None)),
            ("foe@example.com", (None, Some("yes")), (None, None)),
            ("alice@example.com", (Some("spam"), None), (None, None)),
            ("alice@example.com", (None, Some("yes")), (None, None)),
            (
                "friend@example.com",
                (None, None),
                (Some("DISCARD: Relaying denied"), None),
            ),
        ],
    );
    let a = r.answers.iter().map(|a| last(a)).collect();
    (a, r.reports, r.logs)
}

#[test]
fn mta_last_is_the_default() {
    let (a, reports, _) = order("mta-last", FILES);
    assert_eq!(
        a,
        vec![
            code("550 5.7.1 yes"),
            Reply::Final('a'),
            code("550 5.7.1 spam"),
            Reply::Final('a'),
            Reply::Final('d'),
        ]
    );
    // the spam of messages 1, 3 and 5 is reported as such
    let spam = reports.iter().filter(|t| *t & Tgts::SPAM_FLAG != 0).count();
    assert_eq!(spam, 3, "{reports:x?}");
    let (b, _, _) = order("mta-last2", &format!("option MTA-last\n{FILES}"));
    assert_eq!(a, b);
}

#[test]
fn mta_first_lets_the_files_win() {
    let (a, _, logs) = order("mta-first", &format!("option MTA-first\n{FILES}"));
    let reject = "550 5.7.1 mail MT0001 from 192.0.2.60 rejected by DCC";
    assert_eq!(
        a,
        vec![
            // whitelisted despite ${dcc_isspam}
            Reply::Final('a'),
            // blacklisted despite ${dcc_notspam}
            code(reject),
            // sendmail decides where the files say nothing
            code("550 5.7.1 spam"),
            Reply::Final('a'),
            // a relay attack is refused even when whitelisted
            code("550 5.7.1 Relaying denied"),
        ]
    );
    // the logs of spam (messages 1, 2, 3, 5): sendmail's opinion first
    let spam_log = logs
        .iter()
        .find(|l| l.contains("Subject: MT0002"))
        .expect("log of message 3");
    assert!(spam_log.contains("bob-->spam\n"), "{spam_log}");
    assert!(spam_log.contains("MTA-->spam  "), "{spam_log}");
    let white_log = logs
        .iter()
        .find(|l| l.contains("Subject: MT0000"))
        .expect("log of message 1");
    assert!(white_log.contains("bob-->OK\n"), "{white_log}");
    assert!(white_log.contains("result: accept"), "{white_log}");
}
