//! Reading the store's report log without changing it: verification,
//! listing while dccd runs, and salvage for `dbclean -R bad`.
//!
//! `LogStore::open` replays the log and cuts it at the first record it
//! cannot read (keeping the cut bytes in a side file), which is right for a
//! torn last write but not for a damaged record in the middle, and it
//! writes to the file. The tools therefore read the file themselves first.
//! The layout and its decoding are the store's: [`tally_store::codec`].

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

pub use tally_store::codec::{decode_frame as frame_in, header, HEADER_LEN};
use tally_store::codec::{decode_payload, frame_head, parse_header, FRAME_HEAD};
use tally_store::{LogEntry, Pos};
const WINDOW: usize = 1 << 20;

/// A bounded read-ahead window over a file read at arbitrary offsets.
pub struct Window {
    file: File,
    len: u64,
    start: u64,
    buf: Vec<u8>,
}

impl Window {
    /// Open `path` for reading.
    pub fn open(path: &Path) -> io::Result<Window> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Window {
            file,
            len,
            start: 0,
            buf: Vec::new(),
        })
    }

    /// The file's length when opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file was empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `n` bytes at `off`, or `None` when the file ends before.
    fn get(&mut self, off: u64, n: usize) -> io::Result<Option<&[u8]>> {
        let end = off.saturating_add(n as u64);
        if end > self.len {
            return Ok(None);
        }
        let have = self.start + self.buf.len() as u64;
        if off < self.start || end > have {
            let want = usize::try_from(self.len - off)
                .unwrap_or(WINDOW)
                .min(WINDOW.max(n));
            self.buf.resize(want, 0);
            self.file.read_exact_at(&mut self.buf, off)?;
            self.start = off;
        }
        let from = usize::try_from(off - self.start).unwrap_or(usize::MAX);
        Ok(self.buf.get(from..from.saturating_add(n)))
    }
}

/// What is found at an offset of the log.
pub enum FrameAt {
    /// A valid record and the length of its frame.
    Good(LogEntry, u64),
    /// The end of the file, exactly.
    End,
    /// A record that runs past the end of the file.
    Truncated,
    /// Bytes that are not a valid record.
    Bad,
}

/// Read the header: the least next position, or `None` if it is damaged.
pub fn read_header(w: &mut Window) -> io::Result<Option<Pos>> {
    Ok(w.get(0, HEADER_LEN as usize)?.and_then(parse_header))
}

/// Decode the record at `off`.
pub fn frame_at(w: &mut Window, off: u64) -> io::Result<FrameAt> {
    if off == w.len() {
        return Ok(FrameAt::End);
    }
    let Some(head) = w.get(off, FRAME_HEAD)? else {
        return Ok(FrameAt::Truncated);
    };
    let Some((len, crc)) = frame_head(head) else {
        return Ok(FrameAt::Bad);
    };
    let Some(payload) = w.get(off + FRAME_HEAD as u64, len)? else {
        return Ok(FrameAt::Truncated);
    };
    if crc32fast::hash(payload) != crc {
        return Ok(FrameAt::Bad);
    }
    Ok(match decode_payload(payload) {
        Some(e) => FrameAt::Good(e, (FRAME_HEAD + len) as u64),
        None => FrameAt::Bad,
    })
}

/// Where reading the log stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The last record is incomplete or damaged and nothing valid follows:
    /// a write torn by a crash. The store cuts it off when it opens.
    TornTail { offset: u64 },
    /// A damaged record with valid records after it: the log needs
    /// `dbclean -R bad`.
    Damaged { offset: u64, next_valid: u64 },
}

/// What a read of the whole log found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// The header's least next position.
    pub base: Pos,
    /// Valid records before any problem.
    pub records: u64,
    /// The offset after the last of them.
    pub good_end: u64,
    /// The file's length.
    pub file_len: u64,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

/// Why the log cannot be read at all.
#[derive(Debug)]
pub enum LogError {
    /// The file could not be read.
    Io(io::Error),
    /// The header is missing or damaged.
    Header,
}

