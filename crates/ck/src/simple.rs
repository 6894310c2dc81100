//! The two checksum primitives every other part builds on: a normalised
//! string (envelope values, header values, whiteclnt entries) and an IP address.

use crate::Sum;
use md5::{Digest, Md5};
use std::net::{IpAddr, Ipv6Addr};

/// Most bytes of a string that take part in its checksum after normalisation.
pub const STR_CK_MAX: usize = 1024;

/// Checksum of a header or envelope value as DCC computes it.
///
/// White space (space, tab, CR, LF), angle brackets, quotes (single and
/// double) and commas are dropped, ASCII letters are lower-cased, and trailing
/// periods are removed; at most [`STR_CK_MAX`] bytes survive. The value ends
/// at the first NUL byte, as a C string would. A substitute header's
/// lower-case name, when given, is hashed in front of the value.
pub fn str_sum(hdr_name: Option<&[u8]>, value: &[u8]) -> Sum {
    let mut buf = [0u8; STR_CK_MAX];
    let mut len = 0;
    for &c in value {
        if c == 0 || len == STR_CK_MAX {
            break;
        }
        if matches!(
            c,
            b' ' | b'\t' | b'\r' | b'\n' | b'<' | b'>' | b'\'' | b'"' | b','
        ) {
            continue;
        }
        buf[len] = c.to_ascii_lowercase();
        len += 1;
    }
    while len > 0 && buf[len - 1] == b'.' {
        len -= 1;
    }
    let mut md5 = Md5::new();
    if let Some(name) = hdr_name {
        md5.update(name);
    }
    md5.update(&buf[..len]);
    Sum(md5.finalize().into())
}

/// An IPv4 address as the IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) that
/// DCC checksums, so that everyone computes the same value.
pub fn ip_to_v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// Checksum of an SMTP client address: MD5 of its 16 IPv6 bytes.
pub fn ip_sum(ip: IpAddr) -> Sum {
    Sum(Md5::digest(ip_to_v6(ip).octets()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_from_golden() {
        // env_From of alice@example.com as recorded from the original.
        let want = Sum::parse_hex("c160f8cc 69a4f0bf 2b036275 2353d060").unwrap();
        assert_eq!(str_sum(None, b"alice@example.com"), want);
        assert_eq!(str_sum(None, b" <Alice@Example.COM.> "), want);
        assert_eq!(str_sum(None, b"alice@example.com\0junk"), want);
    }

    #[test]
    fn ip_golden() {
        // IP 192.0.2.1 of the first message of the checksum vectors.
        let want = Sum::parse_hex("3ad457db 10541915 611a393e de768a63").unwrap();
        assert_eq!(ip_sum("192.0.2.1".parse().unwrap()), want);
    }
}
