//! `-M` of two flooding servers: the records one sends and the other
//! receives and counts appear per peer, with the streams up.

mod flood_util;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use flood_util::*;
use tally_testkit::metrics::{listener, scrape, value};

/// Scrape `http` until `done` holds (at most 20 s); the last scrape.
fn settle(http: SocketAddr, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let t = scrape(http);
        if done(&t) || Instant::now() > deadline {
            return t;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn flooding_per_peer() {
    let (pa, pb) = (free_port(), free_port());
    let (ha, hb) = (home("metrics-a"), home("metrics-b"));
    flod(&ha, &[format!("127.0.0.1,{pb} 1101")]);
    flod(&hb, &[format!("127.0.0.1,{pa} 1100")]);
    let m = ["-M", "127.0.0.1,0"];
    let a = Server::start(&ha, 1100, pa, &m);
    let b = Server::start(&hb, 1101, pb, &m);
    let (ma, mb) = (listener(|| a.log()), listener(|| b.log()));
    let sent = "tally_dccd_flood_sent_total";
    let recv = "tally_dccd_flood_received_total";
    let up = "tally_dccd_flood_streams_up";
    let (to_b, to_a) = ([("peer", "1101")], [("peer", "1100")]);
    let (all_from_a, acc_from_a) = (
        [("peer", "1100"), ("result", "all")],
        [("peer", "1100"), ("result", "accepted")],
    );
    // the streams up and what they carry at their start (each server's
    // own records) received: the figures before the reports
    let both_ends = |ta: &str, tb: &str| {
        value(ta, sent, &to_b) == value(tb, recv, &all_from_a)
            && value(tb, sent, &to_a) == value(ta, recv, &[("peer", "1101"), ("result", "all")])
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let (ta0, tb0) = loop {
        std::thread::sleep(Duration::from_millis(300));
        let ta = settle(ma, |t| {
            value(t, up, &[("peer", "1101"), ("direction", "out")]) == 1.0
        });
        let tb = settle(mb, |t| {
            value(t, up, &[("peer", "1100"), ("direction", "in")]) == 1.0
        });
        if both_ends(&ta, &tb) || Instant::now() > deadline {
            break (ta, tb);
        }
    };
    for n in 0..5 {
        report(a.addr(), 30, &[body(100 + n)]).unwrap();
    }
    for n in 0..5 {
        assert_eq!(wait_count(b.addr(), body(100 + n), 30, 20), 30);
    }
    let moved =
        |t: &str, t0: &str, name: &str, l: &[(&str, &str)]| value(t, name, l) - value(t0, name, l);
    let ta = settle(ma, |t| moved(t, &ta0, sent, &to_b) >= 5.0);
    let tb = settle(mb, |t| moved(t, &tb0, recv, &acc_from_a) >= 5.0);
    assert_eq!(moved(&ta, &ta0, sent, &to_b), 5.0, "{ta}");
    assert_eq!(moved(&tb, &tb0, recv, &acc_from_a), 5.0, "{tb}");
    assert_eq!(moved(&tb, &tb0, recv, &all_from_a), 5.0, "{tb}");
    assert_eq!(
        moved(&tb, &tb0, recv, &[("peer", "1100"), ("result", "dup")]),
        0.0
    );
    // both ends agree on what went over each stream
    assert!(both_ends(&ta, &tb), "{ta}\n{tb}");
    assert_eq!(
        value(&ta, up, &[("peer", "1101"), ("direction", "out")]),
        1.0,
        "{ta}"
    );
    assert_eq!(
        value(&tb, up, &[("peer", "1100"), ("direction", "in")]),
        1.0,
        "{tb}"
    );
    let _ = (std::fs::remove_dir_all(&ha), std::fs::remove_dir_all(&hb));
}
