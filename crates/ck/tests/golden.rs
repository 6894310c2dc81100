//! Every corpus message against the checksums the original `dccproc -C`
//! printed for it: every type must match, and no type may be missing or
//! extra.
//!
//! Setting `TALLY_CK_SKIP_BODY=1` leaves out Body, Fuz1 and Fuz2 (for work
//! on the header checksums alone).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn is_body(label: &str) -> bool {
    matches!(label, "Body" | "Fuz1" | "Fuz2")
}

/// Compute the checksums of one vector's message; (label, hex) pairs.
fn compute(v: &Vector) -> BTreeMap<String, String> {
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
    let raw = std::fs::read(testdata().join("corpus").join(&v.file)).expect("corpus file");
    let mut m = MessageCks::new(&cfg, &env);
    m.feed(&raw);
    let cks = m.finish();
    cks.entries
        .iter()
        .map(|e| (Checksums::label(e), e.sum.to_string()))
        .collect()
}

fn run(vectors: &str) -> (usize, usize, Vec<String>) {
    let skip_body = std::env::var_os("TALLY_CK_SKIP_BODY").is_some();
    let text = std::fs::read_to_string(testdata().join("vectors").join(vectors)).expect("vectors");
    let (mut total, mut ok) = (0, 0);
    let mut bad = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Vector = serde_json::from_str(line).expect("vector line");
        total += 1;
        let got = compute(&v);
        let mut labels: Vec<&String> = v.checksums.keys().chain(got.keys()).collect();
        labels.sort();
        labels.dedup();
        let mut fine = true;
        for l in labels {
            if skip_body && is_body(l) {
                continue;
            }
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
    (ok, total, bad)
}

fn check(vectors: &str) {
    let (ok, total, bad) = run(vectors);
    println!("{vectors}: {ok}/{total} messages match");
    for b in &bad {
        println!("  {b}");
    }
    assert_eq!(ok, total, "{vectors}: {} mismatches", bad.len());
}

#[test]
fn corpus_messages() {
    check("checksums.jsonl");
}

#[test]
fn bulk_messages() {
    check("bulk-checksums.jsonl");
}
