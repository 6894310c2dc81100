//! The byte form of a log record, shared by the implementations.
//!
//! Payload: position (8), timestamp (8), server-ID (2), target count (4),
//! path length (1) and 2 bytes per path entry, checksum count (1) and 17
//! bytes per checksum (type number, value); integers little-endian.
//! A framed record adds its payload length (4) and a CRC-32 of the payload
//! (4) in front, so a torn write at the end of a file is recognised.

use crate::types::{Ck, LogEntry, Pos, Report, Ts, MAX_CKS, MAX_PATH};

/// Bytes in front of a payload in a framed record.
pub const FRAME_HEAD: usize = 8;
/// The largest payload a valid record can have.
pub const MAX_PAYLOAD: usize = 8 + 8 + 2 + 4 + 1 + 2 * MAX_PATH + 1 + 17 * MAX_CKS;

/// Append the payload of the record of `r` at `pos` to `out`.
pub fn encode_payload(pos: Pos, r: &Report, out: &mut Vec<u8>) {
    out.extend_from_slice(&pos.0.to_le_bytes());
    out.extend_from_slice(&r.ts.0.to_le_bytes());
    out.extend_from_slice(&r.srvr_id.to_le_bytes());
    out.extend_from_slice(&r.tgts.to_le_bytes());
    let path = &r.path[..r.path.len().min(MAX_PATH)];
    out.push(path.len() as u8);
    for id in path {
        out.extend_from_slice(&id.to_le_bytes());
    }
    let cks = &r.cks[..r.cks.len().min(MAX_CKS)];
    out.push(cks.len() as u8);
    for ck in cks {
        out.extend_from_slice(&ck.key());
    }
}

/// Append the record of `r` at `pos` framed (length, CRC, payload) to `out`.
pub fn encode_frame(pos: Pos, r: &Report, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_HEAD]);
    encode_payload(pos, r, out);
    let payload = out.get(start + FRAME_HEAD..).unwrap_or_default();
    let len = (payload.len() as u32).to_le_bytes();
    let crc = crc32fast::hash(payload).to_le_bytes();
    if let Some(head) = out.get_mut(start..start + FRAME_HEAD) {
        head[..4].copy_from_slice(&len);
        head[4..].copy_from_slice(&crc);
    }
}

/// A cursor over bytes that fails instead of panicking.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// Decode a payload; `None` if it is malformed.
pub fn decode_payload(bytes: &[u8]) -> Option<LogEntry> {
    let mut r = Reader(bytes);
    let pos = Pos(r.u64()?);
    let ts = Ts(r.u64()?);
    let srvr_id = r.u16()?;
    let tgts = r.u32()?;
    let npath = usize::from(r.u8()?);
    if npath > MAX_PATH {
        return None;
    }
    let path = (0..npath).map(|_| r.u16()).collect::<Option<Vec<_>>>()?;
    let ncks = usize::from(r.u8()?);
    if ncks > MAX_CKS {
        return None;
    }
    let cks = (0..ncks)
        .map(|_| Ck::from_key(r.take(17)?))
        .collect::<Option<Vec<_>>>()?;
    if !r.0.is_empty() {
        return None;
    }
    Some(LogEntry {
        pos,
        report: Report {
            ts,
            srvr_id,
            tgts,
            path,
            cks,
        },
    })
}

/// The file header's magic bytes.
const MAGIC: &[u8; 8] = b"TLLOG001";
/// Bytes of the report log's file header: the magic, the least next
/// position (u64), a CRC-32 of those 16 bytes and 4 spare bytes.
pub const HEADER_LEN: u64 = 24;

/// The header of a log whose next position is at least `next`.
pub fn header(next: Pos) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[..8].copy_from_slice(MAGIC);
    h[8..16].copy_from_slice(&next.0.to_le_bytes());
    let crc = crc32fast::hash(&h[..16]);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
    h
}

/// The least next position a header holds, or `None` if it is damaged.
pub fn parse_header(h: &[u8]) -> Option<Pos> {
    let body = h.get(..16)?;
    let crc = u32::from_le_bytes(h.get(16..20)?.try_into().ok()?);
    if !body.starts_with(MAGIC) || crc != crc32fast::hash(body) {
        return None;
    }
    Some(Pos(u64::from_le_bytes(body.get(8..16)?.try_into().ok()?)))
}

/// The frame of a record whose header is `head` (`FRAME_HEAD` bytes): the
/// payload's length and CRC-32, or `None` if the length is impossible.
pub fn frame_head(head: &[u8]) -> Option<(usize, u32)> {
    let len = u32::from_le_bytes(head.get(..4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(head.get(4..8)?.try_into().ok()?);
    (len <= MAX_PAYLOAD).then_some((len, crc))
}

/// Decode the framed record at the start of `bytes`: the entry and the
/// frame's length, or `None` when the bytes hold no complete valid record.
pub fn decode_frame(bytes: &[u8]) -> Option<(LogEntry, usize)> {
    let (len, crc) = frame_head(bytes.get(..FRAME_HEAD)?)?;
    let payload = bytes.get(FRAME_HEAD..FRAME_HEAD + len)?;
    if crc32fast::hash(payload) != crc {
        return None;
    }
    Some((decode_payload(payload)?, FRAME_HEAD + len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_ck::{CkType, Sum};

    #[test]
    fn frame_round_trip_and_torn_tail() {
        let e = LogEntry {
            pos: Pos(42),
            report: Report {
                ts: Ts::new(1_795_348_644, 266_432),
                srvr_id: 1100,
                tgts: 5,
                path: vec![1101, 1102],
                cks: vec![
                    Ck::new(CkType::Body, Sum([7; 16])),
                    Ck::new(CkType::Fuz1, Sum([9; 16])),
                ],
            },
        };
        let mut buf = Vec::new();
        encode_frame(e.pos, &e.report, &mut buf);
        let (d, n) = decode_frame(&buf).unwrap();
        assert_eq!((d, n), (e, buf.len()));
        for cut in 0..buf.len() {
            assert!(decode_frame(&buf[..cut]).is_none());
        }
        let last = buf.len() - 1;
        buf[last] ^= 1;
        assert!(decode_frame(&buf).is_none());
    }
}
