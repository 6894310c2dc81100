//! Keeping two writers off one database.
//!
//! The original locks its database file while dccd runs, and dbclean
//! refuses a locked database. Here the program that writes a database
//! (dccd for as long as it runs, dbclean while it cleans) holds an
//! exclusive, non-blocking `flock(2)` on the file `lock` in the database
//! directory, with its process ID written into the file for messages. The
//! lock goes away with the process, so a crash never leaves a stale lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file of the database in directory `db`.
pub fn lock_file(db: &Path) -> PathBuf {
    db.join("lock")
}

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

impl std::error::Error for LockError {}

impl DbLock {
    /// Take the exclusive lock of the database in directory `db` without
    /// waiting. The directory must exist.
    pub fn try_exclusive(db: &Path) -> Result<DbLock, LockError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_file(db))
            .map_err(LockError::Io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(LockError::Busy(read_pid(&mut file))),
            Err(TryLockError::Error(e)) => return Err(LockError::Io(e)),
        }
        // Best effort: the process ID is only for messages.
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = writeln!(file, "{}", std::process::id());
        Ok(DbLock { _file: file })
    }

    /// Whether some process holds the lock of the database in `db` now,
    /// and its process ID if it wrote one.
    pub fn holder(db: &Path) -> Option<Option<u32>> {
        let mut file = File::open(lock_file(db)).ok()?;
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_and_released() {
        let dir = std::env::temp_dir().join(format!("tally-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(DbLock::holder(&dir).is_none());
        let held = DbLock::try_exclusive(&dir).unwrap();
        // a second open file description conflicts, also in this process
        match DbLock::try_exclusive(&dir) {
            Err(LockError::Busy(pid)) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        assert_eq!(DbLock::holder(&dir), Some(Some(std::process::id())));
        drop(held);
        assert!(DbLock::try_exclusive(&dir).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
