//! MD5 (RFC 1321) of a few short byte strings at once, two computations
//! interleaved step by step on the engine's own compression
//! ([`md5x`](crate::body::md5x)).
//!
//! The header and envelope checksums are one short MD5 each (From,
//! Message-ID, Received, env_From, the substitutes, the IP address). They
//! were computed with the `md5` crate, one at a time as each field arrived,
//! so a message with several Received fields hashed every one of them
//! although only the last one counts. They are now kept as normalised bytes
//! until the header is complete and hashed together here: the two longest
//! inputs first, pairwise, with the precomputed schedule of `md5x`, whose
//! single compression is also faster than the `md5` crate's portable one.
//! The values are normalised with one table look-up per byte and no branch
//! on the kind of byte ([`str_ck_bytes`](crate::simple::str_ck_bytes)).
//!
//! Before, the header sums were about 5.5 % of the corpus run (the `md5`
//! crate's compression 2.8 %, `str_sum` 2.7 %); after, the normalisation
//! in `HeaderCks::field` and this module together take about 3 %. The
//! corpus went from 34,100-36,300 to 36,450-38,800 messages/s (best of 5
//! passes, the binaries before and after alternated six times on a busy
//! machine, one core).

use crate::body::md5x::{compress1, compress2, compress_four, digest, padded_tail, INIT};

const BLOCK: usize = 64;

/// One input: its bytes and its padded last one or two blocks.
struct Input<'a> {
    bytes: &'a [u8],
    /// Full blocks of `bytes`.
    full: usize,
    tail: [u8; 2 * BLOCK],
    /// Blocks in all.
    blocks: usize,
}

impl<'a> Input<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let full = bytes.len() / BLOCK;
        let rest = bytes.get(full * BLOCK..).unwrap_or(&[]);
        let (tail, n) = padded_tail(rest, bytes.len() as u64);
        Input {
            bytes,
            full,
            tail,
            blocks: full + n,
        }
    }

    /// Block `k` (below `blocks`) of the padded input.
    fn block(&self, k: usize) -> &[u8] {
        if k < self.full {
            &self.bytes[k * BLOCK..(k + 1) * BLOCK]
        } else {
            let t = (k - self.full) * BLOCK;
            &self.tail[t..t + BLOCK]
        }
    }
}

/// The MD5 of one byte string.
pub(crate) fn md5(bytes: &[u8]) -> [u8; 16] {
    let input = Input::new(bytes);
    let mut st = INIT;
    for k in 0..input.blocks {
        compress1(&mut st, input.block(k));
    }
    digest(st)
}

/// The MD5s of two byte strings, their blocks compressed together.
fn md5_two(x: &Input<'_>, y: &Input<'_>) -> ([u8; 16], [u8; 16]) {
    let (mut sx, mut sy) = (INIT, INIT);
    let both = x.blocks.min(y.blocks);
    for k in 0..both {
        compress2(&mut sx, x.block(k), &mut sy, y.block(k));
    }
    for k in both..x.blocks {
        compress1(&mut sx, x.block(k));
    }
    for k in both..y.blocks {
        compress1(&mut sy, y.block(k));
    }
    (digest(sx), digest(sy))
}

/// The MD5s of `N` byte strings, two at a time: the two with the most
/// blocks together, then the next two, and so on.
pub(crate) fn md5_many<const N: usize>(inputs: [&[u8]; N]) -> [[u8; 16]; N] {
    let inputs = inputs.map(Input::new);
    if let Some(out) = md5_four(&inputs) {
        return out;
    }
    let mut order: [usize; N] = std::array::from_fn(|k| k);
    order.sort_by_key(|&k| std::cmp::Reverse(inputs[k].blocks));
    let mut out = [[0u8; 16]; N];
    for pair in order.chunks(2) {
        match *pair {
            [i, j] => (out[i], out[j]) = md5_two(&inputs[i], &inputs[j]),
            [i] => out[i] = md5(inputs[i].bytes),
            _ => {}
        }
    }
    out
}

/// [`md5_many`] of at most four inputs at once, where the processor can
/// ([`compress_four`]): their whole blocks, then their padded tails.
fn md5_four<const N: usize>(inputs: &[Input<'_>; N]) -> Option<[[u8; 16]; N]> {
    if N > 4 {
        return None;
    }
    let mut st = [INIT; 4];
    let full: [&[u8]; 4] = std::array::from_fn(|k| {
        inputs
            .get(k)
            .map_or(&[][..], |x| &x.bytes[..x.full * BLOCK])
    });
    if !compress_four(&mut st, full) {
        return None;
    }
    let tails: [&[u8]; 4] = std::array::from_fn(|k| {
        inputs
            .get(k)
            .map_or(&[][..], |x| &x.tail[..(x.blocks - x.full) * BLOCK])
    });
    compress_four(&mut st, tails);
    Some(std::array::from_fn(|k| digest(st[k])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    fn want(b: &[u8]) -> [u8; 16] {
        Md5::digest(b).into()
    }

    /// Both ways: four at once (where the processor can) and two at a
    /// time.
    #[test]
    fn same_as_md5_for_every_length() {
        for portable in [false, true] {
            crate::body::with_portable_for_tests(portable, same_as_md5_now);
        }
    }

    fn same_as_md5_now() {
        let data: Vec<u8> = (0..2000u32).map(|i| (i * 37 + i / 5) as u8).collect();
        for len in 0..400 {
            assert_eq!(md5(&data[..len]), want(&data[..len]), "length {len}");
        }
        for la in 0..140 {
            for lb in (0..140).step_by(3).chain([500, 1100, 2000]) {
                let (a, b) = (&data[..la], &data[2000 - lb..]);
                assert_eq!(md5_many([a, b]), [want(a), want(b)], "lengths {la} {lb}");
            }
        }
        let parts: [&[u8]; 5] = [&data[..3], &data[5..900], b"", &data[7..71], &data[9..200]];
        assert_eq!(md5_many(parts), parts.map(want));
        assert_eq!(md5_many::<0>([]), [[0u8; 16]; 0]);
    }
}
