//! Mail under load for the fault tests: threads that play MTAs, each
//! sending one message after another to dccm (milter protocol, one
//! connection kept open per thread) or to dccifd (one connection per
//! message), every message with a body of its own, until told to stop or
//! a bounded number of messages has gone. Each message attempted gets
//! exactly one [`Sent`] record saying how it ended.

use crate::dccd::SERVER_ID;
use crate::dccifd_client::{self, IfAnswer};
use crate::milter::{Answer, Mta};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest a daemon may leave a read or write of ours waiting before
/// the connection counts as hung.
pub const HANG: Duration = Duration::from_secs(40);

/// Which daemon a message went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// dccm, through the milter protocol.
    Milter,
    /// dccifd, through its ASCII protocol.
    Ifd,
}

/// How a message ended, as the MTA sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted with an X-DCC header with counts from our DCC server: it
    /// answered.
    Counted(String),
    /// Accepted without the server's counts (no server answer).
    Accepted,
    /// A 4yz temporary failure.
    TempFail,
    /// Anything else (rejected, discarded, greylisted): wrong for this mail.
    Wrong(String),
    /// The daemon closed the connection before answering: the MTA applies
    /// its default.
    Closed(String),
    /// A read or write waited longer than [`HANG`].
    Hung(String),
}

/// One message attempted.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Where it went.
    pub front: Front,
    /// The whole message.
    pub raw: Vec<u8>,
    /// How it ended.
    pub outcome: Outcome,
    /// When its answer (or failure) came.
    pub at: Instant,
}

/// What the load threads share.
struct Shared {
    stop: AtomicBool,
    started: AtomicUsize,
    done: AtomicUsize,
    counted: AtomicUsize,
}

/// Running MTA threads.
pub struct Load {
    sh: Arc<Shared>,
    threads: Vec<JoinHandle<Vec<Sent>>>,
}

/// How the threads send.
#[derive(Debug, Clone)]
pub struct Plan {
    /// dccm's socket and the number of milter connections.
    pub milter: Option<(PathBuf, usize)>,
    /// dccifd's socket and the number of clients.
    pub ifd: Option<(PathBuf, usize)>,
    /// Pause after each message of a thread (keeps the total rate under
    /// dccd's rate limit for one client address).
    pub pause: Duration,
    /// Most messages per thread.
    pub max_each: usize,
}

fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A connection that could not be made: no message was handed over.
fn refused(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
    )
}

/// The header names our server as the one that answered (a client that
/// reaches no server adds a header with server-ID 0 and its own counts).
fn has_counts(h: &str) -> bool {
    h.contains(&format!(" {SERVER_ID};")) && h.contains("Body=")
}

fn milter_outcome(a: &Answer) -> Outcome {
    if a.accepted() {
        match &a.x_dcc {
            Some(h) if has_counts(h) => Outcome::Counted(h.clone()),
            _ => Outcome::Accepted,
        }
    } else if a.tempfail() {
        Outcome::TempFail
    } else {
        Outcome::Wrong(format!("milter answer {:?} {}", a.last as char, a.reply))
    }
}

fn ifd_outcome(a: &IfAnswer) -> Outcome {
    match a.overall {
        'A' | 'S' => match &a.x_dcc {
            Some(h) if has_counts(h) => Outcome::Counted(h.clone()),
            _ => Outcome::Accepted,
        },
        'T' => Outcome::TempFail,
        c => Outcome::Wrong(format!("dccifd answer {c} {}", a.per_rcpt)),
    }
}

fn error_outcome(e: &io::Error) -> Outcome {
    if timed_out(e) {
        Outcome::Hung(e.to_string())
    } else {
        Outcome::Closed(e.to_string())
    }
}

impl Load {
    /// Start the threads.
    pub fn start(plan: &Plan) -> Load {
        let sh = Arc::new(Shared {
            stop: AtomicBool::new(false),
            started: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            counted: AtomicUsize::new(0),
        });
        let mut threads = Vec::new();
        let fronts = [(Front::Milter, &plan.milter), (Front::Ifd, &plan.ifd)];
        for (front, what) in fronts {
            let Some((sock, n)) = what else { continue };
            for t in 0..*n {
                let (sh, sock, plan) = (sh.clone(), sock.clone(), plan.clone());
                let h = std::thread::Builder::new()
                    .name(format!("mta {front:?} {t}"))
                    .spawn(move || run(&sh, front, t, &sock, &plan))
                    .unwrap_or_else(|e| panic!("cannot start a load thread: {e}"));
                threads.push(h);
            }
        }
        Load { sh, threads }
    }

    /// Messages attempted so far.
    pub fn started(&self) -> usize {
        self.sh.started.load(Ordering::SeqCst)
    }

    /// Messages ended so far (answered or failed).
    pub fn done(&self) -> usize {
        self.sh.done.load(Ordering::SeqCst)
    }

    /// Messages that got counts so far.
    pub fn counted(&self) -> usize {
        self.sh.counted.load(Ordering::SeqCst)
    }

