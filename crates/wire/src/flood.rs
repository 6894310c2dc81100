//! The server-to-server flooding stream (TCP).
//!
//! The connection's originator sends reports; the listener only answers.
//! The originator starts with a 256-byte [`VersionHeader`] (the only signed
//! part of the stream: keyed MD5 of its first 240 bytes), then sends
//! [`FloodReport`] records back to back. The listener sends
//! [`ListenerMsg`]s: acknowledged positions, requests to stop, rewind or
//! fast-forward, notes, and a final END whose text runs to the end of the
//! stream.
//!
//! The decoders here work on a buffer of received bytes and say how many
//! they consumed, or that more are needed, so that a caller can read a
//! stream with a small, bounded buffer.

use crate::ck::{WireCk, CK_LEN, MAX_CKS};
use crate::error::DecodeError;
use crate::sign::{keyed_md5, Passwd};
use crate::tgts::Tgts;
use tally_ck::{CkType, Sum};

/// Size of the version header.
pub const VERS_HDR_LEN: usize = 256;
/// Size of its version-string field.
pub const VERS_STR_LEN: usize = 64;
/// The bytes covered by the header's signature.
pub const VERS_SIGNED_LEN: usize = 240;
/// What every version string starts with.
pub const VERS_BASE: &str = "DCC flod version ";
/// The plain version-7 string.
pub const VERS7: &str = "DCC flod version 7";
/// Version 7 with reputations, sent by 2.3.167.
pub const VERS7_REP: &str = "DCC flod version rep 7";
/// Positions below this are listener operations, not acknowledgements.
pub const POS_MIN: u64 = 10;
/// Longest END or NOTE text.
pub const MAX_RESP_TEXT: usize = 200;
/// Start of the END text of a graceful end.
pub const OK_PREFIX: &str = "DCC flod ok: ";
/// The NOTE a listener sends when it has nothing else to say.
pub const ARE_YOU_THERE: &str = "are you there?";
/// Server-ID of the periodic timestamp records.
pub const SRVR_ID_DATE: u16 = 99;
/// Header size of a report record before its checksums.
pub const RPT_FIXED_LEN: usize = 21;

/// How a peer's version string is understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlodVersion {
    /// `DCC flod version 7`.
    V7,
    /// `DCC flod version rep 7`: version 7 that also exchanges reputations.
    V7Rep,
    /// `DCC flod version <other>`: refused after the peer is identified.
    Unrecognized,
    /// Anything else: refused at once.
    Garbage,
}

/// The 256 bytes that open a flood connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionHeader {
    /// Version string, NUL-padded.
    pub vers: [u8; VERS_STR_LEN],
    /// The originator's server-ID.
    pub sender_srvr_id: u16,
    /// 1 asks the listener to turn the connection around (SOCKS).
    pub turn: u8,
    /// Unused bytes.
    pub unused: [u8; 3],
    /// Padding up to the signature (zero from the reference).
    pub pad: [u8; 170],
    /// MD5 of the passwd-ID's password and bytes 0..240.
    pub signature: [u8; 16],
}

impl VersionHeader {
    /// A header with a version string, zero padding and no signature yet.
    pub fn new(vers: &str, sender_srvr_id: u16) -> VersionHeader {
        let mut v = [0u8; VERS_STR_LEN];
        let n = vers.len().min(VERS_STR_LEN - 1);
        v[..n].copy_from_slice(&vers.as_bytes()[..n]);
        VersionHeader {
            vers: v,
            sender_srvr_id,
            turn: 0,
            unused: [0; 3],
            pad: [0; 170],
            signature: [0; 16],
        }
    }

    /// Decode the first 256 bytes of an originator's stream.
    pub fn decode(b: &[u8]) -> Result<VersionHeader, DecodeError> {
        let b: &[u8; VERS_HDR_LEN] = b
            .get(..VERS_HDR_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(DecodeError::TooShort {
                need: VERS_HDR_LEN,
                got: b.len(),
            })?;
        let mut h = VersionHeader::new("", u16::from_be_bytes([b[64], b[65]]));
        h.vers.copy_from_slice(&b[..64]);
        h.turn = b[66];
        h.unused.copy_from_slice(&b[67..70]);
        h.pad.copy_from_slice(&b[70..240]);
        h.signature.copy_from_slice(&b[240..]);
        Ok(h)
    }

    /// The 256 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(VERS_HDR_LEN);
        out.extend_from_slice(&self.vers);
        out.extend_from_slice(&self.sender_srvr_id.to_be_bytes());
        out.push(self.turn);
        out.extend_from_slice(&self.unused);
        out.extend_from_slice(&self.pad);
        out.extend_from_slice(&self.signature);
        out
    }

