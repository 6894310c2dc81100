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
    __m128i, __m256i, _mm256_add_epi8, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256,
    _mm256_madd_epi16, _mm256_maddubs_epi16, _mm256_min_epu8, _mm256_movemask_epi8,
    _mm256_or_si256, _mm256_permutevar8x32_epi32, _mm256_set1_epi32, _mm256_set1_epi8,
    _mm256_setr_epi32, _mm256_setr_epi8, _mm256_setr_m128i, _mm256_setzero_si256,
    _mm256_shuffle_epi8, _mm256_srli_epi16, _mm256_storeu_si256, _mm256_sub_epi8, _mm_loadl_epi64,
    _mm_loadu_si128, _mm_shuffle_epi8, _mm_storel_epi64,
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

/// The bits of the first `n` bytes of 32 (all 32 from `n = 32` on).
#[inline]
fn below(n: usize) -> u32 {
    u32::MAX.checked_shl(n as u32).map_or(u32::MAX, |m| !m)
}

/// The bytes of `src` (32) whose bits are set in `keep` packed to the start
/// of `dst` (32), one shuffle per 8 bytes. Returns the number written;
/// bytes of `dst` after those may have been overwritten.
#[inline]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn pack(src: &[u8], keep: u32, dst: &mut [u8]) -> usize {
    let mut k = 0;
    for g in 0..4 {
        let m = usize::from((keep >> (8 * g)) as u8);
        let (Some(v), Some(out)) = (src.get(8 * g..8 * g + 8), dst.get_mut(k..k + 8)) else {
            break;
        };
        // the loads read exactly the 8 bytes of the slice `v` and of the
        // table entry, the store writes exactly the 8 bytes of the slice
        // `out` (k <= 24, so `out` is within `dst`)
        let v = _mm_loadl_epi64(v.as_ptr().cast::<__m128i>());
        let c = _mm_loadl_epi64((&PACK[m] as *const u64).cast::<__m128i>());
        _mm_storel_epi64(out.as_mut_ptr().cast::<__m128i>(), _mm_shuffle_epi8(v, c));
        k += m.count_ones() as usize;
    }
    k
}

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
        let keep = !(_mm256_movemask_epi8(drop) as u32) & below(n);
        o += pack(s, keep, d);
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

/// Whether `c` is one of the 64 base64 digits.
const fn b64_digit(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
}

/// The base64 test of [`b64_32`] looks a byte's two nibbles up in two
/// tables and calls it a digit when the entries share no bit. Bytes are
/// grouped by high nibble, a bit per group: 2 (`+` `/`), 3 (`0`-`9`), 4
/// and 6 (`A`-`O`, `a`-`o`), 5 and 7 (`P`-`Z`, `p`-`z`); in each group
/// the two high nibbles take digits at the same low nibbles. Every other
/// high nibble has bit `0x10`, which every low nibble's entry has.
const fn b64_group(hi: usize) -> u8 {
    match hi {
        2 => 0x01,
        3 => 0x02,
        4 | 6 => 0x04,
        5 | 7 => 0x08,
        _ => 0x10,
    }
}

/// By high nibble: the group's bit ([`b64_group`]).
const B64_HI: [u8; 16] = {
    let mut t = [0u8; 16];
    let mut h = 0;
    while h < 16 {
        t[h] = b64_group(h);
        h += 1;
    }
    t
};

/// By low nibble: bit `0x10`, and the bit of each group in which the byte
/// with this low nibble is no digit.
const B64_LO: [u8; 16] = {
    let mut t = [0x10u8; 16];
    let mut lo = 0;
    while lo < 16 {
        let mut hi = 2;
        while hi < 8 {
            if !b64_digit((hi << 4 | lo) as u8) {
                t[lo] |= b64_group(hi);
            }
            hi += 1;
        }
        lo += 1;
    }
    t
};

/// What a digit's byte is added to for its value, by high nibble (`/`,
/// whose high nibble is that of `+`, at 1, the index lowered by one).
const B64_OFF: [u8; 16] = {
    let mut t = [0u8; 16];
    t[1] = 63u8.wrapping_sub(b'/');
    t[2] = 62u8.wrapping_sub(b'+');
    t[3] = 52u8.wrapping_sub(b'0');
    t[4] = 0u8.wrapping_sub(b'A');
    t[5] = t[4];
    t[6] = 26u8.wrapping_sub(b'a');
    t[7] = t[6];
    t
};

/// A 16-byte table in both lanes of a register (the shuffles look up
/// within each lane).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn table2(t: &[u8; 16]) -> __m256i {
    // the load reads exactly the 16 bytes of the table
    let x = _mm_loadu_si128(t.as_ptr().cast::<__m128i>());
    _mm256_setr_m128i(x, x)
}

