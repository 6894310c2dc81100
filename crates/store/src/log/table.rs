//! The totals of the log store: a compact hash table of fixed-size
//! entries keyed by the checksum, without an allocation per entry.
//!
//! A bucket is one 64-byte cache line holding three entries of 20 bytes
//! (the 16-byte checksum value, then the type number in the high byte and
//! the total in the low 24 bits of a word; totals saturate at
//! [`tgts::MANY`], below 2^24) and a one-byte tag per entry (0 empty, 1 a
//! deleted entry, otherwise 8 bits of the hash). A lookup reads the
//! bucket the hash names and, rarely, the ones after it (linear probing
//! over buckets), comparing the full checksum only where the tag
//! matches: about one cache line per probe. The table grows by half when
//! it is 7/8 full, so it is 58-88 % full: 24-37 bytes per checksum.
//!
//! The hash is keyed with random numbers drawn at start-up, so that
//! clients, who choose the checksums they send, cannot aim them at one
//! bucket.

use crate::types::{tgts, Ck};
use tally_ck::{CkType, Sum};

/// Entries per bucket.
const WAYS: usize = 3;
/// Tag of a free entry.
const EMPTY: u8 = 0;
/// Tag of a deleted entry (skipped by lookups, reused by inserts).
const GONE: u8 = 1;

/// One cache line: three entries and their tags.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Bucket {
    tags: [u8; 4],
    sums: [[u8; 16]; WAYS],
    words: [u32; WAYS],
}

const EMPTY_BUCKET: Bucket = Bucket {
    tags: [EMPTY; 4],
    sums: [[0; 16]; WAYS],
    words: [0; WAYS],
};

/// The table of totals.
pub struct Totals {
    buckets: Vec<Bucket>,
    /// Live entries.
    live: usize,
    /// Entries tagged [`GONE`].
    gone: usize,
    seed: [u64; 2],
}

/// 64 bits of randomness from the standard library's keyed hasher.
fn random_u64(n: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish()
}

fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

impl Default for Totals {
    fn default() -> Self {
        Totals::with_capacity(0)
    }
}

impl Totals {
    /// A table with room for `n` checksums before it grows.
    pub fn with_capacity(n: usize) -> Totals {
        let buckets = (n.saturating_mul(8) / 7 / WAYS + 1).max(4);
        Totals {
            buckets: vec![EMPTY_BUCKET; buckets],
            live: 0,
            gone: 0,
            seed: [random_u64(1) | 1, random_u64(2)],
        }
    }

