//! Finding line ends (and other bytes) eight bytes at a time.
//!
//! The header splitter looks for the end of each header line (LF, or a
//! NUL that cuts the line off) and the MIME walk of a multipart body for
//! the end of each line; byte by byte these scans were 3.8 % (the
//! splitter) and most of the 8 % of `Engine::ck_body` in the corpus run.
//! Eight bytes at a time, the corpus went from 38,500-39,600 to
//! 39,800-40,300 messages/s with the splitter's scan, and from
//! 38,600-40,500 to 39,900-41,550 with the body's (best of 5 passes,
//! alternated six times each; callgrind: 6.4 % fewer instructions per
//! corpus pass for the body's).

const ONES: u64 = u64::from_le_bytes([1; 8]);
const HIGH: u64 = u64::from_le_bytes([0x80; 8]);

/// The high bit of each zero byte of `x`; exact up to the first one (a
/// borrow can only mark bytes after a zero byte), which is all the
/// callers use.
#[inline(always)]
fn zeros(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGH
}

/// Whether one of the eight bytes of `x` equals `c` (exact: a borrow
/// only follows a zero byte).
#[inline(always)]
pub(crate) fn has_byte(x: u64, c: u8) -> bool {
    zeros(x ^ u64::from_le_bytes([c; 8])) != 0
}

/// Index of the first byte of `s` equal to `a` or `b`.
#[inline(always)]
fn find2(s: &[u8], a: u8, b: u8) -> Option<usize> {
    let (ma, mb) = (u64::from_le_bytes([a; 8]), u64::from_le_bytes([b; 8]));
    let mut chunks = s.chunks_exact(8);
    let mut at = 0;
    for c in chunks.by_ref() {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        let hit = zeros(x ^ ma) | zeros(x ^ mb);
        if hit != 0 {
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    rest.iter().position(|&c| c == a || c == b).map(|p| at + p)
}

/// Index of the first LF or NUL in `s`.
pub(crate) fn find_lf_or_nul(s: &[u8]) -> Option<usize> {
    find2(s, b'\n', 0)
}

/// Index of the first NUL in `s`.
pub(crate) fn find_nul(s: &[u8]) -> Option<usize> {
    find2(s, 0, 0)
}

/// Index of the first LF in `s`.
pub(crate) fn find_lf(s: &[u8]) -> Option<usize> {
    find_byte(s, b'\n')
}

/// Index of the first byte of `s` equal to `c`.
pub(crate) fn find_byte(s: &[u8], c: u8) -> Option<usize> {
    find2(s, c, c)
}

#[cfg(test)]
mod tests {
    use super::{find_byte, find_lf, find_lf_or_nul, find_nul};

    #[test]
    fn first_mark_at_every_place() {
        let plain2 = |s: &[u8]| s.iter().position(|&c| c == b'\n' || c == 0);
        let plain1 = |s: &[u8]| s.iter().position(|&c| c == b'\n');
        let plain0 = |s: &[u8]| s.iter().position(|&c| c == 0);
        let check = |s: &[u8], what: &str| {
            assert_eq!(find_lf_or_nul(s), plain2(s), "{what}");
            assert_eq!(find_lf(s), plain1(s), "{what}");
            assert_eq!(find_nul(s), plain0(s), "{what}");
            assert_eq!(find_byte(s, 0), plain0(s), "{what}");
            assert_eq!(find_byte(s, b'\n'), plain1(s), "{what}");
        };
        // bytes next to LF and NUL in value, and 0x80/0xff for borrows
        let fill = [b'a', 0x0b, 0x09, 0x01, 0x80, 0xff, 0x8a];
        for len in 0..40 {
            for &f in &fill {
                let mut s = vec![f; len];
                check(&s, &format!("{len} {f}"));
                for i in 0..len {
                    for mark in [b'\n', 0] {
                        s[i] = mark;
                        for j in i + 1..len.min(i + 10) {
                            // the other mark after the first
                            let keep = s[j];
                            s[j] = b'\n' ^ mark;
                            check(&s, &format!("{len} {i} {j}"));
                            s[j] = keep;
                        }
                        check(&s, &format!("{len} {i} {mark}"));
                        s[i] = f;
                    }
                }
            }
        }
    }
}
