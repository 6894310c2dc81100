//! IP addresses, ranges (`lo-hi`) and CIDR blocks (`addr/bits`) of `ip`
//! lines. Everything is kept as IPv6; IPv4 addresses become IPv4-mapped
//! addresses (`::ffff:a.b.c.d`), as the original stores them.

use crate::cnum::strtoul;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An inclusive block of addresses, in IPv6 form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct IpRange {
    pub lo: Ipv6Addr,
    pub hi: Ipv6Addr,
}

impl IpRange {
    /// A block of one address.
    pub fn single(ip: IpAddr) -> IpRange {
        let a = to_v6(ip);
        IpRange { lo: a, hi: a }
    }

    /// Whether the address is in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let a = u128::from(to_v6(ip));
        u128::from(self.lo) <= a && a <= u128::from(self.hi)
    }

    /// Number of addresses as the original counts them: `u32::MAX` when
    /// the ends differ above the last 32 bits or the block is that big.
    pub fn len(&self) -> u32 {
        let lo = u128::from(self.lo);
        let hi = u128::from(self.hi);
        if lo >> 32 != hi >> 32 {
            return u32::MAX;
        }
        let d = (hi as u32).wrapping_sub(lo as u32);
        d.saturating_add(1)
    }

    /// Never empty (`lo <= hi` is checked when parsing).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The addresses of a small block, in order.
    pub fn addrs(&self) -> impl Iterator<Item = Ipv6Addr> {
        let lo = u128::from(self.lo);
        let n = u128::from(self.len());
        (0..n).map(move |i| Ipv6Addr::from(lo.wrapping_add(i)))
    }
}

impl fmt::Display for IpRange {
    /// Single address, CIDR block (IPv4 bits for mapped addresses) or `lo-hi`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lo = u128::from(self.lo);
        let hi = u128::from(self.hi);
        let host = lo ^ hi;
        let mapped = self.lo.to_ipv4_mapped().is_some() && self.hi.to_ipv4_mapped().is_some();
        let show = |a: Ipv6Addr| match a.to_ipv4_mapped().filter(|_| mapped) {
            Some(v4) => v4.to_string(),
            None => a.to_string(),
        };
        if host == 0 {
            return f.write_str(&show(self.lo));
        }
        let bits = host.leading_zeros();
        let mask = u128::MAX.checked_shr(bits).unwrap_or(0);
        if host == mask && lo & mask == 0 {
            let v4 = mapped && bits > 96;
            return if v4 {
                write!(f, "{}/{}", show(self.lo), bits - 96)
            } else {
                write!(f, "{}/{}", self.lo, bits)
            };
        }
        write!(f, "{}-{}", show(self.lo), show(self.hi))
    }
}

/// An address in the IPv6 form the original keeps.
pub fn to_v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// `inet_aton`: one to four numbers (decimal, octal with a leading 0, hex
/// with 0x), the last filling the remaining bytes. Only digits and dots
/// reach here, so hex never does.
fn inet_aton(s: &[u8]) -> Option<Ipv4Addr> {
    let mut parts: Vec<u64> = Vec::with_capacity(4);
    let mut rest = s;
    loop {
        let (v, n) = strtoul(rest, 0);
        if n == 0 || !rest[0].is_ascii_digit() {
            return None;
        }
        parts.push(v);
        rest = &rest[n..];
        match rest.first() {
            None => break,
            Some(b'.') if parts.len() < 4 => rest = &rest[1..],
            _ => return None,
        }
    }
    let last = *parts.last()?;
    let head = &parts[..parts.len() - 1];
    if head.iter().any(|&p| p > 255) {
        return None;
    }
    let room = 8 * (4 - head.len() as u32);
    if room < 64 && last >> room != 0 {
        return None;
    }
    let mut v: u32 = 0;
    for (i, &p) in head.iter().enumerate() {
        v |= (p as u32) << (24 - 8 * i as u32);
    }
    v |= last as u32;
    Some(Ipv4Addr::from(v))
}

fn strip(s: &[u8]) -> &[u8] {
    let ws = |c: &u8| b" \t\r\n".contains(c);
    let start = s.iter().take_while(|c| ws(c)).count();
    let s = &s[start..];
    let end = s.len() - s.iter().rev().take_while(|c| ws(c)).count();
    &s[..end]
}

/// One address as written (`str2su`): IPv4 in `inet_aton` form, or IPv6
/// with at least one colon that is not the last character.
pub fn parse_addr(s: &[u8]) -> Option<IpAddr> {
    let s = strip(s);
    if s.is_empty() || s.len() >= 46 {
        return None;
    }
    if s.len() < 16 && s.iter().all(|c| b".0123456789".contains(c)) {
        if let Some(v4) = inet_aton(s) {
            return Some(IpAddr::V4(v4));
        }
    }
    if !s
        .iter()
        .all(|c| c.is_ascii_hexdigit() || *c == b'.' || *c == b':')
    {
        return None;
    }
    let colon = s.iter().position(|&c| c == b':')?;
    if colon >= s.len() - 1 {
        return None;
    }
    std::str::from_utf8(s)
        .ok()?
        .parse::<Ipv6Addr>()
        .ok()
        .map(IpAddr::V6)
}

