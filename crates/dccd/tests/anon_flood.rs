//! `-R` against a burst of anonymous requests (counts, not timings): with
//! its default limits (dccd(8): RL_ANON 50/s per address, RL_ALL_ANON
//! 2000/s for all anonymous clients together, each with a burst of one
//! second's worth; requests over them are not answered) a server answers
//! no more anonymous requests than those limits allow, per address and in
//! total, while every request a signed client sends during the burst is
//! answered (a lost one is sent again, a few times at most).
//!
//! The allowance is the burst plus the refill over the whole time the
//! server could have granted a request: from the first request sent to
//! the last anonymous answer received (each anonymous answer leaves 50 ms
//! after its request was granted), so a slow machine only makes the check
//! more lenient, never fail.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::{free_port, passwd, temp_home, Dccd};
use tally_ck::{CkType, Sum};
use tally_wire::packet::{CkRequest, Packet, Request};
use tally_wire::sign::Signer;
use tally_wire::{OpNums, Tgts, WireCk};

/// The documented defaults.
const RL_ANON: f64 = 50.0;
const RL_ALL_ANON: f64 = 2000.0;
/// Light clients (127.0.0.10 ...): together over the total limit.
const LIGHT: u8 = 100;
const LIGHT_EACH: u32 = 30;
/// Heavy clients (127.0.0.2 ...): each far over its own limit.
const HEAVY: u8 = 4;
const HEAVY_EACH: u32 = 300;
/// Signed requests, one every this many anonymous ones.
const SIGNED: u32 = 20;

fn query(sender: u32, r: u32, report: bool, signer: &Signer) -> Vec<u8> {
    let mut s = [0x5a; 16];
    s[..4].copy_from_slice(&r.to_be_bytes());
    let ck = CkRequest {
        tgts: Tgts(u32::from(report)),
        cks: vec![WireCk::new(CkType::Body, Sum(s))],
    };
    let body = if report {
        Request::Report(ck)
    } else {
        Request::Query(ck)
    };
    Packet::request(12, sender, OpNums::from_le_words(sender, 4, r, 1), body).sign(signer)
}

/// A non-blocking socket on `ip`.
fn sock_on(ip: &str) -> UdpSocket {
    let s = UdpSocket::bind(format!("{ip}:0")).unwrap();
    s.set_nonblocking(true).unwrap();
    s
}

/// Read every waiting answer; returns how many.
fn drain(s: &UdpSocket, buf: &mut [u8]) -> u64 {
    let mut n = 0;
    while s.recv(buf).is_ok() {
        n += 1;
    }
    n
}

/// The signed client's requests still unanswered after reading what waits.
fn signed_answers(s: &UdpSocket, answered: &mut [bool], buf: &mut [u8]) {
    while let Ok(n) = s.recv(buf) {
        let r = buf
            .get(16..20)
            .filter(|_| n >= 24)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0xff; 4])) as usize);
        if let Some(a) = r.and_then(|r| answered.get_mut(r)) {
            *a = true;
        }
    }
}

