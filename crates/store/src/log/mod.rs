//! The default store: an append-only report log plus in-memory tables.
//!
//! Every report is one framed record appended to `reports.log` with a
//! single `write`; the totals of all checksums live in a hash table in
//! memory, rebuilt at start-up by replaying the log (the original rebuilds
//! its hash table from its database file in the same spirit). A sorted
//! table of (position, file offset) lets flooding read from any position.
//! Cleaning writes the surviving records to a new file and renames it over
//! the old one, as `dbclean` builds a new database file. The flooding
//! positions (`flood.map`) and the whitelist (`whitelist`) are small files
//! replaced atomically.

mod file;
mod table;

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::codec::{self, encode_frame, MAX_PAYLOAD};
use crate::expiry::{Cleaner, Expiry};
use crate::fsutil;
use crate::types::{tgts, Added, Ck, CleanReport, CountPair, LogEntry, Pos, Report, Stats, Ts};
use crate::{Error, Result, Store, SyncPolicy};

const LOG: &str = "reports.log";
const LOG_NEW: &str = "reports.log.new";
const PEERS: &str = "flood.map";
const WHITE: &str = "whitelist";
const DAMAGED: &str = "reports.log.damaged";
/// More undecodable bytes than this at the end of the log are not the
/// remains of an interrupted write (at most about 100 ms of reports, or one
/// batch) but damage that needs [`LogStore::repair`].
const MAX_TORN_TAIL: u64 = 16 << 20;
/// The most records one `read_log` call returns.
const MAX_READ: usize = 4096;
/// One record in this many is in the index of positions: `read_log`
/// reads at most this many records more than it returns, and the index
/// costs half a byte per record instead of 16.
const STRIDE: u64 = 32;
/// Bytes `read_log` reads from the file at a time.
const CHUNK: u64 = 64 << 10;

/// The append-only log store.
pub struct LogStore {
    dir: PathBuf,
    file: File,
    end: u64,
    next: Pos,
    /// (position, offset) of every [`STRIDE`]th record, in log order,
    /// the first included.
    index: Vec<(u64, u64)>,
    /// Records in the log (reports and deletions).
    records: u64,
    totals: table::Totals,
    white: BTreeMap<Ck, u32>,
    peers: BTreeMap<u16, u64>,
    policy: SyncPolicy,
    /// When the oldest record not yet flushed to disk was written.
    unsynced_since: Option<Instant>,
    /// A failed write could not be undone: refuse further writes.
    poisoned: bool,
    buf: Vec<u8>,
    /// Inside a batch (see [`Store::begin_batch`]): records are encoded to
    /// `buf` and written by `end_batch`.
    batch: Option<Batch>,
    /// Set when opening cut a damaged end off the log (see [`LogStore::recovered`]).
    recovered: Option<String>,
}

impl LogStore {
    /// Open (or create) the database in directory `dir` with the default
    /// group commit.
    pub fn open(dir: &Path) -> Result<LogStore> {
        LogStore::open_with(dir, SyncPolicy::default())
    }

