//! MD5 of the Body, Fuz2 and Fuz1 byte streams, four or two streams at a
//! time.
//!
//! Body hashes almost every byte of a message and Fuz2 hashes the words of
//! each language, so most of a body's bytes are hashed more than once. One
//! MD5 computation is a long chain of dependent steps that keeps only a
//! small part of a processor busy, so independent computations run side by
//! side in about the time of one. The streams are therefore gathered in
//! per-stream buffers ([`Hub`]) and, whenever one of them is full, its
//! blocks are compressed together with those of other streams, and at the
//! end the streams that give the checksums are finished together. Fuz1's
//! stream (at most 4 KiB) is mostly a partner for blocks of Body. The
//! result of each stream is plain MD5 (RFC 1321).
//!
//! Where the processor has AVX-512 F and VL ([`x4`]), four streams go in
//! the lanes of one vector register: the full stream with the three other
//! fullest, as many blocks of each as the full one gives. A step there
//! waits on four operations instead of five in the first and last rounds,
//! so Body's chain of blocks, which bounds a long message's time, runs
//! faster than alone in general registers and never waits for a partner.
//! Elsewhere two streams are interleaved step by step in general
//! registers, the full one with the fullest other, and of the blocks left
//! without a partner only those that keep the stream more than half full
//! are compressed alone.
//!
//! The 8 KiB pending buffers of a hub go, when it is dropped, to a small
//! pool of the thread (at most one hub's worth, 48 KiB) from which the next
//! message's hub takes them, neither allocated nor zeroed again: a reused
//! buffer's old bytes are never read (see `new_pending`). Allocating and
//! zeroing them per message had been about 2 % of the corpus run (memset 1
//! %, malloc and free); with the pool the corpus went from 37,150-37,800
//! to 38,200-39,050 messages/s (best of 5 passes, old and new binaries
//! alternated four times, one core), and callgrind counts 9.5 % fewer
//! instructions per corpus pass.

use std::cell::RefCell;

#[cfg(target_arch = "x86_64")]
mod x4;

/// Whether four streams are compressed at once ([`x4`]; not where tests
/// switch the x86-64 kernels off).
#[inline]
fn four() -> bool {
    #[cfg(target_arch = "x86_64")]
    return super::classes::avx2() && x4::available();
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Number of streams.
pub const LANES: usize = 6;
/// The Body stream.
pub const BODY: usize = 0;
/// The stream of Fuz2 language `l` is `FUZ2 + l`.
pub const FUZ2: usize = 1;
/// The Fuz1 stream (at most 4 KiB, a partner for the blocks of the others).
pub const FUZ1: usize = 5;

/// Bytes a stream gathers before its blocks are compressed (a multiple of
/// the block size, and a power of two so that in-place writers can index
/// with a mask).
pub const CAP: usize = 8 * 1024;
/// Room after `CAP` for one padded word (see [`Hub::push_word`]).
const SLACK: usize = 16;
const BLOCK: usize = 64;

/// Initial MD5 state.
pub(crate) const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// Additive constants, `floor(abs(sin(i + 1)) * 2^32)`.
const K: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

/// Rotation of each step: four per round, repeated.
const ROT: [[u32; 4]; 4] = [
    [7, 12, 17, 22],
    [5, 9, 14, 20],
    [4, 11, 16, 23],
    [6, 10, 15, 21],
];

/// Which message word step `i` adds.
const fn word_index(i: usize) -> usize {
    match i / 16 {
        0 => i,
        1 => (5 * i + 1) % 16,
        2 => (3 * i + 5) % 16,
        _ => (7 * i) % 16,
    }
}

/// The round function of step `i` (the second round's is added in two
/// terms by [`step_km`]).
#[inline(always)]
fn round_fn(i: usize, b: u32, c: u32, d: u32) -> u32 {
    match i / 16 {
        // the selections (b & c) | (!b & d) and (b & d) | (c & !d), in a
        // form with one operation fewer
        0 => ((c ^ d) & b) ^ d,
        1 => ((b ^ c) & d) ^ c,
        2 => b ^ c ^ d,
        _ => c ^ (b | !d),
    }
}

/// The sixteen little-endian words of a 64-byte block.
#[inline(always)]
fn words(block: &[u8]) -> [u32; 16] {
    let mut m = [0u32; 16];
    // a block of known size, so that the words are read in a few vector
    // moves instead of a call to copy memory of a length known only at
    // run time
    let block: &[u8; BLOCK] = match block.get(..BLOCK).map(<&[u8; BLOCK]>::try_from) {
        Some(Ok(b)) => b,
        _ => return m,
    };
    for (w, c) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    m
}

/// Run `$body` for the 64 steps, with `$i` a literal so that each step's
/// constants are known at compile time (the steps are fully unrolled).
macro_rules! all_steps {
    (|$i:ident| $body:expr) => {
        all_steps!(@ $i, $body, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23
            24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51
            52 53 54 55 56 57 58 59 60 61 62 63)
    };
    (@ $i:ident, $body:expr, $($n:literal)*) => {
        $({
            let $i: usize = $n;
            $body;
        })*
    };
}

/// The last one or two blocks of an MD5 input of `total` bytes whose
/// last `rest` bytes (fewer than a block) are not yet compressed: those
/// bytes, 0x80, zeros and the length in bits; and how many blocks they are.
pub(crate) fn padded_tail(rest: &[u8], total: u64) -> ([u8; 2 * BLOCK], usize) {
    let mut tail = [0u8; 2 * BLOCK];
    let n = rest.len().min(BLOCK - 1);
    tail[..n].copy_from_slice(&rest[..n]);
    tail[n] = 0x80;
    let end = if n < BLOCK - 8 { BLOCK } else { 2 * BLOCK };
    tail[end - 8..end].copy_from_slice(&total.wrapping_mul(8).to_le_bytes());
    (tail, end / BLOCK)
}

/// The digest of a final MD5 state (its words little-endian).
pub(crate) fn digest(st: [u32; 4]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, s) in out.chunks_exact_mut(4).zip(st) {
        o.copy_from_slice(&s.to_le_bytes());
    }
    out
}