/// Base64: the digits (`A-Z a-z 0-9 + /`) at the start of the 32 bytes
/// of `src`, decoded into `dst`: each quantum of four digits before the
/// first byte that is no digit gives three bytes, most significant first,
/// at 3 bytes per quantum from the start of `dst` (all 32 bytes of `dst` are
/// overwritten, those beyond the quanta with no meaning). Returns the
/// number of digits before that byte (32 if all are digits); padding, a
/// line end or any other byte is left to the caller's byte-wise path.
///
/// # Safety
///
/// The processor must have AVX2 ([`avx2`]).
#[target_feature(enable = "avx2")]
pub unsafe fn b64_32(src: &[u8; 32], dst: &mut [u8; 32]) -> u32 {
    // the load reads exactly the 32 bytes of `src`
    let x = _mm256_loadu_si256(src.as_ptr().cast::<__m256i>());
    let low4 = _mm256_set1_epi8(0x0f);
    let lo = _mm256_and_si256(x, low4);
    let hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low4);
    let bad = _mm256_and_si256(
        _mm256_shuffle_epi8(table2(&B64_LO), lo),
        _mm256_shuffle_epi8(table2(&B64_HI), hi),
    );
    let digit = _mm256_movemask_epi8(_mm256_cmpeq_epi8(bad, _mm256_setzero_si256())) as u32;
    let digits = (!digit).trailing_zeros();
    // each digit's value: its byte plus its group's offset ('/' is -1
    // where it compares equal, which moves it to index 1)
    let slash = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'/' as i8));
    let off = _mm256_shuffle_epi8(table2(&B64_OFF), _mm256_add_epi8(hi, slash));
    let v = _mm256_add_epi8(x, off);
    // two digits into 12 bits (the first times 64), two of those into 24
    // bits (the first times 4096): one quantum in each 32-bit lane
    let v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x0140_0140));
    let v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x0001_1000));
    // the three bytes of each quantum, most significant first, 12 to a
    // 16-byte lane, then the two lanes' 12 together
    #[rustfmt::skip]
    let order = _mm256_setr_epi8(
        2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
        2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
    );
    let v = _mm256_shuffle_epi8(v, order);
    let v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
    // the store writes exactly the 32 bytes of `dst`
    _mm256_storeu_si256(dst.as_mut_ptr().cast::<__m256i>(), v);
    digits
}

/// Fuz1's letters: the ASCII letters among the first 32 bytes of `src`
/// (which holds 33, the last only looked at), lower-cased and packed to the
/// start of `dst`, up to the first byte that Fuz1's byte-wise path must
/// see: `=`, a line feed, or an `h` (either case) that may start a URL or
/// whose next byte is `h` or `=` (an `h` followed by `t`, `&`, a line
/// feed, `=` or `h`). Any other `h` is a letter like the rest, as is the
/// byte after it, which is then no such byte. Returns the bytes of `src`
/// taken (32 if none stops) and the letters written; bytes of `dst` after
/// those may have been overwritten.
///
/// # Safety
///
/// The processor must have AVX2 and POPCNT ([`avx2`]).
#[target_feature(enable = "avx2,popcnt")]
pub unsafe fn fuz1_keep(src: &[u8; 33], dst: &mut [u8; 32]) -> (usize, usize) {
    let case = _mm256_set1_epi8(0x20);
    // the loads read the first 32 and the last 32 of the 33 bytes (the
    // slice `after` holds exactly those)
    let after = &src[1..];
    let x = _mm256_loadu_si256(src.as_ptr().cast::<__m256i>());
    let next = _mm256_loadu_si256(after.as_ptr().cast::<__m256i>());
    let (xl, nl) = (_mm256_or_si256(x, case), _mm256_or_si256(next, case));
    let h = _mm256_movemask_epi8(eq(xl, b'h')) as u32;
    let next_stops = _mm256_or_si256(
        _mm256_or_si256(eq(nl, b't'), eq(nl, b'h')),
        _mm256_or_si256(
            _mm256_or_si256(eq(next, b'&'), eq(next, b'\n')),
            eq(next, b'='),
        ),
    );
    let stop = (_mm256_movemask_epi8(_mm256_or_si256(eq(x, b'='), eq(x, b'\n'))) as u32)
        | (h & _mm256_movemask_epi8(next_stops) as u32);
    // letters: the byte with the case bit set is 'a' to 'z'
    let off = _mm256_sub_epi8(xl, _mm256_set1_epi8(b'a' as i8));
    let letter = _mm256_cmpeq_epi8(_mm256_min_epu8(off, _mm256_set1_epi8(25)), off);
    let n = stop.trailing_zeros() as usize;
    let keep = _mm256_movemask_epi8(letter) as u32 & below(n);
    let mut lower = [0u8; 32];
    // the store writes exactly the 32 bytes of `lower`
    _mm256_storeu_si256(lower.as_mut_ptr().cast::<__m256i>(), xl);
    (n.min(32), pack(&lower, keep, dst))
}
