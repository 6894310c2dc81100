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
//! at a time (`verify_batch`, `tally_ck::md5_pair`), and its answers are
//! signed two at a time too (`tally_wire::sign_pair`, those sent after a
//! delay included), once the lock is released.
//!
//! No allocation per request in dccd's own QUERY and REPORT path (the
//! store's `add` still returns a REPORT's counts in a new vector): the server
//! writes the answers of a pass unsigned, back to back, into one buffer
//! that this loop lends it for the pass (`Server::out`, with a [`Reply`]
//! naming each answer's place and signer); they are signed in that
//! buffer and sent from it. That buffer, the list of the pass's answers,
//! the pass's datagrams and the scratch space of the signature checks are
//! kept from pass to pass, and the server keeps its request's checksum
//! vector and its answer's count pairs from request to request. Only an
//! answer sent after a delay (anonymous clients, `delay=` in `ids`) is
//! copied out, for its timer.
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
use std::ops::Range;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::libc;
use nix::sys::socket::{
    recvmmsg, setsockopt, sockopt, MsgFlags, MultiHeaders, SockaddrLike, SockaddrStorage,
};
use tokio::sync::Notify;

use tally_wire::sign::Signer;
use tally_wire::sign_pair::sign_in_pairs;

use crate::server::{Reply, Server};
use crate::trace::log;
use crate::verify::verify_batch;

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

/// An answer of a pass: its place in the pass's buffer, its signer, when
/// and where it goes.
struct Out {
    at: Range<usize>,
    signer: Signer,
    delay: Duration,
    to: SockaddrStorage,
    from: SocketAddr,
}

/// An empty vector of another type of element on the same memory: the
/// vectors of borrowed slices of a batch are kept from batch to batch
/// this way (a vector emptied and collected again in place keeps its
/// allocation when both types have the same size and alignment, and
/// allocates anew otherwise).
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
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
    // Kept from pass to pass: the answers of a pass, unsigned and then
    // signed, back to back, and where each is and goes; the datagrams of
    // a pass and their signature checks.
    let mut arena: Vec<u8> = Vec::with_capacity(BATCH * 256);
    let mut outs: Vec<Out> = Vec::with_capacity(BATCH);
    let mut order = Vec::with_capacity(BATCH);
    let mut pass_mem: Vec<Option<&[u8]>> = Vec::with_capacity(BATCH);
    let mut cands = Vec::with_capacity(BATCH);
    let mut sender = Sender::new(BATCH);
    let mut checked = Vec::with_capacity(BATCH);
    let fd = sock.as_raw_fd();
    loop {
        got.clear();
        {
            // (nix's recvmmsg borrows these for as long as they live: one
            // vector per batch)
            let mut iovs: Vec<[IoSliceMut; 1]> = bufs
                .iter_mut()
                .map(|b| [IoSliceMut::new(&mut b[..])])
                .collect();
            let ok = match recvmmsg(
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
                    true
                }
                Err(nix::errno::Errno::EINTR) => false,
                Err(e) => {
                    log(&format!("recvmmsg: {e}"));
                    std::thread::sleep(Duration::from_millis(10));
                    false
                }
            };
            if !ok {
                continue;
            }
        }
        let now = Instant::now();
        // Signed clients first, each pass under one lock. The records of
        // the reports of a pass are written with one write at its end
        // (before any of its answers leaves), and its answers signed two
        // at a time and sent with as few sendmmsg calls as the kernel
        // takes.
        for anon_pass in [false, true] {
            arena.clear();
            outs.clear();
            let mut pass: Vec<Option<&[u8]>> = recycle(std::mem::take(&mut pass_mem));
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
                    pass.extend(got.iter().enumerate().map(|(i, &(n, _, _))| {
                        bufs.get(i)
                            .and_then(|b| b.get(..n))
                            .filter(|d| anonymous(d) == anon_pass)
                    }));
                    if !anon_pass {
                        verify_batch(&s.ids, &pass, &mut checked, &mut cands);
                    } else {
                        checked.clear();
                    }
                    // The answers are written into our buffer, lent to
                    // the server for the pass.
                    std::mem::swap(&mut s.out, &mut arena);
                    for (i, &(_, from, raw)) in got.iter().enumerate() {
                        let Some(d) = pass.get(i).copied().flatten() else {
                            continue;
                        };
                        let pre = checked.get_mut(i).and_then(Option::take);
                        if let Reply::Send { at, signer, delay } = s.reply(d, from, now, pre) {
                            outs.push(Out {
                                at: at..s.out.len(),
                                signer,
                                delay,
                                to: raw,
                                from,
                            });
                        }
                    }
                    std::mem::swap(&mut s.out, &mut arena);
                    if batch {
                        if let Err(e) = s.counter.store.end_batch() {
                            // Not written: these answers must not leave
                            // (the clients will retransmit).
                            log(&format!("database: {e}"));
                            s.ridc.forget_since_mark();
                            outs.clear();
                        }
                    }
                    s.stop
                }
                Err(_) => return,
            };
            pass_mem = recycle(pass);
            sign_in_pairs(&mut arena, &outs, |o| (o.at.clone(), &o.signer), &mut order);
            sender.send(
                fd,
                outs.iter()
                    .filter(|o| o.delay.is_zero())
                    .filter_map(|o| Some((arena.get(o.at.clone())?, &o.to))),
            );
            for o in outs.iter().filter(|o| !o.delay.is_zero()) {
                if let Some(bytes) = arena.get(o.at.clone()) {
                    send_later(&sock, &rt, bytes.to_vec(), o.delay, o.from);
                }
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
    fn send<'a>(
        &mut self,
        fd: RawFd,
        msgs: impl Iterator<Item = (&'a [u8], &'a SockaddrStorage)> + Clone,
    ) {
        self.iovs.clear();
        self.hdrs.clear();
        for (bytes, _) in msgs.clone() {
            self.iovs.push(libc::iovec {
                iov_base: bytes.as_ptr() as *mut libc::c_void,
                iov_len: bytes.len(),
            });
        }
        for ((_, to), iov) in msgs.zip(self.iovs.iter_mut()) {
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
            // an iovec of `self.iovs` and an address that `msgs` borrows,
            // and each iovec to the bytes of a datagram that `msgs`
            // borrows (for `'a`, which outlives this function), none of
            // which is moved or changed while the call runs. The kernel only reads them, and writes each
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
