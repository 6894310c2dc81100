//! Vanishing peers: an MTA that closes its milter connection in the
//! middle of a message 200 times, and a dccifd client that closes its
//! connection in the middle of a request 200 times, at different places.
//!
//! What this proves: no job, thread or file descriptor is leaked. The
//! daemon lets go of each cut connection (its open descriptors,
//! /proc/PID/fd, are back to those before within 10 s, before the next
//! cut), and its threads (/proc/PID/task) and descriptors after the 200
//! cut connections, given up to 10 s to settle, are those before them
//! (after a warm-up with whole messages); the slack allowed is
//! [`FD_SLACK`] descriptors and no thread. dccifd keeps the job threads it
//! has started (its pool grows when a connection comes while the job
//! before is still ending), so it runs with `-j 4`: its job threads may
//! grow up to 4, its other threads not at all, and it must still serve
//! after the 200 cuts. The SIGUSR1 report accounts for
//! every cut connection (dccifd: each one answered or dropped; dccm: none
//! counted as a message, none still open), and the daemon then serves a whole message
//! with counts from the server.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};
use tally_e2e::daemons::Client;
use tally_e2e::dccifd_client::{ask, request_head};
use tally_e2e::faults::Scene;
use tally_e2e::load::HANG;
use tally_e2e::milter::{Mta, Parts};
use tally_e2e::proc::{signal, wait_until};
use tally_e2e::procstat::{fds, settled, thread_names};
use tally_e2e::require;

/// Connections cut per daemon.
const CUTS: usize = 200;
/// Descriptors the daemon may hold open after the cuts beyond those
/// before: one, for a file (a log, the map) opened lazily by the first
/// message that needs it.
const FD_SLACK: usize = 1;
/// dccifd's `-j`: it keeps the job threads it started, up to this many,
/// so a job that never ended would soon leave it unable to serve.
const JOBS: usize = 4;

/// The numbers of the last SIGUSR1 report line containing `marker`,
/// after sending SIGUSR1 to `pid` and waiting for a new report.
fn report(c: &Client, pid: u32, marker: &str) -> Vec<u64> {
    let count = |t: &str| t.matches(marker).count();
    let before = count(&c.log_text());
    signal(pid, "USR1");
    let ok = wait_until(Duration::from_secs(10), || count(&c.log_text()) > before);
    assert!(ok, "no report after SIGUSR1\n{}", c.log_text());
    let text = c.log_text();
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains(marker))
        .unwrap_or_default();
    line.split(|ch: char| !ch.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect()
}

fn message(seed: &str) -> Vec<u8> {
    tally_e2e::msg::message("sender@example.com", "rcpt@example.net", "vanish", seed)
}

/// One whole message through dccm, answered with the server's counts.
fn milter_ok(sock: &Path, seed: &str) {
    let mut m = Mta::connect(sock, HANG).unwrap_or_else(|e| panic!("connect to dccm: {e}"));
    let raw = message(seed);
    let a = m.message(seed, "sender@example.com", "rcpt@example.net", &raw);
    let a = a.unwrap_or_else(|e| panic!("dccm did not answer a whole message: {e}"));
    assert!(a.accepted(), "dccm refused a whole message: {a:?}");
    assert!(
        a.x_dcc.as_deref().is_some_and(|h| h.contains("Body=")),
        "no counts: {a:?}"
    );
    m.quit();
}

/// One whole message through dccifd, answered with the server's counts.
fn ifd_ok(sock: &Path, seed: &str) {
    let head = request_head("sender@example.com", "rcpt@example.net");
    let a = ask(sock, &head, &message(seed), HANG);
    let a = a.unwrap_or_else(|e| panic!("dccifd did not answer a whole request: {e}"));
    assert_eq!(a.overall, 'A', "{a:?}");
    assert!(
        a.x_dcc.as_deref().is_some_and(|h| h.contains("Body=")),
        "no counts: {a:?}"
    );
}

