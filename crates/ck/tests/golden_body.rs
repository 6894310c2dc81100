//! Body, Fuz1 and Fuz2 of every corpus message against the checksums the
//! original DCC computed, including the messages for which it computed none.

use std::path::{Path, PathBuf};
use tally_ck::body::{BodyCks, BodySums};
use tally_ck::Sum;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Split a raw message into header fields and the body (None without the
/// blank line), the way `dccproc` reads a message.
fn split(msg: &[u8]) -> (Vec<&[u8]>, Option<&[u8]>) {
    let mut fields: Vec<&[u8]> = Vec::new();
    let mut start: Option<usize> = None;
    let mut pos = 0;
    while pos < msg.len() {
        let end = msg[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(msg.len(), |p| pos + p + 1);
        let line = &msg[pos..end];
        if line == b"\n" || line == b"\r\n" {
            if let Some(s) = start {
                fields.push(&msg[s..pos]);
            }
            return (fields, Some(&msg[end..]));
        }
        let cont = matches!(line.first(), Some(b' ' | b'\t'));
        if !cont {
            if let Some(s) = start {
                fields.push(&msg[s..pos]);
            }
            start = Some(pos);
        } else if start.is_none() {
            start = Some(pos);
        }
        pos = end;
    }
    if let Some(s) = start {
        fields.push(&msg[s..]);
    }
    (fields, None)
}

/// The sums of a message fed in one piece.
pub fn sums_of(msg: &[u8]) -> BodySums {
    let (fields, body) = split(msg);
    let mut ck = BodyCks::new();
    for f in fields {
        ck.header_field(f);
    }
    if let Some(body) = body {
        ck.end_of_headers();
        ck.body(body);
    }
    ck.finish()
}

fn check(vectors: &str) -> (usize, usize, Vec<String>) {
    let text = std::fs::read_to_string(root().join("vectors").join(vectors)).expect("vectors");
    let mut total = 0;
    let mut good = 0;
    let mut bad = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let file = v["file"].as_str().expect("file");
        let msg = std::fs::read(root().join("corpus").join(file)).expect("message");
        let got = sums_of(&msg);
        let cks = &v["checksums"];
        let want = |name: &str| {
            cks.get(name)
                .and_then(|s| s.as_str())
                .and_then(Sum::parse_hex)
        };
        let show = |s: Option<Sum>| s.map_or_else(|| "none".to_string(), |s| s.to_string());
        total += 1;
        let mut ok = true;
        for (name, got) in [("Body", got.body), ("Fuz1", got.fuz1), ("Fuz2", got.fuz2)] {
            let exp = want(name);
            if exp != got {
                ok = false;
                bad.push(format!(
                    "{file} {name}: expected {} got {}",
                    show(exp),
                    show(got)
                ));
            }
        }
        if ok {
            good += 1;
        }
    }
    (good, total, bad)
}

fn run(vectors: &str) {
    let (good, total, bad) = check(vectors);
    println!("{vectors}: {good}/{total} messages match");
    for b in &bad {
        println!("  {b}");
    }
    assert_eq!(good, total, "{} mismatches in {vectors}", bad.len());
}

#[test]
fn corpus_messages() {
    run("checksums.jsonl");
}

#[test]
fn bulk_messages() {
    run("bulk-checksums.jsonl");
}
