//! A read-only view of a database directory that implements [`Store`]
//! without writing anything, so `dblist` can list a database while dccd
//! runs and `dbclean` can check one before it opens it for writing.
//!
//! Like the store at start-up it replays the log into a table of totals
//! and a (position, offset) index; unlike it, it refuses a log damaged in
//! the middle (naming the file) instead of cutting it short, and it leaves
//! a torn last record alone.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use tally_store::{
    tgts, Added, Ck, CleanReport, Error, Expiry, LogEntry, Pos, Report, Stats, Store, Ts,
};

use crate::exit;
use crate::logfile::{self, Checked, LogError, Problem};
use crate::paths;
use crate::sealed;
use tally_store::codec::MAX_PAYLOAD;

/// A problem with one file of the database, with the exit code it earns.
#[derive(Debug)]
pub struct DbError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong with it.
    pub what: String,
    /// The exit code (see [`crate::exit`]).
    pub code: i32,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.what)
    }
}

impl DbError {
    /// An error about `file`.
    pub fn new(file: &Path, what: impl Into<String>, code: i32) -> DbError {
        DbError {
            file: file.to_path_buf(),
            what: what.into(),
            code,
        }
    }

    fn io(file: &Path, e: &std::io::Error) -> DbError {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            exit::NOINPUT
        } else {
            exit::IOERR
        };
        DbError::new(file, e.to_string(), code)
    }
}

/// Check the report log of the database in `db`: the records readable and
/// the first problem. A damaged header or a damaged record with valid
/// records after it is an error naming the file.
pub fn check_log(db: &Path) -> Result<Checked, DbError> {
    check_log_with(db, |_, _| {})
}

/// [`check_log`], calling `f` with every valid record and its offset.
pub fn check_log_with(db: &Path, f: impl FnMut(&LogEntry, u64)) -> Result<Checked, DbError> {
    let path = paths::log_file(db);
    let checked = logfile::scan(&path, f).map_err(|e| match e {
        LogError::Io(e) => DbError::io(&path, &e),
        LogError::Header => DbError::new(&path, "damaged or missing file header", exit::DATAERR),
    })?;
    if let Some(Problem::Damaged { offset, next_valid }) = checked.problem {
        return Err(DbError::new(
            &path,
            format!(
                "damaged record at offset {offset} ({} bytes before valid records resume); \
                 repair with dbclean -R bad",
                next_valid - offset
            ),
            exit::DATAERR,
        ));
    }
    Ok(checked)
}

