//! The receive loop of a UDP socket: datagrams read in batches with one
//! `recvmmsg` call (as many as are waiting, up to [`BATCH`]; the call
//! blocks only while none is), the requests of signed clients of a batch
//! answered before those of anonymous ones, and the server's state locked
//! once per pass over a batch instead of once per datagram. The records
//! of the reports of a pass are written to the log with one write at the
//! end of the pass, before any of its answers leaves (a failed write drops
//! the pass's answers; the clients retransmit), and the answers go out
//! with `sendmmsg`, one system call for the pass instead of a `sendto`
//! each. The signatures of the signed requests of a pass are checked two
//! at a time (`verify_batch`, `tally_ck::md5_pair`).
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
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::libc;
use nix::sys::socket::{
    recvmmsg, setsockopt, sockopt, MsgFlags, MultiHeaders, SockaddrLike, SockaddrStorage,
};
use tokio::sync::Notify;

use crate::server::{verify_batch, Action, Server};
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
    let mut got: Vec<(usize, SocketAddr, SockaddrStorage)> = Vec::with_capacity(BATCH);
    // answers to send at once, and those to send after a delay
    let mut now_out: Vec<(Vec<u8>, SockaddrStorage)> = Vec::with_capacity(BATCH);
    let mut later: Vec<(Vec<u8>, Duration, SocketAddr)> = Vec::new();
    let mut sender = Sender::new(BATCH);
    let mut checked = Vec::with_capacity(BATCH);
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
                        if let Some(a) = m.address {
                            if let Some(from) = std_addr(&a) {
                                got.push((m.bytes, from, a));
                            }
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
        // Signed clients first, each pass under one lock. The records of
        // the reports of a pass are written with one write at its end
        // (before any of its answers leaves), and its answers sent with
        // as few sendmmsg calls as the kernel takes.
        for anon_pass in [false, true] {
            let stopping = match state.lock() {
                Ok(mut s) => {
                    // The greylist server's state is not undone with the
                    // store's, so its records are written one by one.
                    let batch = s.grey.is_none();
                    if batch {
                        s.counter.store.begin_batch();
                        s.ridc.mark();
                    }
                    // The signatures of the signed requests, two at a time.
                    let pass: Vec<Option<&[u8]>> = got
                        .iter()
                        .enumerate()
                        .map(|(i, &(n, _, _))| {
                            bufs.get(i)
                                .and_then(|b| b.get(..n))
                                .filter(|d| anonymous(d) == anon_pass)
                        })
                        .collect();
                    if !anon_pass {
                        verify_batch(&s.ids, &pass, &mut checked);
                    } else {
                        checked.clear();
                    }
                    for (i, &(_, from, raw)) in got.iter().enumerate() {
                        let Some(d) = pass.get(i).copied().flatten() else {
                            continue;
                        };
                        let pre = checked.get_mut(i).and_then(Option::take);
                        if let Action::Send(bytes, delay) = s.handle_checked(d, from, now, pre) {
                            if delay.is_zero() {
                                now_out.push((bytes, raw));
                            } else {
                                later.push((bytes, delay, from));
                            }
                        }
                    }
                    if batch {
                        if let Err(e) = s.counter.store.end_batch() {
                            // Not written: these answers must not leave
                            // (the clients will retransmit).
                            log(&format!("database: {e}"));
                            s.ridc.forget_since_mark();
                            now_out.clear();
                            later.clear();
                        }
                    }
                    s.stop
                }
                Err(_) => return,
            };
            sender.send(fd, &now_out);
            now_out.clear();
            for (bytes, delay, to) in later.drain(..) {
                send_later(&sock, &rt, bytes, delay, to);
            }
            if stopping {
                stop.notify_one();
            }
        }
    }
}

/// Send an answer after `delay` from the runtime's timers.
fn send_later(
    sock: &Arc<UdpSocket>,
    rt: &tokio::runtime::Handle,
    bytes: Vec<u8>,
    delay: Duration,
    to: SocketAddr,
) {
    // A UDP send does not wait for the peer: calling the blocking
    // socket from the timer task is fine.
    let sock = sock.clone();
    rt.spawn(async move {
        tokio::time::sleep(delay).await;
        let _ = sock.send_to(&bytes, to);
    });
}

/// Sends datagrams in batches with `sendmmsg(2)`: one system call for the
/// answers of a batch of requests instead of one `sendto` each.
struct Sender {
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

impl Sender {
    fn new(n: usize) -> Sender {
        Sender {
            iovs: Vec::with_capacity(n),
            hdrs: Vec::with_capacity(n),
        }
    }

    /// Send each (bytes, destination) once; a datagram the kernel refuses
    /// is dropped, as a failed `sendto` was, and the rest still go.
    fn send(&mut self, fd: RawFd, msgs: &[(Vec<u8>, SockaddrStorage)]) {
        self.iovs.clear();
        self.hdrs.clear();
        for (bytes, _) in msgs {
            self.iovs.push(libc::iovec {
                iov_base: bytes.as_ptr() as *mut libc::c_void,
                iov_len: bytes.len(),
            });
        }
        for ((_, to), iov) in msgs.iter().zip(self.iovs.iter_mut()) {
            // SAFETY: msghdr and mmsghdr are plain C structures of
            // integers and pointers, for which all zero bytes are a valid
            // value (null pointers, no control data).
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = to.as_ptr() as *mut libc::c_void;
            h.msg_hdr.msg_namelen = to.len();
            h.msg_hdr.msg_iov = iov as *mut libc::iovec;
            h.msg_hdr.msg_iovlen = 1;
            self.hdrs.push(h);
        }
        let mut from = 0;
        // Each round sends at least one datagram or drops one: bounded.
        for _ in 0..=self.hdrs.len() {
            let Some(rest) = self.hdrs.get_mut(from..).filter(|r| !r.is_empty()) else {
                break;
            };
            let n = u32::try_from(rest.len()).unwrap_or(u32::MAX);
            // SAFETY: `rest` holds `n` initialised headers; each points to
            // an iovec of `self.iovs` and an address of `msgs`, and each
            // iovec to the bytes of a datagram of `msgs`, all of which
            // are borrowed for this whole function and not moved while
            // the call runs. The kernel only reads them, and writes each
            // header's `msg_len` field, which is ours to overwrite.
            let sent = unsafe { libc::sendmmsg(fd, rest.as_mut_ptr(), n, 0) };
            match usize::try_from(sent) {
                Ok(k) if k > 0 => from += k,
                // an error concerns the first datagram: drop it
                _ => from += 1,
            }
        }
    }
}