    /// Open (or create) the database in `dir` with a sync policy.
    pub fn open_with(dir: &Path, policy: SyncPolicy) -> Result<LogStore> {
        fs::create_dir_all(dir)?;
        let path = dir.join(LOG);
        // Left by a cleaning that did not finish: the old log is intact.
        let _ = fs::remove_file(dir.join(LOG_NEW));
        // A file created by a start-up that died before writing the header.
        if fs::metadata(&path).is_ok_and(|m| m.len() == 0) {
            fs::remove_file(&path)?;
        }
        if !path.exists() {
            drop(file::create(&path, Pos::FIRST)?);
            fsutil::sync_dir(dir)?;
        }
        // Size the tables from the file so replaying does not grow them
        // step by step (each step briefly needs the old and the new table).
        let len = fs::metadata(&path)?.len();
        let mut totals =
            table::Totals::with_capacity(usize::try_from(len / 28).unwrap_or(0).min(1 << 26));
        let mut index = Vec::new();
        let mut records = 0u64;
        let mut last = None;
        let scanned = file::scan(&path, |e, off| {
            apply(&mut totals, &e.report);
            note_record(&mut index, &mut records, e.pos.0, off);
            last = Some(e.pos);
        })?;
        totals.shrink_to_fit();
        let file = File::options().read(true).append(true).open(&path)?;
        let tail = file.metadata()?.len().saturating_sub(scanned.good_end);
        if tail > MAX_TORN_TAIL {
            return Err(Error::Corrupt(format!(
                "report log damaged at byte {} with {tail} bytes after it; LogStore::repair cuts it there",
                scanned.good_end
            )));
        }
        let mut recovered = None;
        if tail > 0 {
            // A write torn by a crash, or what a power failure left of the
            // records written since the last sync. Nothing is thrown away
            // unseen: the bytes are kept in a side file for inspection (and
            // for a repair, should the damage be in the middle of the log).
            let side = dir.join(format!("{LOG}.tail-{}", scanned.good_end));
            let mut kept = File::create(&side)?;
            let mut from = &file;
            from.seek(SeekFrom::Start(scanned.good_end))?;
            std::io::copy(&mut from, &mut kept)?;
            kept.sync_all()?;
            file.set_len(scanned.good_end)?;
            file.sync_all()?;
            recovered = Some(format!(
                "report log ended in {tail} unreadable bytes at byte {}, kept in {}",
                scanned.good_end,
                side.display()
            ));
        }
        let next = last
            .map_or(scanned.base, |p| Pos(p.0 + 1))
            .max(scanned.base);
        let white = match fsutil::read_optional(&dir.join(WHITE))? {
            Some(b) => fsutil::decode_white(&b)?,
            None => BTreeMap::new(),
        };
        let peers = match fsutil::read_optional(&dir.join(PEERS))? {
            Some(b) => fsutil::decode_peers(&b)?,
            None => BTreeMap::new(),
        };
        Ok(LogStore {
            dir: dir.to_path_buf(),
            file,
            end: scanned.good_end,
            next,
            index,
            records,
            totals,
            white,
            peers,
            policy,
            unsynced_since: None,
            poisoned: false,
            buf: Vec::with_capacity(64 * 1024),
            batch: None,
            recovered,
        })
    }

    /// The report log file of the database in `dir`, for a server that
    /// flushes it to disk from a thread of its own (`fdatasync` on another
    /// descriptor of the same file) instead of through [`SyncPolicy`].
    pub fn log_path(dir: &Path) -> PathBuf {
        dir.join(LOG)
    }

    /// What opening had to recover, if anything: a damaged end of the
    /// report log cut off and kept in a side file. The server logs it.
    pub fn recovered(&self) -> Option<&str> {
        self.recovered.as_deref()
    }

    /// Cut the report log at its first damaged record, as `dbclean -R bad`
    /// repairs a database: the bytes from there on are moved to
    /// `reports.log.damaged` for inspection. Returns how many bytes were cut.
    pub fn repair(dir: &Path) -> Result<u64> {
        let path = dir.join(LOG);
        let scanned = file::scan(&path, |_, _| {})?;
        let file = File::options().read(true).write(true).open(&path)?;
        let len = file.metadata()?.len();
        let cut = len.saturating_sub(scanned.good_end);
        if cut > 0 {
            let mut damaged = File::create(dir.join(DAMAGED))?;
            let mut from = &file;
            from.seek(SeekFrom::Start(scanned.good_end))?;
            std::io::copy(&mut from, &mut damaged)?;
            damaged.sync_all()?;
            file.set_len(scanned.good_end)?;
            file.sync_all()?;
        }
        Ok(cut)
    }