/// Compress the whole blocks of each `src[k]` into `st[k]`, the four
/// streams at once ([`x4`]), where the processor can; false (nothing
/// done) where it cannot.
pub(crate) fn compress_four(st: &mut [[u32; 4]; 4], src: [&[u8]; 4]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if four() {
        // SAFETY: four() checked x4::available()
        unsafe { x4::compress4(st, src) };
        return true;
    }
    let _ = (st, src);
    false
}

/// Compress one block into `st`.
pub(crate) fn compress1(st: &mut [u32; 4], block: &[u8]) {
    // the sums of constants and words read from memory, as in compress2
    let km = std::hint::black_box(schedule(block));
    let mut v = *st;
    all_steps!(|i| step_km(i, &mut v, &km));
    for (s, x) in st.iter_mut().zip(v) {
        *s = s.wrapping_add(x);
    }
}

/// The sum of each step's constant and message word ([`K`] and
/// [`word_index`]), computed once per block.
#[inline(always)]
fn schedule(block: &[u8]) -> [u32; 64] {
    let m = words(block);
    let mut km = [0u32; 64];
    all_steps!(|i| km[i] = K[i].wrapping_add(m[word_index(i)]));
    km
}

/// One step of one stream, with the step's constant and message word
/// already added ([`schedule`]). The steps of a stream form one chain of
/// dependent operations, which sets the pace: the step is written so that
/// the fewest operations wait on the previous step's result `b` (the sum
/// of the schedule is added to `a` first, as one memory operand).
#[inline(always)]
fn step_km(i: usize, v: &mut [u32; 4], km: &[u32; 64]) {
    let [a, b, c, d] = *v;
    let t = a.wrapping_add(km[i]);
    let t = if i / 16 == 1 {
        t.wrapping_add(c & !d).wrapping_add(b & d)
    } else {
        t.wrapping_add(round_fn(i, b, c, d))
    };
    *v = [d, b.wrapping_add(t.rotate_left(ROT[i / 16][i % 4])), b, c];
}

