//! x86-64 kernels of the body checksums (AVX2), used only when the
//! processor has the features (checked at run time with
//! [`std::is_x86_feature_detected`]); every caller keeps a portable path
//! that does the same, and tests hold the two equal.
//!
//! # Soundness
//!
//! The functions here are `unsafe` only because they are compiled with
//! `#[target_feature(enable = "avx2,popcnt")]`: calling one on a processor
//! without these features is undefined. Each is called only after
//! [`avx2`] returned true. Inside, every memory access goes through
//! slices whose length covers the access (taken with bounds-checked
//! `get`), so no pointer
//! arithmetic can leave its object.

use super::classes::{Classes, AMP, GT, HI_NIBBLE, LETTER, LO_NIBBLE, SPACE};
use std::arch::x86_64::{
    __m128i, __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256,
    _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_setr_m128i,
    _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_srli_epi16, _mm_loadl_epi64, _mm_loadu_si128,
    _mm_shuffle_epi8, _mm_storel_epi64,
};

/// Whether the kernels may run on this processor (AVX2 and POPCNT).
#[inline]
pub fn avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("popcnt")
}

/// For each 8-bit mask, the indices of its set bits in order, then
/// filler 0 (the shuffle that packs the bytes an 8-byte group keeps), read as a little-endian integer.
const PACK: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut m = 0;
    while m < 256 {
        let mut o = 0;
        let mut b = 0;
        while b < 8 {
            if m & (1 << b) != 0 {
                t[m] |= (b as u64) << (8 * o);
                o += 1;
            }
            b += 1;
        }
        m += 1;
    }
    t
};

/// Byte mask of the bytes of `x` equal to `c`, as 32 bits.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn eq(x: __m256i, c: u8) -> __m256i {
    _mm256_cmpeq_epi8(x, _mm256_set1_epi8(c as i8))
}

/// Body's filter: the bytes of `src` that count (all but space, tab, CR,
/// line feed and `=`) packed to the start of `dst`, 32 bytes at a time
/// while 32 remain in `src` and 32 places in `dst`, up to the first line
/// feed that may start `"\n>From"`: one followed by `>`, or the last of a
/// group of 32 (the others are white space like the rest). Returns the
/// bytes of `src` looked at (up to that line feed, or a multiple of 32) and
/// the number written; bytes of `dst` after those written may have been
/// overwritten.
///
/// # Safety
///
/// The processor must have AVX2 and POPCNT ([`avx2`]).
#[target_feature(enable = "avx2,popcnt")]
pub unsafe fn body_keep(src: &[u8], dst: &mut [u8]) -> (usize, usize) {
    let (mut used, mut o) = (0, 0);
    while let (Some(s), Some(d)) = (src.get(used..used + 32), dst.get_mut(o..o + 32)) {
        // the load reads exactly the 32 bytes of the slice `s`
        let x = _mm256_loadu_si256(s.as_ptr().cast::<__m256i>());
        let lf_bytes = eq(x, b'\n');
        let lf = _mm256_movemask_epi8(lf_bytes) as u32;
        let gt = _mm256_movemask_epi8(eq(x, b'>')) as u32;
        let drop = _mm256_or_si256(
            _mm256_or_si256(eq(x, b' '), eq(x, b'\t')),
            _mm256_or_si256(_mm256_or_si256(eq(x, b'\r'), eq(x, b'=')), lf_bytes),
        );
        let stop = lf & (gt >> 1 | 1 << 31);
        let n = stop.trailing_zeros() as usize;
        let before = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
        let keep = !(_mm256_movemask_epi8(drop) as u32) & before;
        let mut k = 0;
        for g in 0..4 {
            let m = usize::from((keep >> (8 * g)) as u8);
            let (Some(v), Some(out)) = (s.get(8 * g..8 * g + 8), d.get_mut(k..k + 8)) else {
                break;
            };
            // the loads read exactly the 8 bytes of the slice `v` and of
            // the table entry, the store writes exactly the 8 bytes of the
            // slice `out` (k <= 24, so `out` is within `d`)
            let v = _mm_loadl_epi64(v.as_ptr().cast::<__m128i>());
            let c = _mm_loadl_epi64((&PACK[m] as *const u64).cast::<__m128i>());
            _mm_storel_epi64(out.as_mut_ptr().cast::<__m128i>(), _mm_shuffle_epi8(v, c));
            k += m.count_ones() as usize;
        }
        o += k;
        used += n.min(32);
        if n < 32 {
            break;
        }
    }
    (used, o)
}

/// The byte classes of Fuz2 ([`Classes`]) of 64 bytes.
///
/// # Safety
///
/// The processor must have AVX2 and POPCNT ([`avx2`]).
#[target_feature(enable = "avx2,popcnt")]
pub unsafe fn classes(src: &[u8; 64]) -> Classes {
    // the tables are 16 bytes each, and each load reads exactly them
    let lo_t = _mm_loadu_si128(LO_NIBBLE.as_ptr().cast::<__m128i>());
    let hi_t = _mm_loadu_si128(HI_NIBBLE.as_ptr().cast::<__m128i>());
    // the tables in both 16-byte lanes (the shuffle looks up within each)
    let (lo_t, hi_t) = (_mm256_setr_m128i(lo_t, lo_t), _mm256_setr_m128i(hi_t, hi_t));
    let low4 = _mm256_set1_epi8(0x0f);
    let zero = _mm256_setzero_si256();
    let mut out = Classes::default();
    for half in 0..2 {
        let Some(s) = src.get(32 * half..32 * half + 32) else {
            break;
        };
        // the load reads exactly the 32 bytes of the slice `s`
        let x = _mm256_loadu_si256(s.as_ptr().cast::<__m256i>());
        let lo = _mm256_shuffle_epi8(lo_t, _mm256_and_si256(x, low4));
        let hi = _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(x, 4), low4));
        let cls = _mm256_and_si256(lo, hi);
        let at = 32 * half;
        out.letter |= u64::from(has_bits(cls, LETTER, zero)) << at;
        out.space |= u64::from(has_bits(cls, SPACE, zero)) << at;
        out.gt |= u64::from(has_bits(cls, GT, zero)) << at;
        out.amp |= u64::from(has_bits(cls, AMP, zero)) << at;
        out.high |= u64::from(_mm256_movemask_epi8(x) as u32) << at;
    }
    out
}

/// The bytes whose class bits `cls` share a bit with `bits`, as a mask.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn has_bits(cls: __m256i, bits: u8, zero: __m256i) -> u32 {
    let none = _mm256_cmpeq_epi8(_mm256_and_si256(cls, _mm256_set1_epi8(bits as i8)), zero);
    !(_mm256_movemask_epi8(none) as u32)
}
