//! The retransmission cache: answers of recent QUERY, REPORT, DELETE and
//! state-changing ADMN requests, keyed by the client's address and the
//! request's header without its transmission number, kept about 32
//! seconds. A retransmission is answered from here (with its own
//! transmission number, written unsigned after the other answers of the
//! pass and signed afresh with them) instead of being counted again.
//!
//! Memory: an answer is kept as the bytes sent, without the signature, in
//! one ring of bytes (an answer to a REPORT of ten checksums: 104 bytes),
//! its key and age in a ring of fixed-size entries, and the keys found
//! through a table of 64-bit keyed hashes: no allocation per answer and
//! about 145 bytes per answer of a three-checksum REPORT (a million
//! answers took 138 MiB in dccd-bench's memory mode), where a `Response`
//! in a `HashMap` with a queue of keys took about 300 bytes and two
//! allocations, which the allocator kept once the cache expired.
//!
//! Speed: remembering the answers of QUERYs too, as the original does,
//! costs dccd-bench's QUERY at 16 in flight about a tenth more server CPU
//! (medians of eight alternated 8-second runs: 3.31 µs a request without,
//! 3.84 with). Tried and dropped: an index of one cache line per bucket
//! (eight slots of sequence number and tag, nothing removed, the lines of
//! a whole batch touched before the look-ups so that their misses
//! overlap) instead of the hash map: 3.90 µs; with the cache capped at
//! 100,000 answers instead of a million, 7 % above none. The cost is
//! copying the answers and their footprint in the caches, not the probes.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tally_wire::header::{cache_key, CACHE_KEY_LEN, SIG_LEN};
use tally_wire::packet::{Packet, Request};

use crate::server::{Reply, Who};

/// How long answers are remembered (the original's longest retransmission delay).
pub const KEEP: Duration = Duration::from_secs(32);
/// The most answers remembered (about 30 s at 30,000 reports/s).
pub const MAX_ENTRIES: usize = 1_000_000;

/// Where the transmission number `t` is in a header (the bytes after the
/// cache key).
const T_AT: usize = CACHE_KEY_LEN;

/// The client's address (IPv6 or mapped IPv4, port) and the cache key.
type Key = [u8; 18 + CACHE_KEY_LEN];

fn key_of(from: SocketAddr, buf: &[u8]) -> Option<Key> {
    let ck = cache_key(buf)?;
    let ip = match from.ip() {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    };
    let mut k = [0u8; 18 + CACHE_KEY_LEN];
    k[..16].copy_from_slice(&ip.octets());
    k[16..18].copy_from_slice(&from.port().to_be_bytes());
    k[18..].copy_from_slice(&ck);
    Some(k)
}

/// One remembered answer.
#[derive(Clone, Copy)]
struct Entry {
    /// Where its answer starts, counting every byte ever put in the ring.
    off: u64,
    key: Key,
    /// Length of the answer without its signature.
    len: u16,
    /// When it was remembered, in ms after the cache's `base`.
    at_ms: u32,
}

fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// A hasher for keys that are already keyed hashes.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The cache.
pub struct Ridc {
    /// Keyed hash of a key → sequence number of its entry.
    index: HashMap<u64, u64, BuildHasherDefault<Identity>>,
    entries: VecDeque<Entry>,
    /// The sequence number of `entries.front()`.
    first_seq: u64,
    /// The answers of `entries`, back to back.
    bytes: VecDeque<u8>,
    /// The `off` of `bytes.front()`.
    first_byte: u64,
    /// Keys of the hash, drawn at start-up.
    seed: [u64; 2],
    base: Instant,
    /// Answers remembered since [`Ridc::mark`].
    since_mark: usize,
}

impl Default for Ridc {
    fn default() -> Self {
        Ridc {
            index: HashMap::default(),
            entries: VecDeque::new(),
            first_seq: 0,
            bytes: VecDeque::new(),
            first_byte: 0,
            seed: [
                RandomState::new().hash_one(1u64) | 1,
                RandomState::new().hash_one(2u64),
            ],
            base: Instant::now(),
            since_mark: 0,
        }
    }
}

