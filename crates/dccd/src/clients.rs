//! The table of recent clients (`cdcc clients`) and the per-client rate
//! limits (`-R`), in the spirit of the original's `rl.c`: one entry per
//! client-ID and address, the requests and NOPs it sent, its protocol
//! version, whether its password failed, and a token bucket per entry plus
//! one shared by all anonymous clients. A client whose address the
//! `blacklist` file lists is marked blacklisted (and its requests
//! dropped), as the original marks it in `cdcc clients`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tally_wire::admn::{clients_req, AdmnRequest, Aop, MAX_ADMN_RESP};
use tally_wire::clients::{self, flags, ClientAddr, ClientEntry, NO_AUTH};
use tally_wire::packet::{Packet, Request};
use tally_wire::sign::Auth;

use crate::opts::RateLimits;
use crate::server::Who;

/// The most clients remembered; the least recently seen are forgotten.
pub const MAX_CLIENTS: usize = 100_000;

#[derive(Debug, Clone)]
struct Entry {
    last: u64,
    reqs: u64,
    nops: u64,
    vers: u8,
    bad_auth: bool,
    anon: bool,
    tokens: f64,
    refill: Option<Instant>,
    /// Requests in the current and the previous second.
    this_sec: (u64, u64, u64),
    /// Its last request came from a blacklisted address.
    black: bool,
    /// A request of its was dropped as blacklisted since the last
    /// [`Clients::clear`].
    dropped: bool,
}

/// The table.
pub struct Clients {
    map: HashMap<(u32, IpAddr), Entry>,
    all_anon_tokens: f64,
    all_anon_refill: Option<Instant>,
    /// Addresses whose incoming floods were refused as blacklisted since
    /// the last [`Clients::clear`] (the first refusal is logged).
    flood_refused: std::collections::HashSet<IpAddr>,
    /// When each authenticated client last had a complaint logged, and
    /// (`None`) when an unauthenticated one last had (see
    /// [`Clients::may_complain`]).
    complained: HashMap<Option<(u32, IpAddr)>, Instant>,
}

/// Which rate limit a request is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    /// The client's own (per ID and address).
    Client,
    /// That of all anonymous clients together.
    AllAnon,
}

impl Default for Clients {
    fn default() -> Self {
        Clients {
            map: HashMap::new(),
            all_anon_tokens: 0.0,
            all_anon_refill: None,
            flood_refused: Default::default(),
            complained: HashMap::new(),
        }
    }
}

fn bucket(tokens: &mut f64, refill: &mut Option<Instant>, rate: f64, now: Instant) -> bool {
    let burst = rate.max(1.0);
    match refill {
        None => *tokens = burst,
        Some(t) => {
            let dt = now.saturating_duration_since(*t).as_secs_f64();
            *tokens = (*tokens + dt * rate).min(burst);
        }
    }
    *refill = Some(now);
    if *tokens >= 1.0 {
        *tokens -= 1.0;
        true
    } else {
        false
    }
}

/// Refill a bucket as [`bucket`] does and say whether it holds a token,
/// without taking it.
fn has_token(tokens: &mut f64, refill: &mut Option<Instant>, rate: f64, now: Instant) -> bool {
    if let Some(t) = refill {
        let dt = now.saturating_duration_since(*t).as_secs_f64();
        *tokens = (*tokens + dt * rate).min(rate.max(1.0));
        *refill = Some(now);
        *tokens >= 1.0
    } else {
        true
    }
}

fn key(req: &Packet<Request>, from: SocketAddr, who: &Who) -> (u32, IpAddr) {
    let id = if matches!(who.auth, Auth::Anonymous) {
        1
    } else {
        req.sender
    };
    (id, from.ip())
}

/// One client as kept across restarts (see [`crate::clients_file`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Client-ID (1 for anonymous clients).
    pub id: u32,
    /// Address.
    pub ip: IpAddr,
    /// Last seen, seconds since the epoch.
    pub last: u64,
    /// Requests.
    pub reqs: u64,
    /// NOPs among them.
    pub nops: u64,
    /// Protocol version of the last request.
    pub vers: u8,
    /// Anonymous.
    pub anon: bool,
    /// Its password failed.
    pub bad_auth: bool,
}

impl Clients {
    /// The clients, for saving.
    pub fn saved(&self) -> Vec<Saved> {
        self.map
            .iter()
            .map(|(&(id, ip), e)| Saved {
                id,
                ip,
                last: e.last,
                reqs: e.reqs,
                nops: e.nops,
                vers: e.vers,
                anon: e.anon,
                bad_auth: e.bad_auth,
            })
            .collect()
    }

