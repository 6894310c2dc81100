//! Relays of the main whiteclnt file as the original's
//! `check_mx_listing()` treats them, from `get_sender()` for the SMTP
//! client and from `get_hdrs()` for the clients of Received: headers: a
//! listed `mx` or `mxdcc` client sends the search for the real client to
//! the Received: headers (its IP checksum and log line), an `mxdcc` relay
//! behind it makes the message a query, the log file notes each relay,
//! and the `spam` option blacklists the message for the greylist server
//! (GREY_QUERY, a first embargo dropped).

mod common;

use common::Daemon;
use tally_testkit::files::texts;
use tally_testkit::{grey_map_text, map_text, FakeDccd, FakeGrey};
use tally_wire::{CkType, Op};

/// A request from `client` for bob@example.net whose Received: headers
/// name `hops` (newest first), each `(name, address)`.
fn request(opts: &str, client: &str, sender: &str, hops: &[(&str, &str)]) -> Vec<u8> {
    let mut r = format!("{opts}\n{client}\nmail.example.org\n{sender}\nbob@example.net\n\n");
    for (i, (name, ip)) in hops.iter().enumerate() {
        r.push_str(&format!(
            "Received: from {name} ({name} [{ip}])\n\tby hop{i}.example.net with ESMTP id H{i};\
             Mon, 3 Jun 2024 10:15:0{i} +0000\n"
        ));
    }
    r.push_str(&format!(
        "From: {sender}\nSubject: relayed\nMessage-ID: <{client}@example.org>\n\n\
         Hello Bob,\nthis came through relays.\n"
    ));
    r.into_bytes()
}

/// A DCC server of server-ID `id`, a greylist server of `id + 2` and a
/// greylisting dccifd with the relays' whiteclnt file and a log
/// directory, using both.
fn setup(
    name: &str,
    id: u32,
    brand: &'static str,
    grey_brand: &'static str,
) -> (FakeDccd, FakeGrey, Daemon) {
    let srv = FakeDccd::start(id, brand);
    let grey = FakeGrey::start(id + 2, grey_brand, "on,20");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let d = Daemon::start_files(
        name,
        &map,
        &["grey-client/whiteclnt-relays"],
        &["-G", "on", "-l", "logs/if", "-w", "whiteclnt-relays"],
    );
    (srv, grey, d)
}

#[test]
fn mx_client_takes_the_client_from_received() {
    // 192.0.2.11 is `mx`: the real client is the next Received header's,
    // greylisting is off for the recipients, and the log says why
    let (srv, grey, d) = setup("mx-client", 1360, "mbrand", "mgrey");
    let answer = d.ask(&request(
        "log header",
        "192.0.2.11\rmx.example.net",
        "one@example.org",
        &[("sender.example.org", "203.0.113.99")],
    ));
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("A\nA\n"), "{text}\n{}", d.stderr());
    assert!(grey.ops_seen().is_empty(), "{:?}", grey.seen());
    let dcc = srv.seen();
    assert_eq!(dcc.last().map(|s| s.op), Some(Op::Report), "{dcc:?}");
    let logs = texts(&d.home.join("logs/if"));
    assert_eq!(logs.len(), 1, "{logs:?}");
    let l = &logs[0];
    assert!(l.contains("\nIP: sender.example.org "), "{l}");
    assert!(l.contains("203.0.113.99\n"), "{l}");
    assert!(
        l.contains("\n192.0.2.11 is a whitelisted MX server\n"),
        "{l}"
    );
}