    fn hash(&self, ck: &Ck) -> u64 {
        let s = &ck.sum.0;
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&s[..8]);
        b.copy_from_slice(&s[8..]);
        let a = u64::from_le_bytes(a) ^ self.seed[0];
        let b = u64::from_le_bytes(b) ^ self.seed[1] ^ u64::from(ck.ty.number());
        folded_multiply(folded_multiply(a, b ^ 0x9e37_79b9_7f4a_7c15), self.seed[0])
    }

    /// The bucket where the hash `h` starts and its tag.
    fn start(&self, h: u64) -> (usize, u8) {
        let n = self.buckets.len() as u128;
        let i = ((u128::from(h) * n) >> 64) as usize;
        let tag = (h as u8).max(2);
        (i, tag)
    }

    /// (bucket, way) of `ck`, if present.
    fn find(&self, ck: &Ck) -> Option<(usize, usize)> {
        let (mut i, tag) = self.start(self.hash(ck));
        let ty = u32::from(ck.ty.number());
        // Every bucket at most once; a free entry ends the search.
        for _ in 0..self.buckets.len() {
            let b = self.buckets.get(i)?;
            for w in 0..WAYS {
                if b.tags[w] == tag && b.words[w] >> 24 == ty && b.sums[w] == ck.sum.0 {
                    return Some((i, w));
                }
                if b.tags[w] == EMPTY {
                    return None;
                }
            }
            i = if i + 1 == self.buckets.len() {
                0
            } else {
                i + 1
            };
        }
        None
    }

    /// The total of `ck` (`None`: not in the table).
    pub fn get(&self, ck: &Ck) -> Option<u32> {
        let (i, w) = self.find(ck)?;
        self.buckets.get(i).map(|b| b.words[w] & 0x00ff_ffff)
    }

    /// Set the total of `ck` (at most [`tgts::MANY`]; 0 removes it) and
    /// return the one it had (0: none).
    pub fn insert(&mut self, ck: Ck, total: u32) -> u32 {
        if total == 0 {
            return self.remove(&ck).unwrap_or(0);
        }
        let word = u32::from(ck.ty.number()) << 24 | total.min(tgts::MANY);
        if let Some((i, w)) = self.find(&ck) {
            if let Some(b) = self.buckets.get_mut(i) {
                let old = b.words[w] & 0x00ff_ffff;
                b.words[w] = word;
                return old;
            }
        }
        if (self.live + self.gone + 1) * 8 > self.buckets.len() * WAYS * 7 {
            self.grow();
        }
        self.put_new(ck.sum.0, word, self.hash(&ck));
        self.live += 1;
        0
    }

    /// Add `n` to the total of `ck` (saturating at [`tgts::MANY`]) with one
    /// probe when it is present, and return the total it had (0: none).
    pub fn add(&mut self, ck: Ck, n: u32) -> u32 {
        if let Some((i, w)) = self.find(&ck) {
            if let Some(b) = self.buckets.get_mut(i) {
                let old = b.words[w] & 0x00ff_ffff;
                let total = tgts::add(old, n);
                if total != 0 {
                    b.words[w] = u32::from(ck.ty.number()) << 24 | total;
                    return old;
                }
            }
        }
        self.insert(ck, tgts::add(0, n));
        0
    }

    /// Put an entry known to be absent into the first free or deleted
    /// entry from its bucket on.
    fn put_new(&mut self, sum: [u8; 16], word: u32, h: u64) {
        let (mut i, tag) = self.start(h);
        let n = self.buckets.len();
        // The table is never full (it grows at 7/8), so a free entry is
        // found within one round.
        for _ in 0..n {
            if let Some(b) = self.buckets.get_mut(i) {
                for w in 0..WAYS {
                    if b.tags[w] == EMPTY || b.tags[w] == GONE {
                        if b.tags[w] == GONE {
                            self.gone -= 1;
                        }
                        b.tags[w] = tag;
                        b.sums[w] = sum;
                        b.words[w] = word;
                        return;
                    }
                }
            }
            i = if i + 1 == n { 0 } else { i + 1 };
        }
    }

    /// Remove `ck`, returning its total.
    pub fn remove(&mut self, ck: &Ck) -> Option<u32> {
        let (i, w) = self.find(ck)?;
        let b = self.buckets.get_mut(i)?;
        let old = b.words[w] & 0x00ff_ffff;
        b.tags[w] = GONE;
        b.words[w] = 0;
        self.live -= 1;
        self.gone += 1;
        Some(old)
    }

    /// Move everything to a table half as large again (deleted entries
    /// are dropped on the way).
    fn grow(&mut self) {
        let want = (self.live + 1).max(self.buckets.len() * WAYS * 7 / 8) * 3 / 2;
        let mut next = Totals::with_capacity(want);
        next.seed = self.seed;
        for (ck, total) in self.iter() {
            let word = u32::from(ck.ty.number()) << 24 | total;
            let h = next.hash(&ck);
            next.put_new(ck.sum.0, word, h);
            next.live += 1;
        }
        *self = next;
    }

    /// Give back room when far fewer entries are left than the table holds.
    pub fn shrink_to_fit(&mut self) {
        if self.live * 4 < self.buckets.len() * WAYS {
            let mut next = Totals::with_capacity(self.live);
            next.seed = self.seed;
            for (ck, total) in self.iter() {
                next.insert(ck, total);
            }
            *self = next;
        }
    }

    /// Every checksum with its total, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Ck, u32)> + '_ {
        self.buckets.iter().flat_map(|b| {
            (0..WAYS).filter_map(move |w| {
                if b.tags[w] < 2 {
                    return None;
                }
                let ty = CkType::from_number((b.words[w] >> 24) as u8)?;
                Some((Ck::new(ty, Sum(b.sums[w])), b.words[w] & 0x00ff_ffff))
            })
        })
    }

    /// Checksums held.
    pub fn len(&self) -> usize {
        self.live
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ck(n: u32, t: usize) -> Ck {
        let mut s = [0u8; 16];
        s[..4].copy_from_slice(&n.to_be_bytes());
        Ck::new(CkType::ALL[t % CkType::ALL.len()], Sum(s))
    }

    #[test]
    fn bucket_is_a_cache_line() {
        assert_eq!(std::mem::size_of::<Bucket>(), 64);
    }

    #[test]
    fn agrees_with_a_hash_map() {
        let mut t = Totals::default();
        let mut m: HashMap<Ck, u32> = HashMap::new();
        // deterministic pseudo-random operations over a small key space,
        // so that keys come back after deletion and the table grows
        let mut x: u64 = 12345;
        for step in 0..200_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = ck((x >> 33) as u32 % 20_000, (x >> 20) as usize % 3);
            match x % 7 {
                0 => assert_eq!(t.remove(&k), m.remove(&k)),
                1 => {
                    let v = step % 100 + 1;
                    let old = m.get(&k).copied().unwrap_or(0);
                    m.insert(k, tgts::add(old, v));
                    assert_eq!(t.add(k, v), old);
                }
                _ => {
                    let v = (step % 1000) + 1;
                    assert_eq!(t.insert(k, v), m.insert(k, v).unwrap_or(0));
                }
            }
            if step % 20_000 == 0 {
                assert_eq!(t.len(), m.len());
            }
        }
        assert_eq!(t.len(), m.len());
        for (k, v) in &m {
            assert_eq!(t.get(k), Some(*v));
        }
        let mut seen: Vec<(Ck, u32)> = t.iter().collect();
        seen.sort();
        let mut want: Vec<(Ck, u32)> = m.into_iter().collect();
        want.sort();
        assert_eq!(seen, want);
        t.shrink_to_fit();
        assert_eq!(t.iter().count(), want.len());
    }

    #[test]
    fn totals_saturate_and_same_sum_other_type_is_another_key() {
        let mut t = Totals::with_capacity(10);
        let a = Ck::new(CkType::Body, Sum([7; 16]));
        let b = Ck::new(CkType::Fuz1, Sum([7; 16]));
        t.insert(a, u32::MAX);
        t.insert(b, 2);
        assert_eq!(t.get(&a), Some(tgts::MANY));
        assert_eq!(t.get(&b), Some(2));
        assert_eq!(t.remove(&a), Some(tgts::MANY));
        assert_eq!(t.get(&a), None);
        assert_eq!(t.get(&b), Some(2));
    }
}
