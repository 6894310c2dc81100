//! The client: a map of servers shared by concurrent requests, and the
//! steps before each request (back-off check, name resolution, RTT
//! measurement, choice of server) and after it (RTT and answer-rate
//! bookkeeping, back-off after failures).

use crate::clock::now_secs;
use crate::error::{ClientError, NoServerReason};
use crate::map::{ClassKind, Ipv6Mode, Map, ServerAddr, MAX_ADDRS};
use crate::select::{good_rtt, pick, resp_rates, update_rtt, update_threshold};
use crate::timing::{
    retrans_time, FAST_RTT_SECS, MAP_RESOLVE_SECS, MAX_DELAY, RESOLVE_RETRY_SECS, RTT_BAD,
};
use crate::transport::{self, ExchangeError, Received, ReqNums, Target, Wait};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tally_wire::header::{VERS_CUR, VERS_MIN};
use tally_wire::{Expect, Op, Request, Response};

/// How long one host name lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// A DCC client over a map of servers. Requests may run concurrently;
/// RTT measurements and name resolutions are done by one at a time.
#[derive(Debug)]
pub struct Client {
    map: Mutex<Map>,
    busy: tokio::sync::Mutex<()>,
    host_id: u32,
    pid: u32,
    serial: AtomicU32,
    /// `-x`: never skip a server for its recent failures.
    try_hard: AtomicBool,
}

/// The answer to one request, with where it came from.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The server's ID.
    pub server_id: u32,
    /// The address asked.
    pub server: SocketAddr,
    /// Protocol version of the answer.
    pub pkt_vers: u8,
    /// The answer was signed with our password.
    pub authenticated: bool,
    /// The answer itself.
    pub response: Response,
}

/// Host identification for the `h` word: a sum over the host name.
fn host_id() -> u32 {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let id = name.trim().bytes().enumerate().fold(0u32, |acc, (i, b)| {
        acc.wrapping_add(u32::from(b).wrapping_mul(i as u32))
    });
    id.max(1)
}

/// Has the time `at` come (or is it implausibly far away, after the
/// clock was set back)?
fn is_time(now: u64, at: u64, max_interval: u64) -> bool {
    now >= at || at > now.saturating_add(max_interval)
}

impl Client {
    /// A client using this map.
    pub fn new(map: Map) -> Client {
        Client {
            map: Mutex::new(map),
            busy: tokio::sync::Mutex::new(()),
            host_id: host_id(),
            pid: std::process::id(),
            serial: AtomicU32::new(0),
            try_hard: AtomicBool::new(false),
        }
    }