    /// Write the encoded records in `self.buf` at the end of the file.
    fn write_buf(&mut self) -> Result<()> {
        if self.poisoned {
            return Err(Error::Corrupt(
                "an earlier write failed; reopen the database".into(),
            ));
        }
        if let Err(e) = self.file.write_all(&self.buf) {
            // Undo a partial write so later records are not hidden behind it.
            if self.file.set_len(self.end).is_err() {
                self.poisoned = true;
            }
            return Err(e.into());
        }
        self.unsynced_since.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// Flush to disk when the policy says so.
    fn maybe_sync(&mut self) -> Result<()> {
        let due = match (self.policy, self.unsynced_since) {
            (_, None) | (SyncPolicy::Never, _) => false,
            (SyncPolicy::Always, Some(_)) => true,
            (SyncPolicy::Interval(d), Some(t)) => t.elapsed() >= d,
        };
        if due {
            self.sync()?;
        }
        Ok(())
    }

    /// Write what a batch holds so far; on failure undo it in the tables
    /// and mark the batch failed.
    fn write_held(&mut self) -> Result<()> {
        let Some(b) = self.batch.as_mut() else {
            return Ok(());
        };
        if self.buf.is_empty() {
            return Ok(());
        }
        let undo = std::mem::take(&mut b.undo);
        let (index_len, records, next) = (b.index_len, b.records, b.next);
        match self.write_buf() {
            Ok(()) => {
                self.end += self.buf.len() as u64;
                self.buf.clear();
                if let Some(b) = self.batch.as_mut() {
                    b.undo = undo;
                    b.undo.clear();
                    b.index_len = self.index.len();
                    b.records = self.records;
                    b.next = self.next;
                }
                Ok(())
            }
            Err(e) => {
                for (ck, old) in undo.into_iter().rev() {
                    self.totals.insert(ck, old);
                }
                self.index.truncate(index_len);
                self.records = records;
                self.next = next;
                self.buf.clear();
                if let Some(b) = self.batch.as_mut() {
                    b.failed = true;
                }
                Err(e)
            }
        }
    }

    /// Append already validated reports as one write (or, in a batch, to
    /// the records held for `end_batch`).
    fn append(&mut self, reports: &[Report]) -> Result<Vec<Added>> {
        if self.batch.is_some() {
            return Ok(self.append_held(reports));
        }
        self.buf.clear();
        let mut out = Vec::with_capacity(reports.len());
        let mut pending: Vec<Pending> = Vec::with_capacity(reports.len());
        // Totals as earlier reports of the same batch leave them (a single
        // report repeats no checksum, so it needs none).
        let batch = reports.len() > 1;
        let mut overlay: HashMap<Ck, u32> = HashMap::new();
        for (i, report) in reports.iter().enumerate() {
            let pos = Pos(self.next.0 + i as u64);
            let offset = self.end + self.buf.len() as u64;
            encode_frame(pos, report, &mut self.buf);
            let mut counts = Vec::with_capacity(report.cks.len());
            let mut new = Vec::with_capacity(report.cks.len());
            for ck in &report.cks {
                let before = overlay
                    .get(ck)
                    .copied()
                    .or_else(|| self.totals.get(ck))
                    .unwrap_or(0);
                let after = tgts::add(before, report.tgts);
                if batch {
                    overlay.insert(*ck, after);
                }
                new.push((*ck, after));
                counts.push(match self.white.get(ck) {
                    Some(&w) => CountPair { c: w, p: w },
                    None => CountPair {
                        c: after,
                        p: before,
                    },
                });
            }
            pending.push(Pending {
                pos: pos.0,
                offset,
                new,
            });
            out.push(Added { pos, counts });
        }
        self.write_buf()?;
        for p in pending {
            for (ck, after) in p.new {
                self.totals.insert(ck, after);
            }
            note_record(&mut self.index, &mut self.records, p.pos, p.offset);
        }
        self.end += self.buf.len() as u64;
        self.next = Pos(self.next.0 + reports.len() as u64);
        self.maybe_sync()?;
        Ok(out)
    }
}

impl LogStore {
    /// Append already validated reports to the records held by a batch:
    /// the tables count them at once (one probe per checksum already
    /// there), with what undoes them should the write at the end of the
    /// batch fail.
    fn append_held(&mut self, reports: &[Report]) -> Vec<Added> {
        let mut out = Vec::with_capacity(reports.len());
        for report in reports {
            let pos = self.next;
            let offset = self.end + self.buf.len() as u64;
            encode_frame(pos, report, &mut self.buf);
            let mut counts = Vec::with_capacity(report.cks.len());
            for ck in &report.cks {
                let before = self.totals.add(*ck, report.tgts);
                if let Some(b) = self.batch.as_mut() {
                    b.undo.push((*ck, before));
                }
                counts.push(match self.white.get(ck) {
                    Some(&w) => CountPair { c: w, p: w },
                    None => CountPair {
                        c: tgts::add(before, report.tgts),
                        p: before,
                    },
                });
            }
            note_record(&mut self.index, &mut self.records, pos.0, offset);
            self.next = Pos(pos.0 + 1);
            out.push(Added { pos, counts });
        }
        out
    }
}

/// What a batch needs to undo its records should their write fail.
struct Batch {
    /// (checksum, total before) of each change, in order (0: absent).
    undo: Vec<(Ck, u32)>,
    /// The length of the index and the next position before the records
    /// held.
    index_len: usize,
    records: u64,
    next: Pos,
    /// A write of the batch failed (and was undone).
    failed: bool,
}

/// A record written but not yet entered in the tables.
struct Pending {
    pos: u64,
    offset: u64,
    /// The new totals of its checksums.
    new: Vec<(Ck, u32)>,
}

/// Count a record at `pos` and `offset`, entering every [`STRIDE`]th in
/// the index.
fn note_record(index: &mut Vec<(u64, u64)>, records: &mut u64, pos: u64, offset: u64) {
    if records.is_multiple_of(STRIDE) {
        index.push((pos, offset));
    }
    *records += 1;
}

/// Apply a record to the totals as a replay does.
fn apply(totals: &mut table::Totals, r: &Report) {
    for ck in &r.cks {
        if r.is_delete() {
            totals.remove(ck);
        } else {
            let t = totals.get(ck).unwrap_or(0);
            totals.insert(*ck, tgts::add(t, r.tgts));
        }
    }
}

impl Store for LogStore {
    fn add(&mut self, report: &Report) -> Result<Added> {
        report.validate()?;
        self.append(std::slice::from_ref(report))?
            .pop()
            .ok_or(Error::Invalid("empty"))
    }

