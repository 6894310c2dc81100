//! The database of a DCC server (dccd): the log of reports in arrival
//! order, the total target count of every checksum, the whitelist built
//! into the database, deletions, the flooding positions of the peers, and
//! the expiry `dbclean` performs.
//!
//! The original keeps one file of report records chained per checksum
//! through a hash table, and a second instance of the same machinery holds
//! the greylist database. Here [`Store`] is the interface; [`LogStore`] is
//! the default, persistent implementation (an append-only log replayed into
//! an in-memory table of totals at start-up), and with the `redb` feature
//! `RedbStore` keeps the same data in a redb B-tree file, and with the
//! `fjall` feature `FjallStore` in a fjall LSM tree. A greylist
//! server opens a second store in its own directory: the store treats
//! target counts as opaque numbers summed per checksum, so the meaning of
//! the records is the caller's.
//!
//! Durability: a report for which [`Store::add`] returned `Ok` has been
//! handed to the operating system (one `write` per report or per batch),
//! so it survives the server being killed; it is flushed to the disk
//! itself (`fdatasync`) by a group commit at most [`SyncPolicy`]'s interval
//! later, or at once with [`SyncPolicy::Always`].
//!
//! ```
//! use tally_ck::{CkType, Sum};
//! use tally_store::{Ck, LogStore, Pos, Report, Store, Ts};
//!
//! let dir = std::env::temp_dir().join(format!("tally-store-doc-{}", std::process::id()));
//! let mut db = LogStore::open(&dir)?;
//! let body = Ck::new(CkType::Body, Sum([1; 16]));
//! // A client reports a message to one recipient: total 1, 0 before.
//! let added = db.add(&Report::new(Ts::now(), 1100, 1, vec![body]))?;
//! assert_eq!((added.counts[0].c, added.counts[0].p), (1, 0));
//! assert_eq!(db.query(&[body])?[0].c, 1);
//! // Flooding: the records after a peer's position.
//! let news = db.read_log(Pos::START, 100)?;
//! assert_eq!(news[0].report.cks, vec![body]);
//! db.set_peer_pos(1101, news[0].pos)?;
//! # drop(db);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod codec;
pub mod expiry;
#[cfg(feature = "fjall")]
mod fjall_store;
mod fsutil;
pub mod lock;
mod log;
#[cfg(feature = "redb")]
mod redb_store;
pub mod types;

use std::fmt;
use std::time::Duration;

pub use expiry::Expiry;
#[cfg(feature = "fjall")]
pub use fjall_store::FjallStore;
pub use log::LogStore;
#[cfg(feature = "redb")]
pub use redb_store::RedbStore;
pub use types::{tgts, Added, Ck, CleanReport, CountPair, LogEntry, Pos, Report, Stats, Ts};

