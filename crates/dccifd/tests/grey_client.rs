//! Greylisting as the original's clients do it, beyond the recorded
//! cases: the `query` option makes the log files' greylist heading say
//! `query` (the original's `ASK_ST_QUERY`), and a bulk message embargoed
//! for one recipient while another, whitelisted one wants it stays
//! embargoed for all (the original discards for the recipient that
//! rejects spam rather than refusing the message for everyone, so a
//! recipient still takes it and the embargo holds); with `-x` a DCC
//! server that does not answer gives `T` before any embargo; relays found
//! in Received: headers leave greylisting on, an `mxdcc` one making the
//! greylist heading say `query`.

mod common;

use common::{data, Daemon};
use tally_testkit::files::texts;
use tally_testkit::{grey_map_text, map_text, FakeDccd, FakeGrey};
use tally_wire::{CkType, Op, Sum};

/// A request: options, client, HELO, sender, recipients, the message.
fn request(opts: &str, client: &str, from: &str, rcpts: &[&str], msg: &str) -> Vec<u8> {
    let mut r = format!(
        "{opts}\n{client}\nmail.example.org\n{from}\n{}\n\n",
        rcpts.join("\n")
    )
    .into_bytes();
    r.extend(std::fs::read(data().join("grey-vectors").join(msg)).expect("message"));
    r
}

/// Make msg2.eml bulk at the DCC server: its body checksums as recorded
/// in the greylist vectors.
fn preload_bulk(srv: &FakeDccd) {
    let text =
        std::fs::read_to_string(data().join("grey-vectors/grey-requests.txt")).expect("vectors");
    let line = text
        .lines()
        .find(|l| l.starts_with("grey_dccspam GREY_REPORT"))
        .expect("grey_dccspam");
    for w in line.split_whitespace().skip(2) {
        let (name, v) = w.split_once('=').expect("type=sum");
        let ty = match name {
            "Body" => CkType::Body,
            "Fuz1" => CkType::Fuz1,
            "Fuz2" => CkType::Fuz2,
            _ => continue,
        };
        let words: Vec<&str> = (0..4).map(|i| &v[8 * i..8 * i + 8]).collect();
        srv.preload(
            ty,
            Sum::parse_hex(&words.join(" ")).expect("hex"),
            0x00ff_fff0,
        );
    }
}