    /// Add saved clients (at start-up), the most recent kept when there are
    /// more than [`MAX_CLIENTS`]; the rate limits start afresh.
    pub fn restore(&mut self, mut saved: Vec<Saved>) {
        saved.sort_by_key(|s| std::cmp::Reverse(s.last));
        for s in saved {
            if self.map.len() >= MAX_CLIENTS {
                break;
            }
            self.map.entry((s.id, s.ip)).or_insert(Entry {
                last: s.last,
                reqs: s.reqs,
                nops: s.nops,
                vers: s.vers,
                bad_auth: s.bad_auth,
                anon: s.anon,
                tokens: 0.0,
                refill: None,
                this_sec: (s.last, 0, 0),
                black: false,
                dropped: false,
            });
        }
    }

    /// Note a request; `black`: it comes from a blacklisted address and
    /// is dropped.
    pub(crate) fn note(
        &mut self,
        req: &Packet<Request>,
        from: SocketAddr,
        who: &Who,
        nop: bool,
        now: u64,
        black: bool,
    ) {
        if self.map.len() >= MAX_CLIENTS {
            if let Some(old) = self.map.iter().min_by_key(|(_, e)| e.last).map(|(k, _)| *k) {
                self.map.remove(&old);
            }
        }
        let e = self.map.entry(key(req, from, who)).or_insert(Entry {
            last: now,
            reqs: 0,
            nops: 0,
            vers: req.pkt_vers,
            bad_auth: false,
            anon: false,
            tokens: 0.0,
            refill: None,
            this_sec: (now, 0, 0),
            black: false,
            dropped: false,
        });
        let (sec, cur, _) = e.this_sec;
        e.this_sec = match now.saturating_sub(sec) {
            0 => (sec, cur + 1, e.this_sec.2),
            1 => (now, 1, cur),
            _ => (now, 1, 0),
        };
        e.last = now;
        e.vers = req.pkt_vers;
        e.reqs += 1;
        if nop {
            e.nops += 1;
        }
        e.anon = matches!(who.auth, Auth::Anonymous);
        e.bad_auth = !e.anon && who.auth.passwd().is_none();
        e.black = black;
        e.dropped |= black;
    }

    /// An incoming flood from `ip` refused as blacklisted: whether it is
    /// the first since the last [`Clients::clear`] (the original then
    /// complains; later ones are only traced).
    pub(crate) fn first_flood_refusal(&mut self, ip: IpAddr) -> bool {
        if self.flood_refused.len() >= MAX_CLIENTS {
            self.flood_refused.clear();
        }
        self.flood_refused.insert(ip)
    }

    /// Requests from this client in about the last second (for `-u ...,inflate`).
    pub(crate) fn recent(
        &self,
        req: &Packet<Request>,
        from: SocketAddr,
        who: &Who,
        now: u64,
    ) -> u64 {
        self.map.get(&key(req, from, who)).map_or(0, |e| {
            let (sec, cur, prev) = e.this_sec;
            match now.saturating_sub(sec) {
                0 => cur.saturating_sub(1) + prev,
                1 => cur,
                _ => 0,
            }
        })
    }

    /// Whether the rate limits let this request through: `None`, or which
    /// limit a refused request is over (its token taken when it is let
    /// through).
    pub(crate) fn over(
        &mut self,
        req: &Packet<Request>,
        from: SocketAddr,
        who: &Who,
        rl: &RateLimits,
        now: Instant,
    ) -> Option<Over> {
        let anon = !who.trusted;
        let e = self.map.get_mut(&key(req, from, who))?;
        let rate = if anon { rl.anon } else { rl.sub };
        if !bucket(&mut e.tokens, &mut e.refill, rate, now) {
            return Some(Over::Client);
        }
        if anon
            && !bucket(
                &mut self.all_anon_tokens,
                &mut self.all_anon_refill,
                rl.all_anon,
                now,
            )
        {
            return Some(Over::AllAnon);
        }
        None
    }

    /// Whether a complaint about a client may be logged now: at most one
    /// every `every` per authenticated client (`Some` of its ID and
    /// address), and one every `every` for all the unauthenticated
    /// clients together (`None`), as the original spends its "bugs"
    /// credits (`-R ...,RL_BUGS`) on its complaints.
    pub(crate) fn may_complain(
        &mut self,
        client: Option<(u32, IpAddr)>,
        every: Duration,
        now: Instant,
    ) -> bool {
        if let Some(t) = self.complained.get(&client) {
            if now.saturating_duration_since(*t) < every {
                return false;
            }
        }
        if self.complained.len() >= MAX_CLIENTS {
            self.complained.clear();
        }
        self.complained.insert(client, now);
        true
    }