/// A failure of the database.
#[derive(Debug)]
pub enum Error {
    /// The file system failed.
    Io(std::io::Error),
    /// The files hold something this code did not write.
    Corrupt(String),
    /// The request breaks a limit (too many checksums, bad count ...).
    Invalid(&'static str),
    /// The storage engine failed.
    Backend(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "database I/O: {e}"),
            Error::Corrupt(s) => write!(f, "database corrupt: {s}"),
            Error::Invalid(s) => write!(f, "invalid request: {s}"),
            Error::Backend(s) => write!(f, "database engine: {s}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// Result of database operations.
pub type Result<T> = std::result::Result<T, Error>;

/// When acknowledged records are forced to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// `fdatasync` before every acknowledgement: survives power loss too.
    Always,
    /// Group commit: every acknowledged record is written to the operating
    /// system at once (safe against the process dying) and `fdatasync`
    /// runs when the last one is older than this.
    Interval(Duration),
    /// Never force; the operating system writes when it likes.
    Never,
}

impl Default for SyncPolicy {
    /// Group commit every 100 ms.
    fn default() -> Self {
        SyncPolicy::Interval(Duration::from_millis(100))
    }
}

/// The database interface of the server. Calls block; the server runs them
/// on a thread of their own.
pub trait Store: Send {
    /// Add a report (atomically: all its checksums or none) and return its
    /// position and the counts of its checksums before and after.
    fn add(&mut self, report: &Report) -> Result<Added>;

    /// Add several reports with one write and at most one sync.
    fn add_batch(&mut self, reports: &[Report]) -> Result<Vec<Added>> {
        reports.iter().map(|r| self.add(r)).collect()
    }

    /// Start a batch: until [`Store::end_batch`], the records of `add` may
    /// be held in memory (their totals and positions already count, so
    /// answers can be computed) and written all at once by `end_batch`.
    /// The caller must not let an answer to such an add leave before
    /// `end_batch` returned `Ok`. Stores that write each add at once
    /// ignore it.
    fn begin_batch(&mut self) {}

    /// Write the records held since [`Store::begin_batch`] with one write
    /// and stop batching. On an error nothing of the batch is kept (the
    /// totals and positions are as before the batch) and the answers
    /// computed from it must be dropped.
    fn end_batch(&mut self) -> Result<()> {
        Ok(())
    }

    /// The current total of a checksum (0 when unknown; a whitelist value
    /// when whitelisted).
    fn total(&self, ck: &Ck) -> Result<u32>;

    /// The counts a query answer carries for each checksum: the current
    /// total twice, as dccd answers a query.
    fn query(&self, cks: &[Ck]) -> Result<Vec<CountPair>> {
        cks.iter()
            .map(|ck| self.total(ck).map(|t| CountPair { c: t, p: t }))
            .collect()
    }

    /// Up to `max` records positioned after `after`, in log order.
    fn read_log(&self, after: Pos, max: usize) -> Result<Vec<LogEntry>>;

    /// The position the next record will get.
    fn next_pos(&self) -> Pos;

    /// The remembered flooding position of a peer.
    fn peer_pos(&self, peer: u16) -> Result<Option<Pos>>;

    /// Remember (durably) how far a peer has been sent or has confirmed.
    fn set_peer_pos(&mut self, peer: u16, pos: Pos) -> Result<()>;

    /// Delete a checksum (`cdcc delck`): its total drops to zero and a
    /// deletion record (target count [`tgts::DEL`]) enters the log to be
    /// flooded. Returns that record's position.
    fn delete(&mut self, ck: Ck, srvr_id: u16, ts: Ts) -> Result<Pos>;

    /// Replace the whitelist built into the database: each entry's value
    /// (e.g. [`tgts::OK`]) is reported as the checksum's total.
    fn set_whitelist(&mut self, entries: &[(Ck, u32)]) -> Result<()>;

    /// The whitelist entries, in checksum order.
    fn whitelist(&self) -> Result<Vec<(Ck, u32)>>;

    /// Expire old reports as `dbclean` does at time `now` (seconds), keeping
    /// the totals equal to the sums of what is left.
    fn clean(&mut self, now: u64, policy: &Expiry) -> Result<CleanReport>;

    /// Call `f` with every checksum with a non-zero total (for `dblist`), in
    /// no particular order, until it returns false.
    fn for_each_total(&self, f: &mut dyn FnMut(Ck, u32) -> bool) -> Result<()>;

    /// Counts and sizes.
    fn stats(&self) -> Result<Stats>;

    /// Force everything acknowledged to the disk now.
    fn sync(&mut self) -> Result<()>;

    /// Call `f` with every record received by server `srvr_id` (for
    /// `dblist -I`), in log order, until it returns false.
    fn for_each_by_server(&self, srvr_id: u16, f: &mut dyn FnMut(&LogEntry) -> bool) -> Result<()> {
        scan(self, &mut |e| e.report.srvr_id != srvr_id || f(e))
    }

    /// Call `f` with every record containing `ck` (for `dblist -C`), in log
    /// order, until it returns false.
    fn for_each_with(&self, ck: &Ck, f: &mut dyn FnMut(&LogEntry) -> bool) -> Result<()> {
        scan(self, &mut |e| !e.report.cks.contains(ck) || f(e))
    }
}

/// Walk the whole log in bounded batches.
fn scan<S: Store + ?Sized>(s: &S, f: &mut dyn FnMut(&LogEntry) -> bool) -> Result<()> {
    let mut after = Pos::START;
    loop {
        let batch = s.read_log(after, 1024)?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        after = last.pos;
        for e in &batch {
            if !f(e) {
                return Ok(());
            }
        }
    }
}