    fn add_batch(&mut self, reports: &[Report]) -> Result<Vec<Added>> {
        for r in reports {
            r.validate()?;
        }
        self.append(reports)
    }

    fn begin_batch(&mut self) {
        if self.batch.is_none() {
            self.buf.clear();
            self.batch = Some(Batch {
                undo: Vec::new(),
                index_len: self.index.len(),
                records: self.records,
                next: self.next,
                failed: false,
            });
        }
    }

    fn end_batch(&mut self) -> Result<()> {
        let written = self.write_held();
        let failed = self.batch.take().is_some_and(|b| b.failed);
        written?;
        if failed {
            return Err(Error::Corrupt(
                "a write of this batch failed; its records were dropped".into(),
            ));
        }
        self.maybe_sync()
    }

    fn total(&self, ck: &Ck) -> Result<u32> {
        Ok(match self.white.get(ck) {
            Some(&w) => w,
            None => self.totals.get(ck).unwrap_or(0),
        })
    }

    fn read_log(&self, after: Pos, max: usize) -> Result<Vec<LogEntry>> {
        let max = max.min(MAX_READ);
        // From the last indexed record at or before `after` (the records
        // before it are skipped), or from the first.
        let i = self.index.partition_point(|&(p, _)| p <= after.0);
        let mut off = match i.checked_sub(1).and_then(|i| self.index.get(i)) {
            Some(&(_, o)) => o,
            None => self.index.first().map_or(self.end, |&(_, o)| o),
        };
        // Only what is in the file: records held by a batch are not yet.
        let mut out = Vec::new();
        let mut block: Vec<u8> = Vec::new();
        while out.len() < max && off < self.end {
            let n = usize::try_from((self.end - off).min(CHUNK)).unwrap_or(0);
            let kept = block.len();
            block.resize(kept + n, 0);
            self.file
                .read_exact_at(block.get_mut(kept..).unwrap_or_default(), off)?;
            off += n as u64;
            let mut used = 0;
            while out.len() < max {
                let Some((e, len)) = block.get(used..).and_then(codec::decode_frame) else {
                    break;
                };
                used += len;
                if e.pos > after {
                    out.push(e);
                }
            }
            block.drain(..used);
            if used == 0 && block.len() > MAX_PAYLOAD + codec::FRAME_HEAD {
                return Err(Error::Corrupt(format!(
                    "report log unreadable before byte {off}"
                )));
            }
        }
        Ok(out)
    }

