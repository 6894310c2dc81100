//! A small DCC server on 127.0.0.1 built on the wire crate, standing in for
//! a dccd in client tests.
//!
//! It counts the way our dccd does with its default `-K` settings:
//!
//! - counts are kept only for the Body, Fuz1 and Fuz2 checksums and for the
//!   reputation total (the GreyMsg slot, which counts every report); other
//!   checksums are answered with a count of 0 and no previous count;
//! - a report whose target count is "many" (flagged as spam) makes the kept
//!   counts "many", except the reputation total, which grows by one;
//! - the reputation checksum (GreyTriple slot) is answered with the count
//!   preloaded for it and is never raised by reports;
//! - queries do not count;
//! - a retransmitted request (same operation numbers) gets the first answer
//!   again without being counted twice.
//!
//! Requests are authenticated against an ids file holding [`CLIENT_ID`] and
//! [`PASSWD`], and answers are signed with the sender's password when it
//! authenticated. Anonymous requests are answered too.
//!
//! This file uses nothing but the wire crate, so that the load generators
//! of dccm and dccifd can include it as a module of their own.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tally_wire::packet::{Answer, CkRequest, CountPair, OkBody, Response};
use tally_wire::sign::Auth;
use tally_wire::{CkType, Op, Packet, Request, Sum, Tgts};

#[path = "udp_serve.rs"]
pub mod udp_serve;
use udp_serve::{op_key, Served};

/// Client-ID the tests use.
pub const CLIENT_ID: u32 = 32800;
/// Its password.
pub const PASSWD: &str = "online-secret";

/// The text of a client map file (as `cdcc load` reads it) with one server
/// at `addr` and the tests' client-ID and password.
pub fn map_text(addr: SocketAddr) -> String {
    format!("{},{} {CLIENT_ID} {PASSWD}\n", addr.ip(), addr.port())
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Operation (Nop, Query, Report...).
    pub op: Op,
    /// Client-ID in the request header.
    pub sender: u32,
    /// Whether the signature matched the sender's password.
    pub authenticated: bool,
    /// The target count of a query or report as sent (with the spam
    /// flags); 0 for other operations.
    pub tgts: u32,
}

/// Counts by (checksum type number, checksum).
type Counts = HashMap<(u8, Sum), u32>;

/// State shared by the server thread and the test.
#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<Seen>>,
    counts: Mutex<Counts>,
    /// Silent: requests are received but not answered.
    frozen: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running fake server; stopped when dropped.
pub struct FakeDccd {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _served: Served,
}

/// Checksum types whose counts are kept (default dccd `-K` settings plus
/// the reputation total).
fn kept(t: CkType) -> bool {
    matches!(
        t,
        CkType::Body | CkType::Fuz1 | CkType::Fuz2 | CkType::GreyMsg
    )
}

/// The answer to a query or report, updating the counts for a report.
fn count(counts: &mut Counts, r: &CkRequest, report: bool) -> Vec<CountPair> {
    r.cks
        .iter()
        .map(|ck| {
            let key = (ck.ty.number(), ck.sum);
            if ck.ty == CkType::GreyTriple {
                let p = counts.get(&key).copied().unwrap_or(0);
                return CountPair {
                    c: Tgts(p),
                    p: Tgts(p),
                };
            }
            if !kept(ck.ty) {
                return CountPair {
                    c: Tgts(0),
                    p: Tgts::INVALID,
                };
            }
            let c = counts.entry(key).or_insert(0);
            let p = *c;
            if report {
                *c = if r.tgts.is_spam() && ck.ty != CkType::GreyMsg {
                    Tgts::MANY.0
                } else {
                    (*c + r.tgts.count()).min(Tgts::MANY.0)
                };
            }
            CountPair {
                c: Tgts(*c),
                p: Tgts(p),
            }
        })
        .collect()
}

/// The answer to one request: record it, and answer unless frozen
/// (retransmissions get their first answer again).
fn answer(
    shared: &Shared,
    done: &mut HashMap<[u8; 12], Response>,
    brand: &str,
    req: &Packet<Request>,
    auth: &Auth,
) -> Option<Response> {
    lock(&shared.seen).push(Seen {
        op: req.body.op(),
        sender: req.sender,
        authenticated: matches!(auth, Auth::Verified { .. }),
        tgts: match &req.body {
            Request::Query(r) | Request::Report(r) => r.tgts.0,
            _ => 0,
        },
    });
    if shared.frozen.load(Ordering::Relaxed) {
        // like a dccd stopped with SIGSTOP: requests go unanswered
        return None;
    }
    let key = op_key(&req.op_nums);
    Some(match &req.body {
        Request::Nop => Response::Ok(OkBody::new(req.pkt_vers.min(12), 0, brand)),
        Request::Query(r) | Request::Report(r) => match done.get(&key) {
            Some(old) => old.clone(),
            None => {
                let report = matches!(req.body, Request::Report(_));
                let pairs = count(&mut lock(&shared.counts), r, report);
                let resp = Response::Answer(Answer::Pairs(pairs));
                done.insert(key, resp.clone());
                resp
            }
        },
        _ => Response::Error(b"not supported".to_vec()),
    })
}

impl FakeDccd {
    /// Start a server with this server-ID and brand on a free loopback port.
    pub fn start(id: u32, brand: &'static str) -> FakeDccd {
        let shared = Arc::new(Shared::default());
        let s2 = shared.clone();
        // answers by the request's operation numbers, for retransmissions
        let mut done = HashMap::new();
        let served = Served::start(id, &format!("{CLIENT_ID} {PASSWD}\n"), move |req, auth| {
            answer(&s2, &mut done, brand, req, auth)
        })
        .expect("serve");
        FakeDccd {
            addr: served.addr,
            shared,
            _served: served,
        }
    }

    /// A server that receives requests but never answers, as a dccd
    /// stopped with SIGSTOP: its port stays bound, so clients wait for
    /// their time-outs instead of being refused at once (the "dead" server
    /// is [`closed_port`](crate::closed_port)).
    pub fn silent() -> FakeDccd {
        let s = FakeDccd::start(1, "silent");
        s.freeze(true);
        s
    }

    /// The requests received so far (answered or not).
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }

    /// The requests of one kind received so far.
    pub fn ops(&self, op: Op) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.op == op).collect()
    }

    /// The count kept for a checksum (0 when none).
    pub fn count(&self, ty: CkType, sum: Sum) -> u32 {
        lock(&self.shared.counts)
            .get(&(ty.number(), sum))
            .copied()
            .unwrap_or(0)
    }

    /// Set the count of a checksum, as reports made earlier would have.
    pub fn preload(&self, ty: CkType, sum: Sum, n: u32) {
        lock(&self.shared.counts).insert((ty.number(), sum), n);
    }

    /// Stop (`true`) or resume (`false`) answering, like a dccd stopped
    /// and continued with signals. Requests are still recorded.
    pub fn freeze(&self, on: bool) {
        self.shared.frozen.store(on, Ordering::Relaxed);
    }
}
