//! A greylist server on 127.0.0.1 for client tests, built on `tally-grey`
//! (the decisions of our `dccd -G`) and the wire crate: a UDP loop that
//! authenticates with the tests' ids ([`CLIENT_ID`], [`PASSWD`]), answers
//! GREY_REPORT, GREY_QUERY and GREY_WHITE with the 48-byte greylist
//! answer, GREY_SPAM and NOP with an OK, and drops unauthenticated
//! greylist requests as a greylist dccd does.
//!
//! Its clock is settable: it starts at the real time and then stands
//! still; tests [`advance`](FakeGrey::advance) it past the embargo instead
//! of sleeping. Everything received is kept for [`seen`](FakeGrey::seen).
//!
//! ```no_run
//! use tally_testkit::fake_grey::{grey_map_text, FakeGrey};
//! let g = FakeGrey::start(1100, "grey", "on,20");
//! let map_line = grey_map_text(g.addr); // `cdcc load` text of a Greylist entry
//! // ... the client sends a GREY_REPORT: embargo #1 ...
//! g.advance(21);
//! // ... the retry ends the embargo ...
//! assert!(g.seen().iter().all(|s| s.authenticated));
//! # let _ = map_line;
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tally_grey::{Ck, Counters, Grey, GreyOp, Params, Request as GReq};
use tally_wire::packet::{OkBody, Response};
use tally_wire::sign::Auth;
use tally_wire::{CkType, Op, Packet, Request, Sum, Tgts};

use crate::fake_dccd::udp_serve::{op_key, Served};
pub use crate::fake_dccd::{CLIENT_ID, PASSWD};

