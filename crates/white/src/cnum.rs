//! Number parsing with the C library's conventions the original relies on
//! (`strtoul`, `sscanf("%8x")`), so that odd spellings are accepted or
//! refused the same way.

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn digit(c: u8, base: u32) -> Option<u32> {
    let d = (c as char).to_digit(36)?;
    (d < base).then_some(d)
}

/// `strtoul(s, &end, base)` with a 64-bit `unsigned long`: returns the value
/// and the number of bytes consumed (0 when no digits were found).
/// `base` is 0 (C prefixes: `0x` hex, `0` octal) or 10.
pub fn strtoul(s: &[u8], base: u32) -> (u64, usize) {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if let Some(&c) = s.get(i) {
        if c == b'+' || c == b'-' {
            neg = c == b'-';
            i += 1;
        }
    }
    let mut base = base;
    if (base == 0 || base == 16)
        && s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x') | Some(b'X'))
        && s.get(i + 2).and_then(|&c| digit(c, 16)).is_some()
    {
        i += 2;
        base = 16;
    } else if base == 0 {
        base = if s.get(i) == Some(&b'0') { 8 } else { 10 };
    }
    let start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|&c| digit(c, base)) {
        match v
            .checked_mul(u64::from(base))
            .and_then(|x| x.checked_add(u64::from(d)))
        {
            Some(n) => v = n,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    if overflow {
        return (u64::MAX, i);
    }
    (if neg { v.wrapping_neg() } else { v }, i)
}

/// [`strtoul`] of a text: the value and the rest of the text after the
/// number; without digits the value is 0 and the rest all of `s`.
pub fn strtoul_str(s: &str, base: u32) -> (u64, &str) {
    let (v, n) = strtoul(s.as_bytes(), base);
    (v, s.get(n..).unwrap_or(""))
}

/// Whole-string `strtoul`: `Some(value)` when every byte was consumed.
/// An empty string gives `Some(0)`, as `*end == '\0'` holds in C.
pub fn strtoul_all(s: &[u8], base: u32) -> Option<u64> {
    if s.is_empty() {
        return Some(0);
    }
    let (v, n) = strtoul(s, base);
    (n == s.len()).then_some(v)
}

/// One `%8x` conversion of `sscanf`: skips white space, reads at most
/// eight characters (sign and `0x` included). Returns the value and the
/// bytes consumed.
pub fn scan_hex8(s: &[u8]) -> Option<(u32, usize)> {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let end = (i + 8).min(s.len());
    let mut neg = false;
    if i < end && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut any = false;
    if i + 1 < end && s[i] == b'0' && (s[i + 1] == b'x' || s[i + 1] == b'X') {
        i += 2;
        any = true;
    }
    let mut v: u32 = 0;
    while i < end {
        match digit(s[i], 16) {
            Some(d) => {
                v = (v << 4) | d;
                any = true;
                i += 1;
            }
            None => break,
        }
    }
    any.then_some((if neg { v.wrapping_neg() } else { v }, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoul_like_c() {
        assert_eq!(strtoul_all(b"12", 0), Some(12));
        assert_eq!(strtoul_all(b"0x10", 0), Some(16));
        assert_eq!(strtoul_all(b"010", 0), Some(8));
        assert_eq!(strtoul_all(b"09", 0), None);
        assert_eq!(strtoul_all(b"ok", 0), None);
        assert_eq!(strtoul_all(b"-1", 0), Some(u64::MAX));
        assert_eq!(strtoul_all(b"99999999999999999999999", 10), Some(u64::MAX));
    }

    #[test]
    fn hex8() {
        assert_eq!(scan_hex8(b" c160f8cc x"), Some((0xc160f8cc, 9)));
        assert_eq!(scan_hex8(b"123456789"), Some((0x12345678, 8)));
        assert_eq!(scan_hex8(b"zz"), None);
        assert_eq!(scan_hex8(b"0x1"), Some((1, 3)));
    }
}
