//! `-M`: dccifd's counters on the statistics listener move by exactly the
//! traffic sent (answers by result, recipients, whitelisted messages, DNS
//! blacklist hits, the DCC server's answers and failures); a non-loopback
//! address is refused at start.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::Daemon;
use tally_dnsbl::testserver::TestServer;
use tally_stats::client::get;
use tally_testkit::metrics::{listener, scrape, value};
use tally_testkit::{map_text, FakeDccd};
use tally_wire::Op;

fn request(ip: &str, sender: &str, rcpts: &[&str], n: u32) -> Vec<u8> {
    let mut r = format!("header\n{ip}\rmail.example.com\nmail.example.com\n{sender}\n");
    for to in rcpts {
        r.push_str(&format!("{to}\n"));
    }
    r.push('\n');
    r.push_str(&format!(
        "From: {sender}\nTo: {}\nSubject: metrics {n}\nMessage-ID: <metrics-{n}@example.com>\n\n\
         A message of the metrics test, number {n}.\n",
        rcpts[0]
    ));
    r.into_bytes()
}

fn dcc_requests(srv: &FakeDccd) -> usize {
    srv.ops(Op::Report).len() + srv.ops(Op::Query).len()
}

#[test]
fn counters_follow_the_traffic() {
    let (_rt, dns) = TestServer::start_blocking(&common::data().join("dnsbl/zone.txt")).unwrap();
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start_env(
        "metrics",
        &map_text(srv.addr),
        &[],
        &["-w", "whiteclnt-if", "-B", "bl.test", "-M", "127.0.0.1,0"],
        &[("TALLY_DNSBL_SERVERS", dns.addr.to_string())],
    );
    let http = listener(|| d.stderr());
    let before = scrape(http);
    // the graphs page and its first sample, taken at start
    assert!(get(http, "/")
        .unwrap()
        .contains("<title>tally statistics</title>"));
    let h = get(http, "/history.json").unwrap();
    assert!(
        h.contains("\"name\":\"tally_dccifd_messages_total\""),
        "{h}"
    );
    assert!(
        before.contains("# TYPE tally_dccifd_messages_total counter\n"),
        "{before}"
    );
    let (dcc0, mut results) = (dcc_requests(&srv), std::collections::HashMap::new());
    let mut note = |answer: Vec<u8>| {
        let r = match answer.first() {
            Some(b'A' | b'S') => "accepted",
            Some(b'R') => "rejected",
            Some(b'G') => "embargoed",
            Some(b'T') => "tempfailed",
            _ => panic!("no answer: {answer:?}"),
        };
        *results.entry(r).or_insert(0.0) += 1.0;
    };
    // three ordinary messages with two recipients each
    for n in 0..3 {
        note(d.ask(&request(
            "192.0.2.10",
            "<carol@example.org>",
            &["<bob@example.net>\rbob", "<dave@example.net>"],
            n,
        )));
    }
    // whitelisted by the main whiteclnt file
    note(d.ask(&request(
        "192.0.2.10",
        "<alice-ok@example.com>",
        &["<eve@example.net>"],
        3,
    )));
    // blacklisted by the main whiteclnt file: rejected
    note(d.ask(&request(
        "192.0.2.10",
        "<spammer@example.com>",
        &["<eve@example.net>"],
        4,
    )));
    // from a client on the DNS blacklist
    note(d.ask(&request(
        "192.0.2.66",
        "<carol@example.org>",
        &["<eve@example.net>"],
        5,
    )));
    let dcc_seen = (dcc_requests(&srv) - dcc0) as f64;
    // the DCC server stops answering: a failure
    srv.freeze(true);
    note(d.ask(&request(
        "192.0.2.10",
        "<carol@example.org>",
        &["<eve@example.net>"],
        6,
    )));
    srv.freeze(false);
    // the totals are counted once the connection is closed, just after
    // the answer: wait (at most 5 s) for the last one
    let total: f64 = results.values().sum();
    let sum = |t: &str| -> f64 {
        ["accepted", "rejected", "embargoed", "tempfailed"]
            .iter()
            .map(|r| value(t, "tally_dccifd_messages_total", &[("result", r)]))
            .sum()
    };
    let t0 = Instant::now();
    let mut after = scrape(http);
    while sum(&after) - sum(&before) < total && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
        after = scrape(http);
    }
    let moved = |name: &str, l: &[(&str, &str)]| value(&after, name, l) - value(&before, name, l);
    let msgs = "tally_dccifd_messages_total";
    for r in ["accepted", "rejected", "embargoed", "tempfailed"] {
        let want = results.get(r).copied().unwrap_or(0.0);
        assert_eq!(moved(msgs, &[("result", r)]), want, "{r}: {after}");
    }
    assert!(
        results.get("rejected").copied().unwrap_or(0.0) >= 1.0,
        "{results:?}"
    );
    assert_eq!(moved("tally_dccifd_recipients_total", &[]), 10.0, "{after}");
    assert_eq!(moved("tally_dccifd_whitelisted_total", &[]), 1.0, "{after}");
    let hits = "tally_dccifd_dnsbl_hits_total";
    assert_eq!(moved(hits, &[("list", "black")]), 1.0, "{after}");
    assert_eq!(moved(hits, &[("list", "white")]), 0.0, "{after}");
    let dcc = "tally_dccifd_dcc_answers_total";
    assert_eq!(moved(dcc, &[("result", "answered")]), dcc_seen, "{after}");
    assert_eq!(moved(dcc, &[("result", "failed")]), 1.0, "{after}");
    assert!(dcc_seen >= 4.0, "{dcc_seen} DCC requests");
}

#[test]
fn non_loopback_listener_refused() {
    let home = common::scratch("metrics-refused");
    let o = Command::new(env!("CARGO_BIN_EXE_dccifd"))
        .args(["-b", "-h"])
        .arg(&home)
        .args(["-M", "192.0.2.1,80"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    // EX_USAGE, as dccm and dccd
    assert_eq!(o.status.code(), Some(64), "{err}");
    assert!(
        err.contains("dccifd: -M 192.0.2.1,80: 192.0.2.1 is not a loopback address"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&home);
}
