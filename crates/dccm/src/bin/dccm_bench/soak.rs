//! The soak mode of dccm-bench (`dccm-bench --soak SECS [--conns N]`,
//! `scripts/soak-dccm.sh`): N connections (default 64) send messages
//! without pause for SECS seconds, and once a minute (and after 30 s of
//! warm-up) the program prints dccm's resident memory (`VmRSS`), its
//! threads and open descriptors from `/proc`, the messages per second and
//! the latency percentiles of that minute. Memory that grows minute after
//! minute is a leak; memory that levels off after the warm-up is the
//! allocator's working set.
//!
//! Figures (`scripts/soak-dccm.sh`: 64 connections for 10 minutes, dccm
//! and the project's dccd release builds, the corpus of 828 messages sent
//! round and round) on the 2-CPU development machine, saturated by the 64
//! connections and shared with two long fuzz runs (nice 10) and, at
//! times, other builds and tests:
//!
//! | time  | RSS KB | threads | fds | msgs/s | p50, p90, p99 ms    |
//! |-------|--------|---------|-----|--------|---------------------|
//! | 30 s  | 13012  | 3       | 105 | 4703   | 11.9, 20.5, 37.5    |
//! | 1 min | 13484  | 3       | 95  | 4061   | 14.1, 25.1, 39.3    |
//! | 2 min | 13108  | 3       | 90  | 5326   | 11.1, 17.7, 28.8    |
//! | 3 min | 12744  | 3       | 96  | 4369   | 12.8, 23.6, 39.0    |
//! | 4 min | 12788  | 3       | 90  | 3822   | 15.0, 26.5, 41.6    |
//! | 5 min | 13356  | 3       | 85  | 4848   | 11.9, 19.3, 36.2    |
//! | 6 min | 13072  | 3       | 81  | 5072   | 11.7, 18.3, 28.9    |
//! | 7 min | 13668  | 3       | 86  | 5125   | 11.8, 17.9, 25.6    |
//! | 8 min | 13192  | 3       | 95  | 5241   | 11.6, 17.5, 24.3    |
//! | 9 min | 13436  | 3       | 100 | 5086   | 11.7, 18.0, 26.2    |
//! | 10 min| 13708  | 3       | 92  | 5145   | 11.8, 17.8, 24.7    |
//!
//! 2,905,950 messages in 600 s (4841/s), none lost or refused; p50 12.0,
//! p90 19.7, p99 33.2, max 576 ms. dccm's resident memory stays between
//! 12.7 and 13.7 MB from the warm-up to the end (4.8 MB idle before the
//! run, 12.6 MB once the connections closed): no leak. The descriptors
//! are the 64 connections, the listening socket and the UDP sockets of
//! the DCC requests in flight (19-29 of them as sampled); after the run
//! dccm is back to 12 descriptors and its 3 threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::corpus::Msg;
use crate::mta::Addr;
use crate::{open, pct, rss_kb, send_msg};