/// Read a sealed side file if it exists.
fn read_side<T>(path: &Path, decode: fn(&[u8]) -> Result<T, String>) -> Result<Option<T>, DbError> {
    match fs::read(path) {
        Ok(b) => decode(&b)
            .map(Some)
            .map_err(|w| DbError::new(path, w, exit::DATAERR)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(DbError::io(path, &e)),
    }
}

/// The compiled whitelist and the flooding positions.
pub type SideFiles = (BTreeMap<Ck, u32>, BTreeMap<u16, u64>);

/// Check the compiled whitelist and the flooding positions of `db`.
pub fn check_side_files(db: &Path) -> Result<SideFiles, DbError> {
    let white = read_side(&paths::compiled_white_file(db), sealed::decode_white)?;
    let peers = read_side(&paths::flood_map_file(db), sealed::decode_peers)?;
    Ok((white.unwrap_or_default(), peers.unwrap_or_default()))
}

/// The read-only view.
pub struct Snapshot {
    dir: PathBuf,
    file: File,
    checked: Checked,
    index: Vec<(u64, u64)>,
    totals: HashMap<Ck, u32>,
    white: BTreeMap<Ck, u32>,
    peers: BTreeMap<u16, u64>,
    next: Pos,
}

impl Snapshot {
    /// Read the database in directory `db`.
    pub fn open(db: &Path) -> Result<Snapshot, DbError> {
        let mut index = Vec::new();
        let mut totals: HashMap<Ck, u32> = HashMap::new();
        let mut last = None;
        let checked = check_log_with(db, |e, off| {
            index.push((e.pos.0, off));
            last = Some(e.pos);
            for ck in &e.report.cks {
                if e.report.is_delete() {
                    totals.remove(ck);
                } else {
                    let t = totals.entry(*ck).or_insert(0);
                    *t = tgts::add(*t, e.report.tgts);
                }
            }
        })?;
        let (white, peers) = check_side_files(db)?;
        let log = paths::log_file(db);
        let file = File::open(&log).map_err(|e| DbError::io(&log, &e))?;
        let next = last
            .map_or(checked.base, |p| Pos(p.0 + 1))
            .max(checked.base);
        Ok(Snapshot {
            dir: db.to_path_buf(),
            file,
            checked,
            index,
            totals,
            white,
            peers,
            next,
        })
    }

    /// What reading the log found.
    pub fn checked(&self) -> &Checked {
        &self.checked
    }

    /// Every peer's flooding position.
    pub fn peers(&self) -> &BTreeMap<u16, u64> {
        &self.peers
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn read_only() -> Error {
    Error::Invalid("the database is open read-only")
}

impl Store for Snapshot {
    fn add(&mut self, _report: &Report) -> tally_store::Result<Added> {
        Err(read_only())
    }

    fn total(&self, ck: &Ck) -> tally_store::Result<u32> {
        Ok(match self.white.get(ck) {
            Some(&w) => w,
            None => self.totals.get(ck).copied().unwrap_or(0),
        })
    }

    fn read_log(&self, after: Pos, max: usize) -> tally_store::Result<Vec<LogEntry>> {
        let max = max.clamp(1, 4096);
        let first = self.index.partition_point(|&(p, _)| p <= after.0);
        let Some(&(_, start)) = self.index.get(first) else {
            return Ok(Vec::new());
        };
        let stop = self
            .index
            .get(first + max)
            .map_or(self.checked.good_end, |&(_, o)| o);
        let len = usize::try_from(stop.saturating_sub(start))
            .unwrap_or(0)
            .min(max * (MAX_PAYLOAD + 8));
        let mut block = vec![0u8; len];
        self.file.read_exact_at(&mut block, start)?;
        let mut out = Vec::with_capacity(max.min(self.index.len() - first));
        let mut rest = block.as_slice();
        while out.len() < max {
            let Some((e, n)) = logfile::frame_in(rest) else {
                break;
            };
            out.push(e);
            rest = rest.get(n..).unwrap_or_default();
        }
        Ok(out)
    }

    fn next_pos(&self) -> Pos {
        self.next
    }

    fn peer_pos(&self, peer: u16) -> tally_store::Result<Option<Pos>> {
        Ok(self.peers.get(&peer).map(|&p| Pos(p)))
    }

    fn set_peer_pos(&mut self, _peer: u16, _pos: Pos) -> tally_store::Result<()> {
        Err(read_only())
    }

    fn delete(&mut self, _ck: Ck, _srvr_id: u16, _ts: Ts) -> tally_store::Result<Pos> {
        Err(read_only())
    }

    fn set_whitelist(&mut self, _entries: &[(Ck, u32)]) -> tally_store::Result<()> {
        Err(read_only())
    }

    fn whitelist(&self) -> tally_store::Result<Vec<(Ck, u32)>> {
        Ok(self.white.iter().map(|(c, v)| (*c, *v)).collect())
    }

    fn clean(&mut self, _now: u64, _policy: &Expiry) -> tally_store::Result<CleanReport> {
        Err(read_only())
    }

    fn for_each_total(&self, f: &mut dyn FnMut(Ck, u32) -> bool) -> tally_store::Result<()> {
        for (ck, &t) in &self.totals {
            if t != 0 && !f(*ck, t) {
                break;
            }
        }
        Ok(())
    }

    fn stats(&self) -> tally_store::Result<Stats> {
        let mut disk_bytes = 0;
        for e in fs::read_dir(&self.dir)? {
            let m = e?.metadata()?;
            if m.is_file() {
                disk_bytes += m.len();
            }
        }
        Ok(Stats {
            records: self.index.len() as u64,
            checksums: self.totals.values().filter(|&&t| t != 0).count() as u64,
            whitelisted: self.white.len() as u64,
            disk_bytes,
            next_pos: self.next,
        })
    }

    fn sync(&mut self) -> tally_store::Result<()> {
        Ok(())
    }
}