impl Ridc {
    /// A keyed hash of a key (multiply and fold, eight bytes at a time:
    /// a few ns instead of SipHash's few tens).
    fn hash(&self, k: &Key) -> u64 {
        let mut h = self.seed[1];
        for c in k.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            h = folded_multiply(
                h ^ u64::from_le_bytes(w),
                self.seed[0] ^ 0x9e37_79b9_7f4a_7c15,
            );
        }
        folded_multiply(h, self.seed[0])
    }

    fn ms(&self, t: Instant) -> u32 {
        u32::try_from(t.saturating_duration_since(self.base).as_millis()).unwrap_or(u32::MAX)
    }

    /// Forget the answers older than [`KEEP`] (and the oldest beyond
    /// [`MAX_ENTRIES`]).
    pub(crate) fn expire(&mut self, now: Instant) {
        let now_ms = self.ms(now);
        let keep_ms = KEEP.as_millis() as u32;
        while let Some(e) = self.entries.front().copied() {
            if now_ms.saturating_sub(e.at_ms) < keep_ms && self.entries.len() < MAX_ENTRIES {
                break;
            }
            let h = self.hash(&e.key);
            if self.index.get(&h) == Some(&self.first_seq) {
                self.index.remove(&h);
            }
            self.entries.pop_front();
            let n = usize::from(e.len).min(self.bytes.len());
            self.bytes.drain(..n);
            self.first_byte += n as u64;
            self.first_seq += 1;
        }
        // Give the memory of a past burst back.
        if self.index.capacity() > 4096 && self.index.len() < self.index.capacity() / 8 {
            self.index.shrink_to_fit();
            self.entries.shrink_to_fit();
            self.bytes.shrink_to_fit();
        }
    }

    /// The entry of `key` and where its answer starts in `bytes`.
    fn find(&self, key: &Key) -> Option<(Entry, usize)> {
        let seq = *self.index.get(&self.hash(key))?;
        let i = usize::try_from(seq.checked_sub(self.first_seq)?).ok()?;
        let e = *self.entries.get(i)?;
        if e.key != *key {
            return None;
        }
        let start = usize::try_from(e.off.checked_sub(self.first_byte)?).ok()?;
        (start + usize::from(e.len) <= self.bytes.len()).then_some((e, start))
    }

    /// The cached answer to a retransmission of `req`, written unsigned
    /// at the end of `out` with the signer for it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn replay(
        &mut self,
        from: SocketAddr,
        buf: &[u8],
        req: &Packet<Request>,
        who: &Who,
        _srvr_id: u16,
        now: Instant,
        out: &mut Vec<u8>,
    ) -> Option<Reply> {
        self.expire(now);
        let key = key_of(from, buf)?;
        let (e, start) = self.find(&key)?;
        let t = buf.get(T_AT..T_AT + 4)?;
        let at = out.len();
        let (a, b) = self.bytes.as_slices();
        let end = start + usize::from(e.len);
        // the answer's bytes, which may wrap around the ring's end
        let (a, b) = match a.len() {
            n if end <= n => (a.get(start..end)?, &[][..]),
            n if start >= n => (b.get(start - n..end - n)?, &[][..]),
            n => (a.get(start..)?, b.get(..end - n)?),
        };
        out.extend_from_slice(a);
        out.extend_from_slice(b);
        out.extend_from_slice(&[0; SIG_LEN]);
        // The answer as it was, with the retransmission's own `t`.
        match out.get_mut(at + T_AT..at + T_AT + 4) {
            Some(place) => place.copy_from_slice(t),
            None => {
                out.truncate(at);
                return None;
            }
        }
        Some(Reply::Send {
            at,
            signer: who.auth.answer_signer(req.pkt_vers, &req.op_nums),
            delay: Duration::ZERO,
        })
    }

    /// Remember the answer (the datagram `answer`, its signature aside)
    /// to a request.
    pub fn remember(&mut self, from: SocketAddr, buf: &[u8], answer: &[u8], now: Instant) {
        let Some(key) = key_of(from, buf) else { return };
        let body = answer
            .get(..answer.len().saturating_sub(SIG_LEN))
            .unwrap_or(&[]);
        let Ok(len) = u16::try_from(body.len()) else {
            return;
        };
        let seq = self.first_seq + self.entries.len() as u64;
        let h = self.hash(&key);
        self.index.insert(h, seq);
        self.entries.push_back(Entry {
            off: self.first_byte + self.bytes.len() as u64,
            key,
            len,
            at_ms: self.ms(now),
        });
        self.bytes.extend(body);
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
        for _ in 0..self.since_mark.min(self.entries.len()) {
            let seq = self.first_seq + self.entries.len() as u64 - 1;
            if let Some(e) = self.entries.pop_back() {
                let h = self.hash(&e.key);
                if self.index.get(&h) == Some(&seq) {
                    self.index.remove(&h);
                }
                self.bytes
                    .truncate(self.bytes.len().saturating_sub(usize::from(e.len)));
            }
        }
        self.since_mark = 0;
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}