#[test]
fn anonymous_burst_held_to_the_limits_signed_client_answered() {
    let home = temp_home("anon");
    let d = Dccd::start(&home, free_port(), &[]);
    let to: SocketAddr = d.addr;
    let anon: Vec<(UdpSocket, u32)> = (0..HEAVY)
        .map(|k| (sock_on(&format!("127.0.0.{}", 2 + k)), HEAVY_EACH))
        .chain((0..LIGHT).map(|k| (sock_on(&format!("127.0.0.{}", 10 + k)), LIGHT_EACH)))
        .collect();
    assert!(f64::from(u32::from(HEAVY) * HEAVY_EACH) < RL_ALL_ANON);
    assert!(f64::from(u32::from(LIGHT) * LIGHT_EACH) > RL_ALL_ANON);
    let signer = Signer::Passwd(passwd(32800).unwrap());
    let signed = sock_on("127.0.0.1");
    let signed_reqs: Vec<Vec<u8>> = (0..SIGNED)
        .map(|r| query(32800, r, r % 2 == 1, &signer))
        .collect();
    let mut answered = vec![false; SIGNED as usize];
    let mut counts = vec![0u64; anon.len()];
    let mut buf = [0u8; 2048];

    // The burst, in two parts: the heavy clients alone (fewer requests
    // than the total limit's burst, so that each meets its own limit),
    // then the light ones (together over the total limit); in each part
    // round after round one request from every client that still has
    // some to send, a signed one now and then.
    let t0 = Instant::now();
    let mut last_answer = t0;
    let (mut sent, mut next_signed) = (0u32, 0usize);
    let heavy = usize::from(HEAVY);
    for (part, rounds) in [(0..heavy, HEAVY_EACH), (heavy..anon.len(), LIGHT_EACH)] {
        for round in 0..rounds {
            for i in part.clone() {
                let s = &anon[i].0;
                let _ = s.send_to(&query(1, round, round % 4 == 3, &Signer::Zero), to);
                sent += 1;
                if sent % 200 == 0 {
                    if let Some(req) = signed_reqs.get(next_signed) {
                        let _ = signed.send_to(req, to);
                        next_signed += 1;
                    }
                }
                if round % 16 == 15 {
                    let got = drain(s, &mut buf);
                    if got > 0 {
                        counts[i] += got;
                        last_answer = Instant::now();
                    }
                }
            }
        }
    }
    for req in &signed_reqs[next_signed..] {
        let _ = signed.send_to(req, to);
    }

    // The signed client's answers, each lost request sent again (every
    // 300 ms, ten times at most); meanwhile the anonymous answers.
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(300));
        signed_answers(&signed, &mut answered, &mut buf);
        for (i, (s, _)) in anon.iter().enumerate() {
            let got = drain(s, &mut buf);
            if got > 0 {
                counts[i] += got;
                last_answer = Instant::now();
            }
        }
        if answered.iter().all(|&a| a) {
            break;
        }
        for (req, _) in signed_reqs.iter().zip(&answered).filter(|(_, &a)| !a) {
            let _ = signed.send_to(req, to);
        }
    }
    // the last anonymous answers (delayed 50 ms)
    std::thread::sleep(Duration::from_millis(300));
    for (i, (s, _)) in anon.iter().enumerate() {
        let got = drain(s, &mut buf);
        if got > 0 {
            counts[i] += got;
            last_answer = Instant::now();
        }
    }

    let unanswered: Vec<usize> = (0..answered.len()).filter(|&r| !answered[r]).collect();
    assert!(
        unanswered.is_empty(),
        "signed requests never answered: {unanswered:?}"
    );
    let secs = last_answer.duration_since(t0).as_secs_f64();
    let per_addr_max = RL_ANON * (1.0 + secs) + 2.0;
    let total_max = RL_ALL_ANON * (1.0 + secs) + 20.0;
    let total: u64 = counts.iter().sum();
    eprintln!(
        "{total} of {sent} anonymous requests answered in {secs:.2} s (allowed {total_max:.0}); \
         heavy clients {:?} of {HEAVY_EACH} each (allowed {per_addr_max:.0})",
        &counts[..usize::from(HEAVY)]
    );
    for (i, &n) in counts.iter().enumerate().take(usize::from(HEAVY)) {
        assert!(
            n as f64 <= per_addr_max,
            "heavy client {i}: {n} answers of {HEAVY_EACH}, allowed {per_addr_max:.0} in {secs:.2} s"
        );
    }
    assert!(
        (total as f64) <= total_max,
        "{total} anonymous answers of {sent}, allowed {total_max:.0} in {secs:.2} s"
    );
    // the burst was served at all (not everything dropped)
    assert!(total >= 50, "only {total} anonymous answers");
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}