#[test]
fn mxdcc_behind_an_mx_client_makes_a_query() {
    // the chain: the `mx` client, then an `mxdcc` relay, then the sender
    let (srv, _grey, d) = setup("mxdcc-behind", 1364, "xbrand", "xgrey");
    let answer = d.ask(&request(
        "log header",
        "192.0.2.11\rmx.example.net",
        "two@example.org",
        &[
            ("relay.example.net", "192.0.2.10"),
            ("sender.example.org", "203.0.113.98"),
        ],
    ));
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("A\nA\n"), "{text}\n{}", d.stderr());
    let dcc = srv.seen();
    assert_eq!(dcc.last().map(|s| s.op), Some(Op::Query), "{dcc:?}");
    let logs = texts(&d.home.join("logs/if"));
    assert_eq!(logs.len(), 1, "{logs:?}");
    let l = &logs[0];
    assert!(l.contains("203.0.113.98\n"), "{l}");
    assert!(
        l.contains(
            "\n192.0.2.11 is a whitelisted MX server\n\
             192.0.2.10 is a whitelisted MX server with DCC client\n"
        ),
        "{l}"
    );
}

#[test]
fn received_relay_unreported_and_greylist_triple_of_the_sender() {
    // without a client address: the relay found in Received: is noted,
    // and the greylist triple is the sender's behind it
    let (_srv, grey, d) = setup("relay-received", 1368, "ybrand", "ygrey");
    let answer = d.ask(&request(
        "log header",
        "",
        "three@example.org",
        &[
            ("relay.example.net", "192.0.2.11"),
            ("sender.example.org", "203.0.113.97"),
        ],
    ));
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("G\nG\n"), "{text}\n{}", d.stderr());
    let reports = grey.ops(Op::GreyReport);
    let ip = reports
        .last()
        .and_then(|r| r.cks.iter().find(|c| c.0 == CkType::Ip).map(|c| c.1));
    assert_eq!(
        ip,
        Some(tally_ck::simple::ip_sum(
            "203.0.113.97".parse().expect("ip")
        ))
    );
    let logs = texts(&d.home.join("logs/if"));
    assert!(
        logs.iter()
            .any(|l| l.contains("\n192.0.2.11 is a whitelisted MX server\n")),
        "{logs:?}"
    );
}

#[test]
fn spam_option_queries_the_greylist_server() {
    // ask_white_rcpt() blacklists the message for ASK_ST_MTA_ISSPAM:
    // GREY_QUERY, and the first embargo is dropped (nothing to revoke),
    // so that the message is refused rather than embargoed
    let (_srv, grey, d) = setup("spam-grey", 1372, "sbrand", "sgrey");
    let answer = d.ask(&request(
        "log spam header",
        "203.0.113.96\rsender.example.org",
        "four@example.org",
        &[("sender.example.org", "203.0.113.96")],
    ));
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("R\nR\n"), "{text}\n{}", d.stderr());
    let ops = grey.ops_seen();
    assert!(ops.contains(&Op::GreyQuery), "{ops:?}");
    assert!(!ops.contains(&Op::GreyReport), "{ops:?}");
    assert!(!ops.contains(&Op::GreySpam), "{ops:?}");
}

#[test]
fn skipped_received_headers_are_noted() {
    // get_hdrs(): behind the `mx` client, a Received header of a known
    // local form without an address is passed over with the note `skip
    // NAME Received: header`, and the search goes on to the next one
    let (_srv, _grey, d) = setup("skip-note", 1390, "sbrand", "sgrey");
    let req = b"log header\n192.0.2.11\rmx.example.net\nmail.example.org\n\
three@example.org\nbob@example.net\n\n\
Received: (qmail 4824 invoked by uid 1000); 8 Nov 2005 10:00:00 -0000\n\
Received: from sender.example.org (sender.example.org [203.0.113.97])\n\
\tby hop1.example.net with ESMTP id H1; Mon, 3 Jun 2024 10:15:01 +0000\n\
From: three@example.org\nSubject: relayed\n\n\
Hello Bob,\nthis came through relays.\n";
    let answer = d.ask(req);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("A\nA\n"), "{text}\n{}", d.stderr());
    let logs = texts(&d.home.join("logs/if"));
    assert_eq!(logs.len(), 1, "{logs:?}");
    let l = &logs[0];
    assert!(l.contains("203.0.113.97\n"), "{l}");
    assert!(
        l.contains("\n192.0.2.11 is a whitelisted MX server\nskip qmail Received: header\n"),
        "{l}"
    );
}