    /// Try "extra hard" (`-x` of dccm and dccifd): every request asks the
    /// servers, also within the back-off that follows a failure, instead of
    /// failing at once. Administrative requests always do.
    pub fn set_try_hard(&self, on: bool) {
        self.try_hard.store(on, Ordering::Relaxed);
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Map> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the map with the current state (to save or show).
    pub fn map(&self) -> Map {
        self.lock().clone()
    }

    pub(crate) fn next_nums(&self) -> ReqNums {
        ReqNums {
            h: self.host_id,
            p: self.pid,
            r: self.serial.fetch_add(1, Ordering::Relaxed).wrapping_add(1),
        }
    }

    /// For greylist servers: is the DCC server in use reached over IPv6?
    fn dcc_family(map: &Map, kind: ClassKind) -> Option<bool> {
        if kind != ClassKind::Grey || map.ipv6 != Ipv6Mode::On {
            return None;
        }
        let d = &map.dcc;
        d.chosen
            .and_then(|i| d.addrs.get(i))
            .map(|a| a.addr.is_ipv6())
    }

    fn no_server(kind: ClassKind, reason: NoServerReason) -> ClientError {
        ClientError::NoServer {
            class: kind,
            reason,
        }
    }

    /// Forget measurements and measure the RTTs of all servers of a class
    /// now, as `cdcc RTT` does.
    pub async fn measure_rtt(&self, kind: ClassKind) -> Result<(), ClientError> {
        self.lock().class_mut(kind).force_measure();
        self.ready(kind, true).await
    }

    /// Make sure a server of the class is chosen before any request, as a
    /// client that cannot work without one does at its start (`dccsight`):
    /// names resolved and RTTs measured when due, the back-off honoured.
    pub async fn ready_to_ask(&self, kind: ClassKind) -> Result<(), ClientError> {
        self.ready(kind, false).await
    }

    /// Make sure a server of the class is chosen. With `no_fail` (the
    /// administrative requests of `cdcc`) the back-off after failures is
    /// ignored.
    pub(crate) async fn ready(&self, kind: ClassKind, no_fail: bool) -> Result<(), ClientError> {
        let _busy = self.busy.lock().await;
        let now = now_secs();
        let need_resolve = {
            let mut map = self.lock();
            let class = map.class_mut(kind);
            let no_fail = no_fail || self.try_hard.load(Ordering::Relaxed);
            if let Some(secs) = class.fail.waiting(now).filter(|_| !no_fail) {
                let failures = class.fail.fail_exp;
                return Err(Self::no_server(
                    kind,
                    NoServerReason::BackingOff { secs, failures },
                ));
            }
            if class.names.is_empty() {
                class.fail_more(now);
                return Err(Self::no_server(kind, NoServerReason::NoNames));
            }
            is_time(now, class.resolve_at, MAP_RESOLVE_SECS)
        };
        if need_resolve {
            self.resolve(kind, now).await;
        }
        let measure_now = {
            let mut map = self.lock();
            let fam = Self::dcc_family(&map, kind);
            let class = map.class_mut(kind);
            if class.addrs.is_empty() {
                class.fail_more(now);
                let why = if class.names.len() == 1 {
                    class.names[0].host.clone()
                } else {
                    format!("{} names", class.names.len())
                };
                return Err(Self::no_server(kind, NoServerReason::NoAddresses(why)));
            }
            if class.measure_at == 0 || is_time(now, class.measure_at, FAST_RTT_SECS) {
                true
            } else if !good_rtt(class, fam) && !pick(class, fam) {
                class.fail_more(now);
                return Err(Self::no_server(kind, NoServerReason::NotAnswering));
            } else {
                false
            }
        };
        if measure_now {
            return self.measure(kind, now).await;
        }
        Ok(())
    }

    /// Resolve the host names of a class into at most 12 addresses,
    /// keeping what is known about addresses seen before.
    async fn resolve(&self, kind: ClassKind, now: u64) {
        let (names, mode) = {
            let map = self.lock();
            let c = map.class(kind);
            let names: Vec<(String, u16)> =
                c.names.iter().map(|n| (n.host.clone(), n.port)).collect();
            (names, map.ipv6)
        };
        let mut found: Vec<Vec<SocketAddr>> = Vec::new();
        for (host, port) in &names {
            let mut addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, *port)],
                Err(_) => {
                    let lookup = tokio::net::lookup_host((host.as_str(), *port));
                    match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
                        Ok(Ok(it)) => it.take(64).collect(),
                        _ => Vec::new(),
                    }
                }
            };
            addrs.retain(|a| match mode {
                Ipv6Mode::On => true,
                Ipv6Mode::Off => a.is_ipv4(),
                Ipv6Mode::Only => a.is_ipv6(),
            });
            addrs.sort();
            addrs.dedup();
            found.push(addrs);
        }
        let mut map = self.lock();
        let class = map.class_mut(kind);
        if class.names.len() != found.len() {
            // The map changed meanwhile; the next request resolves again.
            return;
        }
        class.resolve_at = now + MAP_RESOLVE_SECS;
        let mut new: Vec<ServerAddr> = Vec::new();
        for (ni, addrs) in found.iter().enumerate() {
            class.names[ni].defined = !addrs.is_empty();
            for sa in addrs {
                if let Some(pos) = new.iter().position(|a| a.addr == *sa) {
                    // The same address under two names: keep the one with a
                    // client-ID, else the smaller RTT adjustment.
                    let (old, cur) = (&class.names[new[pos].name], &class.names[ni]);
                    let better = if old.is_anon() != cur.is_anon() {
                        old.is_anon()
                    } else {
                        cur.rtt_adj < old.rtt_adj
                    };
                    if better {
                        new[pos].name = ni;
                    }
                    continue;
                }
                if new.len() >= MAX_ADDRS {
                    continue;
                }
                let mut a = class
                    .addrs
                    .iter()
                    .find(|a| a.addr == *sa)
                    .cloned()
                    .unwrap_or_else(|| ServerAddr::new(*sa, ni));
                a.name = ni;
                new.push(a);
            }
        }
        if new.is_empty() {
            class.resolve_at = now + RESOLVE_RETRY_SECS;
        } else {
            class.measure_at = 0;
        }
        let same = new.len() == class.addrs.len()
            && new
                .iter()
                .zip(&class.addrs)
                .all(|(a, b)| a.addr == b.addr && a.name == b.name);
        if !same {
            class.gen = class.gen.wrapping_add(1);
            class.chosen = None;
            class.avg_thold_rtt = -RTT_BAD;
            class.addrs = new;
        }
    }

    fn target(map: &Map, kind: ClassKind, idx: usize) -> Option<Target> {
        let c = map.class(kind);
        let a = c.addrs.get(idx)?;
        let n = c.names.get(a.name)?;
        let anon = n.is_anon();
        Some(Target {
            idx,
            addr: a.addr,
            client_id: if anon {
                tally_wire::header::ID_ANON
            } else {
                n.client_id
            },
            passwd: if anon { None } else { n.passwd.clone() },
            pkt_vers: a.pkt_vers,
            src: map.src_for(a.addr.is_ipv6()),
        })
    }

    /// Measure the RTTs of all addresses of a class with NOPs and choose
    /// the fastest.
    async fn measure(&self, kind: ClassKind, now: u64) -> Result<(), ClientError> {
        let (targets, gen) = {
            let mut map = self.lock();
            let targets: Vec<Target> = (0..map.class(kind).addrs.len())
                .filter_map(|i| Self::target(&map, kind, i))
                .collect();
            let class = map.class_mut(kind);
            class.measure_at = now + FAST_RTT_SECS;
            (targets, class.gen)
        };
        let m = transport::measure(&targets, self.next_nums()).await;
        let mut map = self.lock();
        let fam = Self::dcc_family(&map, kind);
        let class = map.class_mut(kind);
        if class.gen != gen {
            return if class.chosen.is_some() || pick(class, fam) {
                Ok(())
            } else {
                Err(Self::no_server(kind, NoServerReason::NotAnswering))
            };
        }
        for &ti in &m.refused {
            if let Some(a) = targets.get(ti).and_then(|t| class.addrs.get_mut(t.idx)) {
                a.rtt = RTT_BAD;
            }
        }
        for (_, r) in &m.answers {
            let Some(a) = class.addrs.get_mut(r.idx) else {
                continue;
            };
            match &r.packet.body {
                Response::Ok(ok) => {
                    a.pkt_vers = ok.max_pkt_vers.clamp(VERS_MIN, VERS_CUR);
                    a.srvr_id = Some(r.packet.sender);
                    a.brand = String::from_utf8_lossy(ok.brand()).into_owned();
                    a.srvr_wait = i64::from(ok.qdelay_ms) * 1000;
                    let us = r.delay_us + a.srvr_wait;
                    update_rtt(a, us, now);
                }
                _ => a.rtt = RTT_BAD,
            }
        }
        resp_rates(class, &m.log, m.elapsed_us, now, true);
        if !pick(class, fam) {
            class.fail_more(now);
            return Err(Self::no_server(kind, NoServerReason::NotAnswering));
        }
        update_threshold(class);
        class.measure_at = now + FAST_RTT_SECS;
        Ok(())
    }

    /// Send a request to the chosen server of a class (or to the address
    /// `at` of the class, which must have answered a NOP) and return its
    /// answer. Without an answer, another server is tried if one is left
    /// and the time budget allows; otherwise the class backs off. With
    /// `no_fail` the back-off is ignored, as for `cdcc` commands.
    pub(crate) async fn op(
        &self,
        kind: ClassKind,
        body: Request,
        at: Option<usize>,
        no_fail: bool,
    ) -> Result<Reply, ClientError> {
        self.op_with(kind, body, at, no_fail, Wait::Runtime).await
    }

    /// [`Client::op`], waiting for the UDP answer as `wait` says.
    pub(crate) async fn op_with(
        &self,
        kind: ClassKind,
        body: Request,
        at: Option<usize>,
        no_fail: bool,
        wait: Wait,
    ) -> Result<Reply, ClientError> {
        self.ready(kind, no_fail).await?;
        if let Some(i) = at {
            let map = self.lock();
            if map
                .class(kind)
                .addrs
                .get(i)
                .and_then(|a| a.srvr_id)
                .is_none()
            {
                return Err(ClientError::BadRequest(format!(
                    "{} server #{i} has not answered",
                    kind.name()
                )));
            }
        }
        let expect = Expect::for_request(&body);
        let op = body.op();
        let started = tokio::time::Instant::now();
        let mut tried: Vec<usize> = Vec::new();
        let mut body = body;
        loop {
            let now = now_secs();
            let (target, rtt, gen) = {
                let map = self.lock();
                let c = map.class(kind);
                let idx = at
                    .or(c.chosen)
                    .ok_or_else(|| Self::no_server(kind, NoServerReason::NotAnswering))?;
                let t = Self::target(&map, kind, idx)
                    .ok_or_else(|| Self::no_server(kind, NoServerReason::NotAnswering))?;
                let rtt = c.addrs.get(idx).map_or(RTT_BAD, |a| a.rtt);
                (t, rtt, c.gen)
            };
            let sent = adjust_for_version(&body, target.pkt_vers);
            let mut log = Vec::new();
            let nums = self.next_nums();
            let res = match wait {
                Wait::Runtime => {
                    transport::exchange(&target, &sent, expect, rtt, nums, &mut log).await
                }
                Wait::Thread => {
                    transport::exchange_on_thread(&target, &sent, expect, rtt, nums, &mut log)
                }
            };
            let elapsed_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
            let mut map = self.lock();
            let fam = Self::dcc_family(&map, kind);
            let class = map.class_mut(kind);
            let same_gen = class.gen == gen;
            match res {
                Ok(r) => {
                    if same_gen {
                        if let Some(a) = class.addrs.get_mut(r.idx) {
                            let wait = if matches!(op, Op::Report | Op::Query) {
                                0
                            } else {
                                a.srvr_wait
                            };
                            update_rtt(a, r.delay_us + wait, now);
                        }
                        let spent = log.iter().map(|x| x.sent_us).max().unwrap_or(0) + r.delay_us;
                        resp_rates(class, &log, spent, now, false);
                    }
                    class.fail.reset();
                    return finish(r, target.addr);
                }
                Err(ExchangeError::Io(e)) => return Err(ClientError::Io(e)),
                Err(e) => {
                    let spent = match e {
                        ExchangeError::NoAnswer { elapsed_us } => elapsed_us,
                        _ => 0,
                    };
                    if same_gen {
                        if matches!(e, ExchangeError::Refused) {
                            if let Some(a) = class.addrs.get_mut(target.idx) {
                                a.rtt = RTT_BAD;
                            }
                        }
                        resp_rates(class, &log, spent, now, false);
                    }
                    tried.push(target.idx);
                    let alternate =
                        pick(class, fam) && class.chosen.is_some_and(|c| !tried.contains(&c));
                    let next_rtt = class
                        .chosen
                        .and_then(|c| class.addrs.get(c))
                        .map_or(RTT_BAD, |a| a.rtt);
                    if !alternate {
                        class.fail_more(now);
                    }
                    if !alternate || elapsed_us + retrans_time(next_rtt, 0) >= MAX_DELAY {
                        return Err(match e {
                            ExchangeError::Refused if !alternate => {
                                Self::no_server(kind, NoServerReason::NotAnswering)
                            }
                            _ => ClientError::Timeout {
                                class: kind,
                                server: target.addr,
                                elapsed_ms: u64::try_from(elapsed_us / 1000).unwrap_or(0),
                            },
                        });
                    }
                    body = for_alternate(body);
                }
            }
        }
    }
}