/// Compress one block into each of two independent states, interleaved.
pub(crate) fn compress2(st1: &mut [u32; 4], block1: &[u8], st2: &mut [u32; 4], block2: &[u8]) {
    // the sums of constants and words read from memory (opaque to the
    // compiler), so that they are added first, off the chain of
    // dependent operations, each as one memory operand
    let km1 = std::hint::black_box(schedule(block1));
    let km2 = std::hint::black_box(schedule(block2));
    let mut v1 = *st1;
    let mut v2 = *st2;
    all_steps!(|i| {
        step_km(i, &mut v1, &km1);
        step_km(i, &mut v2, &km2);
    });
    for (s, x) in st1.iter_mut().zip(v1) {
        *s = s.wrapping_add(x);
    }
    for (s, x) in st2.iter_mut().zip(v2) {
        *s = s.wrapping_add(x);
    }
}

/// The pending bytes of a stream: `CAP` plus room for one padded word.
pub type Pending = [u8; CAP + SLACK];

/// One stream: its MD5 state and the bytes not yet compressed.
#[derive(Clone)]
struct Lane {
    st: [u32; 4],
    /// Bytes compressed so far.
    done: u64,
    len: usize,
    /// Allocated on first use: a short message touches only one or two
    /// streams, and zeroing all five buffers was a large part of its cost.
    pend: Option<Box<Pending>>,
}

impl Default for Lane {
    fn default() -> Self {
        Lane {
            st: INIT,
            done: 0,
            len: 0,
            pend: None,
        }
    }
}

/// Most pending buffers kept for reuse per thread: those of one hub.
const POOL_MAX: usize = LANES;

thread_local! {
    /// Pending buffers of the hubs dropped on this thread, for the next
    /// ones (see [`Hub`]'s `Drop`).
    static POOL: RefCell<Vec<Box<Pending>>> = const { RefCell::new(Vec::new()) };
}

/// A pending buffer: one a dropped hub left on this thread, or a new
/// zeroed one. A reused buffer keeps its old bytes; they are never read:
/// every reader of a stream's buffer (compression, [`Lane::consume`],
/// [`Lane::tail_at`], [`block_at`]) reads only below the stream's `len`,
/// and every byte there was written since the stream started (`push`,
/// `push_word`, or in place through [`Hub::space`]).
fn new_pending() -> Box<Pending> {
    POOL.try_with(|p| p.try_borrow_mut().ok()?.pop())
        .ok()
        .flatten()
        .unwrap_or_else(zeroed_pending)
}

/// A zeroed pending buffer, allocated directly on the heap.
fn zeroed_pending() -> Box<Pending> {
    let v: Box<[u8]> = vec![0u8; CAP + SLACK].into_boxed_slice();
    v.try_into().unwrap_or_else(|_| Box::new([0; CAP + SLACK]))
}

impl Lane {
    /// The pending buffer, allocated if need be.
    #[inline]
    fn pend_mut(&mut self) -> &mut Pending {
        self.pend.get_or_insert_with(new_pending)
    }

    /// Drop the first `n` pending bytes (they were compressed).
    fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        if n == 0 {
            return;
        }
        let len = self.len;
        self.pend_mut().copy_within(n..len, 0);
        self.len -= n;
        self.done = self.done.wrapping_add(n as u64);
    }

    /// The padded last one or two blocks of the stream, once fewer than
    /// `BLOCK` bytes are pending, and how many blocks they are.
    fn tail(&self) -> ([u8; 2 * BLOCK], usize) {
        self.tail_at(0)
    }

    /// [`Lane::tail`] once the pending bytes before `off` are compressed
    /// (fewer than `BLOCK` after it).
    fn tail_at(&self, off: usize) -> ([u8; 2 * BLOCK], usize) {
        let total = self.done.wrapping_add(self.len as u64);
        let off = off.min(self.len);
        let n = (self.len - off).min(BLOCK - 1);
        let rest = match &self.pend {
            Some(pend) => &pend[off..off + n],
            None => &[],
        };
        padded_tail(rest, total)
    }

    /// The digest of the state, after the last block; the stream starts
    /// over, keeping its buffer.
    fn digest(&mut self) -> [u8; 16] {
        let out = digest(self.st);
        self.st = INIT;
        self.done = 0;
        self.len = 0;
        out
    }

    /// Compress the first pending full blocks, up to `upto` bytes, one at a
    /// time.
    fn compress_alone(&mut self, upto: usize) {
        let full = upto.min(self.len) / BLOCK * BLOCK;
        if let Some(pend) = &self.pend {
            for b in pend[..full].chunks_exact(BLOCK) {
                compress1(&mut self.st, b);
            }
        }
        self.consume(full);
    }
}

