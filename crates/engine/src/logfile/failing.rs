//! Whether log files can be written in a log directory, shared by every
//! thread of the process.
//!
//! A full or broken file system under `-l logdir` must not cost a line in
//! the system log for every message: the first failure in a directory
//! gives one line naming the directory and the error, later failures only
//! count the lost log files, and the first log file written there again
//! gives one line saying so. Meanwhile messages are handled as if logging
//! were off.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// A directory where writing log files fails.
struct Trouble {
    dir: PathBuf,
    since: Instant,
    /// Log files lost since.
    lost: u64,
}

/// Most directories remembered (per-user log directories can be many);
/// the oldest is forgotten beyond, which costs at most one more line.
const MAX_DIRS: usize = 1000;

static TROUBLE: Mutex<Vec<Trouble>> = Mutex::new(Vec::new());
/// How many directories are failing, to skip the lock when none is.
static FAILING: AtomicUsize = AtomicUsize::new(0);

fn lock() -> MutexGuard<'static, Vec<Trouble>> {
    TROUBLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Note a log file of `dir` lost because of `why`; the line for the
/// system log when this starts the directory's trouble, else `None`.
pub fn failed(dir: &Path, why: &str) -> Option<String> {
    let mut t = lock();
    if let Some(x) = t.iter_mut().find(|x| x.dir == dir) {
        x.lost = x.lost.saturating_add(1);
        return None;
    }
    if t.len() >= MAX_DIRS {
        t.remove(0);
    }
    t.push(Trouble {
        dir: dir.to_path_buf(),
        since: Instant::now(),
        lost: 1,
    });
    FAILING.store(t.len(), Ordering::Relaxed);
    Some(format!(
        "log files in {} failing: {why}; messages are handled without log files meanwhile",
        dir.display()
    ))
}

/// Note a log file of `dir` written and closed; the line for the system
/// log when this ends the directory's trouble, else `None`.
pub fn worked(dir: &Path) -> Option<String> {
    if FAILING.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let mut t = lock();
    let i = t.iter().position(|x| x.dir == dir)?;
    let x = t.swap_remove(i);
    FAILING.store(t.len(), Ordering::Relaxed);
    Some(format!(
        "log files in {} work again after {} seconds; {} messages were handled without log files",
        dir.display(),
        x.since.elapsed().as_secs(),
        x.lost
    ))
}

/// Whether writing log files in `dir` is failing now.
pub fn is_failing(dir: &Path) -> bool {
    FAILING.load(Ordering::Relaxed) != 0 && lock().iter().any(|x| x.dir == dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_to_start_and_one_to_end() {
        let d = Path::new("failing-test-dir-a");
        assert_eq!(worked(d), None);
        let first = failed(d, "write(x): No space left on device").expect("first line");
        assert!(first.contains("failing-test-dir-a"), "{first}");
        assert!(first.contains("No space left on device"), "{first}");
        for _ in 0..100 {
            assert_eq!(failed(d, "write(x): No space left on device"), None);
        }
        assert!(is_failing(d));
        let again = worked(d).expect("recovery line");
        assert!(again.contains("101 messages"), "{again}");
        assert_eq!(worked(d), None);
        assert!(!is_failing(d));
    }

    #[test]
    fn directories_are_apart() {
        let (a, b) = (
            Path::new("failing-test-dir-b"),
            Path::new("failing-test-dir-c"),
        );
        assert!(failed(a, "e").is_some());
        assert!(failed(b, "e").is_some());
        assert!(failed(a, "e").is_none());
        assert!(worked(b).is_some());
        assert!(is_failing(a));
        assert!(worked(a).is_some());
    }
}
