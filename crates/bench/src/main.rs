//! Performance figures of tally, printed as a table.
//!
//! - checksum engine throughput (MB/s, one core) on a generated 20 MB plain-text
//!   message and a generated 20 MB HTML message, fed in 64 KiB pieces;
//! - messages per second over the test corpus (`testdata/corpus`).
//!
//! The generated messages are deterministic, so figures are comparable between runs.

mod gen;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tally_ck::header::{CkConfig, Envelope};
use tally_ck::message::MessageCks;

const MB: f64 = 1_000_000.0;
const CHUNK: usize = 64 * 1024;

fn checksum(msg: &[u8], cfg: &CkConfig, env: &Envelope) -> usize {
    let mut cks = MessageCks::new(cfg, env);
    for piece in msg.chunks(CHUNK) {
        cks.feed(piece);
    }
    cks.finish().entries.len()
}

/// Best time of `runs` runs of `f`.
fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn corpus_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if !matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("tsv" | "md" | "py")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn main() {
    let cfg = CkConfig::default();
    let env = Envelope {
        client_ip: "192.0.2.1".parse().ok(),
        env_from: Some("alice@example.com".into()),
        ..Envelope::default()
    };
    println!("tally benchmark (release build, one core)");
    println!();
    println!("{:<44} {:>12}", "checksum engine", "MB/s");
    for (name, msg) in [
        ("20 MB plain-text message", gen::plain(20_000_000)),
        ("20 MB HTML message", gen::html(20_000_000)),
    ] {
        let mut n = 0;
        let t = best_of(3, || n = checksum(&msg, &cfg, &env));
        assert!(n > 0);
        println!(
            "{:<44} {:>12.1}",
            name,
            msg.len() as f64 / MB / t.as_secs_f64()
        );
    }

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus");
    let msgs: Vec<Vec<u8>> = corpus_files(&root)
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let rounds = 20;
    let t = best_of(3, || {
        for _ in 0..rounds {
            for m in &msgs {
                checksum(m, &cfg, &env);
            }
        }
    });
    let per_sec = (msgs.len() * rounds) as f64 / t.as_secs_f64();
    println!();
    println!(
        "{:<44} {:>12.0}",
        format!(
            "corpus: {} messages, {:.1} MB, msgs/s",
            msgs.len(),
            bytes as f64 / MB
        ),
        per_sec
    );
    println!(
        "{:<44} {:>12.1}",
        "corpus MB/s",
        (bytes * rounds) as f64 / MB / t.as_secs_f64()
    );
}
