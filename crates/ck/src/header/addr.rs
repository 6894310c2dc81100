//! IP addresses in header text, read as the original reads them: the
//! characters of an IPv4 or IPv6 address, optionally tagged `IPv6:`, parsed
//! with the C library's rules (so `10.1` and octal parts are IPv4 addresses).

use super::util::{at, span, starts_with_ci, WHITESPACE};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest text form of an address plus its NUL (`INET6_ADDRSTRLEN`).
const INET6_ADDRSTRLEN: usize = 46;
/// Longest IPv4 text form plus its NUL (`INET_ADDRSTRLEN`).
const INET_ADDRSTRLEN: usize = 16;

const IPV4_CHARS: &[u8] = b".0123456789";
const IPV6_CHARS: &[u8] = b".0123456789:abcdefABCDEF";
const ADDR_LITERAL_V6: &[u8] = b"IPv6:";

/// An address found in the text: the address, the bytes consumed, and the
/// SMTP address literal for it.
pub(crate) struct Addr {
    pub(crate) ip: IpAddr,
    pub(crate) len: usize,
    pub(crate) literal: String,
}

/// An IPv4 or IPv6 address at the start of `s`, optionally tagged `IPv6:`.
pub(crate) fn get_ipaddr(s: &[u8]) -> Option<Addr> {
    let skip = if starts_with_ci(s, ADDR_LITERAL_V6) {
        ADDR_LITERAL_V6.len()
    } else {
        0
    };
    let s = &s[skip..];
    let n = span(s, IPV6_CHARS);
    if !(2..=INET6_ADDRSTRLEN).contains(&n) {
        return None;
    }
    let text = &s[..n];
    let ip = str_to_ip(text)?;
    let t = String::from_utf8_lossy(text);
    let literal = match ip {
        IpAddr::V6(_) => format!("[IPv6:{t}]"),
        IpAddr::V4(_) => format!("[{t}]"),
    };
    Some(Addr {
        ip,
        len: skip + n,
        literal,
    })
}

/// Text to address as the original's `str2su` does it: an all-digits-and-dots
/// string is read by the C library's permissive `inet_aton` (short forms such
/// as `10.1`, octal parts); otherwise an IPv6 address with a colon before its
/// last character.
pub(crate) fn str_to_ip(s: &[u8]) -> Option<IpAddr> {
    let s = trim_white(s);
    if s.is_empty() || s.len() >= INET6_ADDRSTRLEN {
        return None;
    }
    if span(s, IPV4_CHARS) == s.len() && s.len() < INET_ADDRSTRLEN {
        if let Some(v4) = inet_aton(s) {
            return Some(IpAddr::V4(v4));
        }
    }
    if span(s, IPV6_CHARS) != s.len() {
        return None;
    }
    let colon = s.iter().position(|&b| b == b':')?;
    if colon + 1 >= s.len() {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    text.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

fn trim_white(s: &[u8]) -> &[u8] {
    let s = &s[span(s, WHITESPACE)..];
    let mut end = s.len();
    while end > 0 && WHITESPACE.contains(&s[end - 1]) {
        end -= 1;
    }
    &s[..end]
}

/// The C library's `inet_aton` for strings of digits and dots: one to four
/// parts, each decimal or (with a leading 0) octal; the last part fills the
/// remaining bytes.
fn inet_aton(s: &[u8]) -> Option<Ipv4Addr> {
    let mut parts: Vec<u32> = Vec::with_capacity(4);
    let mut i = 0;
    let last = loop {
        if !at(s, i).is_ascii_digit() {
            return None;
        }
        let (radix, start) = if s[i] == b'0' { (8, i + 1) } else { (10, i) };
        let mut val: u64 = 0;
        let mut j = start;
        while j < s.len() && s[j].is_ascii_digit() && u32::from(s[j] - b'0') < radix {
            val = val * u64::from(radix) + u64::from(s[j] - b'0');
            if val > 0xffff_ffff {
                return None;
            }
            j += 1;
        }
        i = j;
        if at(s, i) == b'.' {
            if parts.len() > 2 || val > 0xff {
                return None;
            }
            parts.push(val as u32);
            i += 1;
        } else {
            break val as u32;
        }
    };
    if i < s.len() && !s[i].is_ascii_whitespace() {
        return None;
    }
    let max = [u32::MAX, 0x00ff_ffff, 0xffff, 0xff][parts.len()];
    if last > max {
        return None;
    }
    let mut v = last;
    for (k, p) in parts.iter().enumerate() {
        v |= p << (24 - 8 * k);
    }
    Some(Ipv4Addr::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let ip = |s: &str| str_to_ip(s.as_bytes()).map(|a| a.to_string());
        assert_eq!(ip("10.1"), Some("10.0.0.1".into()));
        assert_eq!(ip("1.2.3"), Some("1.2.0.3".into()));
        assert_eq!(ip("010.0.0.1"), Some("8.0.0.1".into()));
        assert_eq!(ip("3232235521"), Some("192.168.0.1".into()));
        assert_eq!(ip("08.0.0.1"), None);
        assert_eq!(ip("1.2.3.4."), None);
        assert_eq!(ip("256.1.1.1"), None);
        assert_eq!(ip("1.2.3.256"), None);
        assert_eq!(ip("::1"), Some("::1".into()));
        assert_eq!(ip("::ffff:1.2.3.4"), Some("::ffff:1.2.3.4".into()));
        assert_eq!(ip("1:"), None);
        assert_eq!(ip("abc"), None);
        assert_eq!(ip(""), None);
    }
}
