//! The server signs the answers of a pass over a batch of requests two at
//! a time (`udp.rs`, `tally_wire::sign_pair`): a burst of REPORTs of
//! different lengths from a signed client and from anonymous ones (old
//! versions, whose answers are keyed with the request's `op_nums`, and new
//! ones, with a zero signature; both sent after the anonymous delay) is
//! answered with signatures that each verify as its client expects, and
//! so are the retransmissions of the burst, answered from the
//! retransmission cache with the same counts and fresh signatures.

mod common;

use std::collections::HashMap;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use tally_ck::{CkType, Sum};
use tally_wire::packet::{CkRequest, Expect, Packet, Request, Response};
use tally_wire::response::Answer;
use tally_wire::sign::Signer;
use tally_wire::{OpNums, Tgts, WireCk};

use common::{free_port, passwd, temp_home, Dccd};

/// The checksum types a client reports, in `CkType::ALL`'s order: all but
/// Sub, the server-ID and env_To.
fn types() -> Vec<CkType> {
    CkType::ALL
        .into_iter()
        .filter(|t| !matches!(t, CkType::Sub | CkType::SrvrId | CkType::EnvTo))
        .collect()
}

/// How request `r` is sent: (protocol version, client-ID).
fn kind(r: u32) -> (u8, u32) {
    match r % 3 {
        0 | 1 => (12, 32800),
        _ if r.is_multiple_of(2) => (8, 1),
        _ => (12, 1),
    }
}

/// REPORT `r`, transmission `t`: the datagram and the request.
fn report(r: u32, t: u32) -> (Vec<u8>, Packet<Request>) {
    let types = types();
    let n = 1 + (r as usize) % types.len();
    let cks = types[..n]
        .iter()
        .enumerate()
        .map(|(k, &ty)| {
            let mut s = [k as u8; 16];
            s[..4].copy_from_slice(&r.to_be_bytes());
            WireCk::new(ty, Sum(s))
        })
        .collect();
    let (vers, id) = kind(r);
    let body = Request::Report(CkRequest { tgts: Tgts(1), cks });
    let mut p = Packet::request(vers, id, OpNums::from_le_words(7, 8, r, t), body);
    let signer = if id == 1 {
        Signer::Zero
    } else {
        Signer::Passwd(passwd(id).unwrap())
    };
    let bytes = p.sign(&signer);
    (bytes, p)
}

/// The signer an answer to `req` must carry.
fn answer_signer(req: &Packet<Request>) -> Signer {
    match kind(u32::from_le_bytes(req.op_nums.r)) {
        (_, 32800) => Signer::Passwd(passwd(32800).unwrap()),
        (8, _) => Signer::OpNums(req.op_nums),
        _ => Signer::Zero,
    }
}

/// Send transmission `t` of every request at once and collect the
/// answers by request number.
fn burst(sock: &UdpSocket, d: &Dccd, n: u32, t: u32) -> HashMap<u32, Vec<u8>> {
    for r in 0..n {
        sock.send_to(&report(r, t).0, d.addr).unwrap();
    }
    let mut got = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 2048];
    while got.len() < n as usize && Instant::now() < deadline {
        if let Ok((len, _)) = sock.recv_from(&mut buf) {
            let a = &buf[..len];
            let h = tally_wire::header::Header::decode(a).unwrap();
            assert_eq!(u32::from_le_bytes(h.op_nums.t), t, "transmission");
            let r = u32::from_le_bytes(h.op_nums.r);
            assert!(got.insert(r, a.to_vec()).is_none(), "one answer to {r}");
        }
    }
    got
}

/// The counts of an answer to `req`, after checking its signature.
fn counts(a: &[u8], req: &Packet<Request>) -> Vec<(u32, u32)> {
    let r = u32::from_le_bytes(req.op_nums.r);
    assert!(answer_signer(req).verify(a), "signature of answer {r}");
    let p = Packet::<Response>::decode(a, Expect::for_request(&req.body)).unwrap();
    match p.body {
        Response::Answer(Answer::Pairs(v)) => v.iter().map(|cp| (cp.c.0, cp.p.0)).collect(),
        other => panic!("answer {r}: {other:?}"),
    }
}

#[test]
fn answers_of_a_burst_and_their_retransmissions_verify() {
    let home = temp_home("pairs");
    let d = Dccd::start(&home, free_port(), &["-R", "1000000,1000000,1000000"]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    const N: u32 = 60;
    let first = burst(&sock, &d, N, 1);
    assert_eq!(first.len(), N as usize, "every request answered");
    let again = burst(&sock, &d, N, 2);
    assert_eq!(again.len(), N as usize, "every retransmission answered");
    for r in 0..N {
        let (_, p1) = report(r, 1);
        let (_, p2) = report(r, 2);
        let c1 = counts(&first[&r], &p1);
        assert_eq!(c1.len(), p1.body_cks().len(), "answer {r}");
        // the same answer, not counted again
        assert_eq!(counts(&again[&r], &p2), c1, "retransmission {r}");
    }
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

trait BodyCks {
    fn body_cks(&self) -> &[WireCk];
}

impl BodyCks for Packet<Request> {
    fn body_cks(&self) -> &[WireCk] {
        match &self.body {
            Request::Report(c) | Request::Query(c) => &c.cks,
            _ => &[],
        }
    }
}
