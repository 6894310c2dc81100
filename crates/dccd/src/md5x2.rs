//! The signatures of two datagrams at once: MD5 (RFC 1321) of a 32-byte
//! key followed by a message, for two (key, message) pairs whose padded
//! inputs have the same number of 64-byte blocks, the two computations
//! interleaved step by step.
//!
//! One MD5 is a chain of 64 dependent steps per block that keeps only a
//! small part of the processor busy; two independent chains side by side
//! take little more time than one. The server checks the signatures of
//! the requests of a batch two at a time with this (see `udp.rs`); the
//! result is the same as `tally_wire::sign::keyed_md5`, as a test checks.

/// The longest key plus message handled (longer ones are left to the
/// single computation).
pub const MAX_INPUT: usize = 512 - 9;

/// A padded input: the key, the message, 0x80, zeros and the length in
/// bits, in whole blocks.
pub struct Padded {
    buf: [u8; 512],
    blocks: usize,
}

impl Padded {
    /// The padded form of `key` followed by `msg`, if short enough.
    pub fn new(key: &[u8; 32], msg: &[u8]) -> Option<Padded> {
        let len = 32 + msg.len();
        if len > MAX_INPUT {
            return None;
        }
        let mut buf = [0u8; 512];
        buf.get_mut(..32)?.copy_from_slice(key);
        buf.get_mut(32..len)?.copy_from_slice(msg);
        *buf.get_mut(len)? = 0x80;
        let blocks = (len + 9).div_ceil(64);
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

const S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

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

/// Two MD5 states compressing one block each.
#[inline(always)]
fn compress2(st: &mut [[u32; 4]; 2], blocks: [&[u8]; 2]) {
    let mut m = [[0u32; 16]; 2];
    for (l, b) in blocks.iter().enumerate() {
        for (i, w) in b.chunks_exact(4).take(16).enumerate() {
            m[l][i] = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        }
    }
    let [mut a0, mut b0, mut c0, mut d0] = st[0];
    let [mut a1, mut b1, mut c1, mut d1] = st[1];
    for i in 0..64 {
        let (f0, f1, g) = match i / 16 {
            0 => ((b0 & c0) | (!b0 & d0), (b1 & c1) | (!b1 & d1), i),
            1 => (
                (d0 & b0) | (!d0 & c0),
                (d1 & b1) | (!d1 & c1),
                (5 * i + 1) % 16,
            ),
            2 => (b0 ^ c0 ^ d0, b1 ^ c1 ^ d1, (3 * i + 5) % 16),
            _ => (c0 ^ (b0 | !d0), c1 ^ (b1 | !d1), (7 * i) % 16),
        };
        let s = S[(i / 16) * 4 + i % 4];
        let t0 = a0.wrapping_add(f0).wrapping_add(K[i]).wrapping_add(m[0][g]);
        let t1 = a1.wrapping_add(f1).wrapping_add(K[i]).wrapping_add(m[1][g]);
        a0 = d0;
        d0 = c0;
        c0 = b0;
        b0 = b0.wrapping_add(t0.rotate_left(s));
        a1 = d1;
        d1 = c1;
        c1 = b1;
        b1 = b1.wrapping_add(t1.rotate_left(s));
    }
    for (l, (a, b, c, d)) in [(a0, b0, c0, d0), (a1, b1, c1, d1)].into_iter().enumerate() {
        st[l][0] = st[l][0].wrapping_add(a);
        st[l][1] = st[l][1].wrapping_add(b);
        st[l][2] = st[l][2].wrapping_add(c);
        st[l][3] = st[l][3].wrapping_add(d);
    }
}

/// The MD5 digests of two padded inputs of the same number of blocks
/// (`None` if they differ).
pub fn md5_pair(x: &Padded, y: &Padded) -> Option<([u8; 16], [u8; 16])> {
    if x.blocks != y.blocks {
        return None;
    }
    let init = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    let mut st = [init, init];
    for k in 0..x.blocks {
        let r = k * 64..k * 64 + 64;
        compress2(&mut st, [x.buf.get(r.clone())?, y.buf.get(r)?]);
    }
    let mut out = [[0u8; 16]; 2];
    for (o, s) in out.iter_mut().zip(st.iter()) {
        for (w, v) in o.chunks_exact_mut(4).zip(s.iter()) {
            w.copy_from_slice(&v.to_le_bytes());
        }
    }
    Some((out[0], out[1]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_wire::sign::keyed_md5;

    #[test]
    fn same_as_md5_for_every_length() {
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
            assert_eq!(d1, keyed_md5(&k1, &m1), "length {len}");
            assert_eq!(d2, keyed_md5(&k2, &m2), "length {len}");
        }
        assert!(Padded::new(&[0; 32], &[0; MAX_INPUT - 31]).is_none());
    }
}
