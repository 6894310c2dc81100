//! A small DCC server on 127.0.0.1 for dccm's scenario tests, built on
//! the wire crate. Like a dccd with its default `-K` settings it keeps
//! counts only for the Body, Fuz1 and Fuz2 checksums (others are answered
//! with 0); a report flagged as spam makes the counts "many"; queries do
//! not count; a retransmitted request is answered again without counting
//! twice. Requests are authenticated against an ids file and answers are
//! signed.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tally_wire::ids::Ids;
use tally_wire::packet::{Answer, CountPair, OkBody, Response};
use tally_wire::sign::{authenticate, Auth};
use tally_wire::{CkType, Op, Packet, Request, Sum, Tgts};

/// Client-ID and password the tests use.
pub const CLIENT_ID: u32 = 32800;
/// Its password.
pub const PASSWD: &str = "online-secret";

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub op: Op,
    pub sender: u32,
    pub authenticated: bool,
}

/// A running fake server; stopped when dropped.
pub struct FakeDccd {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    counts: Arc<Mutex<HashMap<(u8, Sum), u32>>>,
    stop: Arc<AtomicBool>,
    frozen: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for FakeDccd {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn kept(t: CkType) -> bool {
    matches!(t, CkType::Body | CkType::Fuz1 | CkType::Fuz2)
}

impl FakeDccd {
    /// Start a server with this server-ID and brand on a random port.
    pub fn start(id: u32, brand: &'static str) -> FakeDccd {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let addr = sock.local_addr().expect("addr");
        let ids = Ids::parse(format!("{CLIENT_ID} {PASSWD}\n").as_bytes()).expect("ids");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let counts = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let frozen = Arc::new(AtomicBool::new(false));
        let frozen2 = frozen.clone();
        let (seen2, counts2, stop2) = (seen.clone(), counts.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 2048];
            // answers by request (h, p, r) for retransmissions
            let mut done: HashMap<[u8; 12], Response> = HashMap::new();
            while !stop2.load(Ordering::Relaxed) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                if frozen2.load(Ordering::Relaxed) {
                    // like a dccd stopped with SIGSTOP: requests go unanswered
                    continue;
                }
                let d = &buf[..n];
                let Ok(req) = Packet::<Request>::decode(d) else {
                    continue;
                };
                let auth = authenticate(&ids, req.sender, d);
                seen2.lock().unwrap().push(Seen {
                    op: req.body.op(),
                    sender: req.sender,
                    authenticated: matches!(auth, Auth::Verified { .. }),
                });
                let mut key = [0u8; 12];
                key[..4].copy_from_slice(&req.op_nums.h);
                key[4..8].copy_from_slice(&req.op_nums.p);
                key[8..].copy_from_slice(&req.op_nums.r);
                let body = match &req.body {
                    Request::Nop => Response::Ok(OkBody::new(req.pkt_vers.min(12), 0, brand)),
                    Request::Query(r) | Request::Report(r) => {
                        if let Some(old) = done.get(&key) {
                            old.clone()
                        } else {
                            let report = matches!(req.body, Request::Report(_));
                            let mut counts = counts2.lock().unwrap();
                            let pairs = r
                                .cks
                                .iter()
                                .map(|ck| {
                                    if !kept(ck.ty) {
                                        return CountPair {
                                            c: Tgts(0),
                                            p: Tgts(0),
                                        };
                                    }
                                    let c = counts.entry((ck.ty.number(), ck.sum)).or_insert(0);
                                    let p = *c;
                                    if report {
                                        *c = if r.tgts.is_spam() {
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
                                .collect();
                            let resp = Response::Answer(Answer::Pairs(pairs));
                            done.insert(key, resp.clone());
                            resp
                        }
                    }
                    _ => Response::Error(b"not supported".to_vec()),
                };
                let mut resp = Packet::response_to(&req, id, body);
                let bytes = resp.sign(&auth.answer_signer(req.pkt_vers, &req.op_nums));
                let _ = sock.send_to(&bytes, from);
            }
        });
        FakeDccd {
            addr,
            seen,
            counts,
            stop,
            frozen,
            thread: Some(thread),
        }
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests of one kind.
    pub fn ops(&self, op: Op) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.op == op).collect()
    }

    /// Stop (or resume) answering.
    pub fn freeze(&self, on: bool) {
        self.frozen.store(on, Ordering::Relaxed);
    }

    /// Set the count of a checksum, as reports made earlier would have.
    pub fn preload(&self, ty: CkType, sum: Sum, n: u32) {
        self.counts.lock().unwrap().insert((ty.number(), sum), n);
    }

    /// The count kept for a checksum.
    pub fn count(&self, ty: CkType, sum: Sum) -> u32 {
        self.counts
            .lock()
            .unwrap()
            .get(&(ty.number(), sum))
            .copied()
            .unwrap_or(0)
    }
}

/// A port on which nothing listens.
pub fn closed_port() -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr")
}

/// The map file text for one server with the tests' client-ID.
pub fn map_text(addr: SocketAddr) -> String {
    format!("{},{} {CLIENT_ID} {PASSWD}\n", addr.ip(), addr.port())
}