    /// Whether an anonymous request from `ip` is over its rate limit or
    /// over that of all anonymous clients: the cheap check made before a
    /// request is decoded, so that a flood costs the server little. A
    /// refused request is counted for `cdcc clients`; one not refused
    /// here is checked again, and charged, by [`Clients::over`].
    pub(crate) fn anon_refused(
        &mut self,
        ip: IpAddr,
        rl: &RateLimits,
        now: Instant,
        secs: u64,
    ) -> Option<Over> {
        let all_empty = !has_token(
            &mut self.all_anon_tokens,
            &mut self.all_anon_refill,
            rl.all_anon,
            now,
        );
        let e = self.map.get_mut(&(1, ip))?;
        let over = if !has_token(&mut e.tokens, &mut e.refill, rl.anon, now) {
            Over::Client
        } else if all_empty {
            Over::AllAnon
        } else {
            return None;
        };
        let (sec, cur, prev) = e.this_sec;
        e.this_sec = match secs.saturating_sub(sec) {
            0 => (sec, cur + 1, prev),
            1 => (secs, 1, cur),
            _ => (secs, 1, 0),
        };
        e.last = secs;
        e.reqs += 1;
        Some(over)
    }

    /// Clients known.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No clients.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Clients with requests since the last [`Clients::clear`]: the
    /// figure `cdcc stats` shows, as the original counts it.
    pub fn active(&self) -> usize {
        self.map.values().filter(|e| e.reqs != 0).count()
    }

    /// `cdcc "stats clear"`: forget what the clients sent, as the
    /// original's `clients_clear` does. The entries stay, with their rate
    /// limits, so that clearing the statistics does not refill anybody's
    /// bucket; an entry without requests is not listed.
    pub fn clear(&mut self) {
        for e in self.map.values_mut() {
            e.reqs = 0;
            e.nops = 0;
            e.bad_auth = false;
            e.black = false;
            e.dropped = false;
        }
        self.flood_refused.clear();
    }

    /// The binary answer to CLIENTS / CLIENTS_ID for a request of version `vers`.
    pub fn answer(&self, a: &AdmnRequest, vers: u8) -> Vec<u8> {
        let want = a.val3;
        let limit = a.clients_buf_len().clamp(64, MAX_ADMN_RESP);
        let offset = a.clients_offset() as usize;
        let mut list: Vec<(&(u32, IpAddr), &Entry)> = self.map.iter().collect();
        if a.aop == Aop::ClientsId {
            list.sort_by_key(|(k, e)| (k.0, std::cmp::Reverse(e.last)));
        } else {
            list.sort_by_key(|(_, e)| std::cmp::Reverse(e.last));
        }
        let mut entries: Vec<ClientEntry> = Vec::new();
        let mut out = Vec::new();
        let mut prev_date = 0u64;
        for ((id, ip), e) in list.into_iter().filter(|(_, e)| e.reqs != 0).skip(offset) {
            let unauth = e.anon || e.bad_auth;
            if want & clients_req::ANON != 0 && !unauth {
                continue;
            }
            if want & clients_req::NON_ANON != 0 && unauth {
                continue;
            }
            let addr = match ip {
                IpAddr::V4(v4) => ClientAddr::V4(v4.octets()),
                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => ClientAddr::V4(v4.octets()),
                    None => ClientAddr::V6(v6.octets()),
                },
            };
            let mut marks = 0;
            if e.black {
                marks |= flags::BLACK;
            }
            if e.dropped {
                marks |= flags::DROPPED;
            }
            let entry = ClientEntry {
                flags: marks,
                vers: (want & clients_req::VERS != 0).then_some(e.vers),
                when: clients::pack_date(e.last, &mut prev_date),
                id: if e.anon {
                    None
                } else {
                    Some(u64::from(*id) + if e.bad_auth { NO_AUTH } else { 0 })
                },
                reqs: e.reqs,
                nops: e.nops,
                addr,
            };
            entries.push(entry);
            out.clear();
            clients::encode_into(&entries, vers, &mut out);
            if out.len() > limit {
                entries.pop();
                break;
            }
        }
        if let Some(last) = entries.last_mut() {
            last.flags |= flags::LAST;
        }
        out.clear();
        clients::encode_into(&entries, vers, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_wire::OpNums;

    /// An anonymous client sending 80 requests at one instant: its burst
    /// of RL_ANON is answered, the rest refused before decoding,
    /// and every request counted.
    #[test]
    fn anonymous_client_refused_early_once_over_its_rate() {
        let mut c = Clients::default();
        let rl = RateLimits::default();
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        let from = SocketAddr::new(ip, 1000);
        let req = Packet::request(12, 1, OpNums::from_le_words(1, 1, 1, 1), Request::Nop);
        let who = Who {
            auth: Auth::Anonymous,
            trusted: false,
        };
        let now = Instant::now();
        let (mut early, mut allowed) = (0, 0);
        for _ in 0..80 {
            if c.anon_refused(ip, &rl, now, 100).is_some() {
                early += 1;
                continue;
            }
            c.note(&req, from, &who, false, 100, false);
            if c.over(&req, from, &who, &rl, now).is_none() {
                allowed += 1;
            }
        }
        assert_eq!(allowed, rl.anon as u32);
        assert_eq!(early, 80 - allowed);
        assert_eq!(c.saved()[0].reqs, 80);
        // a second later the bucket is full again
        let later = now + std::time::Duration::from_secs(1);
        assert!(c.anon_refused(ip, &rl, later, 101).is_none());
    }
}
