//! The binary list of clients that answers `cdcc clients` (ADMN CLIENTS and
//! CLIENTS_ID).
//!
//! Three layouts exist, chosen by the answer's protocol version:
//!
//! - up to version 6, fixed entries: ID (4), last used (4), requests (3),
//!   NOPs (2), flags (1), then an IPv4 (4) or IPv6 (16) address;
//! - versions 7 to 9: flags (1), the version byte when flagged, last used as
//!   4 big-endian bytes, then packed numbers for the ID (absent for
//!   anonymous entries), requests and NOPs, then the address;
//! - version 10 and later: as 7..9 but the date is a packed number too, and
//!   a small value is the difference to the previous entry's date.
//!
//! Packed numbers carry 7 bits per byte, least significant first, with the
//! high bit set on every byte but the last. All multi-byte fixed fields are
//! big-endian. Entries are simply concatenated.

use crate::error::DecodeError;
use crate::header::{VERS_CLIENTS_DATE4, VERS_FIXED_CLIENTS};

/// Flag bits of an entry.
pub mod flags {
    /// The client is blacklisted.
    pub const BLACK: u8 = 0x01;
    /// The address is IPv6 (16 bytes instead of 4).
    pub const IPV6: u8 = 0x02;
    /// Not a client: the date field counts entries the server skipped.
    pub const SKIP: u8 = 0x04;
    /// Anonymous: the ID field is absent.
    pub const ANON: u8 = 0x08;
    /// A protocol version byte follows the flags.
    pub const VERS: u8 = 0x10;
    /// The last entry the server has.
    pub const LAST: u8 = 0x20;
    /// Requests from this client were dropped.
    pub const DROPPED: u8 = 0x40;
    /// The entry is an address block.
    pub const BLOCK: u8 = 0x80;
}

/// Added to an ID whose requests failed authentication (printed with `*`).
pub const NO_AUTH: u64 = 0x0100_0000;
/// Dates differing by at most this from the previous entry are sent as
/// differences (version 10 and later).
pub const MAX_DELTA: u64 = 0x001f_ffff;

/// A client's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientAddr {
    /// IPv4 (also IPv4-mapped IPv6 addresses).
    V4([u8; 4]),
    /// IPv6.
    V6([u8; 16]),
}

/// One entry of the list, with its fields as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientEntry {
    /// Flag bits ([`flags`]). When packing, IPV6 follows `addr` and, from
    /// version 7 on, VERS follows `vers` and ANON follows `id`.
    pub flags: u8,
    /// Protocol version of the client, sent only when it changes.
    pub vers: Option<u8>,
    /// Last-used date (seconds), its difference to the previous entry's,
    /// or, with [`flags::SKIP`], the number of skipped entries.
    pub when: u64,
    /// Client-ID, plus [`NO_AUTH`] when unauthenticated; `None` when
    /// anonymous (always present in the fixed layout).
    pub id: Option<u64>,
    /// Requests.
    pub reqs: u64,
    /// NOPs.
    pub nops: u64,
    /// Address.
    pub addr: ClientAddr,
}

/// The three layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientsLayout {
    /// Versions 4..=6.
    Fixed,
    /// Versions 7..=9.
    Date4,
    /// Versions 10 and later.
    Packed,
}

impl ClientsLayout {
    /// The layout of an answer with this protocol version.
    pub fn for_version(vers: u8) -> ClientsLayout {
        if vers <= VERS_FIXED_CLIENTS {
            ClientsLayout::Fixed
        } else if vers <= VERS_CLIENTS_DATE4 {
            ClientsLayout::Date4
        } else {
            ClientsLayout::Packed
        }
    }
}

fn take<'a>(b: &'a [u8], pos: &mut usize, n: usize, entry: usize) -> Result<&'a [u8], DecodeError> {
    let end = pos
        .checked_add(n)
        .ok_or(DecodeError::TruncatedClient { offset: entry })?;
    let s = b
        .get(*pos..end)
        .ok_or(DecodeError::TruncatedClient { offset: entry })?;
    *pos = end;
    Ok(s)
}

fn be(s: &[u8]) -> u64 {
    s.iter().fold(0u64, |v, &c| (v << 8) | u64::from(c))
}

fn get_packed(b: &[u8], pos: &mut usize, entry: usize) -> Result<u64, DecodeError> {
    let start = *pos;
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let c = *b
            .get(*pos)
            .ok_or(DecodeError::TruncatedClient { offset: entry })?;
        *pos += 1;
        let bits = u64::from(c & 0x7f);
        if shift == 63 && bits > 1 {
            return Err(DecodeError::BadVarint { offset: start });
        }
        v |= bits << shift;
        if c & 0x80 == 0 {
            if c == 0 && shift > 0 {
                return Err(DecodeError::BadVarint { offset: start });
            }
            return Ok(v);
        }
        shift += 7;
        if shift > 63 {
            return Err(DecodeError::BadVarint { offset: start });
        }
    }
}

