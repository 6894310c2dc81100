//! The report log file: a short header, then framed records back to back.
//!
//! The header holds the position the next record gets at the least, so
//! positions are not reused when a cleaning removes the newest records.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Write};
use std::path::Path;

use crate::codec::{decode_payload, parse_header, FRAME_HEAD, MAX_PAYLOAD};
pub use crate::codec::{header, HEADER_LEN};
use crate::types::{LogEntry, Pos};
use crate::{Error, Result};

/// Create a log file holding only a header.
pub fn create(path: &Path, next: Pos) -> Result<File> {
    let mut f = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(&header(next))?;
    f.sync_all()?;
    Ok(f)
}

/// Read the header: the least next position.
fn read_header(r: &mut impl Read) -> Result<Pos> {
    let mut h = [0u8; HEADER_LEN as usize];
    r.read_exact(&mut h)
        .map_err(|_| Error::Corrupt("report log shorter than its header".into()))?;
    parse_header(&h).ok_or_else(|| Error::Corrupt("report log header".into()))
}

/// What a scan of the file found.
pub struct Scanned {
    /// The header's least next position.
    pub base: Pos,
    /// The offset just past the last valid record.
    pub good_end: u64,
}

/// Read every valid record of the file in order, calling `f` with each and
/// its offset, and stop at the first incomplete or damaged one (the tail a
/// crash in the middle of a write leaves).
pub fn scan(path: &Path, mut f: impl FnMut(LogEntry, u64)) -> Result<Scanned> {
    let mut r = BufReader::with_capacity(1 << 20, File::open(path)?);
    let base = read_header(&mut r)?;
    let mut off = HEADER_LEN;
    let mut payload = Vec::with_capacity(MAX_PAYLOAD);
    let mut last = 0u64;
    loop {
        let mut head = [0u8; FRAME_HEAD];
        match r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if len > MAX_PAYLOAD {
            break;
        }
        payload.resize(len, 0);
        match r.read_exact(&mut payload) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
        if crc32fast::hash(&payload) != crc {
            break;
        }
        let Some(entry) = decode_payload(&payload) else {
            break;
        };
        // Positions only grow; anything else is not ours.
        if entry.pos.0 <= last {
            break;
        }
        last = entry.pos.0;
        f(entry, off);
        off += (FRAME_HEAD + len) as u64;
    }
    Ok(Scanned {
        base,
        good_end: off,
    })
}