    /// The version string up to its first NUL.
    pub fn vers_str(&self) -> &[u8] {
        let end = self
            .vers
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(VERS_STR_LEN);
        &self.vers[..end]
    }

    /// What the version string announces.
    pub fn version(&self) -> FlodVersion {
        match self.vers_str() {
            s if s == VERS7.as_bytes() => FlodVersion::V7,
            s if s == VERS7_REP.as_bytes() => FlodVersion::V7Rep,
            s if s.starts_with(VERS_BASE.as_bytes()) => FlodVersion::Unrecognized,
            _ => FlodVersion::Garbage,
        }
    }

    /// The signature this header should carry when signed with `passwd`.
    pub fn compute_signature(&self, passwd: &Passwd) -> [u8; 16] {
        let bytes = self.encode();
        keyed_md5(passwd.key(), &bytes[..VERS_SIGNED_LEN])
    }

    /// Sign the header.
    pub fn sign(&mut self, passwd: &Passwd) {
        self.signature = self.compute_signature(passwd);
    }

    /// Does the signature verify with `passwd`?
    pub fn verify(&self, passwd: &Passwd) -> bool {
        self.signature == self.compute_signature(passwd)
    }
}

/// The 48-bit timestamp of a report: seconds in the high 31 bits,
/// microseconds divided by 8 in the low 17.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ts(pub [u8; 6]);

impl Ts {
    /// From seconds and microseconds.
    pub fn new(secs: u64, usecs: u32) -> Ts {
        let v = (secs << 17) | u64::from((usecs / 8) & 0x1_ffff);
        let b = v.to_be_bytes();
        Ts([b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    fn value(&self) -> u64 {
        self.0.iter().fold(0u64, |v, &c| (v << 8) | u64::from(c))
    }

    /// Seconds since the epoch.
    pub fn secs(&self) -> u64 {
        self.value() >> 17
    }

    /// Microseconds (a multiple of 8).
    pub fn usecs(&self) -> u32 {
        ((self.value() & 0x1_ffff) * 8) as u32
    }
}

/// A report forwarded between servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloodReport {
    /// The sender's position just after this record (>= 10).
    pub pos: u64,
    /// Target count; [`Tgts::DEL`] asks to delete the checksums.
    pub tgts: Tgts,
    /// Server that received the original report (99: timestamp record).
    pub srvr_id: u16,
    /// When that server received it.
    pub ts: Ts,
    /// 1 to 14 checksums; flood paths (type 13) first.
    pub cks: Vec<WireCk>,
}

impl FloodReport {
    /// Decode the record at the start of `b`: `Ok(None)` when more bytes
    /// are needed, else the record and its length.
    pub fn decode(b: &[u8]) -> Result<Option<(FloodReport, usize)>, DecodeError> {
        let Some(f) = b.get(..RPT_FIXED_LEN) else {
            return Ok(None);
        };
        let n = f[20];
        if n == 0 || usize::from(n) > MAX_CKS {
            return Err(DecodeError::BadNumCks(n));
        }
        let len = RPT_FIXED_LEN + usize::from(n) * CK_LEN;
        let Some(cks) = b.get(RPT_FIXED_LEN..len) else {
            return Ok(None);
        };
        let mut pos = [0u8; 8];
        pos.copy_from_slice(&f[..8]);
        let mut ts = [0u8; 6];
        ts.copy_from_slice(&f[14..20]);
        let r = FloodReport {
            pos: u64::from_be_bytes(pos),
            tgts: Tgts(u32::from_be_bytes([f[8], f[9], f[10], f[11]])),
            srvr_id: u16::from_be_bytes([f[12], f[13]]),
            ts: Ts(ts),
            cks: WireCk::decode_list(cks)?,
        };
        Ok(Some((r, len)))
    }

    /// Append the record (at most 14 checksums).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let n = self.cks.len().min(MAX_CKS);
        out.extend_from_slice(&self.pos.to_be_bytes());
        out.extend_from_slice(&self.tgts.to_bytes());
        out.extend_from_slice(&self.srvr_id.to_be_bytes());
        out.extend_from_slice(&self.ts.0);
        out.push(n as u8);
        for ck in &self.cks[..n] {
            ck.encode_into(out);
        }
    }

    /// The server-IDs of the flood path entries, in order.
    pub fn path(&self) -> Vec<u16> {
        self.cks
            .iter()
            .filter(|c| c.ty == CkType::EnvTo)
            .flat_map(|c| path_ids(&c.sum))
            .collect()
    }
}

/// Why a listener discards a well-formed report or gives up the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportRefusal {
    /// A position below 10: the listener closes the connection.
    BogusPos(u64),
    /// Checksum types must increase, except right after a flood path.
    OutOfOrder(CkType),
    /// More than three flood-path entries: the report is discarded.
    PathTooLong,
}

