//! Sending requests over UDP and receiving the answers.
//!
//! Each request goes out on its own socket connected to the server, so
//! that a closed port is reported at once (ICMP port unreachable) and
//! retransmissions leave from the same port (the server recognises them
//! and replays its answer instead of counting a report twice). Every
//! transmission gets a new transmission number `t`; an answer is accepted
//! when its `h`, `p` and `r` are the request's and its `t` is one of the
//! transmissions not yet answered.

use crate::select::Xmit;
use crate::timing::{request_wait, retrans_time, MAX_XMITS, MIN_RTT};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tally_wire::header::{Header, VERS_CUR};
use tally_wire::packet::MAX_RESPONSE_LEN;
use tally_wire::{Expect, OpNums, Packet, Passwd, Request, Response, Signer};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::{timeout_at, Instant};

/// Where and how to send: one address of a server with the client-ID and
/// password configured for its name.
#[derive(Debug, Clone)]
pub struct Target {
    /// Index of the address in its class.
    pub idx: usize,
    /// The server's address.
    pub addr: SocketAddr,
    /// Our client-ID (1 = anonymous).
    pub client_id: u32,
    /// Our password, if not anonymous.
    pub passwd: Option<Passwd>,
    /// Protocol version to send (NOPs always use the current one).
    pub pkt_vers: u8,
    /// The map's `src=` address of the server's family to send from.
    pub src: Option<IpAddr>,
}

impl Target {
    fn signer(&self) -> Signer {
        Signer::for_request(self.client_id, self.passwd.as_ref())
    }
}

/// An accepted answer.
#[derive(Debug, Clone)]
pub struct Received {
    /// Index of the address that answered.
    pub idx: usize,
    /// The decoded answer.
    pub packet: Packet<Response>,
    /// Microseconds between the answered transmission and the answer.
    pub delay_us: i64,
    /// The answer carried our password's signature (always false for
    /// anonymous requests, whose answers are not signed with a password).
    pub authenticated: bool,
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum ExchangeError {
    /// Nothing usable came back within the time budget.
    NoAnswer {
        /// Microseconds spent.
        elapsed_us: i64,
    },
    /// The server's port is closed or unreachable.
    Refused,
    /// A local socket error.
    Io(io::Error),
}

/// The `h`, `p`, `r` words of a request (the `t` word is added per send).
#[derive(Debug, Clone, Copy)]
pub struct ReqNums {
    /// Host identification.
    pub h: u32,
    /// Process identification.
    pub p: u32,
    /// Request number.
    pub r: u32,
}

impl ReqNums {
    fn with_t(&self, t: u32) -> OpNums {
        OpNums::from_le_words(self.h, self.p, self.r, t)
    }
}

fn is_unreachable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
    )
}

/// A UDP socket for a server at `addr`, bound to the map's `src=`
/// address of its family when it names one this host has, else to any.
fn bound_socket(addr: SocketAddr, src: Option<IpAddr>) -> io::Result<std::net::UdpSocket> {
    let any: IpAddr = if addr.is_ipv6() {
        Ipv6Addr::UNSPECIFIED.into()
    } else {
        Ipv4Addr::UNSPECIFIED.into()
    };
    let src = src.filter(|s| s.is_ipv6() == addr.is_ipv6());
    // an address this host does not have (any more) is passed over, as
    // the original marks it `but unused`: the request still goes out
    let s = match src.map(|s| std::net::UdpSocket::bind(SocketAddr::new(s, 0))) {
        Some(Ok(s)) => s,
        _ => std::net::UdpSocket::bind(SocketAddr::new(any, 0))?,
    };
    s.connect(addr)?;
    Ok(s)
}

async fn connected_socket(addr: SocketAddr, src: Option<IpAddr>) -> io::Result<UdpSocket> {
    let s = bound_socket(addr, src)?;
    s.set_nonblocking(true)?;
    UdpSocket::from_std(s)
}

fn us_since(start: Instant) -> i64 {
    i64::try_from(start.elapsed().as_micros()).unwrap_or(i64::MAX)
}