/// What the value of an `ip` line turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeParse {
    /// An address, range or CIDR block.
    Range(IpRange),
    /// Not an address: a host name (or junk) to resolve.
    NotAddress,
    /// An address with a bad range or block; the message, without the
    /// file and line.
    Bad(String),
}

/// Parse a single address, `lo-hi` range or `addr/bits` block (`str2range`).
pub fn parse_range(s: &[u8]) -> RangeParse {
    let s = strip(s);
    let shown = || String::from_utf8_lossy(s).into_owned();
    let split = s.iter().position(|&c| c == b'/' || c == b'-');
    let addr_part = &s[..split.unwrap_or(s.len())];
    if addr_part.is_empty() || addr_part.len() >= 46 {
        return RangeParse::NotAddress;
    }
    let Some(lo_ip) = parse_addr(addr_part) else {
        return RangeParse::NotAddress;
    };
    let lo = to_v6(lo_ip);
    let Some(pos) = split else {
        return RangeParse::Range(IpRange { lo, hi: lo });
    };
    let tail = &s[pos + 1..];
    if s[pos] == b'/' {
        let (n, used) = strtoul(tail, 10);
        let mut bits = n;
        if lo_ip.is_ipv4() {
            bits = bits.wrapping_add(96);
        }
        if used < tail.len() || bits > 128 || n == 0 {
            return RangeParse::Bad(format!("invalid CIDR block length \"{}\"", shown()));
        }
        let host = u128::MAX.checked_shr(bits as u32).unwrap_or(0);
        let lo_n = u128::from(lo);
        if lo_n & host != 0 {
            return RangeParse::Bad(format!(
                "{} does not start on a {}-bit CIDR boundary",
                String::from_utf8_lossy(addr_part),
                String::from_utf8_lossy(tail)
            ));
        }
        return RangeParse::Range(IpRange {
            lo,
            hi: Ipv6Addr::from(lo_n | host),
        });
    }
    let Some(hi_ip) = parse_addr(tail) else {
        return RangeParse::NotAddress;
    };
    if hi_ip.is_ipv4() != lo_ip.is_ipv4() {
        return RangeParse::Bad(format!("mixture of IPv4 and IPv6 in \"{}\"", shown()));
    }
    let hi = to_v6(hi_ip);
    if u128::from(lo) > u128::from(hi) {
        return RangeParse::Bad(format!("first address after second in \"{}\"", shown()));
    }
    RangeParse::Range(IpRange { lo, hi })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> IpRange {
        match parse_range(s.as_bytes()) {
            RangeParse::Range(r) => r,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_addr(b"192.0.2.5"), Some("192.0.2.5".parse().unwrap()));
        assert_eq!(parse_addr(b"127.1"), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(parse_addr(b"010.0.0.1"), Some("8.0.0.1".parse().unwrap()));
        assert_eq!(parse_addr(b"256.1.1.1"), None);
        assert_eq!(
            parse_addr(b"2001:db8::1"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_addr(b"abc:"), None);
        assert_eq!(parse_addr(b"mail.example.com"), None);
    }

    #[test]
    fn ranges() {
        let r = range("192.0.2.0/24");
        assert_eq!(r.len(), 256);
        assert!(r.contains("192.0.2.77".parse().unwrap()));
        assert!(!r.contains("192.0.3.1".parse().unwrap()));
        assert_eq!(r.to_string(), "192.0.2.0/24");
        let r = range("10.0.0.1-10.0.0.3");
        assert_eq!(r.len(), 3);
        assert_eq!(r.to_string(), "10.0.0.1-10.0.0.3");
        assert_eq!(range("2001:db8::/32").len(), u32::MAX);
        assert_eq!(range("2001:db8::/32").to_string(), "2001:db8::/32");
        assert_eq!(range("::ffff:0:0/96").to_string(), "::ffff:0.0.0.0/96");
        assert_eq!(range("::ffff:10.0.0.0/104").to_string(), "10.0.0.0/8");
        assert_eq!(
            parse_range(b"mail-relay.example.com"),
            RangeParse::NotAddress
        );
        assert!(matches!(parse_range(b"192.0.2.1/24"), RangeParse::Bad(_)));
        assert!(matches!(parse_range(b"192.0.2.0/0"), RangeParse::Bad(_)));
        assert!(matches!(
            parse_range(b"10.0.0.5-10.0.0.1"),
            RangeParse::Bad(_)
        ));
        assert!(matches!(parse_range(b"10.0.0.5-::1"), RangeParse::Bad(_)));
    }
}
