//! Property tests of the `blacklist` file: any bytes parse without a
//! panic (entries and complaints naming the file), and the table answers
//! for any address what a scan of the file's lines from the last to the
//! first would.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use tally_dccd::blacklist::{parse, Blacklist, Flags};

const WORDS: [&str; 9] = [
    "trace", "ok", "bad", "no-anon", "no_anon", "flood-ok", "flod_ok", "OK", "Bad",
];

/// An address of a small space, so that lines overlap: IPv4 in 10.0.0.0/15
/// or 127.0.0.0/16, or IPv6 near 2001:db8:: or ::.
fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (0u8..2, any::<u8>(), any::<u8>())
            .prop_map(|(b, c, d)| IpAddr::V4(Ipv4Addr::new(10, b, c, d))),
        (any::<u8>(), any::<u8>()).prop_map(|(c, d)| IpAddr::V4(Ipv4Addr::new(127, 0, c, d))),
        (0u16..3, any::<u16>())
            .prop_map(|(a, b)| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, a, 0, 0, 0, b))),
        any::<u16>().prop_map(|b| IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, b))),
        (any::<u8>(), any::<u8>())
            .prop_map(|(c, d)| IpAddr::V6(Ipv4Addr::new(10, 0, c, d).to_ipv6_mapped())),
    ]
}

/// A line: words, then an address, a CIDR block or a range (good or not).
fn line() -> impl Strategy<Value = String> {
    let words = proptest::sample::subsequence(WORDS.to_vec(), 0..3);
    let target = prop_oneof![
        addr().prop_map(|a| a.to_string()),
        (addr(), 8u8..=128).prop_map(|(a, bits)| {
            let bits = if a.is_ipv4() { bits % 33 } else { bits };
            // put the address on the boundary most of the time
            let lo = match a {
                IpAddr::V4(v4) => {
                    let m = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
                    IpAddr::V4(Ipv4Addr::from(u32::from(v4) & m))
                }
                IpAddr::V6(v6) => {
                    let m = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
                    IpAddr::V6(Ipv6Addr::from(u128::from(v6) & m))
                }
            };
            format!("{lo}/{bits}")
        }),
        (addr(), addr()).prop_map(|(a, b)| format!("{a}-{b}")),
        (0u16..2, any::<u16>()).prop_map(|(a, b)| format!(
            "::{a:x}-::ffff:10.0.{}.{}",
            b >> 8,
            b & 0xff
        )),
    ];
    (words, target, proptest::bool::ANY).prop_map(|(w, t, comment)| {
        let mut l = w.join(",");
        if !l.is_empty() {
            l.push(' ');
        }
        l.push_str(&t);
        if comment {
            l.push_str(" # note");
        }
        l
    })
}

proptest! {
    #[test]
    fn any_bytes_parse(data in proptest::collection::vec(any::<u8>(), 0..600), probe in addr()) {
        let p = parse(&data, "bl");
        for e in &p.entries {
            prop_assert!(e.flags.any(Flags::OK.with(Flags::BAD).with(Flags::NO_ANON)));
            prop_assert!(!(e.flags.has(Flags::OK) && e.flags.any(Flags::BAD.with(Flags::NO_ANON))));
        }
        for pr in &p.problems {
            let tail = format!(" in line {} of bl", pr.line);
            prop_assert!(pr.to_string().ends_with(&tail));
        }
        let t = Blacklist::new(&p.entries);
        prop_assert_eq!(t.len(), p.entries.len());
        let _ = t.lookup(probe);
    }

    #[test]
    fn lookup_is_the_last_covering_line(
        lines in proptest::collection::vec(line(), 0..40),
        probes in proptest::collection::vec(addr(), 1..40),
    ) {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let p = parse(text.as_bytes(), "bl");
        let t = Blacklist::new(&p.entries);
        for ip in probes {
            let naive = p.entries.iter().rev().find(|e| e.range.contains(ip));
            let got = t.lookup(ip);
            prop_assert_eq!(got.map(|h| (h.line, h.flags)), naive.map(|e| (e.line, e.flags)), "{}", ip);
        }
    }
}