/// Check a datagram against the transmissions of a request to `target`.
/// Returns the answer and the index in `log` of the transmission it
/// answers.
fn accept(
    datagram: &[u8],
    nums: &ReqNums,
    target: &Target,
    sent: &[(u32, usize)],
    log: &[Xmit],
    expect: Expect,
) -> Option<(Packet<Response>, usize, bool)> {
    let h = Header::decode(datagram).ok()?;
    let want = nums.with_t(0);
    if h.op_nums.h != want.h || h.op_nums.p != want.p || h.op_nums.r != want.r {
        return None;
    }
    let t = u32::from_le_bytes(h.op_nums.t);
    let (_, li) = sent
        .iter()
        .find(|(st, li)| *st == t && log.get(*li).is_some_and(|x| x.answered.is_none()))?;
    let packet = Packet::<Response>::decode(datagram, expect).ok()?;
    let authenticated = match &target.passwd {
        Some(pw) if target.client_id != tally_wire::header::ID_ANON => {
            Signer::Passwd(pw.clone()).verify(datagram)
        }
        _ => false,
    };
    Some((packet, *li, authenticated))
}

/// How a request waits for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// On the tokio runtime: the task sleeps and the runtime's I/O
    /// driver wakes it when the answer comes.
    Runtime,
    /// On the calling thread, blocked in the socket's receive call: for
    /// callers that run on a thread of their own (dccifd's jobs), whom a
    /// wake-up through the runtime would cost two more thread switches
    /// per request. Never from a runtime worker thread.
    Thread,
}

/// The transmissions of one request and what answers them.
struct Xchg<'a> {
    target: &'a Target,
    body: &'a Request,
    expect: Expect,
    nums: ReqNums,
    signer: Signer,
    /// Transmission number and its index in the log.
    sent: Vec<(u32, usize)>,
}

impl<'a> Xchg<'a> {
    fn new(target: &'a Target, body: &'a Request, expect: Expect, nums: ReqNums) -> Self {
        Xchg {
            target,
            body,
            expect,
            nums,
            signer: target.signer(),
            sent: Vec::new(),
        }
    }

    /// The next transmission, `now_us` after the start, recorded in `log`.
    fn next(&mut self, log: &mut Vec<Xmit>, now_us: i64) -> Vec<u8> {
        let t = u32::try_from(self.sent.len()).unwrap_or(u32::MAX - 1) + 1;
        let mut pkt = Packet::request(
            self.target.pkt_vers,
            self.target.client_id,
            self.nums.with_t(t),
            self.body.clone(),
        );
        log.push(Xmit {
            addr: self.target.idx,
            sent_us: now_us,
            answered: None,
            failed: false,
        });
        self.sent.push((t, log.len() - 1));
        pkt.sign(&self.signer)
    }

    /// Sending the last transmission failed with `e`.
    fn send_failed(&self, log: &mut [Xmit], e: io::Error) -> ExchangeError {
        if let Some(x) = self.sent.last().and_then(|(_, li)| log.get_mut(*li)) {
            x.failed = true;
        }
        if is_unreachable(&e) {
            ExchangeError::Refused
        } else {
            ExchangeError::Io(e)
        }
    }

    /// Receiving failed with `e`: after an ICMP unreachable every
    /// unanswered transmission failed.
    fn recv_failed(&self, log: &mut [Xmit], e: io::Error) -> ExchangeError {
        if !is_unreachable(&e) {
            return ExchangeError::Io(e);
        }
        for (_, li) in &self.sent {
            if let Some(x) = log.get_mut(*li) {
                x.failed = x.answered.is_none();
            }
        }
        ExchangeError::Refused
    }

    /// A datagram that came `now_us` after the start: the answer, if it
    /// answers one of our transmissions.
    fn answer(&self, d: &[u8], log: &mut [Xmit], now_us: i64) -> Option<Received> {
        let (packet, li, authenticated) =
            accept(d, &self.nums, self.target, &self.sent, log, self.expect)?;
        let x = log.get_mut(li)?;
        let delay_us = now_us - x.sent_us;
        x.answered = Some(delay_us);
        Some(Received {
            idx: self.target.idx,
            packet,
            delay_us,
            authenticated,
        })
    }
}