/// What all connections measured since the last report.
#[derive(Default)]
struct Minute {
    lat: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

/// A `Key: value` number of `/proc/PID/status`.
fn status_num(pid: u32, key: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Open descriptors of a process.
fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// One connection sending messages until `stop`; its latencies go to `m`
/// in batches so that the lock is rarely taken.
fn conn(sock: &Addr, msgs: &[Msg], t: usize, stop: &AtomicBool, m: &Mutex<Minute>) {
    let ip = format!("192.0.2.{}", t % 250 + 1);
    let mut c = None;
    let mut lat = Vec::with_capacity(64);
    let mut n = t * 10_000_000;
    let mut errors = 0u64;
    let mut first_error = None;
    while !stop.load(Ordering::Relaxed) {
        if c.is_none() {
            match open(sock, &ip) {
                Ok(x) => c = Some(x),
                Err(e) => {
                    errors += 1;
                    first_error.get_or_insert(format!("connect: {e}"));
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            }
        }
        let Some(cn) = c.as_mut() else { continue };
        let s = Instant::now();
        match send_msg(cn, &msgs[n % msgs.len()], n) {
            Ok(_) => lat.push(s.elapsed()),
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("message {}: {e}", n % msgs.len()));
                c = None;
            }
        }
        n += 1;
        if lat.len() >= 32 || errors > 0 {
            if let Ok(mut m) = m.lock() {
                m.lat.append(&mut lat);
                m.errors += errors;
                if m.first_error.is_none() {
                    m.first_error = first_error.take();
                }
            }
            errors = 0;
        }
    }
    if let Ok(mut m) = m.lock() {
        m.lat.append(&mut lat);
    }
    if let Some(c) = c {
        c.quit();
    }
}

/// Run the soak: `conns` connections for `secs` seconds against the dccm
/// of process `pid` listening on `sock`.
pub fn run(sock: &Addr, msgs: Arc<Vec<Msg>>, pid: u32, conns: usize, secs: u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let minute = Arc::new(Mutex::new(Minute::default()));
    println!(
        "soak: {conns} connections for {secs} s; dccm before: RSS {} KB, {} threads, {} fds",
        rss_kb(pid),
        status_num(pid, "Threads:"),
        fds(pid)
    );
    let handles: Vec<_> = (0..conns)
        .map(|t| {
            let (msgs, sock, stop, m) = (msgs.clone(), sock.clone(), stop.clone(), minute.clone());
            std::thread::spawn(move || conn(&sock, &msgs, t, &stop, &m))
        })
        .collect();
    println!("  time  RSS KB  threads  fds  msgs/s  p50 ms  p90 ms  p99 ms  max ms  errors");
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs(secs);
    // the report times: after 30 s of warm-up, then every minute, then the end
    let mut marks: Vec<u64> = std::iter::once(30)
        .chain((1..).map(|k| k * 60))
        .take_while(|&s| s < secs)
        .collect();
    marks.push(secs);
    let (mut all, mut total_errors, mut last) = (Vec::new(), 0u64, t0);
    let (mut rss_first, mut rss_max) = (0u64, 0u64);
    for &mark in &marks {
        let at = (t0 + Duration::from_secs(mark)).min(end);
        if let Some(wait) = at.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let mut m = minute
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default();
        let span = last.elapsed().as_secs_f64();
        last = Instant::now();
        m.lat.sort_unstable();
        let rss = rss_kb(pid);
        if rss_first == 0 {
            rss_first = rss;
        }
        rss_max = rss_max.max(rss);
        println!(
            "{:>5}s {:>7} {:>8} {:>4} {:>7.0} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7}",
            mark,
            rss,
            status_num(pid, "Threads:"),
            fds(pid),
            m.lat.len() as f64 / span.max(1e-3),
            pct(&m.lat, 0.5),
            pct(&m.lat, 0.9),
            pct(&m.lat, 0.99),
            pct(&m.lat, 1.0),
            m.errors
        );
        if let Some(e) = &m.first_error {
            println!("        e.g. {e}");
        }
        total_errors += m.errors;
        all.append(&mut m.lat);
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    if let Ok(mut m) = minute.lock() {
        all.append(&mut m.lat);
    }
    all.sort_unstable();
    let elapsed = t0.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    println!(
        "soak: {} messages in {elapsed:.0} s = {:.0} msgs/s; p50 {:.2} p90 {:.2} p99 {:.2} max {:.2} ms; \
         {total_errors} errors; RSS after warm-up {rss_first} KB, highest {rss_max} KB, \
         at the end {} KB; after the connections closed: {} threads, {} fds",
        all.len(),
        all.len() as f64 / elapsed,
        pct(&all, 0.5),
        pct(&all, 0.9),
        pct(&all, 0.99),
        pct(&all, 1.0),
        rss_kb(pid),
        status_num(pid, "Threads:"),
        fds(pid)
    );
}