/// The text of a client map file with one greylist server at `addr` and
/// the tests' client-ID and password.
pub fn grey_map_text(addr: SocketAddr) -> String {
    format!(
        "{},{} Greylist {CLIENT_ID} {PASSWD}\n",
        addr.ip(),
        addr.port()
    )
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct GreySeen {
    /// Operation.
    pub op: Op,
    /// Client-ID in the header.
    pub sender: u32,
    /// Whether the signature matched the sender's password.
    pub authenticated: bool,
    /// The checksums of the request, in order (GREY_SPAM: IP, msg, triple).
    pub cks: Vec<(CkType, Sum)>,
    /// The greylist answer sent (`msg`, `triple`), if any.
    pub answer: Option<(u32, u32)>,
    /// The server's clock when it arrived.
    pub at: u64,
}

struct Shared {
    grey: Mutex<Grey>,
    counters: Mutex<Counters>,
    seen: Mutex<Vec<GreySeen>>,
    now: AtomicU64,
    frozen: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running fake greylist server; stopped when dropped.
pub struct FakeGrey {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _served: Served,
}

fn cks_of(r: &tally_wire::packet::CkRequest) -> Vec<Ck> {
    r.cks.iter().map(|c| Ck::new(c.ty, c.sum)).collect()
}

/// The answer to one request: record it, decide unless frozen
/// (retransmitted reports get their first answer again).
fn answer(
    shared: &Shared,
    done: &mut HashMap<[u8; 12], Response>,
    brand: &str,
    req: &Packet<Request>,
    auth: &Auth,
) -> Option<Response> {
    let authenticated = matches!(auth, Auth::Verified { .. }) && req.sender == CLIENT_ID;
    let now = shared.now.load(Ordering::Relaxed);
    let cks: Vec<(CkType, Sum)> = match &req.body {
        Request::GreyReport(r)
        | Request::GreyQuery(r)
        | Request::GreyWhite(r)
        | Request::Query(r)
        | Request::Report(r) => r.cks.iter().map(|c| (c.ty, c.sum)).collect(),
        Request::GreySpam(g) => vec![
            (g.ip.ty, g.ip.sum),
            (g.msg.ty, g.msg.sum),
            (g.triple.ty, g.triple.sum),
        ],
        _ => Vec::new(),
    };
    let idx = {
        let mut seen = lock(&shared.seen);
        seen.push(GreySeen {
            op: req.body.op(),
            sender: req.sender,
            authenticated,
            cks,
            answer: None,
            at: now,
        });
        seen.len() - 1
    };
    if shared.frozen.load(Ordering::Relaxed) {
        return None;
    }
    let key = op_key(&req.op_nums);
    let ok = || Response::Ok(OkBody::new(req.pkt_vers.min(12), 0, brand));
    let body = match &req.body {
        Request::Nop => ok(),
        _ if !authenticated => return None, // greylist clients cannot be anonymous
        Request::GreyReport(_) | Request::GreyWhite(_) | Request::GreySpam(_)
            if done.contains_key(&key) =>
        {
            done.get(&key).cloned().unwrap_or_else(ok)
        }
        Request::GreyReport(r) | Request::GreyQuery(r) | Request::GreyWhite(r) => {
            let op = match req.body {
                Request::GreyReport(_) => GreyOp::Report,
                Request::GreyQuery(_) => GreyOp::Query,
                _ => GreyOp::White,
            };
            let cks = cks_of(r);
            let mut g = lock(&shared.grey);
            match g.decide(&GReq::new(op, &cks), now) {
                Ok(dec) => {
                    for c in &dec.changes {
                        g.apply(c);
                    }
                    lock(&shared.counters).note(&dec);
                    Response::GreyAnswer {
                        msg: Tgts(dec.answer.msg),
                        triple: Tgts(dec.answer.triple),
                    }
                }
                Err(e) => Response::Error(e.to_string().into_bytes()),
            }
        }
        Request::GreySpam(s) => {
            let mut g = lock(&shared.grey);
            let ch = g.spam(
                &Ck::new(s.ip.ty, s.ip.sum),
                &Ck::new(s.msg.ty, s.msg.sum),
                &Ck::new(s.triple.ty, s.triple.sum),
                now,
            );
            for c in &ch {
                g.apply(c);
            }
            lock(&shared.counters).note_spam(&ch);
            ok()
        }
        // DCC requests to a greylist server are dropped
        _ => return None,
    };
    if let Response::GreyAnswer { msg, triple } = &body {
        if let Some(s) = lock(&shared.seen).get_mut(idx) {
            s.answer = Some((msg.0, triple.0));
        }
    }
    if matches!(
        req.body,
        Request::GreyReport(_) | Request::GreyWhite(_) | Request::GreySpam(_)
    ) {
        done.insert(key, body.clone());
    }
    Some(body)
}

impl FakeGrey {
    /// Start a greylist server with this server-ID, brand and `-G`
    /// argument (e.g. `"on,20"`) on a free loopback port.
    ///
    /// # Panics
    /// On a `-G` argument dccd would refuse.
    pub fn start(id: u32, brand: &'static str, g: &str) -> FakeGrey {
        let params = Params::default().parse_arg(g).expect("-G argument");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1_000_000_000);
        let shared = Arc::new(Shared {
            grey: Mutex::new(Grey::new(params)),
            counters: Mutex::new(Counters::default()),
            seen: Mutex::new(Vec::new()),
            now: AtomicU64::new(now),
            frozen: AtomicBool::new(false),
        });
        let s2 = shared.clone();
        // answers by operation numbers, for retransmissions
        let mut done = HashMap::new();
        let served = Served::start(id, &format!("{CLIENT_ID} {PASSWD}\n"), move |req, auth| {
            answer(&s2, &mut done, brand, req, auth)
        })
        .expect("serve");
        FakeGrey {
            addr: served.addr,
            shared,
            _served: served,
        }
    }

    /// The server's clock (Unix seconds).
    pub fn now(&self) -> u64 {
        self.shared.now.load(Ordering::Relaxed)
    }

    /// Set the clock.
    pub fn set_now(&self, secs: u64) {
        self.shared.now.store(secs, Ordering::Relaxed);
    }

    /// Move the clock forward.
    pub fn advance(&self, secs: u64) {
        self.shared.now.fetch_add(secs, Ordering::Relaxed);
    }

    /// The requests received so far (answered or not).
    pub fn seen(&self) -> Vec<GreySeen> {
        lock(&self.shared.seen).clone()
    }

    /// The requests of one kind received so far.
    pub fn ops(&self, op: Op) -> Vec<GreySeen> {
        self.seen().into_iter().filter(|s| s.op == op).collect()
    }

    /// The operations of the requests received so far, in order, without
    /// the NOPs clients send to find the server.
    pub fn ops_seen(&self) -> Vec<Op> {
        self.seen()
            .iter()
            .map(|s| s.op)
            .filter(|o| *o != Op::Nop)
            .collect()
    }

    /// Answer counters (embargoed, released, passed, whitelisted, forgotten).
    pub fn counters(&self) -> Counters {
        *lock(&self.shared.counters)
    }

    /// The current total of a checksum in the greylist database.
    pub fn total(&self, ty: CkType, sum: Sum) -> u32 {
        lock(&self.shared.grey).total(&Ck::new(ty, sum))
    }

    /// Whitelist checksums for greylisting, as `grey_whitelist` does.
    pub fn whitelist(&self, entries: &[(CkType, Sum)]) {
        let e: Vec<(Ck, u32)> = entries
            .iter()
            .map(|&(t, s)| (Ck::new(t, s), tally_grey::GREY_WHITE))
            .collect();
        lock(&self.shared.grey).set_whitelist(&e);
    }

    /// Stop (`true`) or resume answering; requests are still recorded.
    pub fn freeze(&self, on: bool) {
        self.shared.frozen.store(on, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::Duration;
    use tally_wire::packet::{CkRequest, Expect, GreySpam};
    use tally_wire::sign::{Passwd, Signer};
    use tally_wire::{OpNums, WireCk};

    fn ask(g: &FakeGrey, body: Request, r: u32, signed: bool) -> Option<Response> {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let pw = Passwd::new(PASSWD.as_bytes()).unwrap();
        let mut p = Packet::request(12, CLIENT_ID, OpNums::from_le_words(1, 2, r, 1), body);
        let signer = Signer::for_request(CLIENT_ID, signed.then_some(&pw));
        let bytes = p.sign(&signer);
        let expect = Expect::for_request(&p.body);
        sock.send_to(&bytes, g.addr).unwrap();
        let mut buf = [0u8; 2048];
        let (n, _) = sock.recv_from(&mut buf).ok()?;
        Packet::<Response>::decode(&buf[..n], expect)
            .ok()
            .map(|p| p.body)
    }

    fn msg() -> Vec<WireCk> {
        let s = |b| Sum([b; 16]);
        vec![
            WireCk::new(CkType::Ip, s(1)),
            WireCk::new(CkType::Body, s(2)),
            WireCk::new(CkType::GreyMsg, s(3)),
            WireCk::new(CkType::GreyTriple, s(4)),
        ]
    }

    fn report() -> Request {
        Request::GreyReport(CkRequest {
            tgts: Tgts(0),
            cks: msg(),
        })
    }

    fn answer(r: Option<Response>) -> (u32, u32) {
        match r {
            Some(Response::GreyAnswer { msg, triple }) => (msg.0, triple.0),
            other => panic!("not a greylist answer: {other:?}"),
        }
    }

    #[test]
    fn embargo_clock_and_spam() {
        let g = FakeGrey::start(1100, "fake-grey", "on,20");
        assert_eq!(answer(ask(&g, report(), 1, true)), (0, 0));
        assert_eq!(answer(ask(&g, report(), 2, true)), (1, 1));
        g.advance(21);
        assert_eq!(answer(ask(&g, report(), 3, true)), (1, tally_grey::OK));
        assert_eq!(answer(ask(&g, report(), 4, true)), (0, tally_grey::MANY));
        // a retransmission gets the same answer
        assert_eq!(answer(ask(&g, report(), 4, true)), (0, tally_grey::MANY));
        let c = msg();
        let spam = Request::GreySpam(GreySpam {
            ip: c[0],
            msg: c[2],
            triple: c[3],
            pad: [0; 2],
        });
        assert!(matches!(ask(&g, spam, 5, true), Some(Response::Ok(_))));
        assert_eq!(answer(ask(&g, report(), 6, true)), (0, 0));
        // unsigned greylist requests are dropped but recorded
        assert!(ask(&g, report(), 7, false).is_none());
        let seen = g.seen();
        assert_eq!(seen.len(), 8);
        assert!(!seen[7].authenticated);
        assert_eq!(seen[2].answer, Some((1, tally_grey::OK)));
        assert_eq!(g.counters().released, 1);
        assert_eq!(g.counters().forgotten, 1);
    }
}
