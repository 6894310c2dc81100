//! `-R`: requests over a client's rate are not answered.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{exchange, free_port, passwd, temp_home, Dccd};
use tally_ck::{CkType, Sum};
use tally_wire::packet::{CkRequest, Packet, Request};
use tally_wire::sign::Signer;
use tally_wire::{OpNums, Tgts, WireCk};

#[test]
fn signed_client_limited_to_its_rate() {
    let home = temp_home("rl");
    let d = Dccd::start(&home, free_port(), &["-R", "5,5,5"]);
    let signer = Signer::Passwd(passwd(32800).unwrap());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut answered = 0;
    for r in 0..20 {
        let body = Request::Query(CkRequest {
            tgts: Tgts(0),
            cks: vec![WireCk::new(CkType::Body, Sum([3; 16]))],
        });
        let mut p = Packet::request(12, 32800, OpNums::from_le_words(1, 2, r, 1), body);
        let bytes = p.sign(&signer);
        if exchange(&sock, d.addr, &bytes, Duration::from_millis(100)).is_some() {
            answered += 1;
        }
    }
    // a burst of 5 plus what 5/s refills during the ~1.5 s of timeouts
    assert!((5..=14).contains(&answered), "{answered} answered");
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

fn signed(op_report: bool, r: u32) -> Vec<u8> {
    let ck = CkRequest {
        tgts: Tgts(u32::from(op_report)),
        cks: vec![WireCk::new(CkType::Body, Sum([4; 16]))],
    };
    let body = if op_report {
        Request::Report(ck)
    } else {
        Request::Query(ck)
    };
    let mut p = Packet::request(12, 32800, OpNums::from_le_words(6, 6, r, 1), body);
    p.sign(&Signer::Passwd(passwd(32800).unwrap()))
}

/// Wait (at most 5 s) until the log has `text`; the log.
fn wait_log(home: &std::path::Path, text: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let log = std::fs::read_to_string(home.join("log")).unwrap_or_default();
        if log.contains(text) || std::time::Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The original complains about a client over its rate in its words
/// (trace mode CLNT, on by default), at most once each 1/RL_BUGS
/// seconds for that client.
#[test]
fn rate_limit_complaints_logged() {
    let home = temp_home("rl-log");
    let d = Dccd::start_logged(&home, free_port(), &["-R", "2,2,1000"]);
    let addr = d.addr;
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for r in 1..12 {
        let _ = exchange(&sock, addr, &signed(false, r), Duration::from_millis(20));
    }
    let log = wait_log(&home, "requests/sec are too many");
    assert_eq!(
        log.matches("2.0 requests/sec are too many from ID 32800 at 127.0.0.1,")
            .count(),
        1,
        "{log}"
    );
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

/// Under `-Q` the original says that it treats a client's REPORT as a
/// query.
#[test]
fn report_treated_as_query_logged() {
    let home = temp_home("rl-q-log");
    let d = Dccd::start_logged(&home, free_port(), &["-Q"]);
    let addr = d.addr;
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert!(exchange(&sock, addr, &signed(true, 1), Duration::from_secs(1)).is_some());
    let log = wait_log(&home, "as query");
    assert!(
        log.contains("treat REPORT from ID 32800 at 127.0.0.1,") && log.contains(" as query"),
        "{log}"
    );
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}
