//! The retransmission cache: answers of recent QUERY, REPORT, DELETE and
//! state-changing ADMN requests, keyed by the client's address and the
//! request's header without its transmission number, kept about 32
//! seconds. A retransmission is answered from here (signed afresh, with
//! its own transmission number) instead of being counted again.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tally_wire::header::{cache_key, CACHE_KEY_LEN};
use tally_wire::packet::{Packet, Request, Response};

use crate::server::{Action, Who};

/// How long answers are remembered (the original's longest retransmission delay).
pub const KEEP: Duration = Duration::from_secs(32);
/// The most answers remembered (about 30 s at 30,000 reports/s).
pub const MAX_ENTRIES: usize = 1_000_000;

type Key = (SocketAddr, [u8; CACHE_KEY_LEN]);

/// The cache.
#[derive(Default)]
pub struct Ridc {
    map: HashMap<Key, (Response, Instant)>,
    order: VecDeque<(Key, Instant)>,
    /// Answers remembered since [`Ridc::mark`].
    since_mark: usize,
}

impl Ridc {
    fn expire(&mut self, now: Instant) {
        while let Some((k, t)) = self.order.front().copied() {
            if now.duration_since(t) < KEEP && self.order.len() < MAX_ENTRIES {
                break;
            }
            self.order.pop_front();
            if self.map.get(&k).is_some_and(|(_, t2)| *t2 == t) {
                self.map.remove(&k);
            }
        }
        // Give the memory of a past burst back.
        if self.map.capacity() > 4096 && self.map.len() < self.map.capacity() / 8 {
            self.map.shrink_to_fit();
            self.order.shrink_to_fit();
        }
    }

    /// The cached answer to a retransmission of `req`, signed for it.
    pub(crate) fn replay(
        &mut self,
        from: SocketAddr,
        buf: &[u8],
        req: &Packet<Request>,
        who: &Who,
        srvr_id: u16,
        now: Instant,
    ) -> Option<Action> {
        self.expire(now);
        let key = (from, cache_key(buf)?);
        let (body, _) = self.map.get(&key)?;
        let mut p = Packet::response_to(req, u32::from(srvr_id), body.clone());
        let bytes = p.sign(&who.auth.answer_signer(req.pkt_vers, &req.op_nums));
        Some(Action::Send(bytes, Duration::ZERO))
    }

    /// Remember the answer to a request.
    pub fn remember(&mut self, from: SocketAddr, buf: &[u8], body: Response, now: Instant) {
        let Some(k) = cache_key(buf) else { return };
        let key = (from, k);
        self.map.insert(key, (body, now));
        self.order.push_back((key, now));
        self.since_mark += 1;
        self.expire(now);
    }

    /// Start counting the answers remembered, for [`Ridc::forget_since_mark`].
    pub fn mark(&mut self) {
        self.since_mark = 0;
    }

    /// Forget the answers remembered since [`Ridc::mark`] (their requests'
    /// records could not be written, so their answers never left).
    pub fn forget_since_mark(&mut self) {
        for _ in 0..self.since_mark.min(self.order.len()) {
            if let Some((k, t)) = self.order.pop_back() {
                if self.map.get(&k).is_some_and(|(_, t2)| *t2 == t) {
                    self.map.remove(&k);
                }
            }
        }
        self.since_mark = 0;
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
