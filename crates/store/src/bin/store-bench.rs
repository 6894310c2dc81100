//! Measures the database implementations: throughput and latency of adds
//! and lookups with a million checksums, memory and disk per million,
//! start-up time and the durability strategy.
//!
//! `store-bench [--checksums N] [--only log|redb|fjall [--reopen]] [--dir DIR]`.
//! Without `--only` it runs itself twice per implementation: once to load
//! and measure, once more to measure reopening in a fresh process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tally_ck::{CkType, Sum};
use tally_store::{Ck, LogStore, Report, Store, SyncPolicy, Ts};

struct Args {
    checksums: u64,
    only: Option<String>,
    reopen: bool,
    dir: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        checksums: 1_000_000,
        only: None,
        reopen: false,
        dir: std::env::temp_dir(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--reopen" {
            a.reopen = true;
            continue;
        }
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--checksums" => a.checksums = v.parse().unwrap_or(a.checksums),
            "--only" => a.only = Some(v),
            "--dir" => a.dir = PathBuf::from(v),
            _ => {
                eprintln!("usage: store-bench [--checksums N] [--only log|redb|fjall [--reopen]] [--dir DIR]");
                std::process::exit(2);
            }
        }
    }
    a
}

fn kinds() -> Vec<&'static str> {
    let mut k = vec!["log"];
    if cfg!(feature = "redb") {
        k.push("redb");
    }
    if cfg!(feature = "fjall") {
        k.push("fjall");
    }
    k
}

fn open(kind: &str, dir: &Path, policy: SyncPolicy) -> Box<dyn Store> {
    match kind {
        #[cfg(feature = "redb")]
        "redb" => Box::new(tally_store::RedbStore::open_with(dir, policy).expect("open redb")),
        #[cfg(feature = "fjall")]
        "fjall" => Box::new(tally_store::FjallStore::open_with(dir, policy).expect("open fjall")),
        _ => Box::new(LogStore::open_with(dir, policy).expect("open log store")),
    }
}

/// A well-mixed 64-bit value of `i` (splitmix64).
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `i`th checksum of the data set: Body, Fuz1, Fuz2 in turn.
fn nth_ck(i: u64) -> Ck {
    let ty = [CkType::Body, CkType::Fuz1, CkType::Fuz2][(i % 3) as usize];
    let mut s = [0u8; 16];
    s[..8].copy_from_slice(&mix(i).to_le_bytes());
    s[8..].copy_from_slice(&mix(i ^ 0x5555).to_le_bytes());
    Ck::new(ty, Sum(s))
}

