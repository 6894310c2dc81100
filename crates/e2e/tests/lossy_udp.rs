//! Our dccd behind a relay that loses 30 % of the datagrams in each
//! direction (about half of the round trips fail): dccproc and dccifd
//! answer every message within the client's time budget, and the messages
//! they asked the server about get its counts about as often as the
//! client's retransmissions promise.
//!
//! The budget comes from the client library's timing rules (tally-client
//! `timing`, included here as it is): before its first request a client
//! measures the servers' round trip times with NOPs sent at most
//! `MAX_XMITS` times, 350 ms, 600 ms, 1.1 s and 2.1 s apart; a request is
//! sent at most `MAX_XMITS` times within `MAX_DELAY` (16 s).
//!
//! After a request gets no answer the client leaves the server alone for a
//! while (dcc(8): clients "fail in the direction of assuming that mail is
//! legitimate"); messages checked meanwhile get no counts. So every
//! message without counts must be explained by a complaint, either "no DCC
//! answer" (the request went unanswered) or "continue not asking" (the
//! back-off), and of the messages the client did ask about, the share
//! without an answer must be near what `MAX_XMITS` transmissions at this
//! loss give.
//!
//! The relay is the one of tally-testkit, included as it is.

#[path = "../../testkit/src/lossy_relay.rs"]
mod lossy_relay;

#[allow(dead_code)]
#[path = "../../client/src/timing.rs"]
mod timing;

use lossy_relay::LossyRelay;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tally_e2e::daemons::Client;
use tally_e2e::dccd::{map_text, DccServer, BRAND};
use tally_e2e::tmp::TempDir;
use tally_e2e::{bins, proc, require};

/// The fraction of datagrams lost in each direction.
const LOSS: f64 = 0.30;
/// Messages checked.
const N: usize = 100;
/// Slack over the budget for a loaded machine (process start, a busy CPU).
const MARGIN: Duration = Duration::from_secs(5);

/// The longest a client may take for one message: the NOPs measuring the
/// server, then the request.
fn budget() -> Duration {
    let nops: i64 = (0..timing::MAX_XMITS)
        .map(|n| timing::retrans_time(timing::MIN_RTT, n))
        .sum();
    Duration::from_micros((nops + timing::MAX_DELAY) as u64)
}

/// Round trips that fail: the request or its answer lost.
fn round_trip_loss() -> f64 {
    1.0 - (1.0 - LOSS) * (1.0 - LOSS)
}

fn message(n: usize) -> String {
    format!(
        "From: alice@example.com\nTo: bob@example.net\nSubject: lossy {n}\n\
         Message-ID: <lossy-{n}@example.com>\n\nThis is message number {n} of {N}.\n"
    )
}

/// Whether an X-DCC header carries the server's counts (without an
/// answer it is absent or has none).
fn has_counts(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with(&format!("X-DCC-{BRAND}-Metrics:")) && l.contains("Body="))
}

/// The client home: a map naming the relay instead of the server.
fn client_home(dir: &Path, relay: &LossyRelay) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(dir.join("map"), map_text(dir, relay.addr()))?;
    std::fs::set_permissions(dir.join("map"), std::fs::Permissions::from_mode(0o600))
}

/// Times in seconds: minimum, median, 90th percentile, maximum.
fn spread(times: &mut [Duration]) -> String {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64();
    format!(
        "min {:.2} s, median {:.2} s, 90% {:.2} s, max {:.2} s",
        at(0.0),
        at(0.5),
        at(0.9),
        at(1.0)
    )
}

/// The chance that a request goes unanswered: each of its `MAX_XMITS`
/// transmissions or its answer lost (0.51^4, about 6.8 %; the NOPs
/// measuring the server fail as rarely).
fn miss_chance() -> f64 {
    round_trip_loss().powi(timing::MAX_XMITS as i32)
}

/// What happened to the messages.
#[derive(Debug, Default)]
struct Tally {
    /// With the server's counts.
    answered: usize,
    /// Asked about, no answer ("no DCC answer", "no working DCC server").
    unanswered: usize,
    /// Not asked about: the client was backing off.
    backing_off: usize,
    /// What the runs without counts and without a known complaint said.
    unexplained: Vec<String>,
}

impl Tally {
    /// Messages accounted for.
    fn total(&self) -> usize {
        self.answered + self.unanswered + self.backing_off
    }

    /// Count the complaints of `text`.
    fn complaints(&mut self, text: &str) {
        for l in text.lines() {
            // one server in the map: "no working DCC server at ADDR"; more:
            // "no working DCC servers NAMES at ADDRS", as the original
            if l.contains("no DCC answer from") || l.contains("no working DCC server") {
                self.unanswered += 1;
            } else if l.contains("continue not asking DCC") {
                self.backing_off += 1;
            }
        }
    }

