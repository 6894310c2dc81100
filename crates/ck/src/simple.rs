//! The two checksum primitives every other part builds on: a normalised
//! string (envelope values, header values, whiteclnt entries) and an IP address.

use crate::md5_many::md5;
use crate::Sum;
use std::net::{IpAddr, Ipv6Addr};

/// Most bytes of a string that take part in its checksum after normalisation.
pub const STR_CK_MAX: usize = 1024;

/// What each byte of a value becomes in a string checksum: 0 for the
/// bytes dropped (white space, angle brackets, quotes, commas; NUL ends the
/// value before the table is consulted), otherwise the byte lower-cased.
const NORM: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 1;
    while c < 256 {
        let b = c as u8;
        t[c] = match b {
            b' ' | b'\t' | b'\r' | b'\n' | b'<' | b'>' | b'\'' | b'"' | b',' => 0,
            _ => b.to_ascii_lowercase(),
        };
        c += 1;
    }
    t
};

/// The value's bytes that [`str_sum`] hashes after the header name,
/// normalised into `buf`; returns their number.
///
/// One table look-up per byte and no branch on the kind of byte: each
/// byte is stored at the next place and that place advances only for the
/// bytes kept (a byte-by-byte `push` cost more than the MD5 of the value).
pub(crate) fn str_ck_bytes(value: &[u8], buf: &mut [u8; STR_CK_MAX]) -> usize {
    let mut n = 0;
    for &c in value {
        if c == 0 || n == STR_CK_MAX {
            break;
        }
        let m = NORM[usize::from(c)];
        buf[n] = m;
        n += usize::from(m != 0);
    }
    while n > 0 && buf[n - 1] == b'.' {
        n -= 1;
    }
    n
}

/// Checksum of a header or envelope value as DCC computes it.
///
/// White space (space, tab, CR, LF), angle brackets, quotes (single and
/// double) and commas are dropped, ASCII letters are lower-cased, and trailing
/// periods are removed; at most [`STR_CK_MAX`] bytes survive. The value ends
/// at the first NUL byte, as a C string would. A substitute header's
/// lower-case name, when given, is hashed in front of the value.
pub fn str_sum(hdr_name: Option<&[u8]>, value: &[u8]) -> Sum {
    let mut buf = [0u8; STR_CK_MAX];
    let n = str_ck_bytes(value, &mut buf);
    match hdr_name {
        None => Sum(md5(&buf[..n])),
        Some(name) => Sum(md5(&[name, &buf[..n]].concat())),
    }
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
    Sum(md5(&ip_to_v6(ip).octets()))
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

    /// The normalisation as the man page words it, byte by byte.
    fn reference(hdr_name: Option<&[u8]>, value: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = Vec::new();
        for &c in value.iter().take_while(|&&c| c != 0) {
            if v.len() == STR_CK_MAX {
                break;
            }
            if !b" \t\r\n<>'\",".contains(&c) {
                v.push(c.to_ascii_lowercase());
            }
        }
        while v.last() == Some(&b'.') {
            v.pop();
        }
        [hdr_name.unwrap_or(b""), &v].concat()
    }

    #[test]
    fn str_sum_edges() {
        use md5::{Digest, Md5};
        let a = |n: usize| vec![b'a'; n];
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b".".to_vec(),
            b"..".to_vec(),
            b" .<.> ".to_vec(),
            b"A.".to_vec(),
            b"\0.".to_vec(),
            [a(STR_CK_MAX - 1), b".".to_vec()].concat(),
            [a(STR_CK_MAX), b".b".to_vec()].concat(),
            [a(STR_CK_MAX - 1), b" .b".to_vec()].concat(),
            [a(STR_CK_MAX + 5), b"\0".to_vec()].concat(),
        ];
        for v in &cases {
            for name in [None, Some(&b"helo"[..])] {
                let want: [u8; 16] = Md5::digest(reference(name, v)).into();
                assert_eq!(str_sum(name, v), Sum(want), "{v:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn str_sum_is_md5_of_the_normalised_value(
            mut value in proptest::collection::vec(
                proptest::sample::select(b"aZ.. <>\t\r\n'\",\x80\xff9".to_vec()),
                0..2600,
            ),
            nul in proptest::option::of(0usize..2600),
            named in proptest::bool::ANY,
        ) {
            use md5::{Digest, Md5};
            // long enough values keep more than STR_CK_MAX bytes; a NUL
            // somewhere ends some of them early
            if let Some(slot) = nul.and_then(|at| value.get_mut(at)) {
                *slot = 0;
            }
            let name: Option<&[u8]> = named.then_some(b"list-id");
            let want: [u8; 16] = Md5::digest(reference(name, &value)).into();
            proptest::prop_assert_eq!(str_sum(name, &value), Sum(want));
        }
    }

    #[test]
    fn ip_golden() {
        // IP 192.0.2.1 of the first message of the checksum vectors.
        let want = Sum::parse_hex("3ad457db 10541915 611a393e de768a63").unwrap();
        assert_eq!(ip_sum("192.0.2.1".parse().unwrap()), want);
    }
}
