//! Small byte-string functions with the semantics of the C string functions
//! the original's parsers are built on; the end of a slice plays the role
//! of the terminating NUL.

/// White space as DCC counts it: space, tab, LF, CR.
pub(crate) const WHITESPACE: &[u8] = b" \t\n\r";

/// Does `s` start with `prefix`, ignoring ASCII case?
pub(crate) fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Length of the leading run of bytes from `set` (`strspn`).
pub(crate) fn span(s: &[u8], set: &[u8]) -> usize {
    s.iter().take_while(|b| set.contains(b)).count()
}

/// Index of the first byte from `set` (`strpbrk`).
pub(crate) fn find_any(s: &[u8], set: &[u8]) -> Option<usize> {
    s.iter().position(|b| set.contains(b))
}

/// The byte at `i`, or NUL past the end.
pub(crate) fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// The tail of `s` from `i`, empty past the end.
pub(crate) fn tail(s: &[u8], i: usize) -> &[u8] {
    s.get(i..).unwrap_or(&[])
}

/// Does `hay` contain `needle` (`strstr`)?
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// At most `max` bytes of `s`.
pub(crate) fn cap(s: &[u8], max: usize) -> &[u8] {
    &s[..s.len().min(max)]
}

/// Index of the first LF or NUL in `s`, eight bytes at a time (a header
/// line is scanned for its end once; byte by byte this scan was most of
/// the splitter's time).
pub(crate) fn find_lf_or_nul(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    const LF: u64 = u64::from_le_bytes([b'\n'; 8]);
    /// The high bit of each byte that is zero; exact up to the first one
    /// (a borrow can only mark bytes after a zero byte).
    fn zeros(x: u64) -> u64 {
        x.wrapping_sub(ONES) & !x & HIGH
    }
    let mut chunks = s.chunks_exact(8);
    let mut at = 0;
    for c in chunks.by_ref() {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        let hit = zeros(x) | zeros(x ^ LF);
        if hit != 0 {
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    rest.iter()
        .position(|&c| c == b'\n' || c == 0)
        .map(|p| at + p)
}

#[cfg(test)]
mod tests {
    use super::find_lf_or_nul;

    #[test]
    fn lf_or_nul_at_every_place() {
        let plain = |s: &[u8]| s.iter().position(|&c| c == b'\n' || c == 0);
        // bytes next to LF and NUL in value, and 0x80/0xff for borrows
        let fill = [b'a', 0x0b, 0x09, 0x01, 0x80, 0xff, 0x8a];
        for len in 0..40 {
            for &f in &fill {
                let mut s = vec![f; len];
                assert_eq!(find_lf_or_nul(&s), plain(&s), "{len} {f}");
                for i in 0..len {
                    for mark in [b'\n', 0] {
                        s[i] = mark;
                        for j in i + 1..len.min(i + 10) {
                            // a second mark after the first
                            let keep = s[j];
                            s[j] = b'\n' ^ mark;
                            assert_eq!(find_lf_or_nul(&s), plain(&s), "{len} {i} {j}");
                            s[j] = keep;
                        }
                        assert_eq!(find_lf_or_nul(&s), plain(&s), "{len} {i} {mark}");
                        s[i] = f;
                    }
                }
            }
        }
    }
}
