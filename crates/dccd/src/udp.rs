//! The receive loop of a UDP socket: datagrams read in batches with one
//! `recvmmsg` call (as many as are waiting, up to [`BATCH`]; the call
//! blocks only while none is), the requests of signed clients of a batch
//! answered before those of anonymous ones, and the server's state locked
//! once per pass over a batch instead of once per datagram.
//!
//! Why: under a flood of anonymous requests (dccd-bench `anon`) the
//! server spent most of its time waking up for one or two datagrams at a
//! time and its socket's receive queue overflowed, so that the kernel
//! dropped the requests of signed clients with those of the flood. A
//! larger receive queue ([`RCVBUF`]) absorbs the bursts of a sender that
//! gets the CPU in time slices, and reading in batches makes each of
//! them cheaper to empty; anonymous requests over their rate limits are
//! refused before they are decoded (see `Server::handle`). The figures
//! before and after are in dccd-bench's `anon_flood.rs`: with the server
//! on its own CPU, a flood of 650k requests/s lost none of a signed
//! client's requests (6-9 lost in 350-1,200 exchanges before) and its
//! p99 was 1-2 ms.

use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::socket::{recvmmsg, setsockopt, sockopt, MsgFlags, MultiHeaders, SockaddrStorage};
use tokio::sync::Notify;

use crate::server::{Action, Server};
use crate::trace::log;

/// The most datagrams read by one call.
pub const BATCH: usize = 64;
/// Room for one datagram (requests are at most 1,400 bytes or so).
const DGRAM: usize = 2048;
/// The receive queue asked for, in bytes (the kernel doubles it and caps
/// it at `net.core.rmem_max`): some thousands of requests.
pub const RCVBUF: usize = 4 << 20;

/// Ask for a larger receive queue; a refusal is logged, not fatal.
pub fn grow_rcvbuf(sock: &UdpSocket) {
    if let Err(e) = setsockopt(sock, sockopt::RcvBuf, &RCVBUF) {
        log(&format!("SO_RCVBUF: {e}"));
    }
}

/// The sender's address as std names it (IPv4 on an IPv4 socket, IPv6,
/// possibly mapped IPv4, on an IPv6 one).
fn std_addr(a: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::from(*v4));
    }
    a.as_sockaddr_in6().map(|v6| SocketAddr::from(*v6))
}

/// Whether a datagram comes from an anonymous client (client-ID 1 in
/// bytes 4..8 of the header).
fn anonymous(d: &[u8]) -> bool {
    d.get(4..8) == Some(&tally_wire::header::ID_ANON.to_be_bytes()[..])
}

/// Receive and answer on one socket until the server stops.
pub fn recv_loop(
    sock: Arc<UdpSocket>,
    rt: tokio::runtime::Handle,
    state: Arc<Mutex<Server>>,
    stop: Arc<Notify>,
) {
    let mut bufs = vec![[0u8; DGRAM]; BATCH];
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
    // (length, sender) of each datagram of the batch
    let mut got: Vec<(usize, SocketAddr)> = Vec::with_capacity(BATCH);
    let mut out: Vec<(Vec<u8>, Duration, SocketAddr)> = Vec::new();
    let fd = sock.as_raw_fd();
    loop {
        got.clear();
        {
            let mut iovs: Vec<[IoSliceMut; 1]> = bufs
                .iter_mut()
                .map(|b| [IoSliceMut::new(&mut b[..])])
                .collect();
            match recvmmsg(
                fd,
                &mut headers,
                iovs.iter_mut(),
                MsgFlags::MSG_WAITFORONE,
                None,
            ) {
                Ok(msgs) => {
                    for m in msgs {
                        if let Some(a) = m.address.as_ref().and_then(std_addr) {
                            got.push((m.bytes, a));
                        }
                    }
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    log(&format!("recvmmsg: {e}"));
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
        }
        let now = Instant::now();
        // signed clients first, each pass under one lock, its answers sent
        // before the next pass
        for anon_pass in [false, true] {
            let stopping = match state.lock() {
                Ok(mut s) => {
                    for (i, &(n, from)) in got.iter().enumerate() {
                        let Some(d) = bufs.get(i).and_then(|b| b.get(..n)) else {
                            continue;
                        };
                        if anonymous(d) != anon_pass {
                            continue;
                        }
                        if let Action::Send(bytes, delay) = s.handle(d, from, now) {
                            out.push((bytes, delay, from));
                        }
                    }
                    s.stop
                }
                Err(_) => return,
            };
            for (bytes, delay, to) in out.drain(..) {
                send(&sock, &rt, bytes, delay, to);
            }
            if stopping {
                stop.notify_one();
            }
        }
    }
}

/// Send an answer now, or after `delay` from the runtime's timers.
fn send(
    sock: &Arc<UdpSocket>,
    rt: &tokio::runtime::Handle,
    bytes: Vec<u8>,
    delay: Duration,
    to: SocketAddr,
) {
    if delay.is_zero() {
        let _ = sock.send_to(&bytes, to);
    } else {
        // A UDP send does not wait for the peer: calling the blocking
        // socket from the timer task is fine.
        let sock = sock.clone();
        rt.spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = sock.send_to(&bytes, to);
        });
    }
}