/// An MTA that goes away: the message is cut after the connection, after
/// MAIL, in the middle of the header, or (most often) after some body
/// chunks; the socket is simply closed.
fn milter_cut(sock: &Path, i: usize) {
    let mut m = Mta::connect(sock, HANG).unwrap_or_else(|e| panic!("connect to dccm: {e}"));
    let raw = message(&format!("cut{i}"));
    let parts = Parts::of(&raw);
    let id = format!("V{i}");
    match i % 8 {
        0 => {}
        1 => {
            // MAIL, RCPT and one header field, without the end of header
            let _ = m.step(b'M', b"<sender@example.com>\0");
            let _ = m.step(b'R', b"<rcpt@example.net>\0");
            let _ = m.step(b'L', b"Subject\0cut\0");
        }
        k => {
            let a = m.head(&id, "sender@example.com", "rcpt@example.net", &parts);
            assert!(a.is_ok_and(|a| a.last == b'c'), "dccm refused a header");
            // 1 to 6 chunks of 64 bytes of a body of about 11
            let n = (k - 1) * 64;
            let body = parts.body.get(..n).unwrap_or(&parts.body);
            let a = m.body(body, 64);
            assert!(a.is_ok_and(|a| a.last == b'c'), "dccm refused a body chunk");
        }
    }
    drop(m);
}