    fn next_pos(&self) -> Pos {
        self.next
    }

    fn peer_pos(&self, peer: u16) -> Result<Option<Pos>> {
        Ok(self.peers.get(&peer).map(|&p| Pos(p)))
    }

    fn set_peer_pos(&mut self, peer: u16, pos: Pos) -> Result<()> {
        self.peers.insert(peer, pos.0);
        fsutil::atomic_write(&self.dir, PEERS, &fsutil::encode_peers(&self.peers))
    }

    fn delete(&mut self, ck: Ck, srvr_id: u16, ts: Ts) -> Result<Pos> {
        self.write_held()?;
        let report = Report::new(ts, srvr_id, tgts::DEL, vec![ck]);
        let pos = self.next;
        self.buf.clear();
        encode_frame(pos, &report, &mut self.buf);
        self.write_buf()?;
        self.totals.remove(&ck);
        note_record(&mut self.index, &mut self.records, pos.0, self.end);
        self.end += self.buf.len() as u64;
        self.buf.clear();
        self.next = Pos(pos.0 + 1);
        if let Some(b) = self.batch.as_mut() {
            b.index_len = self.index.len();
            b.records = self.records;
            b.next = self.next;
        }
        self.maybe_sync()?;
        Ok(pos)
    }

    fn set_whitelist(&mut self, entries: &[(Ck, u32)]) -> Result<()> {
        let white: BTreeMap<Ck, u32> = entries.iter().copied().collect();
        fsutil::atomic_write(&self.dir, WHITE, &fsutil::encode_white(&white))?;
        self.white = white;
        Ok(())
    }

    fn whitelist(&self) -> Result<Vec<(Ck, u32)>> {
        Ok(self.white.iter().map(|(c, v)| (*c, *v)).collect())
    }

    fn clean(&mut self, now: u64, policy: &Expiry) -> Result<CleanReport> {
        self.write_held()?;
        self.sync()?;
        let path = self.dir.join(LOG);
        let mut cleaner = Cleaner::new();
        file::scan(&path, |e, _| cleaner.note(&e))?;
        let new_path = self.dir.join(LOG_NEW);
        let _ = fs::remove_file(&new_path);
        let mut out =
            std::io::BufWriter::with_capacity(1 << 20, file::create(&new_path, self.next)?);
        let mut rep = CleanReport::default();
        let mut buf = Vec::with_capacity(MAX_PAYLOAD + 8);
        let mut err = None;
        file::scan(&path, |e, _| {
            let n = e.report.cks.len();
            match cleaner.filter(e, now, policy, |ck| self.totals.get(ck).unwrap_or(0)) {
                None => rep.removed += 1,
                Some(kept) => {
                    if kept.report.cks.len() == n {
                        rep.kept += 1;
                    } else {
                        rep.trimmed += 1;
                    }
                    buf.clear();
                    encode_frame(kept.pos, &kept.report, &mut buf);
                    if let Err(e) = out.write_all(&buf) {
                        err.get_or_insert(e);
                    }
                }
            }
        })?;
        if let Some(e) = err {
            return Err(e.into());
        }
        let f = out.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        drop(f);
        fs::rename(&new_path, &path)?;
        fsutil::sync_dir(&self.dir)?;
        *self = LogStore::open_with(&self.dir, self.policy)?;
        Ok(rep)
    }

    fn for_each_total(&self, f: &mut dyn FnMut(Ck, u32) -> bool) -> Result<()> {
        for (ck, t) in self.totals.iter() {
            if t != 0 && !f(ck, t) {
                break;
            }
        }
        Ok(())
    }

    fn stats(&self) -> Result<Stats> {
        Ok(Stats {
            records: self.records,
            checksums: self.totals.len() as u64,
            whitelisted: self.white.len() as u64,
            disk_bytes: fsutil::dir_bytes(&self.dir)?,
            next_pos: self.next,
        })
    }

    fn sync(&mut self) -> Result<()> {
        if self.unsynced_since.take().is_some() {
            self.file.sync_data()?;
        }
        Ok(())
    }
}

impl Drop for LogStore {
    fn drop(&mut self) {
        let _ = self.sync();
    }
}
