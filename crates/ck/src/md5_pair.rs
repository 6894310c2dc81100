//! The signatures of two datagrams at once: MD5 (RFC 1321) of a 32-byte
//! key followed by a message, for two (key, message) pairs whose padded
//! inputs have the same number of 64-byte blocks, in two lanes of the
//! engine's four-lane MD5 where the processor has AVX-512, otherwise the
//! two computations interleaved step by step.
//!
//! One MD5 is a chain of 64 dependent steps per block that keeps only a
//! small part of the processor busy; two independent chains side by side
//! take little more time than one (the checksum engine's two-lane MD5 does
//! the same for the Body and Fuz2 streams). dccd checks the signatures of
//! the requests of a batch two at a time with this; the result is the same
//! as MD5 of the key and message, as the tests check.

/// The longest key plus message handled (longer ones are left to the
/// single computation).
pub const MAX_INPUT: usize = 512 - 9;

/// A padded input: the key, the message, 0x80, zeros and the length in
/// bits, in whole blocks.
pub struct Padded {
    buf: [u8; 512],
    blocks: usize,
}

/// The number of 64-byte blocks of the padded form of an input of `len`
/// bytes (key and message), if it is short enough to be handled here; two
/// inputs pair when their numbers are equal.
pub fn blocks_for(len: usize) -> Option<usize> {
    (len <= MAX_INPUT).then(|| (len + 9).div_ceil(64))
}

impl Padded {
    /// The padded form of `key` followed by `msg`, if short enough.
    pub fn new(key: &[u8; 32], msg: &[u8]) -> Option<Padded> {
        let len = 32 + msg.len();
        let blocks = blocks_for(len)?;
        let mut buf = [0u8; 512];
        buf.get_mut(..32)?.copy_from_slice(key);
        buf.get_mut(32..len)?.copy_from_slice(msg);
        *buf.get_mut(len)? = 0x80;
        let bits = (len as u64) * 8;
        buf.get_mut(blocks * 64 - 8..blocks * 64)?
            .copy_from_slice(&bits.to_le_bytes());
        Some(Padded { buf, blocks })
    }

    /// Its number of 64-byte blocks.
    pub fn blocks(&self) -> usize {
        self.blocks
    }
}

use crate::body::md5x;

/// The MD5 digests of two padded inputs of the same number of blocks
/// (`None` if they differ).
pub fn md5_pair(x: &Padded, y: &Padded) -> Option<([u8; 16], [u8; 16])> {
    if x.blocks != y.blocks {
        return None;
    }
    let n = x.blocks * 64;
    let mut st = [md5x::INIT; 4];
    // in two lanes of the four-lane MD5 where the processor has it (a
    // step there waits on four operations, not five)
    if md5x::compress_four(&mut st, [x.buf.get(..n)?, y.buf.get(..n)?, &[], &[]]) {
        return Some((md5x::digest(st[0]), md5x::digest(st[1])));
    }
    let [mut s0, mut s1] = [md5x::INIT, md5x::INIT];
    for k in 0..x.blocks {
        let r = k * 64..k * 64 + 64;
        md5x::compress2(&mut s0, x.buf.get(r.clone())?, &mut s1, y.buf.get(r)?);
    }
    Some((md5x::digest(s0), md5x::digest(s1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    fn md5_of(key: &[u8; 32], msg: &[u8]) -> [u8; 16] {
        let mut h = Md5::new();
        h.update(key);
        h.update(msg);
        h.finalize().into()
    }

    /// Both ways: in the four-lane MD5 (where the processor has it) and
    /// two interleaved in general registers.
    #[test]
    fn same_as_md5_for_every_length() {
        for portable in [false, true] {
            crate::body::with_portable_for_tests(portable, same_as_md5_now);
        }
    }

    fn same_as_md5_now() {
        let mut x: u32 = 7;
        let mut byte = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        };
        for len in 0..=MAX_INPUT - 32 {
            let k1: [u8; 32] = std::array::from_fn(|_| byte());
            let k2: [u8; 32] = std::array::from_fn(|_| byte());
            let m1: Vec<u8> = (0..len).map(|_| byte()).collect();
            // the second message of the same number of blocks
            let m2: Vec<u8> = (0..len).map(|_| byte()).collect();
            let (p1, p2) = (
                Padded::new(&k1, &m1).unwrap(),
                Padded::new(&k2, &m2).unwrap(),
            );
            let (d1, d2) = md5_pair(&p1, &p2).unwrap();
            assert_eq!(d1, md5_of(&k1, &m1), "length {len}");
            assert_eq!(d2, md5_of(&k2, &m2), "length {len}");
        }
        assert!(Padded::new(&[0; 32], &[0; MAX_INPUT - 31]).is_none());
        let short = Padded::new(&[0; 32], b"").unwrap();
        let long = Padded::new(&[0; 32], &[0; 100]).unwrap();
        assert!(md5_pair(&short, &long).is_none(), "different block counts");
    }
}