#[test]
fn query_option_heads_the_greylist_lines_query() {
    let srv = FakeDccd::start(1300, "qbrand");
    let grey = FakeGrey::start(1302, "qgrey", "on,20");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let d = Daemon::start_args("grey-client-query", &map, &["-G", "on", "-l", "logs/if"]);
    let answer = d.ask(&request(
        "query header",
        "192.0.2.78",
        "someone@example.org",
        &["bob@example.net"],
        "msg1.eml",
    ));
    assert!(
        answer.starts_with(b"G\nG\n"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let logs = texts(&d.home.join("logs/if"));
    assert_eq!(logs.len(), 1, "{logs:?}\n{}", d.stderr());
    assert!(
        logs[0].contains("\n       greylist recipient query\n"),
        "{}",
        logs[0]
    );
}

#[test]
fn bulk_mail_wanted_by_a_whitelisted_recipient_stays_embargoed() {
    let srv = FakeDccd::start(1310, "mbrand");
    preload_bulk(&srv);
    let grey = FakeGrey::start(1312, "mgrey", "on,20");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let d = Daemon::start_files(
        "grey-client-mixed",
        &map,
        &["grey-client/whiteclnt-mixed"],
        &["-G", "on", "-t", "CMN,5", "-w", "whiteclnt-mixed"],
    );
    let answer = d.ask(&request(
        "header",
        "192.0.2.77",
        "sender@example.org",
        &["alice@example.net", "bob@example.net"],
        "msg2.eml",
    ));
    assert!(
        answer.starts_with(b"G\nGG\n"),
        "{}\n{}",
        String::from_utf8_lossy(&answer),
        d.stderr()
    );
    // alice's triple is whitelisted at the greylist server, bob's is
    // embargoed and, the message being bulk for him, put back under
    // embargo
    let ops: Vec<Op> = grey
        .seen()
        .iter()
        .map(|s| s.op)
        .filter(|o| *o != Op::Nop)
        .collect();
    assert_eq!(ops, vec![Op::GreyWhite, Op::GreyReport, Op::GreySpam]);
}

#[test]
fn try_hard_embargoes_mail_without_an_ip_address() {
    // -x: the original's ask_grey() fails for want of the IP address and
    // cmn_ask_white() then embargoes the message as for a silent server
    let srv = FakeDccd::start(1320, "xbrand");
    let grey = FakeGrey::start(1322, "xgrey", "on,20");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let msg = "Message-ID: <no-ip@example.org>\nFrom: a@example.org\nSubject: t\n\nhello\n";
    let req = format!("header\n\n\nsender@example.org\nbob@example.net\n\n{msg}");
    for (name, args, want) in [
        (
            "grey-client-x",
            &["-G", "on", "-x", "-l", "logs/if"][..],
            "G\nG\n",
        ),
        (
            "grey-client-nox",
            &["-G", "on", "-l", "logs/if"][..],
            "A\nA\n",
        ),
    ] {
        let d = Daemon::start_args(name, &map, args);
        let answer = d.ask(req.as_bytes());
        assert!(
            answer.starts_with(want.as_bytes()),
            "{name}: {}\n{}",
            String::from_utf8_lossy(&answer),
            d.stderr()
        );
        let logs = texts(&d.home.join("logs/if"));
        assert!(
            logs.iter().any(|l| l.contains("Sys Failure")),
            "{name}: {logs:?}"
        );
    }
    // nothing could be asked
    assert!(grey.seen().iter().all(|s| s.op == Op::Nop));
}

#[test]
fn dcc_failure_with_x_answers_t_before_the_embargo() {
    // get_body(): with -x, a DCC server that does not answer makes
    // ascii_job() answer `T` (every recipient `R`) before
    // users_process(): the greylist server was asked, but no GREY_SPAM
    // follows, the embargo is not given, and the log has no decision,
    // greylist lines or result ("rejection reason undecided" instead),
    // no per-user log
    let grey = FakeGrey::start(1332, "tgrey", "on,20");
    let map = format!(
        "{}{}",
        map_text(tally_testkit::closed_port()),
        grey_map_text(grey.addr)
    );
    let d = Daemon::start_args(
        "grey-client-xdead",
        &map,
        &["-G", "on", "-x", "-l", "logs/if", "-U", "userdirs-if"],
    );
    let answer = d.ask(&request(
        "header",
        "192.0.2.79",
        "someone@example.org",
        &["bob@example.net\rbob", "carol@example.net\rcarol"],
        "msg1.eml",
    ));
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("T\nRR\n"), "{text}\n{}", d.stderr());
    assert_eq!(grey.ops_seen(), vec![Op::GreyReport, Op::GreyReport]);
    let logs = texts(&d.home.join("logs/if"));
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = &logs[0];
    assert!(
        log.ends_with("\nrejection reason undecided\nincompatible whitelists\n"),
        "{log}"
    );
    for absent in ["greylist recipient", "result:", "global-log", "reported:"] {
        assert!(!log.contains(absent), "{absent}: {log}");
    }
    for u in ["bob", "carol"] {
        let user = texts(&d.home.join("userdirs-if").join(u).join("log"));
        assert!(user.is_empty(), "{u}: {user:?}");
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(
        d.stderr().contains("rejection reason undecided"),
        "{}",
        d.stderr()
    );

    // spam by the MTA's word: still `T`, and no embargo is put back
    let answer = d.ask(&request(
        "spam header",
        "192.0.2.80",
        "other@example.org",
        &["dave@example.net"],
        "msg1.eml",
    ));
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("T\nR\n"), "{text}\n{}", d.stderr());
    assert!(
        !grey.ops_seen().contains(&Op::GreySpam),
        "{:?}",
        grey.ops_seen()
    );
}

/// A request without a client address (taken from Received:) for
/// bob@example.net, through the relay `relay`, from `sender`.
fn relayed(opts: &str, relay: &str, sender: &str) -> Vec<u8> {
    format!(
        "{opts}\n\nmail.example.org\n{sender}\nbob@example.net\n\n\
         Received: from relay.example.net (relay.example.net [{relay}])\n\
         \tby mx.example.net with ESMTP id R1; Mon, 3 Jun 2024 10:15:02 +0000\n\
         Received: from sender.example.org (sender.example.org [203.0.113.99])\n\
         \tby relay.example.net with ESMTP id S1; Mon, 3 Jun 2024 10:15:00 +0000\n\
         From: {sender}\nSubject: relayed\nMessage-ID: <{relay}@example.org>\n\n\
         Hello Bob,\nthis came through a relay.\n"
    )
    .into_bytes()
}

#[test]
fn relays_found_in_received_headers_keep_greylisting_on() {
    // get_hdrs() finds the relays of Received: headers (the client line
    // being empty) and check_mx_listing() marks them after the
    // recipients' switches were set: greylisting stays on, with the
    // client behind the relay in the triple; an `mxdcc` relay sets
    // ASK_ST_QUERY, so that the DCC server is only queried and
    // print_grey() heads the greylist lines `greylist recipient query`,
    // while the greylist request is still a report
    let srv = FakeDccd::start(1350, "rbrand");
    let grey = FakeGrey::start(1352, "rgrey", "on,20");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let d = Daemon::start_files(
        "grey-client-relays",
        &map,
        &["grey-client/whiteclnt-relays"],
        &["-G", "on", "-l", "logs/if", "-w", "whiteclnt-relays"],
    );
    let sender_ip = tally_ck::simple::ip_sum("203.0.113.99".parse().expect("ip"));
    for (relay, sender, query) in [
        ("192.0.2.10", "one@example.org", true),
        ("192.0.2.11", "two@example.org", false),
    ] {
        let before = grey.ops(Op::GreyReport).len();
        let answer = d.ask(&relayed("header", relay, sender));
        assert!(
            answer.starts_with(b"G\nG\n"),
            "{relay}: {}\n{}",
            String::from_utf8_lossy(&answer),
            d.stderr()
        );
        let reports = grey.ops(Op::GreyReport);
        assert_eq!(reports.len(), before + 1, "{relay}: {:?}", grey.seen());
        let ip = reports[before].cks.iter().find(|c| c.0 == CkType::Ip);
        assert_eq!(ip.map(|c| c.1), Some(sender_ip), "{relay}");
        let dcc = srv.seen();
        let last = dcc.last().expect("the DCC server was asked");
        assert_eq!(last.op == Op::Query, query, "{relay}: {:?}", last.op);
    }
    let logs = texts(&d.home.join("logs/if"));
    assert_eq!(logs.len(), 2, "{logs:?}");
    let headed = |l: &&String| l.contains("\n       greylist recipient query\n");
    let plain = |l: &&String| l.contains("\n       greylist recipient\n");
    assert_eq!(logs.iter().filter(headed).count(), 1, "{logs:?}");
    assert_eq!(logs.iter().filter(plain).count(), 1, "{logs:?}");
    let q = logs.iter().find(headed).expect("query log");
    assert!(q.contains("one@example.org"), "{q}");
}
