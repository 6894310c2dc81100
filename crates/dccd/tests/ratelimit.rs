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
