//! The `blacklist` file of the home directory (dccd(8) FILES): addresses
//! and blocks of addresses of clients and flooding peers whose requests
//! are ignored, as dccd 2.3.167 reads and applies it.
//!
//! - [`mod@parse`]: the file's lines (no I/O).
//! - [`Blacklist`]: the table the server consults; the last line of the
//!   file that covers an address decides what happens to it.
//! - [`watch`]: the file read at start and again when its modification
//!   time changes, looked at every 30 seconds as the original does (and
//!   on SIGHUP), with the original's messages.
//! - [`requests`]: what the server does with a request from a listed
//!   address: drops it (no answer, counted as `blist` and `bad op` in
//!   `cdcc stats`, the client marked in `cdcc clients`), or logs it
//!   (`trace`).
//!
//! An incoming flood from a `bad` address without `flood-ok` is ended at
//! once with the END text `blacklisted` (see
//! [`crate::flood::incoming::accepted`]).
//!
//! The cost in the request path: one test of an empty vector while the
//! file is absent or empty; otherwise a binary search among the IPv4 /16
//! and IPv6 /48 blocks the file names and a scan of the lines of the
//! client's block (no line covers more than one such block).

use std::net::IpAddr;

use tally_white::addr::to_v6;

pub mod parse;
pub mod requests;
pub mod watch;

pub use parse::{parse, Entry, Flags, Parsed, Problem};

/// One line in the table.
#[derive(Debug, Clone, Copy)]
struct Slot {
    lo: u128,
    hi: u128,
    flags: Flags,
    line: u32,
}

/// The line that decides for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Its words.
    pub flags: Flags,
    /// Its line number.
    pub line: usize,
}

/// The table of a blacklist file: for an address, the last line that
/// covers it.
#[derive(Debug, Clone, Default)]
pub struct Blacklist {
    /// The lines, by block (see [`key`]) and within a block from the
    /// last line of the file to the first.
    slots: Vec<Slot>,
    /// The blocks that have lines: (key, first slot, end of its slots),
    /// sorted by key.
    blocks: Vec<(u64, u32, u32)>,
}

/// Whether an address in IPv6 form is IPv4-mapped.
fn mapped(a: u128) -> bool {
    a >> 32 == 0xffff
}

/// The block of an address: its IPv4 /16 when it is IPv4-mapped, else its
/// IPv6 /48. The top bit tells them apart.
fn key(a: u128) -> u64 {
    if mapped(a) {
        (1 << 63) | ((a >> 16) as u64 & 0xffff)
    } else {
        (a >> 80) as u64
    }
}

/// The IPv6 /48 of the IPv4-mapped addresses (`::/48`): a range of IPv6
/// addresses written as such may reach into them.
const MAPPED_V6_KEY: u64 = 0;

impl Blacklist {
    /// The table of the entries of a file (in the order of the file).
    pub fn new(entries: &[Entry]) -> Blacklist {
        let mut slots: Vec<(u64, Slot)> = entries
            .iter()
            .map(|e| {
                let lo = u128::from(e.range.lo);
                let slot = Slot {
                    lo,
                    hi: u128::from(e.range.hi),
                    flags: e.flags,
                    line: u32::try_from(e.line).unwrap_or(u32::MAX),
                };
                (key(lo), slot)
            })
            .collect();
        slots.sort_by_key(|&(k, s)| (k, std::cmp::Reverse(s.line)));
        let mut blocks: Vec<(u64, u32, u32)> = Vec::new();
        for (i, &(k, _)) in slots.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            match blocks.last_mut() {
                Some(b) if b.0 == k => b.2 = i + 1,
                _ => blocks.push((k, i, i + 1)),
            }
        }
        Blacklist {
            slots: slots.into_iter().map(|(_, s)| s).collect(),
            blocks,
        }
    }

    /// The table of the bytes of a file named `file`, and the complaints.
    pub fn from_text(data: &[u8], file: &str) -> (Blacklist, Vec<Problem>) {
        let p = parse(data, file);
        (Blacklist::new(&p.entries), p.problems)
    }

    /// Lines in the table.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// No line: nothing to look up.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The last line of the file that covers `ip` (an IPv4-mapped IPv6
    /// address is its IPv4 address).
    #[inline]
    pub fn lookup(&self, ip: IpAddr) -> Option<Hit> {
        if self.slots.is_empty() {
            return None;
        }
        self.search(ip)
    }

    fn search(&self, ip: IpAddr) -> Option<Hit> {
        let a = u128::from(to_v6(ip));
        let mut best = self.in_block(key(a), a);
        if mapped(a) {
            if let Some(s) = self.in_block(MAPPED_V6_KEY, a) {
                if best.is_none_or(|b| s.line > b.line) {
                    best = Some(s);
                }
            }
        }
        best.map(|s| Hit {
            flags: s.flags,
            line: s.line as usize,
        })
    }

    /// The last line of block `k` that covers `a`.
    fn in_block(&self, k: u64, a: u128) -> Option<Slot> {
        let i = self.blocks.binary_search_by_key(&k, |b| b.0).ok()?;
        let &(_, from, to) = self.blocks.get(i)?;
        self.slots
            .get(from as usize..to as usize)?
            .iter()
            .find(|s| s.lo <= a && a <= s.hi)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Blacklist {
        let (t, p) = Blacklist::from_text(text.as_bytes(), "bl");
        assert!(p.is_empty(), "{p:?}");
        t
    }

    fn at(t: &Blacklist, ip: &str) -> Option<(Flags, usize)> {
        t.lookup(ip.parse().unwrap()).map(|h| (h.flags, h.line))
    }

    #[test]
    fn empty_table_finds_nothing() {
        let t = Blacklist::default();
        assert!(t.is_empty());
        assert_eq!(at(&t, "127.0.0.1"), None);
    }

    #[test]
    fn the_last_covering_line_decides() {
        let t = table("10.1.0.0/16\nok 10.1.2.3\n");
        assert_eq!(at(&t, "10.1.2.3"), Some((Flags::OK, 2)));
        assert_eq!(at(&t, "10.1.2.4"), Some((Flags::BAD, 1)));
        assert_eq!(at(&t, "10.2.0.1"), None);
        // the other way round the block wins
        let t = table("ok 10.1.2.3\n10.1.0.0/16\n");
        assert_eq!(at(&t, "10.1.2.3"), Some((Flags::BAD, 2)));
    }

    #[test]
    fn ipv4_mapped_and_ipv6() {
        let t = table("192.0.2.0/24\nno-anon 2001:db8::/48\n");
        assert_eq!(at(&t, "::ffff:192.0.2.9"), Some((Flags::BAD, 1)));
        assert_eq!(at(&t, "192.0.2.9"), Some((Flags::BAD, 1)));
        assert_eq!(at(&t, "2001:db8::5"), Some((Flags::NO_ANON, 2)));
        assert_eq!(at(&t, "2001:db9::5"), None);
        // an IPv6 range of the IPv4-mapped addresses, written as IPv6
        let t = table("::1-::ffff:10.0.0.5\nok 10.0.0.2\n");
        assert_eq!(at(&t, "10.0.0.1"), Some((Flags::BAD, 1)));
        assert_eq!(at(&t, "10.0.0.2"), Some((Flags::OK, 2)));
        assert_eq!(at(&t, "10.0.0.6"), None);
        assert_eq!(at(&t, "::7"), Some((Flags::BAD, 1)));
    }
}
