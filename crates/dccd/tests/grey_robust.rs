//! Damaged greylist requests never crash a greylist server: the recorded
//! greylist requests with bytes changed, cut or appended (half of them
//! with a correct length and signed again, to reach the greylist logic),
//! through the socketless server. Every answer is at least a header, and
//! the server still answers the recorded requests afterwards.

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use serde_json::Value;
use tally_dccd::server::Action;
use tally_wire::sign::{Passwd, Signer};

use common::temp_home;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn damaged_greylist_requests() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/udp_vectors.json");
    let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    let seeds: Vec<Vec<u8>> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"].as_str().is_some_and(|n| n.starts_with("grey")))
        .map(|e| unhex(e["request_hex"].as_str().unwrap()))
        .collect();
    let home = temp_home("grey-robust");
    let args: Vec<String> = [
        "-b",
        "-i",
        "1100",
        "-n",
        "vecgrey",
        "-G",
        "on,20",
        "-R",
        "100000000",
        "-h",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([home.to_string_lossy().into_owned()])
    .collect();
    let o = tally_dccd::opts::parse(&args).unwrap();
    let mut s = tally_dccd::net::build_server(&o).unwrap();
    let from: SocketAddr = "127.0.0.1:40001".parse().unwrap();
    let signer = Signer::Passwd(Passwd::new(b"vectorclientpw").unwrap());
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut clock = 1_795_348_746u64;
    let mut answered = 0;
    let mut errors = 0;
    for round in 0..20_000u32 {
        let mut pkt = seeds[rng.below(seeds.len())].clone();
        for _ in 0..=rng.below(4) {
            match rng.below(4) {
                0 => {
                    let i = rng.below(pkt.len());
                    pkt[i] ^= 1 << rng.below(8);
                }
                1 => {
                    let i = 24 + rng.below(pkt.len().saturating_sub(24).max(1));
                    pkt.truncate(i.min(pkt.len()));
                }
                2 => pkt.extend((0..rng.below(40)).map(|_| rng.next() as u8)),
                _ => {
                    // a checksum slot: type and length bytes
                    if pkt.len() > 30 {
                        let i = 28 + 18 * rng.below((pkt.len() - 28) / 18);
                        if i + 1 < pkt.len() {
                            pkt[i] = rng.below(16) as u8;
                            pkt[i + 1] = rng.below(20) as u8;
                        }
                    }
                }
            }
        }
        if round % 2 == 0 && pkt.len() >= 40 && pkt.len() <= 1500 {
            let len = pkt.len() as u16;
            pkt[..2].copy_from_slice(&len.to_be_bytes());
            pkt[4..8].copy_from_slice(&32800u32.to_be_bytes());
            // a new r, so that the retransmission cache does not answer
            pkt[16..20].copy_from_slice(&round.to_le_bytes());
            signer.sign(&mut pkt);
        }
        clock += rng.below(3) as u64;
        s.clock = Some(clock);
        if let Action::Send(a, _) = s.handle(&pkt, from, Instant::now()) {
            assert!(a.len() >= 24);
            answered += 1;
            if a[3] == 7 {
                errors += 1;
            }
        }
    }
    // the damage reached the greylist logic, including its ERRORs
    assert!(
        answered > 500 && errors > 10,
        "{answered} answers, {errors} errors"
    );
    // still answering
    s.clock = Some(clock);
    let Action::Send(a, _) = s.handle(
        &seeds[0],
        "127.0.0.1:40002".parse().unwrap(),
        Instant::now(),
    ) else {
        panic!("no answer after the damage");
    };
    assert_eq!(a.len(), 48);
    let _ = std::fs::remove_dir_all(&home);
}