/// Send `body` to one server and wait for its answer, retransmitting with
/// the reference timing: the first wait is the server's RTT (at least
/// 250 ms) plus 100 ms, doubled for each retransmission, at most 4 s, the
/// last one as long as possible, four transmissions and 16 s in all.
/// Every transmission is recorded in `log`.
pub async fn exchange(
    target: &Target,
    body: &Request,
    expect: Expect,
    rtt: i64,
    nums: ReqNums,
    log: &mut Vec<Xmit>,
) -> Result<Received, ExchangeError> {
    let start = Instant::now();
    let sock = connected_socket(target.addr, target.src)
        .await
        .map_err(ExchangeError::Io)?;
    let mut x = Xchg::new(target, body, expect, nums);
    let mut buf = vec![0u8; MAX_RESPONSE_LEN + 1];
    let mut xmit_num = 0u32;
    while let Some(wait) = request_wait(rtt, xmit_num, us_since(start)) {
        xmit_num += 1;
        let bytes = x.next(log, us_since(start));
        let deadline = Instant::now() + Duration::from_micros(wait.max(0) as u64);
        if let Err(e) = sock.send(&bytes).await {
            return Err(x.send_failed(log, e));
        }
        loop {
            let n = match timeout_at(deadline, sock.recv(&mut buf)).await {
                Err(_) => break,
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(x.recv_failed(log, e)),
            };
            let Some(d) = buf.get(..n) else { continue };
            if let Some(r) = x.answer(d, log, us_since(start)) {
                return Ok(r);
            }
        }
    }
    Err(ExchangeError::NoAnswer {
        elapsed_us: us_since(start),
    })
}

/// [`exchange`] blocking the calling thread ([`Wait::Thread`]), with a
/// standard-library socket and the same timing.
pub fn exchange_on_thread(
    target: &Target,
    body: &Request,
    expect: Expect,
    rtt: i64,
    nums: ReqNums,
    log: &mut Vec<Xmit>,
) -> Result<Received, ExchangeError> {
    let start = std::time::Instant::now();
    let since = || i64::try_from(start.elapsed().as_micros()).unwrap_or(i64::MAX);
    let sock = bound_socket(target.addr, target.src).map_err(ExchangeError::Io)?;
    let mut x = Xchg::new(target, body, expect, nums);
    let mut buf = vec![0u8; MAX_RESPONSE_LEN + 1];
    let mut xmit_num = 0u32;
    while let Some(wait) = request_wait(rtt, xmit_num, since()) {
        xmit_num += 1;
        let bytes = x.next(log, since());
        let deadline = std::time::Instant::now() + Duration::from_micros(wait.max(0) as u64);
        if let Err(e) = sock.send(&bytes) {
            return Err(x.send_failed(log, e));
        }
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            sock.set_read_timeout(Some(left))
                .map_err(ExchangeError::Io)?;
            let n = match sock.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(x.recv_failed(log, e)),
            };
            let Some(d) = buf.get(..n) else { continue };
            if let Some(r) = x.answer(d, log, since()) {
                return Ok(r);
            }
        }
    }
    Err(ExchangeError::NoAnswer {
        elapsed_us: since(),
    })
}

/// What one round of NOPs found out about the addresses.
#[derive(Debug, Default)]
pub struct Measurement {
    /// Every NOP sent.
    pub log: Vec<Xmit>,
    /// Answers (target index in the slice given, the answer, its delay).
    pub answers: Vec<(usize, Received)>,
    /// Targets whose port is closed or that could not be sent to.
    pub refused: Vec<usize>,
    /// Microseconds the round took.
    pub elapsed_us: i64,
}