    /// Print the figures of a run, then require every message answered
    /// within the budget and [`Tally::check`].
    fn report_and_check(
        &self,
        who: &str,
        setup: &str,
        each: &str,
        times: &mut [Duration],
        relay: &LossyRelay,
    ) {
        let st = relay.stats();
        eprintln!(
            "{who} at {:.0}% loss{setup}: {self:?} of {N}; times {}; budget {:.2} s; relay {st:?}, \
             dropped {:.1}%",
            LOSS * 100.0,
            spread(times),
            budget().as_secs_f64(),
            st.drop_rate() * 100.0
        );
        let worst = times.iter().max().copied().unwrap_or_default();
        assert!(worst <= budget() + MARGIN, "{each} took {worst:?}");
        self.check(who);
    }

    /// Every message is accounted for, and of those asked about, no more
    /// went unanswered than three times the chance allows, plus three.
    fn check(&self, who: &str) {
        assert_eq!(
            self.total(),
            N,
            "{who}: messages without counts and without a complaint: {self:?}"
        );
        let asked = N - self.backing_off;
        let most = 3.0 * miss_chance() * asked as f64 + 3.0;
        assert!(
            self.unanswered as f64 <= most,
            "{who}: {} of {asked} asked unanswered, more than {most:.1}",
            self.unanswered
        );
    }
}

/// dccproc over `N` distinct messages, 8 at a time: every run exits 0
/// within the budget, and every message without counts is explained.
#[test]
fn dccproc_through_loss() {
    let dir = require!(TempDir::new("lossy-proc").map_err(|e| tally_e2e::Skip(e.to_string())));
    let srv = require!(DccServer::start(&dir.path().join("dccd")));
    let exe = require!(bins::binary("dccproc"));
    let relay = LossyRelay::start(srv.addr, LOSS, 0x5eed_0001).expect("relay");
    let home = dir.subdir("client").expect("client home");
    client_home(&home, &relay).expect("map");

    let next = AtomicUsize::new(0);
    let runs = Mutex::new((Tally::default(), Vec::new()));
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= N {
                    break;
                }
                let mut cmd = Command::new(&exe);
                cmd.arg("-h").arg(&home).arg("-H");
                let t0 = Instant::now();
                let out = proc::run(cmd, message(n).as_bytes(), budget() + MARGIN * 4)
                    .expect("run dccproc");
                let took = t0.elapsed();
                assert!(out.success(), "run {n}: {:?} {}", out.status, out.stderr);
                let mut r = runs.lock().expect("runs");
                if has_counts(&out.stdout) {
                    r.0.answered += 1;
                } else {
                    let before = r.0.total();
                    r.0.complaints(&out.stderr);
                    if r.0.total() == before {
                        r.0.unexplained.push(format!(
                            "run {n}: stderr {:?}, stdout {:?}",
                            out.stderr, out.stdout
                        ));
                    }
                }
                r.1.push(took);
            });
        }
    });
    let (tally, mut times) = runs.into_inner().expect("runs");
    tally.report_and_check("dccproc", "", "a run", &mut times, &relay);
}

/// One dccifd request; whether the answer has the server's counts.
fn ask(sock: &Path, n: usize) -> bool {
    let mut s = UnixStream::connect(sock).expect("connect to dccifd");
    s.set_read_timeout(Some(budget() + MARGIN * 4))
        .expect("timeout");
    let req = format!(
        "header\n192.0.2.{}\rmx{n}.example.com\nmx{n}.example.com\n<alice@example.com>\n\
         <bob@example.net>\n\n{}",
        n % 250 + 1,
        message(n)
    );
    s.write_all(req.as_bytes()).expect("send request");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut a = String::new();
    s.read_to_string(&mut a).expect("read answer");
    assert!(a.starts_with("A\nA\n"), "message {n}: {a:?}");
    has_counts(&a)
}

/// dccifd with 8 clients at once over `N` distinct messages: every
/// message is answered within the budget, and every one without counts is
/// explained in dccifd's log.
#[test]
fn dccifd_through_loss() {
    let dir = require!(TempDir::new("lossy-if").map_err(|e| tally_e2e::Skip(e.to_string())));
    let srv = require!(DccServer::start(&dir.path().join("dccd")));
    let relay = LossyRelay::start(srv.addr, LOSS, 0x5eed_0002).expect("relay");
    let home = dir.subdir("client").expect("client home");
    client_home(&home, &relay).expect("map");
    let d = require!(Client::dccifd(&home, &[]));
    let sock = d.sock.clone().expect("socket");

    let next = AtomicUsize::new(0);
    let answered = AtomicUsize::new(0);
    let times = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= N {
                    break;
                }
                let t0 = Instant::now();
                if ask(&sock, n) {
                    answered.fetch_add(1, Ordering::SeqCst);
                }
                times.lock().expect("times").push(t0.elapsed());
            });
        }
    });
    let mut times = times.into_inner().expect("times");
    // a complaint may reach the log just after its answer: wait for the
    // last ones (bounded)
    let mut tally = Tally::default();
    for _ in 0..50 {
        tally = Tally {
            answered: answered.load(Ordering::SeqCst),
            ..Tally::default()
        };
        tally.complaints(&d.log_text());
        if tally.total() >= N {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if tally.total() != N {
        eprintln!("dccifd's log:\n{}", d.log_text());
    }
    tally.report_and_check("dccifd", ", 8 clients", "a message", &mut times, &relay);
}