/// The `r`th report: three new checksums.
fn nth_report(r: u64) -> Report {
    let cks = (0..3).map(|j| nth_ck(3 * r + j)).collect();
    Report::new(
        Ts::new(1_800_000_000 + r / 100, 0),
        1100,
        1 + (r % 5) as u32,
        cks,
    )
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn lat(mut v: Vec<Duration>) -> String {
    v.sort_unstable();
    format!(
        "p50 {:>8.1} us  p99 {:>8.1} us",
        us(pct(&v, 0.5)),
        us(pct(&v, 0.99))
    )
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// What an acknowledgement means for each implementation.
fn strategy(kind: &str) -> &'static str {
    match kind {
        "fjall" => "one write batch per add, appended to fjall's journal and flushed to the OS before the ack (survives kill -9); PersistMode::SyncData per batch with SyncPolicy::Always",
        "redb" => "one write transaction per add, committed with Durability::Eventual (written, not fsynced: survives kill -9); Immediate (fsync) with SyncPolicy::Always",
        _ => "one write(2) per add before the ack (survives kill -9); group commit: fdatasync when the oldest unsynced record is 100 ms old, and on sync(); fdatasync per add with SyncPolicy::Always",
    }
}

/// Measure one implementation in this process.
fn bench(kind: &str, n_cks: u64, base: &Path) {
    let reports = n_cks.div_ceil(3);
    let dir = bench_dir(kind, base);
    let _ = std::fs::remove_dir_all(&dir);
    let per_m = 1_000_000.0 / (3 * reports) as f64;
    println!("== {kind}: {} reports, {} checksums", reports, 3 * reports);
    println!("durability: {}", strategy(kind));

    // 1. Single adds, each acknowledged as dccd would (group commit).
    let rss0 = rss_bytes();
    let mut s = open(kind, &dir, SyncPolicy::default());
    let budget = Duration::from_secs(60);
    let mut lats = Vec::with_capacity(reports as usize);
    let t = Instant::now();
    let mut r = 0;
    while r < reports && t.elapsed() < budget {
        let rep = nth_report(r);
        let t1 = Instant::now();
        s.add(&rep).expect("add");
        lats.push(t1.elapsed());
        r += 1;
    }
    let single = t.elapsed();
    println!(
        "add (one report per call, default durability): {:>9.0} reports/s  {}  ({} reports)",
        rate(r, single),
        lat(lats),
        r
    );
    // The rest in batches of 1000 (one write and transaction per batch).
    let t = Instant::now();
    let first_batched = r;
    while r < reports {
        let end = (r + 1000).min(reports);
        let batch: Vec<Report> = (r..end).map(nth_report).collect();
        s.add_batch(&batch).expect("add_batch");
        r = end;
    }
    if r > first_batched {
        println!(
            "add_batch (1000 reports per call):              {:>9.0} reports/s  ({} reports)",
            rate(r - first_batched, t.elapsed()),
            r - first_batched
        );
    }
    s.sync().expect("sync");
    let rss_loaded = rss_bytes().saturating_sub(rss0);

    // 2. Lookups of random stored checksums.
    let q = 1_000_000u64;
    let mut qlats = Vec::with_capacity(q as usize);
    let t = Instant::now();
    let mut found = 0u64;
    for i in 0..q {
        let ck = nth_ck(mix(i) % (3 * reports));
        let t1 = Instant::now();
        let v = s.total(&ck).expect("total");
        qlats.push(t1.elapsed());
        found += u64::from(v != 0);
    }
    let qd = t.elapsed();
    assert_eq!(found, q, "every stored checksum has a total");
    println!(
        "lookup (total of one checksum):                 {:>9.0} queries/s  {}",
        rate(q, qd),
        lat(qlats)
    );

    // 3. Fully durable adds: fdatasync before each acknowledgement.
    drop(s);
    let mut s = open(kind, &dir, SyncPolicy::Always);
    let mut flats = Vec::new();
    let t = Instant::now();
    for i in 0..500 {
        let rep = nth_report(reports + 1_000_000 + i);
        let t1 = Instant::now();
        s.add(&rep).expect("add");
        flats.push(t1.elapsed());
    }
    println!(
        "add with fdatasync per report:                  {:>9.0} reports/s  {}",
        rate(500, t.elapsed()),
        lat(flats)
    );
    let stats = s.stats().expect("stats");
    drop(s);
    println!(
        "memory (RSS growth while loading): {:.1} MiB = {:.1} MiB per million checksums",
        mib(rss_loaded),
        mib(rss_loaded) * per_m
    );
    println!(
        "disk: {:.1} MiB = {:.1} MiB per million checksums ({} records)",
        mib(stats.disk_bytes),
        mib(stats.disk_bytes) * per_m,
        stats.records
    );
}

/// Reopen a loaded database in a fresh process: start-up time, memory,
/// lookups from cold, cleaning.
fn reopen(kind: &str, n_cks: u64, base: &Path) {
    let reports = n_cks.div_ceil(3);
    let dir = bench_dir(kind, base);
    let per_m = 1_000_000.0 / (3 * reports) as f64;
    let q = 1_000_000u64;
    let rss1 = rss_bytes();
    let t = Instant::now();
    let s = open(kind, &dir, SyncPolicy::default());
    let _ = s.total(&nth_ck(0));
    let reopen = t.elapsed();
    let rss_reopen = rss_bytes().saturating_sub(rss1);
    // Memory once lookups have touched the whole data set.
    let t = Instant::now();
    for i in 0..q {
        let _ = s.total(&nth_ck(mix(i ^ 77) % (3 * reports)));
    }
    let cold = t.elapsed();
    let rss_warm = rss_bytes().saturating_sub(rss1);
    println!(
        "reopen (fresh process): {:.3} s; then {:.0} queries/s",
        reopen.as_secs_f64(),
        rate(q, cold)
    );
    println!(
        "memory (RSS growth in the fresh process): {:.1} MiB after opening, {:.1} MiB after {} lookups; per million checksums: {:.1} / {:.1} MiB",
        mib(rss_reopen),
        mib(rss_warm),
        q,
        mib(rss_reopen) * per_m,
        mib(rss_warm) * per_m
    );
    drop(s);
    let mut s = open(kind, &dir, SyncPolicy::default());
    let t = Instant::now();
    let c = s
        .clean(1_800_000_000, &tally_store::Expiry::default())
        .expect("clean");
    println!(
        "clean (nothing expires, {} records kept): {:.2} s",
        c.kept,
        t.elapsed().as_secs_f64()
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

fn bench_dir(kind: &str, base: &Path) -> PathBuf {
    base.join(format!("tally-store-bench-{kind}"))
}

fn main() {
    let a = args();
    if let Some(kind) = a.only.as_deref() {
        if a.reopen {
            reopen(kind, a.checksums, &a.dir);
        } else {
            bench(kind, a.checksums, &a.dir);
        }
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    for kind in kinds() {
        for phase in [&[][..], &["--reopen"][..]] {
            let st = Command::new(&exe)
                .args([
                    "--checksums",
                    &a.checksums.to_string(),
                    "--only",
                    kind,
                    "--dir",
                ])
                .arg(&a.dir)
                .args(phase)
                .status();
            if !st.is_ok_and(|s| s.success()) {
                eprintln!("{kind}: benchmark failed");
                break;
            }
        }
    }
}
