//! The greylist requests our dccifd sends carry the operation and the
//! checksums, type for type and value for value, of those the original
//! dccifd sent for the same messages and envelopes (the UDP captures in
//! `tests/data/grey-vectors/grey-requests.txt`; the envelopes are in
//! `tests/data/grey-cases/README.md`): GREY_REPORT for a new message,
//! GREY_QUERY with `grey-query` and for a blacklisted sender, GREY_WHITE
//! for a whitelisted one, and GREY_SPAM after the DCC server called the
//! message bulk.

mod common;

use common::{data, Daemon};
use tally_testkit::{grey_map_text, map_text, FakeDccd, FakeGrey, GreySeen};
use tally_wire::{CkType, Op, Sum};

/// Checksums as (type number, hex value).
type Cks = Vec<(u8, String)>;

/// The recorded requests: scenario, operation name and checksums.
fn recorded() -> Vec<(String, String, Cks)> {
    let text =
        std::fs::read_to_string(data().join("grey-vectors/grey-requests.txt")).expect("vectors");
    let number = |name: &str| -> u8 {
        match name {
            "IP" => 1,
            "env_From" => 2,
            "From" => 3,
            "substitute" => 4,
            "Message-ID" => 5,
            "Received" => 6,
            "Body" => 7,
            "Fuz1" => 8,
            "Fuz2" => 9,
            "grey-msg" => 10,
            "grey-triple" => 11,
            other => panic!("unknown checksum type {other}"),
        }
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut w = l.split_whitespace();
            let scenario = w.next().expect("scenario").to_string();
            let op = w.next().expect("op").to_string();
            let cks = w
                .map(|c| {
                    let (n, v) = c.split_once('=').expect("type=sum");
                    (number(n), v.to_string())
                })
                .collect();
            (scenario, op, cks)
        })
        .collect()
}

fn hex(s: &Sum) -> String {
    s.0.iter().map(|b| format!("{b:02x}")).collect()
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::GreyReport => "GREY_REPORT",
        Op::GreyQuery => "GREY_QUERY",
        Op::GreyWhite => "GREY_WHITE",
        Op::GreySpam => "GREY_SPAM",
        _ => "other",
    }
}

fn ours(s: &GreySeen) -> (String, Cks) {
    (
        op_name(s.op).to_string(),
        s.cks.iter().map(|(t, v)| (t.number(), hex(v))).collect(),
    )
}

/// A request as dccif-test sent it: options, client, HELO, sender, one
/// recipient, then the message.
fn request(opts: &str, client: &str, helo: &str, from: &str, rcpt: &str, msg: &str) -> Vec<u8> {
    let mut r = format!("{opts}\n{client}\n{helo}\n{from}\n{rcpt}\n\n").into_bytes();
    r.extend(std::fs::read(data().join("grey-vectors").join(msg)).expect("message"));
    r
}

#[test]
fn greylist_requests_carry_the_recorded_checksums() {
    let want = recorded();
    let srv = FakeDccd::start(1100, "vecbrand");
    // msg2 is bulk at the DCC server (its counts were many when recorded)
    let dccspam = &want
        .iter()
        .find(|w| w.0 == "grey_dccspam" && w.1 == "GREY_REPORT")
        .expect("grey_dccspam")
        .2;
    for (n, v) in dccspam.iter().filter(|(n, _)| (7..=9).contains(n)) {
        let ty = CkType::from_number(*n).expect("type");
        let words: Vec<&str> = (0..4).map(|i| &v[8 * i..8 * i + 8]).collect();
        let sum = Sum::parse_hex(&words.join(" ")).expect("hex");
        srv.preload(ty, sum, 0x00ff_fff0);
    }
    let grey = FakeGrey::start(1100, "vecgrey", "on,20");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let d = Daemon::start_files(
        "grey-cks",
        &map,
        &["grey-vectors/whiteclnt-grey"],
        &["-G", "on", "-t", "CMN,5", "-SHELO", "-w", "whiteclnt-grey"],
    );
    // (scenario, request): IP and HELO from the Received header and the
    // sender from Return-Path where the client line, HELO and sender are
    // empty, as found from the recorded checksums
    let cases = [
        (
            "grey_report_new",
            request("header", "", "", "", "bob@example.net", "msg1.eml"),
        ),
        (
            "grey_query",
            request(
                "grey-query header",
                "",
                "",
                "",
                "bob@example.net",
                "msg1.eml",
            ),
        ),
        (
            "grey4_report_new",
            request("header", "", "", "", "kim@example.net", "msg4.eml"),
        ),
        (
            "grey_white",
            request(
                "header",
                "192.0.2.55",
                "mail.trusted.example.com",
                "friend@trusted.example.com",
                "bob@example.net",
                "msg1.eml",
            ),
        ),
        (
            "grey_black_spam",
            request(
                "header",
                "192.0.2.66",
                "mail.black.example.com",
                "spammer@black.example.com",
                "bob@example.net",
                "msg1.eml",
            ),
        ),
        (
            "grey_dccspam",
            request("header", "", "", "", "carol@example.net", "msg2.eml"),
        ),
    ];
    let mut bad = Vec::new();
    for (scenario, req) in &cases {
        let before = grey.seen().len();
        let answer = d.ask(req);
        assert!(!answer.is_empty(), "{scenario}: no answer");
        // (the client's NOPs that measure the server are left out)
        let got: Vec<_> = grey.seen()[before..]
            .iter()
            .filter(|s| s.op != Op::Nop)
            .map(ours)
            .collect();
        let expected: Vec<_> = want
            .iter()
            .filter(|w| w.0 == *scenario)
            .map(|w| (w.1.clone(), w.2.clone()))
            .collect();
        if got != expected {
            bad.push(format!("{scenario}:\n  want {expected:?}\n  got  {got:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{}\nstderr:\n{}",
        bad.join("\n"),
        d.stderr()
    );
    assert!(grey.seen().iter().all(|s| s.authenticated));
}