/// Most flood-path checksums in one report.
pub const MAX_PATH_CKS: usize = 3;

impl FloodReport {
    /// The listener's checks of a decoded report.
    pub fn check(&self) -> Result<(), ReportRefusal> {
        if self.pos < POS_MIN {
            return Err(ReportRefusal::BogusPos(self.pos));
        }
        let mut prev: Option<CkType> = None;
        let mut paths = 0;
        for ck in &self.cks {
            if let Some(p) = prev {
                if ck.ty <= p && p != CkType::EnvTo {
                    return Err(ReportRefusal::OutOfOrder(ck.ty));
                }
            }
            if ck.ty == CkType::EnvTo {
                paths += 1;
                if paths > MAX_PATH_CKS {
                    return Err(ReportRefusal::PathTooLong);
                }
            }
            prev = Some(ck.ty);
        }
        Ok(())
    }
}

/// The server-IDs packed in a flood-path checksum (up to 8 big-endian
/// 16-bit IDs, ended by a zero).
pub fn path_ids(sum: &Sum) -> Vec<u16> {
    sum.0
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .take_while(|&id| id != 0)
        .collect()
}

/// A flood-path checksum value from up to 8 server-IDs.
pub fn path_sum(ids: &[u16]) -> Sum {
    let mut s = [0u8; 16];
    for (i, id) in ids.iter().take(8).enumerate() {
        s[2 * i..2 * i + 2].copy_from_slice(&id.to_be_bytes());
    }
    Sum(s)
}

/// The text of a server-ID claim or timestamp record (up to the first NUL).
pub fn sum_text(sum: &Sum) -> &[u8] {
    let end = sum.0.iter().position(|&c| c == 0).unwrap_or(16);
    &sum.0[..end]
}

/// A message from the listener to the originator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerMsg {
    /// The last position processed (>= 10).
    Ack(u64),
    /// Final message; the text runs to the end of the stream.
    End(Vec<u8>),
    /// Please stop sending (the originator should half-close).
    EndReq,
    /// A tracing note (NUL-terminated text with a length byte).
    Note(Vec<u8>),
    /// A complaint, in the NOTE format.
    Complaint(Vec<u8>),
    /// Send the whole database again.
    Rewind,
    /// Skip to the current end.
    FfwdIn,
}

impl ListenerMsg {
    /// Decode the message at the start of `b`. `at_eof` says the stream
    /// ends after `b` (needed to delimit END). `Ok(None)`: more bytes needed.
    pub fn decode(b: &[u8], at_eof: bool) -> Result<Option<(ListenerMsg, usize)>, DecodeError> {
        let Some(p) = b.get(..8) else {
            return Ok(None);
        };
        let mut pos = [0u8; 8];
        pos.copy_from_slice(p);
        let pos = u64::from_be_bytes(pos);
        let msg = match pos {
            0 => {
                let text = &b[8..];
                if text.len() > MAX_RESP_TEXT {
                    return Err(DecodeError::FloodTextTooLong(text.len()));
                }
                if !at_eof {
                    return Ok(None);
                }
                return Ok(Some((ListenerMsg::End(text.to_vec()), b.len())));
            }
            1 => (ListenerMsg::EndReq, 8),
            2 | 3 => {
                let Some(&len) = b.get(8) else {
                    return Ok(None);
                };
                let n = usize::from(len);
                if !(10..=9 + MAX_RESP_TEXT).contains(&n) {
                    return Err(DecodeError::BadNoteLength(len));
                }
                let Some(body) = b.get(9..n) else {
                    return Ok(None);
                };
                let text = match body.split_last() {
                    Some((0, t)) if !t.contains(&0) => t.to_vec(),
                    _ => return Err(DecodeError::BadNoteLength(len)),
                };
                (
                    if pos == 2 {
                        ListenerMsg::Note(text)
                    } else {
                        ListenerMsg::Complaint(text)
                    },
                    n,
                )
            }
            4 => (ListenerMsg::Rewind, 8),
            5 => (ListenerMsg::FfwdIn, 8),
            6..=9 => return Err(DecodeError::BadFloodPos(pos)),
            _ => (ListenerMsg::Ack(pos), 8),
        };
        Ok(Some(msg))
    }