/// Read every valid record of the log at `path` in order, calling `f` with
/// each and its offset, stopping at the first problem (which is then
/// classified by looking for a valid record further on).
pub fn scan(path: &Path, mut f: impl FnMut(&LogEntry, u64)) -> Result<Checked, LogError> {
    let mut w = Window::open(path).map_err(LogError::Io)?;
    let base = read_header(&mut w)
        .map_err(LogError::Io)?
        .ok_or(LogError::Header)?;
    let mut off = HEADER_LEN;
    let mut last = 0u64;
    let mut records = 0u64;
    let problem = loop {
        match frame_at(&mut w, off).map_err(LogError::Io)? {
            FrameAt::End => break None,
            FrameAt::Good(e, n) if e.pos.0 > last => {
                last = e.pos.0;
                records += 1;
                f(&e, off);
                off += n;
            }
            FrameAt::Good(..) | FrameAt::Truncated | FrameAt::Bad => {
                break Some(
                    match next_valid(&mut w, off + 1, last).map_err(LogError::Io)? {
                        Some(next_valid) => Problem::Damaged {
                            offset: off,
                            next_valid,
                        },
                        None => Problem::TornTail { offset: off },
                    },
                );
            }
        }
    };
    Ok(Checked {
        base,
        records,
        good_end: off,
        file_len: w.len(),
        problem,
    })
}

/// The first offset at or after `from` holding a valid record positioned
/// after `last`.
fn next_valid(w: &mut Window, from: u64, last: u64) -> io::Result<Option<u64>> {
    let mut off = from;
    while off < w.len() {
        if let FrameAt::Good(e, _) = frame_at(w, off)? {
            if e.pos.0 > last {
                return Ok(Some(off));
            }
        }
        off += 1;
    }
    Ok(None)
}

/// What a salvage kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Salvaged {
    /// Records copied.
    pub records: u64,
    /// Bytes of damage skipped.
    pub skipped: u64,
}

/// Copy every valid record of the log at `from` (in increasing position
/// order, skipping damage) to a new log at `to`, flushed to disk. A damaged
/// header is replaced by one that keeps positions increasing.
pub fn salvage(from: &Path, to: &Path) -> io::Result<Salvaged> {
    let mut w = Window::open(from)?;
    let base = read_header(&mut w)?.unwrap_or(Pos::FIRST);
    let file = File::options().write(true).create_new(true).open(to)?;
    let mut out = io::BufWriter::with_capacity(WINDOW, file);
    // Room for the header, written once the last position is known.
    out.write_all(&[0u8; HEADER_LEN as usize])?;
    let mut res = Salvaged::default();
    let mut last = 0u64;
    let mut off = HEADER_LEN.min(w.len());
    while off < w.len() {
        match frame_at(&mut w, off)? {
            FrameAt::Good(e, n) if e.pos.0 > last => {
                last = e.pos.0;
                if let Some(bytes) = w.get(off, usize::try_from(n).unwrap_or(0))? {
                    out.write_all(bytes)?;
                }
                res.records += 1;
                off += n;
            }
            _ => {
                let next = next_valid(&mut w, off + 1, last)?.unwrap_or(w.len());
                res.skipped += next - off;
                off = next;
            }
        }
    }
    let next = Pos(base.0.max(last + 1).max(Pos::FIRST.0));
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.write_all_at(&header(next), 0)?;
    file.sync_all()?;
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_ck::{CkType, Sum};
    use tally_store::{Ck, LogStore, Report, Store, Ts};

    /// Random corruptions of a real log never panic, and a salvaged log
    /// reads back without damage.
    #[test]
    fn corruption_never_panics_and_salvage_is_clean() {
        let dir = std::env::temp_dir().join(format!("tally-dbtools-lf-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let mut s = LogStore::open(&dir).unwrap();
            for i in 0..50u8 {
                let mut r = Report::new(
                    Ts::new(1_700_000_000 + u64::from(i), 0),
                    1100,
                    1,
                    vec![Ck::new(CkType::Body, Sum([i; 16]))],
                );
                r.path = vec![u16::from(i); usize::from(i % 3)];
                s.add(&r).unwrap();
            }
        }
        let log = dir.join("reports.log");
        let good = std::fs::read(&log).unwrap();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let bad = dir.join("bad.log");
        let fixed = dir.join("fixed.log");
        for round in 0..200 {
            let mut bytes = good.clone();
            for _ in 0..(round % 5 + 1) {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            if round % 7 == 0 {
                bytes.truncate((next() % bytes.len() as u64) as usize);
            }
            std::fs::write(&bad, &bytes).unwrap();
            let _ = scan(&bad, |_, _| {});
            let _ = std::fs::remove_file(&fixed);
            let saved = salvage(&bad, &fixed).unwrap();
            let mut n = 0;
            let c = scan(&fixed, |_, _| n += 1).map_err(|_| "header").unwrap();
            assert_eq!(c.problem, None, "round {round}");
            assert_eq!(n, saved.records);
            assert!(saved.records <= 50);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
