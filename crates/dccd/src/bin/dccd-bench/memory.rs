//! The memory part of the bench: the server's RSS per million stored
//! checksums.

use std::net::UdpSocket;
use std::time::Duration;

use tally_ck::CkType;
use tally_wire::packet::{CkRequest, Packet, Request};
use tally_wire::sign::{Passwd, Signer};
use tally_wire::{OpNums, Tgts, WireCk};

use crate::{sum_of, Server, ID, PW};

pub fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Send reports `from..to` of three new kept checksums each (Body, Fuz1,
/// Fuz2).
pub fn memory(s: &Server, from: u32, to: u32) {
    let pw = Passwd::new(PW).unwrap_or_else(|| unreachable!());
    let reports = to;
    let threads = 8u32;
    let mut hs = Vec::new();
    for t in 0..threads {
        let pw = pw.clone();
        let addr = s.addr();
        hs.push(std::thread::spawn(move || {
            let signer = Signer::Passwd(pw);
            let Ok(sock) = UdpSocket::bind("127.0.0.1:0") else {
                return;
            };
            let _ = sock.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 2048];
            let mut i = from + t;
            while i < reports {
                let r = CkRequest {
                    tgts: Tgts(1),
                    cks: vec![
                        WireCk::new(CkType::Body, sum_of(i, 0x4d45_4d00, 7)),
                        WireCk::new(CkType::Fuz1, sum_of(i, 0x4d45_4d00, 8)),
                        WireCk::new(CkType::Fuz2, sum_of(i, 0x4d45_4d00, 9)),
                    ],
                };
                let mut p = Packet::request(
                    12,
                    ID,
                    OpNums::from_le_words(t, 99, i, 1),
                    Request::Report(r),
                );
                let bytes = p.sign(&signer);
                if sock.send_to(&bytes, addr).is_ok() && sock.recv_from(&mut buf).is_ok() {
                    i += threads;
                }
            }
        }));
    }
    for h in hs {
        let _ = h.join();
    }
}

/// One report, so that the server expires its retransmission cache.
pub fn memory_touch(s: &Server) {
    let Some(pw) = Passwd::new(PW) else { return };
    let Ok(sock) = UdpSocket::bind("127.0.0.1:0") else {
        return;
    };
    let _ = sock.set_read_timeout(Some(Duration::from_millis(500)));
    let r = CkRequest {
        tgts: Tgts(1),
        cks: vec![WireCk::new(CkType::Body, sum_of(1, 2, 3))],
    };
    let mut p = Packet::request(
        12,
        ID,
        OpNums::from_le_words(5, 5, 5, 1),
        Request::Report(r),
    );
    let bytes = p.sign(&Signer::Passwd(pw));
    let mut buf = [0u8; 2048];
    let _ = sock.send_to(&bytes, s.addr());
    let _ = sock.recv_from(&mut buf);
}