/// The MD5 streams of Body and Fuz2.
#[derive(Clone, Default)]
pub struct Hub {
    lanes: [Lane; LANES],
}

/// The block of stream `l` at `at` in its pending bytes.
fn block_at(lanes: &[Lane; LANES], l: usize, at: usize) -> Option<&[u8; BLOCK]> {
    lanes
        .get(l)?
        .pend
        .as_deref()?
        .get(at..at + BLOCK)?
        .try_into()
        .ok()
}

impl Drop for Hub {
    /// The pending buffers go back to this thread's pool (up to
    /// `POOL_MAX`), so that the next message neither allocates nor zeroes
    /// them.
    fn drop(&mut self) {
        let _ = POOL.try_with(|p| {
            let Ok(mut pool) = p.try_borrow_mut() else {
                return;
            };
            for l in &mut self.lanes {
                if pool.len() >= POOL_MAX {
                    break;
                }
                if let Some(b) = l.pend.take() {
                    pool.push(b);
                }
            }
        });
    }
}

/// Mutable references to two different elements.
fn two_mut<T>(s: &mut [T], i: usize, j: usize) -> Option<(&mut T, &mut T)> {
    if i == j || i >= s.len() || j >= s.len() {
        return None;
    }
    if i < j {
        let (lo, hi) = s.split_at_mut(j);
        Some((lo.get_mut(i)?, hi.first_mut()?))
    } else {
        let (lo, hi) = s.split_at_mut(i);
        let b = lo.get_mut(j)?;
        Some((hi.first_mut()?, b))
    }
}