    /// Wait (at most `limit`) until `cond(self)` holds.
    pub fn wait(&self, limit: Duration, cond: impl Fn(&Load) -> bool) -> bool {
        crate::proc::wait_until(limit, || cond(self))
    }

    /// Tell the threads to stop after their current message and collect
    /// what they did (each thread ends within [`HANG`] per step): the
    /// number of messages attempted and their records.
    pub fn finish(mut self) -> (usize, Vec<Sent>) {
        self.sh.stop.store(true, Ordering::SeqCst);
        let mut all = Vec::new();
        for h in std::mem::take(&mut self.threads) {
            match h.join() {
                Ok(v) => all.extend(v),
                Err(_) => panic!("a load thread panicked"),
            }
        }
        (self.started(), all)
    }
}

impl Drop for Load {
    /// A test that fails midway stops its threads too.
    fn drop(&mut self) {
        self.sh.stop.store(true, Ordering::SeqCst);
    }
}

/// One MTA thread.
fn run(sh: &Shared, front: Front, t: usize, sock: &Path, plan: &Plan) -> Vec<Sent> {
    let mut out = Vec::new();
    let mut conn: Option<Mta> = None;
    let tag = format!("{}", std::process::id());
    for i in 0..plan.max_each {
        if sh.stop.load(Ordering::SeqCst) {
            break;
        }
        if front == Front::Milter && conn.is_none() {
            match Mta::connect(sock, HANG) {
                Ok(c) => conn = Some(c),
                Err(e) if timed_out(&e) => {
                    // the negotiation hung: no message handed over yet,
                    // but a hang all the same
                    sh.started.fetch_add(1, Ordering::SeqCst);
                    out.push(Sent {
                        front,
                        raw: Vec::new(),
                        outcome: Outcome::Hung(format!("milter negotiation: {e}")),
                        at: Instant::now(),
                    });
                    sh.done.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                Err(_) => {
                    // not listening (stopped, restarting): the MTA's
                    // default applies before any message is handed over
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            }
        }
        let seed = format!("{front:?}{t}x{i}x{tag}");
        let raw = crate::msg::message(
            "sender@example.com",
            "rcpt@example.net",
            &format!("load {seed}"),
            &seed,
        );
        sh.started.fetch_add(1, Ordering::SeqCst);
        let outcome = match front {
            Front::Milter => {
                let c = conn.as_mut().expect("connected above");
                match c.message(
                    &format!("Q{t}x{i}"),
                    "sender@example.com",
                    "rcpt@example.net",
                    &raw,
                ) {
                    Ok(a) => milter_outcome(&a),
                    Err(e) => {
                        conn = None;
                        error_outcome(&e)
                    }
                }
            }
            Front::Ifd => {
                let head = dccifd_client::request_head("sender@example.com", "rcpt@example.net");
                match dccifd_client::ask(sock, &head, &raw, HANG) {
                    Ok(a) => ifd_outcome(&a),
                    Err(e) if refused(&e) => {
                        // nothing handed over: not a message
                        sh.started.fetch_sub(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                    Err(e) => error_outcome(&e),
                }
            }
        };
        if matches!(outcome, Outcome::Counted(_)) {
            sh.counted.fetch_add(1, Ordering::SeqCst);
        }
        let hung = matches!(outcome, Outcome::Hung(_));
        out.push(Sent {
            front,
            raw,
            outcome,
            at: Instant::now(),
        });
        sh.done.fetch_add(1, Ordering::SeqCst);
        if hung {
            break;
        }
        std::thread::sleep(plan.pause);
    }
    if let Some(c) = conn {
        c.quit();
    }
    out
}

/// Counts of outcomes, for assertions and the printed figures.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Records.
    pub total: usize,
    /// [`Outcome::Counted`].
    pub counted: usize,
    /// [`Outcome::Accepted`].
    pub accepted: usize,
    /// [`Outcome::TempFail`].
    pub tempfail: usize,
    /// [`Outcome::Wrong`].
    pub wrong: usize,
    /// [`Outcome::Closed`].
    pub closed: usize,
    /// [`Outcome::Hung`].
    pub hung: usize,
}

/// Count the outcomes of the messages sent to `front`.
pub fn tally(sent: &[Sent], front: Front) -> Tally {
    let mut t = Tally::default();
    for s in sent.iter().filter(|s| s.front == front) {
        t.total += 1;
        match s.outcome {
            Outcome::Counted(_) => t.counted += 1,
            Outcome::Accepted => t.accepted += 1,
            Outcome::TempFail => t.tempfail += 1,
            Outcome::Wrong(_) => t.wrong += 1,
            Outcome::Closed(_) => t.closed += 1,
            Outcome::Hung(_) => t.hung += 1,
        }
    }
    t
}

/// The first hung or wrongly answered message, described, for a failure
/// message.
pub fn first_bad(sent: &[Sent]) -> Option<String> {
    sent.iter().find_map(|s| match &s.outcome {
        Outcome::Hung(e) => Some(format!("{:?}: a connection hung: {e}", s.front)),
        Outcome::Wrong(e) => Some(format!("{:?}: answered wrongly: {e}", s.front)),
        _ => None,
    })
}
