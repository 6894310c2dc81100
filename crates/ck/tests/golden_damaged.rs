//! Every damaged message (real messages with bytes changed, inserted or
//! cut) against the checksums the original `dccproc -C` printed for it:
//! every type must match, and no type may be missing or extra. The
//! messages are rebuilt from the corpus (see `damaged_pack`).

mod damaged_pack;

use serde::Deserialize;
use std::collections::BTreeMap;
use tally_ck::header::{CkConfig, Envelope};
use tally_ck::message::{Checksums, MessageCks};

#[derive(Deserialize)]
struct Vector {
    file: String,
    ip: Option<String>,
    use_received: bool,
    env_from: Option<String>,
    substitutes: Vec<String>,
    checksums: BTreeMap<String, String>,
}

/// The checksums of one message with the vector's envelope; (label, hex).
fn compute(v: &Vector, raw: &[u8]) -> BTreeMap<String, String> {
    let mut cfg = CkConfig {
        use_received: v.use_received,
        ..Default::default()
    };
    for s in &v.substitutes {
        cfg.add_substitute(s).expect("valid -S name");
    }
    let env = Envelope {
        client_ip: v.ip.as_deref().map(|s| s.parse().expect("vector ip")),
        env_from: v.env_from.clone(),
        ..Default::default()
    };
    let mut m = MessageCks::new(&cfg, &env);
    m.feed(raw);
    let cks = m.finish();
    cks.entries
        .iter()
        .map(|e| (Checksums::label(e), e.sum.to_string()))
        .collect()
}

#[test]
fn damaged_messages() {
    let lines = damaged_pack::vector_lines();
    let msgs = damaged_pack::messages();
    assert_eq!(lines.len(), msgs.len(), "one message per vector");
    let (mut ok, mut bad) = (0, Vec::new());
    for (line, (name, raw)) in lines.iter().zip(&msgs) {
        let v: Vector = serde_json::from_str(line).expect("vector line");
        assert_eq!(&v.file, name, "messages.pack out of step");
        let got = compute(&v, raw);
        let mut labels: Vec<&String> = v.checksums.keys().chain(got.keys()).collect();
        labels.sort();
        labels.dedup();
        let mut fine = true;
        for l in labels {
            let (want, have) = (v.checksums.get(l), got.get(l));
            if want != have {
                fine = false;
                bad.push(format!(
                    "{}: {l}: expected {}, got {}",
                    v.file,
                    want.map_or("(absent)", |s| s.as_str()),
                    have.map_or("(absent)", |s| s.as_str())
                ));
            }
        }
        ok += usize::from(fine);
    }
    println!("damaged: {ok}/{} messages match", lines.len());
    for b in &bad {
        println!("  {b}");
    }
    assert_eq!(ok, lines.len(), "damaged: {} mismatches", bad.len());
    assert_eq!(lines.len(), 2500);
}
