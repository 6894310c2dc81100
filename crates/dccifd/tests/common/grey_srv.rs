//! A greylist server on the loopback interface for the greylisting tests,
//! on the greylist logic of `tally-grey`, with a clock the test moves on
//! instead of waiting out embargoes.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tally_grey::{Ck, Grey, GreyOp, Params};
use tally_testkit::{CLIENT_ID, PASSWD};
use tally_wire::ids::Ids;
use tally_wire::packet::{OkBody, Response};
use tally_wire::sign::authenticate;
use tally_wire::{Packet, Request, Tgts};

/// A running greylist server; stopped when dropped.
pub struct GreySrv {
    /// Where it listens.
    pub addr: SocketAddr,
    now: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl GreySrv {
    /// Start with `-G` parameters `params` (e.g. `on,5`).
    pub fn start(params: &str) -> GreySrv {
        let p = Params::default().parse_arg(params).expect("params");
        let grey = Mutex::new(Grey::new(p));
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let addr = sock.local_addr().expect("addr");
        let now = Arc::new(AtomicU64::new(1_700_000_000));
        let stop = Arc::new(AtomicBool::new(false));
        let (n2, s2) = (now.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let ids = Ids::parse(format!("{CLIENT_ID} {PASSWD}\n").as_bytes()).expect("ids");
            let mut buf = [0u8; 2048];
            while !s2.load(Ordering::Relaxed) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let d = &buf[..n];
                let Ok(req) = Packet::<Request>::decode(d) else {
                    continue;
                };
                let auth = authenticate(&ids, req.sender, d);
                let t = n2.load(Ordering::Relaxed);
                let mut g = grey.lock().unwrap();
                let (op, r) = match &req.body {
                    Request::GreyReport(r) => (GreyOp::Report, r),
                    Request::GreyQuery(r) => (GreyOp::Query, r),
                    Request::GreyWhite(r) => (GreyOp::White, r),
                    Request::GreySpam(s) => {
                        let ck = |w: &tally_wire::WireCk| Ck::new(w.ty, w.sum);
                        for c in g.spam(&ck(&s.ip), &ck(&s.msg), &ck(&s.triple), t) {
                            g.apply(&c);
                        }
                        let body = Response::Ok(OkBody::new(12, 0, "grey"));
                        let mut resp = Packet::response_to(&req, 1202, body);
                        let b = resp.sign(&auth.answer_signer(req.pkt_vers, &req.op_nums));
                        let _ = sock.send_to(&b, from);
                        continue;
                    }
                    _ => {
                        let body = Response::Ok(OkBody::new(12, 0, "grey"));
                        let mut resp = Packet::response_to(&req, 1202, body);
                        let b = resp.sign(&auth.answer_signer(req.pkt_vers, &req.op_nums));
                        let _ = sock.send_to(&b, from);
                        continue;
                    }
                };
                let cks: Vec<Ck> = r.cks.iter().map(|w| Ck::new(w.ty, w.sum)).collect();
                let body = match g.work(&tally_grey::Request::new(op, &cks), t) {
                    Ok(a) => Response::GreyAnswer {
                        msg: Tgts(a.msg),
                        triple: Tgts(a.triple),
                    },
                    Err(e) => Response::Error(e.0.into_bytes()),
                };
                let mut resp = Packet::response_to(&req, 1202, body);
                let b = resp.sign(&auth.answer_signer(req.pkt_vers, &req.op_nums));
                let _ = sock.send_to(&b, from);
            }
        });
        GreySrv {
            addr,
            now,
            stop,
            thread: Some(thread),
        }
    }

    /// Move the server's clock on.
    pub fn advance(&self, secs: u64) {
        self.now.fetch_add(secs, Ordering::Relaxed);
    }
}

impl Drop for GreySrv {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The map file line naming a greylist server at `addr`.
pub fn grey_map_line(addr: SocketAddr) -> String {
    format!(
        "{},{} Greylist {CLIENT_ID} {PASSWD}\n",
        addr.ip(),
        addr.port()
    )
}
