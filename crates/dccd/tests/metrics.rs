//! `-M`: dccd's counters on the statistics listener move by exactly the
//! traffic sent; a non-loopback address is refused at start.

mod common;
mod metrics_util;

use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{exchange, free_port, grey_cks, grey_request, passwd, temp_home};
use metrics_util::{scrape, start, value};
use tally_ck::{CkType, Sum};
use tally_wire::packet::{CkRequest, GreySpam, Packet, Request};
use tally_wire::sign::Signer;
use tally_wire::{OpNums, Tgts, WireCk};

const REQ: &str = "tally_dccd_requests_total";

/// Poll `/metrics` (at most 5 s) until `done` holds; the last scrape.
fn settle(http: std::net::SocketAddr, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let t = scrape(http);
        if done(&t) || Instant::now() > deadline {
            return t;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ck_request(report: bool, tag: u8) -> Request {
    let r = CkRequest {
        tgts: Tgts(1),
        cks: vec![WireCk::new(CkType::Body, Sum([tag; 16]))],
    };
    if report {
        Request::Report(r)
    } else {
        Request::Query(r)
    }
}

#[test]
fn counters_follow_the_traffic() {
    let home = temp_home("metrics");
    let d = start(&home, free_port(), &["-u", "0"], &[]);
    let before = scrape(d.http);
    assert!(
        before.contains("# TYPE tally_dccd_requests_total counter\n"),
        "{before}"
    );
    assert!(
        before.contains("# TYPE tally_dccd_clients gauge\n"),
        "{before}"
    );
    let signer = Signer::Passwd(passwd(32800).unwrap());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let wait = Duration::from_secs(2);
    let mut first_report = Vec::new();
    for i in 0..4u32 {
        let mut p = Packet::request(
            12,
            32800,
            OpNums::from_le_words(7, 1, i, 1),
            ck_request(false, 1),
        );
        let bytes = p.sign(&signer);
        assert!(exchange(&sock, d.udp, &bytes, wait).is_some());
    }
    for i in 0..3u32 {
        let mut p = Packet::request(
            12,
            32800,
            OpNums::from_le_words(7, 2, i, 1),
            ck_request(true, 2),
        );
        let bytes = p.sign(&signer);
        assert!(exchange(&sock, d.udp, &bytes, wait).is_some());
        if i == 0 {
            first_report = bytes;
        }
    }
    // anonymous queries
    for i in 0..2u32 {
        let mut p = Packet::request(
            12,
            1,
            OpNums::from_le_words(7, 3, i, 1),
            ck_request(false, 3),
        );
        assert!(exchange(&sock, d.udp, &p.sign(&Signer::Zero), wait).is_some());
    }
    // a retransmitted report, answered from the cache
    assert!(exchange(&sock, d.udp, &first_report, wait).is_some());
    // a datagram that is no request
    sock.send_to(b"not a DCC request", d.udp).unwrap();
    let moved =
        |t: &str, l: &[(&str, &str)], name: &str| value(t, name, l) - value(&before, name, l);
    let after = settle(d.http, |t| {
        moved(t, &[("reason", "bad_op")], "tally_dccd_dropped_total") >= 1.0
    });
    assert_eq!(moved(&after, &[("op", "query")], REQ), 6.0, "{after}");
    assert_eq!(moved(&after, &[("op", "report")], REQ), 3.0, "{after}");
    assert_eq!(moved(&after, &[("op", "nop")], REQ), 0.0, "{after}");
    assert_eq!(moved(&after, &[("op", "admin")], REQ), 0.0, "{after}");
    let other = "tally_dccd_other_total";
    assert_eq!(moved(&after, &[("what", "retrans")], other), 1.0, "{after}");
    assert_eq!(moved(&after, &[("what", "anon")], other), 2.0, "{after}");
    let dropped = "tally_dccd_dropped_total";
    assert_eq!(
        moved(&after, &[("reason", "bad_op")], dropped),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved(&after, &[("reason", "passwd")], dropped),
        0.0,
        "{after}"
    );
    assert_eq!(value(&after, "tally_dccd_clients", &[]), 2.0, "{after}");
    assert!(
        value(&after, "tally_dccd_db_records", &[]) >= 3.0,
        "{after}"
    );
    // nothing else arrives: the counters stay
    std::thread::sleep(Duration::from_millis(300));
    let again = scrape(d.http);
    assert_eq!(
        value(&again, REQ, &[("op", "query")]),
        value(&after, REQ, &[("op", "query")])
    );
}

#[test]
fn greylist_server_counts_embargoes() {
    let home = temp_home("metrics-grey");
    let d = start(&home, free_port(), &["-G", "on"], &[]);
    let before = scrape(d.http);
    let signer = Signer::Passwd(passwd(32800).unwrap());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..3u32 {
        let (bytes, _) = grey_request(i, false, OpNums::from_le_words(8, 1, i, 1), &signer);
        assert!(exchange(&sock, d.udp, &bytes, Duration::from_secs(2)).is_some());
    }
    let g = "tally_dccd_greylist_total";
    let l = [("result", "embargoed")];
    let after = settle(d.http, |t| value(t, g, &l) - value(&before, g, &l) >= 3.0);
    assert_eq!(value(&after, g, &l) - value(&before, g, &l), 3.0, "{after}");
    assert_eq!(
        value(
            &after,
            "tally_dccd_greylist_triples",
            &[("state", "embargoed")]
        ),
        3.0,
        "{after}"
    );
}

/// Send a signed greylist request `body` from client 32800 and wait for
/// its answer.
fn grey_send(sock: &UdpSocket, to: std::net::SocketAddr, n: u32, body: Request) {
    let signer = Signer::Passwd(passwd(32800).unwrap());
    let mut p = Packet::request(12, 32800, OpNums::from_le_words(9, 1, n, 1), body);
    let bytes = p.sign(&signer);
    assert!(exchange(sock, to, &bytes, Duration::from_secs(2)).is_some());
}

/// The triples gauges as a scrape reads them: (embargoed, familiar).
fn triples(http: std::net::SocketAddr) -> (f64, f64) {
    let t = scrape(http);
    let name = "tally_dccd_greylist_triples";
    (
        value(&t, name, &[("state", "embargoed")]),
        value(&t, name, &[("state", "familiar")]),
    )
}

/// The triples gauges follow the database as each change happens: new
/// embargoes, an embargo ended by a retry, GREY_SPAM, GREY_WHITE, and a
/// restart that replays the database.
#[test]
fn greylist_triples_follow_the_database() {
    let home = temp_home("metrics-grey-triples");
    // an embargo of 1 s, so that a retry 2 s later ends it
    let d = start(&home, free_port(), &["-G", "on,1"], &[]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let report = |i: u32| {
        Request::GreyReport(CkRequest {
            tgts: Tgts(0),
            cks: grey_cks(i),
        })
    };
    for i in 0..3u32 {
        grey_send(&sock, d.udp, i, report(i));
    }
    assert_eq!(triples(d.http), (3.0, 0.0));
    std::thread::sleep(Duration::from_millis(2100));
    grey_send(&sock, d.udp, 10, report(0));
    assert_eq!(triples(d.http), (2.0, 1.0), "the retry ended an embargo");
    let c = grey_cks(1);
    let spam = Request::GreySpam(GreySpam {
        ip: c[0],
        msg: c[2],
        triple: c[3],
        pad: [0; 2],
    });
    grey_send(&sock, d.udp, 11, spam);
    assert_eq!(triples(d.http), (1.0, 1.0), "GREY_SPAM forgot a triple");
    let white = Request::GreyWhite(CkRequest {
        tgts: Tgts(0),
        cks: grey_cks(3),
    });
    grey_send(&sock, d.udp, 12, white);
    assert_eq!(triples(d.http), (1.0, 2.0), "GREY_WHITE made one familiar");
    // a restart counts the replayed database once
    let mut d = d;
    let _ = d.child.kill();
    let _ = d.child.wait();
    d.home = home.join("kept-for-the-restart");
    drop(d);
    let again = start(&home, free_port(), &["-G", "on,1"], &[]);
    assert_eq!(triples(again.http), (1.0, 2.0), "after the restart");
}

#[test]
fn non_loopback_listener_refused() {
    let home = temp_home("metrics-refused");
    let o = Command::new(env!("CARGO_BIN_EXE_dccd"))
        .args(["-b", "-i", "1100", "-h"])
        .arg(&home)
        .args(["-a", "127.0.0.1,0", "-M", "192.0.2.1,80"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(64), "{err}");
    assert!(
        err.contains("-M 192.0.2.1,80: 192.0.2.1 is not a loopback address"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&home);
}
