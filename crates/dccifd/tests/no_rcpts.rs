//! A request without recipients: the original reports it to the DCC
//! server for one recipient, flagged as spam, when the message is spam
//! anyway (the `spam` option, a blacklisting main whiteclnt file);
//! otherwise the server is not asked at all.

mod common;

use common::Daemon;
use tally_testkit::FakeDccd;
use tally_wire::Op;

const MSG: &[u8] = b"Received: from relay.example.org (relay.example.org [198.51.100.44])\n\
\tby mx.example.net with ESMTP id 1A2B3C\n\
From: Someone <someone@example.org>\n\
To: bob@example.net\n\
Subject: reported without recipients\n\
Message-ID: <no-rcpts-1@example.org>\n\
\n\
A short message reported as spam by a filter that knows no recipient.\n";

fn req(opts: &str, sender: &str) -> Vec<u8> {
    let mut r =
        format!("{opts}\n198.51.100.44\rrelay.example.org\nrelay.example.org\n{sender}\n\n")
            .into_bytes();
    r.extend_from_slice(MSG);
    r
}

/// The wire value of one target flagged as spam (`1 | DCC_TGTS_SPAM`).
const ONE_SPAM: u32 = 0x0100_0001;

#[test]
fn spam_without_recipients_is_reported_for_one() {
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("norcpt", &srv, &[]);

    // no recipient, no opinion: nothing asked, no header
    let r = d.ask(&req("header", "<a@example.org>"));
    assert_eq!(r, b"A\n\n\n", "{}", String::from_utf8_lossy(&r));
    assert!(srv.ops(Op::Report).is_empty() && srv.ops(Op::Query).is_empty());

    // the MTA says spam: one report, for one target flagged as spam
    let r = d.ask(&req("spam header", "<a@example.org>"));
    let text = String::from_utf8_lossy(&r);
    assert!(text.starts_with("A\n\nX-DCC-"), "{text}");
    assert!(text.contains("Body=many"), "{text}");
    let reports = srv.ops(Op::Report);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].tgts, ONE_SPAM);

    // "query" wins over "spam" (the original complains and drops "spam")
    let r = d.ask(&req("spam query header", "<a@example.org>"));
    assert_eq!(r, b"A\n\n\n", "{}", String::from_utf8_lossy(&r));
    assert_eq!(srv.ops(Op::Report).len(), 1);

    // blacklisted by the main whiteclnt file: reported the same way
    let r = d.ask(&req("header", "<spammer@example.com>"));
    let text = String::from_utf8_lossy(&r);
    assert!(text.starts_with("A\n\nX-DCC-"), "{text}");
    let reports = srv.ops(Op::Report);
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(reports[1].tgts, ONE_SPAM);
}