/// The request to send to another server after the chosen one did not
/// answer. A report may have reached the silent server and been lost only
/// on its way back; counted by a second server too, it would be counted
/// twice once the servers flood each other. So, as the reference client's
/// callers do, the retry of a report is a query of the same checksums
/// (the header keeps the report's targets, which a query ignores).
/// Other requests are sent again as they are.
pub(crate) fn for_alternate(body: Request) -> Request {
    match body {
        Request::Report(r) => Request::Query(r),
        other => other,
    }
}

/// Reports to servers of old protocol versions: version 7 and older do not
/// know the reputation-spam flag, version 4 knows only "many" for spam.
fn adjust_for_version(body: &Request, vers: u8) -> Request {
    use tally_wire::tgts::Tgts;
    let Request::Report(r) = body else {
        return body.clone();
    };
    let mut r = r.clone();
    let mut t = r.tgts.0;
    if vers <= 7 && t & Tgts::REP_SPAM_FLAG != 0 {
        t = (t & !Tgts::REP_SPAM_FLAG) | Tgts::SPAM_FLAG;
    }
    if vers == 4 && t & Tgts::SPAM_FLAG != 0 {
        t = Tgts::MANY.0;
    }
    r.tgts = Tgts(t);
    Request::Report(r)
}

fn finish(r: Received, server: SocketAddr) -> Result<Reply, ClientError> {
    if let Response::Error(text) = &r.packet.body {
        return Err(ClientError::Server {
            server_id: r.packet.sender,
            message: String::from_utf8_lossy(text).into_owned(),
        });
    }
    Ok(Reply {
        server_id: r.packet.sender,
        server,
        pkt_vers: r.packet.pkt_vers,
        authenticated: r.authenticated,
        response: r.packet.body,
    })
}