fn put_packed(out: &mut Vec<u8>, mut v: u64) {
    while v > 0x7f {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_addr(b: &[u8], pos: &mut usize, fl: u8, entry: usize) -> Result<ClientAddr, DecodeError> {
    Ok(if fl & flags::IPV6 != 0 {
        let mut a = [0u8; 16];
        a.copy_from_slice(take(b, pos, 16, entry)?);
        ClientAddr::V6(a)
    } else {
        let mut a = [0u8; 4];
        a.copy_from_slice(take(b, pos, 4, entry)?);
        ClientAddr::V4(a)
    })
}

fn put_addr(out: &mut Vec<u8>, addr: &ClientAddr) {
    match addr {
        ClientAddr::V4(a) => out.extend_from_slice(a),
        ClientAddr::V6(a) => out.extend_from_slice(a),
    }
}

/// Decode a whole list in the layout of protocol version `vers`.
pub fn decode(b: &[u8], vers: u8) -> Result<Vec<ClientEntry>, DecodeError> {
    let layout = ClientsLayout::for_version(vers);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let e = pos;
        let entry = match layout {
            ClientsLayout::Fixed => {
                let f = take(b, &mut pos, 14, e)?;
                let fl = f[13];
                ClientEntry {
                    flags: fl,
                    vers: None,
                    id: Some(be(&f[0..4])),
                    when: be(&f[4..8]),
                    reqs: be(&f[8..11]),
                    nops: be(&f[11..13]),
                    addr: get_addr(b, &mut pos, fl, e)?,
                }
            }
            ClientsLayout::Date4 | ClientsLayout::Packed => {
                let fl = take(b, &mut pos, 1, e)?[0];
                let vers = if fl & flags::VERS != 0 {
                    Some(take(b, &mut pos, 1, e)?[0])
                } else {
                    None
                };
                let when = if layout == ClientsLayout::Date4 {
                    be(take(b, &mut pos, 4, e)?)
                } else {
                    get_packed(b, &mut pos, e)?
                };
                let id = if fl & flags::ANON != 0 {
                    None
                } else {
                    Some(get_packed(b, &mut pos, e)?)
                };
                let reqs = get_packed(b, &mut pos, e)?;
                let nops = get_packed(b, &mut pos, e)?;
                let addr = get_addr(b, &mut pos, fl, e)?;
                ClientEntry {
                    flags: fl,
                    vers,
                    when,
                    id,
                    reqs,
                    nops,
                    addr,
                }
            }
        };
        out.push(entry);
    }
    Ok(out)
}

/// Append a list in the layout of protocol version `vers`. Values too large
/// for the fixed fields of older layouts are cut to their low bits.
pub fn encode_into(entries: &[ClientEntry], vers: u8, out: &mut Vec<u8>) {
    let layout = ClientsLayout::for_version(vers);
    for c in entries {
        let mut fl = c.flags & !flags::IPV6;
        if matches!(c.addr, ClientAddr::V6(_)) {
            fl |= flags::IPV6;
        }
        match layout {
            ClientsLayout::Fixed => {
                out.extend_from_slice(&(c.id.unwrap_or(0) as u32).to_be_bytes());
                out.extend_from_slice(&(c.when as u32).to_be_bytes());
                out.extend_from_slice(&(c.reqs as u32).to_be_bytes()[1..]);
                out.extend_from_slice(&(c.nops as u16).to_be_bytes());
                out.push(fl);
            }
            ClientsLayout::Date4 | ClientsLayout::Packed => {
                fl &= !(flags::VERS | flags::ANON);
                if c.vers.is_some() {
                    fl |= flags::VERS;
                }
                if c.id.is_none() {
                    fl |= flags::ANON;
                }
                out.push(fl);
                if let Some(v) = c.vers {
                    out.push(v);
                }
                if layout == ClientsLayout::Date4 {
                    out.extend_from_slice(&(c.when as u32).to_be_bytes());
                } else {
                    put_packed(out, c.when);
                }
                if let Some(id) = c.id {
                    put_packed(out, id);
                }
                put_packed(out, c.reqs);
                put_packed(out, c.nops);
            }
        }
        put_addr(out, &c.addr);
    }
}

/// The value a server sends for `last_used` in the packed layout: the
/// difference to the previous entry's date when small, else the date;
/// `prev` is updated.
pub fn pack_date(last_used: u64, prev: &mut u64) -> u64 {
    let delta = last_used.wrapping_sub(*prev);
    *prev = last_used;
    if delta > MAX_DELTA {
        last_used
    } else {
        delta
    }
}

/// Absolute last-used dates of the entries as `cdcc` reconstructs them
/// (`None` for skip entries).
pub fn dates(entries: &[ClientEntry]) -> Vec<Option<u64>> {
    let mut prev = 0u64;
    entries
        .iter()
        .map(|c| {
            if c.flags & flags::SKIP != 0 {
                return None;
            }
            let mut v = c.when;
            if v <= MAX_DELTA {
                v = v.wrapping_add(prev);
            }
            prev = v;
            Some(v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_numbers() {
        for v in [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            put_packed(&mut out, v);
            let mut pos = 0;
            assert_eq!(get_packed(&out, &mut pos, 0), Ok(v));
            assert_eq!(pos, out.len());
        }
        let mut pos = 0;
        assert!(get_packed(&[0x80, 0x00], &mut pos, 0).is_err());
        let mut pos = 0;
        assert!(get_packed(&[0xff; 11], &mut pos, 0).is_err());
    }
}
