//! Excluding a running dccd (and another dbclean) from the database.
//!
//! The original locks its whole database file with `fcntl` while dccd runs,
//! and `dbclean -S` refuses a database that is locked. Our convention is
//! an exclusive, non-blocking `flock(2)` on the file `lock` in the database
//! directory, taken by whichever program writes the database (dbclean
//! while it cleans; dccd should hold it for as long as it runs, through
//! [`DbLock::try_exclusive`]), with the holder's process ID written into
//! the file for messages. The lock disappears with the
//! process, so a crash never leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use rustix::fs::{flock, FlockOperation};

use crate::paths::lock_file;

/// A held database lock; released when dropped.
#[derive(Debug)]
pub struct DbLock {
    _file: File,
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it; its process ID if it wrote one.
    Busy(Option<u32>),
    /// The lock file could not be opened or locked.
    Io(std::io::Error),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Busy(Some(pid)) => write!(f, "in use by process {pid}"),
            LockError::Busy(None) => write!(f, "in use by another process"),
            LockError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl DbLock {
    /// Take the exclusive lock of the database in directory `db` without
    /// waiting. The directory must exist.
    pub fn try_exclusive(db: &Path) -> Result<DbLock, LockError> {
        let path = lock_file(db);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(LockError::Io)?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                return Err(LockError::Busy(read_pid(&mut file)));
            }
            Err(e) => return Err(LockError::Io(e.into())),
        }
        // Best effort: the pid is only for messages.
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = writeln!(file, "{}", std::process::id());
        Ok(DbLock { _file: file })
    }

    /// Whether some process holds the lock of the database in `db` now.
    pub fn holder(db: &Path) -> Option<Option<u32>> {
        let mut file = File::open(lock_file(db)).ok()?;
        match flock(&file, FlockOperation::NonBlockingLockShared) {
            Ok(()) => {
                let _ = flock(&file, FlockOperation::Unlock);
                None
            }
            Err(_) => Some(read_pid(&mut file)),
        }
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut s = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(32).read_to_string(&mut s).ok()?;
    s.trim().parse().ok()
}