/// A dccifd client that goes away: the request is cut after the options
/// line, in the middle of the envelope, in the middle of the header or in
/// the middle of the body; the socket is closed without a half-close
/// first, after at most 10 ms (so that dccifd has read some of it).
fn ifd_cut(sock: &Path, i: usize) {
    let mut req = request_head("sender@example.com", "rcpt@example.net");
    let head_len = req.len();
    req.extend_from_slice(&message(&format!("cut{i}")));
    let options_end = req.iter().position(|&b| b == b'\n').map_or(1, |p| p + 1);
    let header_mid = head_len + 120;
    let body_mid = req.len() - 200;
    let cut = match i % 4 {
        0 => options_end,
        1 => head_len / 2,
        2 => header_mid,
        _ => body_mid,
    };
    let mut s = UnixStream::connect(sock).unwrap_or_else(|e| panic!("connect to dccifd: {e}"));
    let _ = s.write_all(req.get(..cut).unwrap_or(&req));
    if i.is_multiple_of(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(s);
}

/// Threads and descriptors before and after the cut connections, once
/// settled; whole messages sent by `ok` before (warm-up) and after.
/// `pool`: the name of the daemon's job threads and their limit (`-j`),
/// for a daemon that keeps the job threads it started (dccifd): those
/// may grow up to the limit, the other threads not at all.
fn no_leak(
    name: &str,
    pid: u32,
    pool: Option<(&str, usize)>,
    cut: impl Fn(usize),
    ok: impl Fn(&str),
) {
    for i in 0..20 {
        ok(&format!("warm{i}"));
    }
    let before = settled(pid, None, Duration::from_secs(10));
    let jobs = |pid| match pool {
        Some((n, _)) => thread_names(pid).iter().filter(|t| *t == n).count(),
        None => 0,
    };
    let jobs_before = jobs(pid);
    let limit = pool.map_or(0, |p| p.1);
    let want = (before.0 - jobs_before + limit, before.1 + FD_SLACK);
    let t0 = Instant::now();
    for i in 0..CUTS {
        cut(i);
        // the daemon lets go of each connection before the next one comes
        let closed = wait_until(Duration::from_secs(10), || {
            fds(pid).is_some_and(|n| n <= want.1)
        });
        assert!(closed, "{name} still holds cut connection {i} after 10 s");
    }
    let cutting = t0.elapsed();
    let after = settled(pid, Some(want), Duration::from_secs(10));
    let jobs_after = jobs(pid);
    eprintln!(
        "{name}: {CUTS} cut connections in {cutting:?}; threads {} -> {} \
         (job threads {jobs_before} -> {jobs_after}), descriptors {} -> {}",
        before.0, after.0, before.1, after.1
    );
    let others = (before.0 - jobs_before, after.0 - jobs_after);
    let leaked = others.1 > others.0 || jobs_after > limit.max(jobs_before) || after.1 > want.1;
    assert!(
        !leaked,
        "{name} leaked: threads {} -> {} (job threads {jobs_before} -> {jobs_after}), \
         descriptors {} -> {}",
        before.0, after.0, before.1, after.1
    );
    ok("after");
}

/// dccm: 200 MTAs vanishing mid-message leak nothing, count as no
/// message and leave no connection counted as open (the count `-j`
/// limits); dccm serves a whole message afterwards.
#[test]
fn mta_vanishing_mid_message_leaks_nothing() {
    let t_start = Instant::now();
    let sc = require!(Scene::start("vanishm", &[], &[]));
    let sock = sc.dccm_sock();
    let pid = sc.dccm.pid().expect("dccm runs");
    let marker = "messages with";
    let before = report(&sc.dccm, pid, marker);
    let msgs_before = before.first().copied().unwrap_or(0);
    no_leak(
        "dccm",
        pid,
        None,
        |i| milter_cut(&sock, i),
        |s| milter_ok(&sock, s),
    );
    let after = report(&sc.dccm, pid, marker);
    let msgs_after = after.first().copied().unwrap_or(0);
    // the warm-up's 20 and the last one, none of the cut ones
    assert_eq!(msgs_after - msgs_before, 21, "{}", sc.logs());
    // with one recipient each
    let rcpts = |v: &[u64]| v.get(1).copied().unwrap_or(0);
    assert_eq!(
        rcpts(&after) - rcpts(&before),
        21,
        "{before:?} -> {after:?}"
    );
    // no connection left counted as open (they count against -j)
    assert_eq!(after.last(), Some(&0), "open connections: {after:?}");
    sc.assert_no_panic();
    eprintln!(
        "dccm vanishing: report {before:?} -> {after:?}; {:?} in all",
        t_start.elapsed()
    );
}

/// dccifd: 200 clients vanishing mid-request leak nothing, and every one
/// of them ended as a job (answered or dropped, in the SIGUSR1 report);
/// dccifd serves a whole request afterwards.
#[test]
fn dccifd_client_vanishing_mid_request_leaks_nothing() {
    let t_start = Instant::now();
    let sc = require!(Scene::start("vanishi", &[], &["-j", &JOBS.to_string()]));
    let sock = sc.dccifd_sock();
    let pid = sc.dccifd.pid().expect("dccifd runs");
    let marker = "dropped without an answer";
    let jobs = |v: &[u64]| v.iter().sum::<u64>();
    // the start's readiness check connected once and closed: dccifd
    // counts that as a dropped job, sometimes only after a first report,
    // so wait (at most 10 s) until it is counted before taking the count
    // the cut requests are measured against
    let t0 = Instant::now();
    let before = loop {
        let r = report(&sc.dccifd, pid, marker);
        if jobs(&r) >= 1 || t0.elapsed() > Duration::from_secs(10) {
            break r;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    no_leak(
        "dccifd",
        pid,
        Some(("dccifd job", JOBS)),
        |i| ifd_cut(&sock, i),
        |s| ifd_ok(&sock, s),
    );
    let after = report(&sc.dccifd, pid, marker);
    // every cut request and the 21 whole ones ended as jobs
    assert_eq!(
        jobs(&after) - jobs(&before),
        (CUTS + 21) as u64,
        "{before:?} -> {after:?}"
    );
    sc.assert_no_panic();
    eprintln!(
        "dccifd vanishing: report {before:?} -> {after:?}; {:?} in all",
        t_start.elapsed()
    );
}
