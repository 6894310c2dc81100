//! MD5 of four streams at once, one in each 32-bit lane of a 128-bit
//! register (AVX-512 F and VL, checked at run time).
//!
//! In general registers a step of the first and last rounds waits on five
//! dependent operations and one of the middle rounds on four. Here every
//! round function is one `vpternlogd` and every rotation one `vprold`, so
//! that each step waits on four: one stream's chain of blocks runs about a
//! tenth faster than alone in general registers (on the development
//! machine 74 ns a block against 82), and three more streams ride along
//! in the other lanes at no cost. Body, whose chain bounds the time of a
//! long message, therefore never waits for a partner.
//!
//! # Soundness
//!
//! [`compress4`] is `unsafe` only because it is compiled with
//! `#[target_feature(enable = "avx512f,avx512vl")]`: it is called only
//! after [`available`] returned true. Its loads read 16 bytes inside a
//! 64-byte array reference or a `[u32; 4]`, and its stores write a
//! `[u32; 4]`.

use super::{word_index, BLOCK, K, ROT};
use std::arch::x86_64::{
    __m128i, _mm_add_epi32, _mm_loadu_si128, _mm_mask_add_epi32, _mm_rol_epi32, _mm_set1_epi32,
    _mm_setzero_si128, _mm_storeu_si128, _mm_ternarylogic_epi32, _mm_unpackhi_epi32,
    _mm_unpackhi_epi64, _mm_unpacklo_epi32, _mm_unpacklo_epi64,
};

/// Whether the processor can run [`compress4`].
#[inline]
pub fn available() -> bool {
    std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl")
}

/// Rows to columns: word `j` of `r[i]` becomes word `i` of the result's
/// `j`.
#[inline]
#[target_feature(enable = "avx512f,avx512vl")]
fn transpose(r: [__m128i; 4]) -> [__m128i; 4] {
    let t0 = _mm_unpacklo_epi32(r[0], r[1]);
    let t1 = _mm_unpacklo_epi32(r[2], r[3]);
    let t2 = _mm_unpackhi_epi32(r[0], r[1]);
    let t3 = _mm_unpackhi_epi32(r[2], r[3]);
    [
        _mm_unpacklo_epi64(t0, t1),
        _mm_unpackhi_epi64(t0, t1),
        _mm_unpacklo_epi64(t2, t3),
        _mm_unpackhi_epi64(t2, t3),
    ]
}

/// `x` rotated left by `r` bits (one of MD5's sixteen amounts; `r` is a
/// constant once the steps are unrolled, and the match folds away).
#[inline]
#[target_feature(enable = "avx512f,avx512vl")]
fn rol(x: __m128i, r: u32) -> __m128i {
    match r {
        4 => _mm_rol_epi32::<4>(x),
        5 => _mm_rol_epi32::<5>(x),
        6 => _mm_rol_epi32::<6>(x),
        7 => _mm_rol_epi32::<7>(x),
        9 => _mm_rol_epi32::<9>(x),
        10 => _mm_rol_epi32::<10>(x),
        11 => _mm_rol_epi32::<11>(x),
        12 => _mm_rol_epi32::<12>(x),
        14 => _mm_rol_epi32::<14>(x),
        15 => _mm_rol_epi32::<15>(x),
        16 => _mm_rol_epi32::<16>(x),
        17 => _mm_rol_epi32::<17>(x),
        20 => _mm_rol_epi32::<20>(x),
        21 => _mm_rol_epi32::<21>(x),
        22 => _mm_rol_epi32::<22>(x),
        _ => _mm_rol_epi32::<23>(x),
    }
}

/// The round function of step `i` on `b`, `c` and `d`, one operation:
/// the truth tables of `b ? c : d`, `d ? b : c`, `b ^ c ^ d` and
/// `c ^ (b | !d)`, bit `4b + 2c + d` of each immediate being the result
/// for those three bits.
#[inline]
#[target_feature(enable = "avx512f,avx512vl")]
fn round_fn(i: usize, b: __m128i, c: __m128i, d: __m128i) -> __m128i {
    match i / 16 {
        0 => _mm_ternarylogic_epi32::<0xca>(b, c, d),
        1 => _mm_ternarylogic_epi32::<0xe4>(b, c, d),
        2 => _mm_ternarylogic_epi32::<0x96>(b, c, d),
        _ => _mm_ternarylogic_epi32::<0x39>(b, c, d),
    }
}