    /// Append the message (texts are cut to fit the format).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let op = |n: u64, out: &mut Vec<u8>| out.extend_from_slice(&n.to_be_bytes());
        match self {
            ListenerMsg::Ack(p) => op(*p, out),
            ListenerMsg::End(t) => {
                op(0, out);
                out.extend_from_slice(&t[..t.len().min(MAX_RESP_TEXT)]);
            }
            ListenerMsg::EndReq => op(1, out),
            ListenerMsg::Note(t) | ListenerMsg::Complaint(t) => {
                op(
                    if matches!(self, ListenerMsg::Note(_)) {
                        2
                    } else {
                        3
                    },
                    out,
                );
                let n = t
                    .iter()
                    .position(|&c| c == 0)
                    .unwrap_or(t.len())
                    .min(MAX_RESP_TEXT - 1);
                out.push((9 + n + 1) as u8);
                out.extend_from_slice(&t[..n]);
                out.push(0);
            }
            ListenerMsg::Rewind => op(4, out),
            ListenerMsg::FfwdIn => op(5, out),
        }
    }
}

/// An originator's stream split up: header, reports, unparsed remainder.
pub type OriginatorParts<'a> = (Option<VersionHeader>, Vec<FloodReport>, &'a [u8]);

/// Split a whole captured originator stream: the header (if the stream is
/// long enough for one) and every complete report. Bytes after the last
/// complete report are returned as the trailing remainder.
pub fn split_originator(b: &[u8]) -> Result<OriginatorParts<'_>, DecodeError> {
    if b.len() < VERS_HDR_LEN {
        return Ok((None, Vec::new(), b));
    }
    let hdr = VersionHeader::decode(b)?;
    let mut rest = &b[VERS_HDR_LEN..];
    let mut reports = Vec::new();
    while let Some((r, n)) = FloodReport::decode(rest)? {
        reports.push(r);
        rest = &rest[n..];
    }
    Ok((Some(hdr), reports, rest))
}

/// Split a whole captured listener stream into its messages.
pub fn split_listener(mut b: &[u8]) -> Result<(Vec<ListenerMsg>, &[u8]), DecodeError> {
    let mut msgs = Vec::new();
    while !b.is_empty() {
        match ListenerMsg::decode(b, true)? {
            Some((m, n)) => {
                msgs.push(m);
                b = &b[n..];
            }
            None => break,
        }
    }
    Ok((msgs, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let ts = Ts([0xd6, 0x05, 0xb1, 0x48, 0x82, 0x18]);
        assert_eq!(ts.secs(), 1_795_348_644);
        assert_eq!(ts.usecs(), 266_432);
        assert_eq!(Ts::new(ts.secs(), ts.usecs()), ts);
    }

    #[test]
    fn listener_partial_input() {
        assert_eq!(ListenerMsg::decode(&[0; 5], false), Ok(None));
        assert_eq!(
            ListenerMsg::decode(&[0, 0, 0, 0, 0, 0, 0, 0, b'x'], false),
            Ok(None)
        );
        assert!(ListenerMsg::decode(&[0, 0, 0, 0, 0, 0, 0, 7], false).is_err());
        let mut note = Vec::new();
        ListenerMsg::Note(ARE_YOU_THERE.into()).encode_into(&mut note);
        assert_eq!(note.len(), 24);
        assert_eq!(ListenerMsg::decode(&note[..20], false), Ok(None));
        assert_eq!(
            ListenerMsg::decode(&note, false),
            Ok(Some((ListenerMsg::Note(ARE_YOU_THERE.into()), 24)))
        );
    }

    #[test]
    fn paths() {
        let s = path_sum(&[1100, 1101]);
        assert_eq!(path_ids(&s), vec![1100, 1101]);
    }
}
