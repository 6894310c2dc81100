//! Addresses in `-B` arguments: the result address or range a list must answer
//! (`IPaddr`, `IPaddr/xx`, `IPaddrLO-IPaddrHI`), the `&IPmask` applied to answers,
//! and the probe names made from addresses (reversed decimal octets).
//!
//! Every address is kept as 128 bits; an IPv4 address is its IPv4-mapped IPv6
//! form (`::ffff:a.b.c.d`), so IPv4 masks and ranges compare as the original's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address as 128 bits, IPv4 mapped into IPv6.
pub fn to_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The IPv4 address inside an IPv4-mapped address.
pub fn mapped_v4(bits: u128) -> Option<Ipv4Addr> {
    Ipv6Addr::from(bits).to_ipv4_mapped()
}

/// An address as the original writes it: dotted IPv4 for a mapped address.
pub fn bits_to_string(bits: u128) -> String {
    match mapped_v4(bits) {
        Some(v4) => v4.to_string(),
        None => Ipv6Addr::from(bits).to_string(),
    }
}

/// Parses a numeric address, IPv4 dotted quad or IPv6 colon notation.
/// Host names are not addresses (the original refuses them too).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok()
}

/// An inclusive range of result addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub lo: u128,
    pub hi: u128,
}

impl Range {
    /// Every address.
    pub const ANY: Range = Range {
        lo: 0,
        hi: u128::MAX,
    };

    pub fn contains(&self, bits: u128) -> bool {
        self.lo <= bits && bits <= self.hi
    }
}

/// Why an address or range was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangeError {
    /// Not an address at all (the original says only "invalid DNS blacklist").
    NotAddress,
    /// A detail the original names before the argument.
    Detail(String),
}

/// Parses `IPaddr`, `IPaddr/xx` or `IPaddrLO-IPaddrHI`; returns the range and
/// whether the (first) address was IPv6.
pub fn parse_range(s: &str) -> Result<(Range, bool), RangeError> {
    let s = s.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n');
    let split = s.find(['/', '-']);
    let first = match split {
        Some(i) => &s[..i],
        None => s,
    };
    if first.is_empty() {
        return Err(RangeError::NotAddress);
    }
    let lo_ip = parse_ip(first).ok_or(RangeError::NotAddress)?;
    let is_v6 = lo_ip.is_ipv6();
    let lo = to_bits(lo_ip);
    let Some(i) = split else {
        return Ok((Range { lo, hi: lo }, is_v6));
    };
    let rest = &s[i + 1..];
    if s.as_bytes()[i] == b'/' {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: u32 = if digits == 0 {
            0
        } else {
            rest[..digits].parse().unwrap_or(u32::MAX)
        };
        let bits = if is_v6 { n } else { n.saturating_add(96) };
        if digits != rest.len() || bits > 128 || n == 0 {
            return Err(RangeError::Detail(format!(
                "invalid CIDR block length \"{s}\""
            )));
        }
        let host = if bits == 128 { 0 } else { u128::MAX >> bits };
        if lo & host != 0 {
            return Err(RangeError::Detail(format!(
                "{first} does not start on a {rest}-bit CIDR boundary"
            )));
        }
        return Ok((Range { lo, hi: lo | host }, is_v6));
    }
    let hi_ip = parse_ip(rest).ok_or(RangeError::NotAddress)?;
    if hi_ip.is_ipv6() != is_v6 {
        return Err(RangeError::Detail(format!(
            "mixture of IPv4 and IPv6 in \"{s}\""
        )));
    }
    let hi = to_bits(hi_ip);
    if lo > hi {
        return Err(RangeError::Detail(format!(
            "first address after second in \"{s}\""
        )));
    }
    Ok((Range { lo, hi }, is_v6))
}

/// The probe name of an IPv4 address in a list: `d.c.b.a.domain`.
pub fn ipv4_probe(ip: Ipv4Addr, domain: &str) -> String {
    let o = ip.octets();
    format!("{}.{}.{}.{}.{}", o[3], o[2], o[1], o[0], domain)
}

/// The probe name of an IPv6 address in a list: its 16 octets reversed, in
/// decimal (not the nibble form of ip6.arpa), as the original.
pub fn ipv6_probe(bits: u128, domain: &str) -> String {
    let mut s = String::with_capacity(64 + domain.len());
    for o in bits.to_be_bytes().iter().rev() {
        s.push_str(&o.to_string());
        s.push('.');
    }
    s.push_str(domain);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let (r, v6) = parse_range("127.0.0.2-127.0.0.5").unwrap();
        assert!(!v6);
        assert!(r.contains(to_bits("127.0.0.4".parse().unwrap())));
        assert!(!r.contains(to_bits("127.0.0.6".parse().unwrap())));
        let (r, _) = parse_range("127.0.0.0/24").unwrap();
        assert!(r.contains(to_bits("127.0.0.255".parse().unwrap())));
        assert!(!r.contains(to_bits("127.0.1.0".parse().unwrap())));
        assert_eq!(parse_range("localhost"), Err(RangeError::NotAddress));
        assert_eq!(
            parse_range("127.0.0.3/24"),
            Err(RangeError::Detail(
                "127.0.0.3 does not start on a 24-bit CIDR boundary".into()
            ))
        );
        assert!(matches!(
            parse_range("127.0.0.0/0"),
            Err(RangeError::Detail(_))
        ));
        assert!(matches!(
            parse_range("127.0.0.0/33"),
            Err(RangeError::Detail(_))
        ));
        assert!(matches!(
            parse_range("127.0.0.9-127.0.0.2"),
            Err(RangeError::Detail(_))
        ));
        assert!(matches!(
            parse_range("127.0.0.1-::1"),
            Err(RangeError::Detail(_))
        ));
        let (r, v6) = parse_range("2001:db8::/32").unwrap();
        assert!(v6);
        assert!(r.contains(to_bits("2001:db8::66".parse().unwrap())));
    }

    #[test]
    fn probes() {
        assert_eq!(
            ipv4_probe("192.0.2.66".parse().unwrap(), "bl.test"),
            "66.2.0.192.bl.test"
        );
        let bits = to_bits("2001:db8::66".parse().unwrap());
        assert_eq!(
            ipv6_probe(bits, "bl6.test"),
            "102.0.0.0.0.0.0.0.0.0.0.0.184.13.1.32.bl6.test"
        );
    }
}
