//! A scripted DCC server on 127.0.0.1 for the client tests, built on the
//! wire crate: it authenticates requests against an ids file, signs its
//! answers, counts reports and can be told to be slow, lossy or deaf.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tally_client::map::parse::parse_map;
use tally_client::Map;
use tally_wire::admn::Aop;
use tally_wire::ids::Ids;
use tally_wire::packet::{AdmnAnswer, Answer, CountPair, OkBody, Response};
use tally_wire::sign::{authenticate, Auth};
use tally_wire::{CkType, Op, Packet, Request, Sum, Tgts, WireCk};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// How the fake server behaves.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Its server-ID.
    pub id: u32,
    /// Its brand.
    pub brand: &'static str,
    /// The ids file text.
    pub ids: &'static str,
    /// Answer NOPs.
    pub answer_nops: bool,
    /// Operations never answered.
    pub ignore: &'static [Op],
    /// Drop this many non-NOP requests before answering.
    pub drop_first: usize,
    /// Wait this long before every answer.
    pub delay: Duration,
    /// Highest protocol version.
    pub max_vers: u8,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            id: 1100,
            brand: "fakebrand",
            ids: "32800 secret\n",
            answer_nops: true,
            ignore: &[],
            drop_first: 0,
            delay: Duration::ZERO,
            max_vers: 12,
        }
    }
}

/// One datagram the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub op: Op,
    pub pkt_vers: u8,
    pub sender: u32,
    pub t: u32,
    pub auth: Auth,
    /// Where it came from.
    pub from: SocketAddr,
}

pub struct Fake {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn ops(&self, op: Op) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.op == op).collect()
    }
}

fn answer(req: &Packet<Request>, b: &Behaviour, counts: &mut HashMap<WireCk, u32>) -> Response {
    match &req.body {
        Request::Nop => Response::Ok(OkBody::new(b.max_vers.min(req.pkt_vers), 0, b.brand)),
        Request::Query(r) | Request::Report(r) => {
            let report = matches!(req.body, Request::Report(_));
            let pairs: Vec<CountPair> = r
                .cks
                .iter()
                .map(|ck| {
                    let c = counts.entry(*ck).or_insert(0);
                    let p = *c;
                    if report {
                        *c += r.tgts.count();
                    }
                    CountPair {
                        c: Tgts(*c),
                        p: Tgts(p),
                    }
                })
                .collect();
            if req.pkt_vers <= 5 {
                Response::Answer(Answer::Singles(pairs.iter().map(|p| p.c).collect()))
            } else {
                Response::Answer(Answer::Pairs(pairs))
            }
        }
        Request::Admn(a) if a.aop == Aop::Stats => {
            Response::Admn(AdmnAnswer::Text(b"fake stats".to_vec()))
        }
        Request::Admn(_) => Response::Error(b"not supported".to_vec()),
        Request::Delete(_) | Request::GreySpam(_) => {
            Response::Ok(OkBody::new(req.pkt_vers, 0, b.brand))
        }
        Request::GreyReport(_) | Request::GreyQuery(_) | Request::GreyWhite(_) => {
            Response::GreyAnswer {
                msg: Tgts(1),
                triple: Tgts(0),
            }
        }
    }
}

/// Start a fake server on a random loopback port.
pub async fn start(b: Behaviour) -> Fake {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let ids = Ids::parse(b.ids.as_bytes()).unwrap();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        let mut dropped = 0;
        let mut counts = HashMap::new();
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                continue;
            };
            let d = &buf[..n];
            let Ok(req) = Packet::<Request>::decode(d) else {
                continue;
            };
            let auth = authenticate(&ids, req.sender, d);
            seen2.lock().unwrap().push(Seen {
                op: req.body.op(),
                pkt_vers: req.pkt_vers,
                sender: req.sender,
                t: u32::from_le_bytes(req.op_nums.t),
                auth: auth.clone(),
                from,
            });
            let is_nop = req.body.op() == Op::Nop;
            if (is_nop && !b.answer_nops) || b.ignore.contains(&req.body.op()) {
                continue;
            }
            if !is_nop && dropped < b.drop_first {
                dropped += 1;
                continue;
            }
            let body = answer(&req, &b, &mut counts);
            let mut resp = Packet::response_to(&req, b.id, body);
            let bytes = resp.sign(&auth.answer_signer(req.pkt_vers, &req.op_nums));
            if !b.delay.is_zero() {
                tokio::time::sleep(b.delay).await;
            }
            let _ = sock.send_to(&bytes, from).await;
        }
    });
    Fake { addr, seen, task }
}

/// A map with one line per server `(address, "id password" or "anon")`.
pub fn map_for(servers: &[(SocketAddr, &str)]) -> Map {
    let text: String = servers
        .iter()
        .map(|(a, cred)| format!("{},{} {cred}\n", a.ip(), a.port()))
        .collect();
    parse_map(&text, None).unwrap()
}

/// A port on which nothing listens.
pub fn closed_port() -> SocketAddr {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap()
}

/// Some checksums of a message.
pub fn cks() -> Vec<WireCk> {
    vec![
        WireCk::new(CkType::Body, Sum([1; 16])),
        WireCk::new(CkType::Ip, Sum([2; 16])),
        WireCk::new(CkType::EnvFrom, Sum([3; 16])),
    ]
}
