#![no_main]
//! dccd's `blacklist` file on arbitrary bytes: never a panic, and the
//! table answers for addresses taken from the input (and from the
//! entries' own ends) what a scan of the lines from the last to the first
//! would.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use tally_dccd::blacklist::{parse, Blacklist};

fuzz_target!(|data: &[u8]| {
    let p = parse(data, "blacklist");
    for pr in &p.problems {
        let _ = pr.to_string();
    }
    let t = Blacklist::new(&p.entries);
    let mut probes: Vec<IpAddr> = data
        .chunks(16)
        .take(8)
        .map(|c| {
            let mut b = [0u8; 16];
            b[..c.len()].copy_from_slice(c);
            if c.len() <= 4 {
                IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            } else {
                IpAddr::V6(Ipv6Addr::from(b))
            }
        })
        .collect();
    for e in p.entries.iter().take(16) {
        probes.push(IpAddr::V6(e.range.lo));
        probes.push(IpAddr::V6(e.range.hi));
        if let Some(v4) = e.range.lo.to_ipv4_mapped() {
            probes.push(IpAddr::V4(v4));
        }
    }
    for ip in probes {
        let naive = p.entries.iter().rev().find(|e| e.range.contains(ip));
        let got = t.lookup(ip);
        assert_eq!(
            got.map(|h| (h.line, h.flags)),
            naive.map(|e| (e.line, e.flags)),
            "{ip}"
        );
    }
});