impl Hub {
    /// Append bytes to stream `lane`.
    pub fn push(&mut self, lane: usize, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let Some(l) = self.lanes.get_mut(lane) else {
                return;
            };
            let n = CAP.saturating_sub(l.len).min(bytes.len());
            let at = l.len;
            if let Some(d) = l.pend_mut().get_mut(at..at + n) {
                d.copy_from_slice(&bytes[..n]);
                l.len += n;
            }
            bytes = &bytes[n..];
            if l.len >= CAP {
                self.drain(lane);
            }
        }
    }

    /// Append the first `len` (at most 16) bytes of `w`, a word packed
    /// little-endian, to stream `lane`. `len` may be 0: then nothing is
    /// appended, and the stream's buffer is not allocated for it.
    #[inline]
    pub fn push_word(&mut self, lane: usize, w: u128, len: usize) {
        let Some(l) = self.lanes.get_mut(lane) else {
            return;
        };
        let pend = match &mut l.pend {
            Some(p) => p,
            None if len == 0 => return,
            None => l.pend.insert(new_pending()),
        };
        let at = l.len;
        if let Some(d) = pend.get_mut(at..at + SLACK) {
            d.copy_from_slice(&w.to_le_bytes());
        }
        let end = at + len.min(SLACK);
        l.len = end;
        if end >= CAP {
            self.drain(lane);
        }
    }

    /// Make room in stream `lane`: compress its full blocks together with
    /// those of the other streams, fullest first; of the blocks left
    /// without a partner, compress alone only those that keep the stream
    /// more than half full (the others wait for a partner).
    fn drain(&mut self, lane: usize) {
        if self.drain4(lane) {
            return;
        }
        loop {
            let partner = (0..LANES)
                .filter(|&k| k != lane)
                .max_by_key(|&k| self.lanes[k].len)
                .unwrap_or(lane);
            let Some((a, b)) = two_mut(&mut self.lanes, lane, partner) else {
                break;
            };
            let pairs = (a.len / BLOCK).min(b.len / BLOCK) * BLOCK;
            let (Some(pa), Some(pb)) = (&a.pend, &b.pend) else {
                break;
            };
            if pairs == 0 {
                break;
            }
            for (x, y) in pa[..pairs]
                .chunks_exact(BLOCK)
                .zip(pb[..pairs].chunks_exact(BLOCK))
            {
                compress2(&mut a.st, x, &mut b.st, y);
            }
            a.consume(pairs);
            b.consume(pairs);
        }
        if let Some(l) = self.lanes.get_mut(lane) {
            let excess = l.len.saturating_sub(CAP / 2);
            l.compress_alone(excess.div_ceil(BLOCK) * BLOCK);
        }
    }

    /// [`Hub::drain`] with four streams at once ([`compress_four`]): the
    /// blocks that bring stream `lane` down to half its buffer, with as
    /// many blocks of each of the three other fullest streams riding
    /// along. False (nothing done) where the processor cannot.
    fn drain4(&mut self, lane: usize) -> bool {
        let Some(l) = self.lanes.get(lane) else {
            return false;
        };
        let rounds = (l.len.saturating_sub(CAP / 2).div_ceil(BLOCK)).min(l.len / BLOCK);
        let mut order: [usize; LANES] = std::array::from_fn(|k| k);
        // `lane` first, then the others by pending bytes, most first
        order.sort_by_key(|&k| (k != lane, std::cmp::Reverse(self.lanes[k].len)));
        let which: [usize; 4] = std::array::from_fn(|k| order[k]);
        let take = which.map(|k| (self.lanes[k].len / BLOCK).min(rounds) * BLOCK);
        let mut st = which.map(|k| self.lanes[k].st);
        let src: [&[u8]; 4] = std::array::from_fn(|k| match &self.lanes[which[k]].pend {
            Some(p) => &p[..take[k]],
            None => &[],
        });
        if !compress_four(&mut st, src) {
            return false;
        }
        for k in 0..4 {
            let l = &mut self.lanes[which[k]];
            l.st = st[k];
            l.consume(take[k]);
        }
        true
    }

    /// The MD5 of stream `lane`, which starts over.
    pub fn finish(&mut self, lane: usize) -> [u8; 16] {
        let Some(l) = self.lanes.get_mut(lane) else {
            return [0; 16];
        };
        l.compress_alone(usize::MAX);
        let (tail, blocks) = l.tail();
        for b in tail[..blocks * BLOCK].chunks_exact(BLOCK) {
            compress1(&mut l.st, b);
        }
        l.digest()
    }

    /// The MD5s of two different streams `x` and `y`, which start over:
    /// [`Hub::finish`] of each, with their last blocks compressed together
    /// (a short message has all of its blocks there).
    #[cfg(test)]
    pub fn finish2(&mut self, x: usize, y: usize) -> ([u8; 16], [u8; 16]) {
        let [a, b] = self.finish_many([x, y]);
        (a, b)
    }

    /// The MD5s of `N` different streams, which start over: [`Hub::finish`]
    /// of each, with their remaining blocks compressed two at a time, the
    /// two streams with the most blocks left first.
    pub fn finish_many<const N: usize>(&mut self, which: [usize; N]) -> [[u8; 16]; N] {
        let distinct = (0..N).all(|k| which[k] < LANES && !which[..k].contains(&which[k]));
        if !distinct {
            return which.map(|l| self.finish(l));
        }
        if let Some(out) = self.finish4(which) {
            return out;
        }
        let mut st = which.map(|l| self.lanes[l].st);
        let mut off = [0usize; N];
        let mut full = which.map(|l| self.lanes[l].len / BLOCK);
        loop {
            // the two streams with the most full blocks left
            let mut order: [usize; N] = std::array::from_fn(|k| k);
            order.sort_by_key(|&k| std::cmp::Reverse(full[k]));
            let (Some(&i), Some(&j)) = (order.first(), order.get(1)) else {
                break;
            };
            if full[j] == 0 {
                break;
            }
            let (Some(p), Some(q)) = (
                block_at(&self.lanes, which[i], off[i]),
                block_at(&self.lanes, which[j], off[j]),
            ) else {
                break;
            };
            let (mut si, mut sj) = (st[i], st[j]);
            compress2(&mut si, p, &mut sj, q);
            (st[i], st[j]) = (si, sj);
            for k in [i, j] {
                off[k] += BLOCK;
                full[k] -= 1;
            }
        }
        for k in 0..N {
            while full[k] > 0 {
                let Some(p) = block_at(&self.lanes, which[k], off[k]) else {
                    break;
                };
                compress1(&mut st[k], p);
                off[k] += BLOCK;
                full[k] -= 1;
            }
        }
        // the padded tails: first blocks together, then the second ones
        let tails: [([u8; 2 * BLOCK], usize); N] =
            std::array::from_fn(|k| self.lanes[which[k]].tail_at(off[k]));
        for round in 0..2 {
            let mut waiting: Option<usize> = None;
            for k in 0..N {
                if round >= tails[k].1 {
                    continue;
                }
                let p = &tails[k].0[round * BLOCK..][..BLOCK];
                match waiting.take() {
                    None => waiting = Some(k),
                    Some(w) => {
                        let q = &tails[w].0[round * BLOCK..][..BLOCK];
                        let (mut sk, mut sw) = (st[k], st[w]);
                        compress2(&mut sk, p, &mut sw, q);
                        (st[k], st[w]) = (sk, sw);
                    }
                }
            }
            if let Some(w) = waiting {
                compress1(&mut st[w], &tails[w].0[round * BLOCK..][..BLOCK]);
            }
        }
        std::array::from_fn(|k| {
            let lane = &mut self.lanes[which[k]];
            lane.st = st[k];
            lane.digest()
        })
    }

    /// [`Hub::finish_many`] of at most four different streams at once
    /// ([`compress_four`]): their full pending blocks, then their padded
    /// tails. None (nothing done) for more streams or where the processor
    /// cannot.
    fn finish4<const N: usize>(&mut self, which: [usize; N]) -> Option<[[u8; 16]; N]> {
        if N > 4 {
            return None;
        }
        let mut st = [INIT; 4];
        let full: [usize; 4] = std::array::from_fn(|k| {
            which
                .get(k)
                .map_or(0, |&l| self.lanes[l].len / BLOCK * BLOCK)
        });
        for (s, &l) in st.iter_mut().zip(&which) {
            *s = self.lanes[l].st;
        }
        let src: [&[u8]; 4] = std::array::from_fn(|k| match which.get(k) {
            Some(&l) => self.lanes[l]
                .pend
                .as_deref()
                .map_or(&[][..], |p| &p[..full[k]]),
            None => &[],
        });
        if !compress_four(&mut st, src) {
            return None;
        }
        let tails: [([u8; 2 * BLOCK], usize); 4] = std::array::from_fn(|k| match which.get(k) {
            Some(&l) => self.lanes[l].tail_at(full[k]),
            None => ([0; 2 * BLOCK], 0),
        });
        let src: [&[u8]; 4] = std::array::from_fn(|k| &tails[k].0[..tails[k].1 * BLOCK]);
        compress_four(&mut st, src);
        Some(std::array::from_fn(|k| {
            let lane = &mut self.lanes[which[k]];
            lane.st = st[k];
            lane.digest()
        }))
    }

    /// Write bytes of stream `lane` in place: its pending buffer and how
    /// many bytes of it are filled, always fewer than `CAP`. Report the new
    /// length with [`Hub::filled`] before any other call on the hub.
    #[inline]
    pub fn space(&mut self, lane: usize) -> (&mut Pending, usize) {
        let l = &mut self.lanes[lane];
        let len = l.len;
        (l.pend_mut(), len)
    }

    /// The pending bytes of stream `lane` now end at `len` (at most
    /// `CAP`), after writing in place with [`Hub::space`].
    #[inline]
    pub fn filled(&mut self, lane: usize, len: usize) {
        let len = len.min(CAP);
        self.lanes[lane].len = len;
        if len >= CAP {
            self.drain(lane);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    #[test]
    fn reused_buffers_give_plain_md5() {
        // a hub fills every stream's buffer with other bytes and is dropped:
        // its buffers go to the pool, and the next hub's streams, given
        // fewer bytes, must not see the old ones
        let junk = [0xa5u8; CAP - 1];
        let mut hub = Hub::default();
        for lane in 0..LANES {
            hub.push(lane, &junk);
        }
        drop(hub);
        assert_eq!(POOL.with(|p| p.borrow().len()), POOL_MAX);
        for len in [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000] {
            let data: Vec<u8> = (0..len as u32).map(|i| (i * 7) as u8).collect();
            let mut hub = Hub::default();
            hub.push(BODY, &data);
            hub.push_word(FUZ2, u128::from(u64::from_le_bytes(*b"hello\0\0\0")), 5);
            let (w, _) = hub.space(FUZ1);
            w[..3].copy_from_slice(b"abc");
            hub.filled(FUZ1, 3);
            let got = hub.finish_many([BODY, FUZ2, FUZ1]);
            let want: [[u8; 16]; 3] = [
                Md5::digest(&data).into(),
                Md5::digest(b"hello").into(),
                Md5::digest(b"abc").into(),
            ];
            assert_eq!(got, want, "length {len}");
            assert!(POOL.with(|p| p.borrow().len()) < POOL_MAX, "buffers reused");
        }
    }

    /// Both ways of compressing: four streams at once ([`x4`], where the
    /// processor has it) and two at a time.
    #[test]
    fn streams_equal_plain_md5() {
        for portable in [false, true] {
            crate::body::with_portable_for_tests(portable, streams_equal_plain_md5_now);
        }
    }

    fn streams_equal_plain_md5_now() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 31 + i / 7) as u8).collect();
        let mut hub = Hub::default();
        let mut refs: Vec<Md5> = (0..LANES).map(|_| Md5::new()).collect();
        let mut seed = 7u64;
        let mut pos = 0;
        for _ in 0..5000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let lane = (seed >> 40) as usize % LANES;
            let n = (seed >> 20) as usize % 700;
            let w = (seed >> 50) as usize % 17;
            let chunk = &data[pos % 90_000..][..n];
            pos += n + 1;
            if seed & 1 == 0 {
                hub.push(lane, chunk);
                refs[lane].update(chunk);
            } else {
                let w = w.min(chunk.len());
                let mut word = [0u8; 16];
                word[..w].copy_from_slice(&chunk[..w]);
                hub.push_word(lane, u128::from_le_bytes(word), w);
                refs[lane].update(&word[..w]);
            }
        }
        for (lane, r) in refs.into_iter().enumerate() {
            let want: [u8; 16] = r.finalize().into();
            assert_eq!(hub.finish(lane), want, "lane {lane}");
        }
        // two streams finished together, every pair of lengths around the
        // padding boundary and a few longer ones
        let lens = (0..140).chain([500, 8191, 8192, 9000, 20_000]);
        for la in lens.clone() {
            for lb in lens.clone().step_by(7) {
                let mut hub = Hub::default();
                hub.push(BODY, &data[..la]);
                hub.push(FUZ2, &data[la..la + lb]);
                let (a, b) = hub.finish2(BODY, FUZ2);
                let want_a: [u8; 16] = Md5::digest(&data[..la]).into();
                let want_b: [u8; 16] = Md5::digest(&data[la..la + lb]).into();
                assert_eq!((a, b), (want_a, want_b), "lengths {la} {lb}");
            }
        }
        // three streams finished together
        for (la, lb, lc) in [
            (0, 0, 0),
            (70, 5000, 130),
            (9000, 64, 4096),
            (200, 200, 9100),
        ] {
            let mut hub = Hub::default();
            hub.push(BODY, &data[..la]);
            hub.push(FUZ2 + 2, &data[1..1 + lb]);
            hub.push(FUZ1, &data[2..2 + lc]);
            let got = hub.finish_many([BODY, FUZ2 + 2, FUZ1]);
            let want: [[u8; 16]; 3] = [
                Md5::digest(&data[..la]).into(),
                Md5::digest(&data[1..1 + lb]).into(),
                Md5::digest(&data[2..2 + lc]).into(),
            ];
            assert_eq!(got, want, "lengths {la} {lb} {lc}");
        }
        // empty streams and every length around the padding boundary
        for len in 0..200 {
            let mut hub = Hub::default();
            hub.push(BODY, &data[..len]);
            let want: [u8; 16] = Md5::digest(&data[..len]).into();
            assert_eq!(hub.finish(BODY), want, "length {len}");
        }
    }
}
