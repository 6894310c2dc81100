//! Performance figures of tally, printed as a table.
//!
//! - checksum engine throughput (MB/s, one core) on a generated 20 MB plain-text
//!   message and a generated 20 MB HTML message, fed in 64 KiB pieces;
//! - messages per second over the test corpus (`testdata/corpus`).
//!
//! The generated messages are deterministic, so figures are comparable between runs.
//!
//! Usage: `tally-bench [--mb N] [--runs N] [--no-corpus]`: the size of the
//! generated messages in MB (default 20), the runs of which the best is
//! taken (default 3), and whether to skip the corpus. A small size, one run
//! and no corpus suit an instruction profile (`valgrind --tool=callgrind`).

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

/// The command line: generated size in bytes, runs, corpus or not.
fn options() -> (usize, usize, bool) {
    let (mut mb, mut runs, mut corpus) = (20, 3, true);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> usize {
            match args.next().and_then(|v| v.parse().ok()) {
                Some(n) if n > 0 => n,
                _ => {
                    eprintln!("tally-bench: {name} needs a positive number");
                    std::process::exit(64);
                }
            }
        };
        match a.as_str() {
            "--mb" => mb = num("--mb"),
            "--runs" => runs = num("--runs"),
            "--no-corpus" => corpus = false,
            _ => {
                eprintln!("usage: tally-bench [--mb N] [--runs N] [--no-corpus]");
                std::process::exit(64);
            }
        }
    }
    (mb * 1_000_000, runs, corpus)
}

fn main() {
    let (size, runs, with_corpus) = options();
    let cfg = CkConfig::default();
    let env = Envelope {
        client_ip: "192.0.2.1".parse().ok(),
        env_from: Some("alice@example.com".into()),
        ..Envelope::default()
    };
    println!("tally benchmark (release build, one core)");
    println!();
    println!("{:<44} {:>12}", "checksum engine", "MB/s");
    let mb = size / 1_000_000;
    for (name, msg) in [
        (format!("{mb} MB plain-text message"), gen::plain(size)),
        (format!("{mb} MB HTML message"), gen::html(size)),
    ] {
        let mut n = 0;
        let t = best_of(runs, || n = checksum(&msg, &cfg, &env));
        assert!(n > 0);
        println!(
            "{:<44} {:>12.1}",
            name,
            msg.len() as f64 / MB / t.as_secs_f64()
        );
    }

    if !with_corpus {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus");
    let msgs: Vec<Vec<u8>> = corpus_files(&root)
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let rounds = 20;
    let t = best_of(runs, || {
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
