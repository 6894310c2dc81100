//! A greylist server for `dccm-bench -G pass`: it answers every greylist
//! request at once with "no embargo" (the triple is familiar), signed for
//! the bench's client-ID, so that every message is delivered and the
//! figures show what greylisting costs dccm: one more request and its
//! round trip per recipient.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tally_wire::ids::Ids;
use tally_wire::packet::{OkBody, Response};
use tally_wire::sign::authenticate;
use tally_wire::{Packet, Request, Tgts};

/// The bench's client-ID and password (as in `local_dccd.rs`).
const CLIENT_ID: u32 = 32800;
const CLIENT_PW: &str = "benchclientpw";
const SERVER_ID: u32 = 1102;
/// The triple value of "no embargo".
const PASS: u32 = 0x00ff_fff0;

/// The running server; stopped when dropped.
pub struct GreyPass {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GreyPass {
    /// Start on a free loopback port.
    pub fn start() -> std::io::Result<GreyPass> {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.set_read_timeout(Some(Duration::from_millis(50)))?;
        let addr = sock.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let thread = std::thread::spawn(move || serve(&sock, &s2));
        Ok(GreyPass {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The line of a map file naming this greylist server.
    pub fn map_line(&self) -> String {
        format!(
            "{},{} Greylist {CLIENT_ID} {CLIENT_PW}\n",
            self.addr.ip(),
            self.addr.port()
        )
    }
}

impl Drop for GreyPass {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(sock: &UdpSocket, stop: &AtomicBool) {
    let Ok(ids) = Ids::parse(format!("{CLIENT_ID} {CLIENT_PW}\n").as_bytes()) else {
        return;
    };
    let mut buf = vec![0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let d = buf.get(..n).unwrap_or_default();
        let Ok(req) = Packet::<Request>::decode(d) else {
            continue;
        };
        let auth = authenticate(&ids, req.sender, d);
        let body = match req.body {
            Request::Nop | Request::GreySpam(_) => {
                Response::Ok(OkBody::new(req.pkt_vers.min(12), 0, "benchgrey"))
            }
            Request::GreyReport(_) | Request::GreyQuery(_) | Request::GreyWhite(_) => {
                Response::GreyAnswer {
                    msg: Tgts(1),
                    triple: Tgts(PASS),
                }
            }
            _ => continue,
        };
        let mut resp = Packet::response_to(&req, SERVER_ID, body);
        let bytes = resp.sign(&auth.answer_signer(req.pkt_vers, &req.op_nums));
        let _ = sock.send_to(&bytes, from);
    }
}
