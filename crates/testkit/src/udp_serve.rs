//! The UDP loop of the fake servers ([`FakeDccd`](crate::FakeDccd),
//! [`FakeGrey`](crate::FakeGrey) and the greylist server of
//! `dccm-bench -G pass`): a thread on a free loopback port that decodes
//! each request, authenticates it against an ids file, asks the server's
//! own logic for the answer and sends it signed as the client's password
//! says.
//!
//! Like `fake_dccd.rs`, which declares it, this file uses nothing but std
//! and the wire crate, so that the load generators can include it.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tally_wire::ids::Ids;
use tally_wire::packet::Response;
use tally_wire::sign::{authenticate, Auth};
use tally_wire::{OpNums, Packet, Request};

/// A running UDP server thread; stopped when dropped.
pub struct Served {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Served {
    /// Serve on a free loopback port as server `id`, with the ids file
    /// text `ids`. `answer` gets each request that decodes and its
    /// authentication, and returns the body of the answer, or `None` to
    /// send none.
    pub fn start<F>(id: u32, ids: &str, mut answer: F) -> std::io::Result<Served>
    where
        F: FnMut(&Packet<Request>, &Auth) -> Option<Response> + Send + 'static,
    {
        let ids = Ids::parse(ids.as_bytes()).map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("ids: {e:?}"))
        })?;
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.set_read_timeout(Some(Duration::from_millis(50)))?;
        let addr = sock.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 2048];
            while !s2.load(Ordering::Relaxed) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let d = buf.get(..n).unwrap_or_default();
                let Ok(req) = Packet::<Request>::decode(d) else {
                    continue;
                };
                let auth = authenticate(&ids, req.sender, d);
                let Some(body) = answer(&req, &auth) else {
                    continue;
                };
                let mut resp = Packet::response_to(&req, id, body);
                let bytes = resp.sign(&auth.answer_signer(req.pkt_vers, &req.op_nums));
                let _ = sock.send_to(&bytes, from);
            }
        });
        Ok(Served {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What names a request among its retransmissions: its operation numbers
/// `h`, `p` and `r`.
pub fn op_key(ops: &OpNums) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..4].copy_from_slice(&ops.h);
    key[4..8].copy_from_slice(&ops.p);
    key[8..].copy_from_slice(&ops.r);
    key
}