/// Step `i` of all four lanes, the step's constant and message word
/// already added (`km`). Only the round function, one addition, the
/// rotation and the last addition wait on the previous step's `b`.
#[inline]
#[target_feature(enable = "avx512f,avx512vl")]
fn step(i: usize, v: &mut [__m128i; 4], km: &[__m128i; 64]) {
    let [a, b, c, d] = *v;
    let t = _mm_add_epi32(a, km[i]);
    let t = _mm_add_epi32(t, round_fn(i, b, c, d));
    let t = rol(t, ROT[i / 16][i % 4]);
    *v = [d, _mm_add_epi32(b, t), b, c];
}

/// The 64 steps, fully unrolled (each `i` a constant).
macro_rules! steps {
    ($v:ident, $km:ident; $($i:literal)*) => {
        $( step($i, &mut $v, &$km); )*
    };
}

/// Each step's constant plus its message word, for the four lanes, fully
/// unrolled (each index a constant).
macro_rules! sums {
    ($km:ident, $m:ident; $($i:literal)*) => {
        $( $km[$i] = _mm_add_epi32($m[word_index($i)], _mm_set1_epi32(K[$i] as i32)); )*
    };
}

/// A block of zeros, read by lanes without a block in a round (their
/// results are dropped).
static ZEROS: [u8; BLOCK] = [0; BLOCK];

/// Compress the blocks of `src[k]` (its whole 64-byte blocks, in order)
/// into `st[k]`, for the four lanes `k` at once: as many rounds as the
/// longest has blocks, a lane whose blocks have run out keeping its state.
///
/// # Safety
///
/// The processor must have AVX-512 F and VL ([`available`]).
#[target_feature(enable = "avx512f,avx512vl")]
pub unsafe fn compress4(st: &mut [[u32; 4]; 4], src: [&[u8]; 4]) {
    let counts = src.map(|s| s.len() / BLOCK);
    let rounds = counts.iter().copied().max().unwrap_or(0);
    // SAFETY (of each load and store below): a `[u32; 4]` is 16 bytes
    let rows = st
        .each_ref()
        .map(|s| unsafe { _mm_loadu_si128(s.as_ptr().cast()) });
    let mut v = transpose(rows);
    for r in 0..rounds {
        let blocks: [&[u8; BLOCK]; 4] = std::array::from_fn(|k| {
            match src[k]
                .get(r * BLOCK..(r + 1) * BLOCK)
                .map(<&[u8; BLOCK]>::try_from)
            {
                Some(Ok(b)) => b,
                _ => &ZEROS,
            }
        });
        // the message words, word `w` of every lane in `m[w]`
        let mut m = [_mm_setzero_si128(); 16];
        for q in 0..4 {
            // SAFETY: bytes 16q..16q+16 of a 64-byte array, q < 4
            let rows = blocks.map(|b| unsafe { _mm_loadu_si128(b.as_ptr().add(16 * q).cast()) });
            m[4 * q..4 * q + 4].copy_from_slice(&transpose(rows));
        }
        let mut km = [_mm_setzero_si128(); 64];
        sums!(km, m; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26
            27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53
            54 55 56 57 58 59 60 61 62 63);
        // opaque to the compiler, so that each sum is added to `a` first,
        // off the chain (otherwise it is re-associated onto it)
        let km = std::hint::black_box(km);
        let start = v;
        steps!(v, km; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26
            27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53
            54 55 56 57 58 59 60 61 62 63);
        // lanes with a block this round add their result, the others
        // keep their state
        let live = counts
            .iter()
            .enumerate()
            .fold(0u8, |m, (k, &n)| m | (u8::from(r < n) << k));
        v = std::array::from_fn(|j| _mm_mask_add_epi32(start[j], live, start[j], v[j]));
    }
    let rows = transpose(v);
    for (s, row) in st.iter_mut().zip(rows) {
        // SAFETY: as the loads above
        unsafe { _mm_storeu_si128(s.as_mut_ptr().cast(), row) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::md5x::{compress1, INIT};

    #[test]
    fn four_lanes_equal_one_at_a_time() {
        if !available() {
            return;
        }
        let data: Vec<u8> = (0..4000u32).map(|i| (i * 13 + i / 5) as u8).collect();
        for lens in [
            [0, 0, 0, 0],
            [64, 0, 128, 640],
            [640, 64, 1, 3000],
            [128, 128, 128, 128],
        ] {
            let src: [&[u8]; 4] = std::array::from_fn(|k| &data[k * 7..k * 7 + lens[k]]);
            let mut st = [INIT, [1, 2, 3, 4], INIT, [5, 6, 7, 8]];
            let mut want = st;
            for k in 0..4 {
                for b in src[k].chunks_exact(BLOCK) {
                    compress1(&mut want[k], b);
                }
            }
            // SAFETY: available() returned true
            unsafe { compress4(&mut st, src) };
            assert_eq!(st, want, "lengths {lens:?}");
        }
    }
}