/// Send NOPs (protocol version 12, to learn each server's version) to
/// all targets at once, retransmitting to those that have not answered
/// after 350 ms, 600 ms, 1.1 s and 2.1 s, until all answered or refused.
pub async fn measure(targets: &[Target], nums: ReqNums) -> Measurement {
    let start = Instant::now();
    let mut m = Measurement::default();
    let (tx, mut rx) = mpsc::channel::<(usize, io::Result<Vec<u8>>)>(64);
    let mut socks: Vec<Option<std::sync::Arc<UdpSocket>>> = Vec::new();
    let mut readers = Vec::new();
    for (ti, t) in targets.iter().enumerate() {
        match connected_socket(t.addr, t.src).await {
            Ok(s) => {
                let s = std::sync::Arc::new(s);
                let (s2, tx2) = (s.clone(), tx.clone());
                readers.push(tokio::spawn(async move {
                    let mut buf = vec![0u8; MAX_RESPONSE_LEN + 1];
                    loop {
                        let r = s2.recv(&mut buf).await;
                        let stop = r.is_err();
                        let msg = r.map(|n| buf.get(..n).unwrap_or(&[]).to_vec());
                        if tx2.send((ti, msg)).await.is_err() || stop {
                            break;
                        }
                    }
                }));
                socks.push(Some(s));
            }
            Err(_) => {
                m.refused.push(ti);
                socks.push(None);
            }
        }
    }
    drop(tx);
    let mut sent: Vec<Vec<(u32, usize)>> = vec![Vec::new(); targets.len()];
    let mut done = vec![false; targets.len()];
    for &ti in &m.refused {
        done[ti] = true;
    }
    let mut t_num = 0u32;
    let mut xmit_num = 0u32;
    let mut next_xmit = Instant::now();
    loop {
        if Instant::now() >= next_xmit {
            if xmit_num >= MAX_XMITS {
                break;
            }
            next_xmit =
                Instant::now() + Duration::from_micros(retrans_time(MIN_RTT, xmit_num) as u64);
            xmit_num += 1;
            for (ti, t) in targets.iter().enumerate() {
                let Some(Some(sock)) = socks.get(ti).filter(|_| !done[ti]) else {
                    continue;
                };
                t_num += 1;
                let mut pkt =
                    Packet::request(VERS_CUR, t.client_id, nums.with_t(t_num), Request::Nop);
                let bytes = pkt.sign(&t.signer());
                m.log.push(Xmit {
                    addr: t.idx,
                    sent_us: us_since(start),
                    answered: None,
                    failed: false,
                });
                sent[ti].push((t_num, m.log.len() - 1));
                if sock.send(&bytes).await.is_err() {
                    if let Some(x) = m.log.last_mut() {
                        x.failed = true;
                    }
                    done[ti] = true;
                    m.refused.push(ti);
                }
            }
            if done.iter().all(|d| *d) {
                break;
            }
        }
        let got = match timeout_at(next_xmit, rx.recv()).await {
            Err(_) => continue,
            Ok(None) => break,
            Ok(Some(got)) => got,
        };
        let (ti, res) = got;
        let (Some(target), false) = (targets.get(ti), done.get(ti).copied().unwrap_or(true)) else {
            continue;
        };
        match res {
            Err(_) => {
                for (_, li) in &sent[ti] {
                    if let Some(x) = m.log.get_mut(*li) {
                        x.failed = x.answered.is_none();
                    }
                }
                done[ti] = true;
                m.refused.push(ti);
            }
            Ok(d) => {
                let Some((packet, li, authenticated)) =
                    accept(&d, &nums, target, &sent[ti], &m.log, Expect::Dcc)
                else {
                    continue;
                };
                let now = us_since(start);
                let Some(x) = m.log.get_mut(li) else { continue };
                let delay_us = now - x.sent_us;
                x.answered = Some(delay_us);
                done[ti] = true;
                m.answers.push((
                    ti,
                    Received {
                        idx: target.idx,
                        packet,
                        delay_us,
                        authenticated,
                    },
                ));
            }
        }
        if done.iter().all(|d| *d) {
            break;
        }
    }
    for r in readers {
        r.abort();
    }
    m.elapsed_us = us_since(start);
    m
}
