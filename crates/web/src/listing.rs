//! A user's log files, newest first. The log directory (`log` in the
//! user's directory) holds `msg.XXXXXX` files, directly or in the
//! `JJJ/HH/MM` subdirectories of the `log-subdirectory-*` options.
//!
//! Listing 100,000 files must be quick: the names come from reading the
//! directories; the modification time of a file is asked once and kept,
//! keyed by the directory's own modification time, so a listing after a
//! new message reads the directory again but asks only the new files.
//! Only the files of the page shown are opened.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// How deep the day/hour/minute subdirectories go.
pub(crate) const MAX_DEPTH: usize = 3;
/// Most log directories remembered (one per user seen recently).
const MAX_DIRS: usize = 256;

/// One log file: its path below the log directory and its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// `msg.XXXXXX` or `JJJ/HH/msg.XXXXXX`.
    pub id: Arc<str>,
    /// Modification time, nanoseconds since the epoch.
    pub mtime: i128,
}

/// What is known of one directory.
#[derive(Default)]
struct DirState {
    mtime: Option<SystemTime>,
    /// file name to modification time
    files: HashMap<Arc<str>, i128>,
    /// the files, newest first, ids with the directory's prefix
    sorted: Arc<Vec<LogEntry>>,
    subdirs: Vec<String>,
}

type Stamps = Vec<(PathBuf, Option<SystemTime>)>;
/// A merged listing and the directory times it was made from.
type Merged = (Stamps, Arc<Vec<LogEntry>>);

/// The cache of listings, shared by all requests.
#[derive(Default)]
pub struct Listings {
    dirs: Mutex<HashMap<PathBuf, DirState>>,
    merged: Mutex<HashMap<PathBuf, Merged>>,
}

/// Whether `id` is a log file name as [`Listings::list`] gives them:
/// digit-only directories, then `msg.` and letters or digits. Anything
/// else (`..`, absolute paths, other files) is refused.
pub fn valid_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    let Some((last, dirs)) = parts.split_last() else {
        return false;
    };
    dirs.len() <= MAX_DEPTH && dirs.iter().all(|d| is_subdir(d)) && is_log_name(last)
}

/// `msg.` then 1 to 16 letters or digits.
pub(crate) fn is_log_name(n: &str) -> bool {
    n.strip_prefix("msg.").is_some_and(|r| {
        !r.is_empty() && r.len() <= 16 && r.bytes().all(|c| c.is_ascii_alphanumeric())
    })
}

pub(crate) fn is_subdir(d: &str) -> bool {
    !d.is_empty() && d.len() <= 3 && d.bytes().all(|c| c.is_ascii_digit())
}

fn nanos(t: SystemTime) -> i128 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

fn newest_first(a: &LogEntry, b: &LogEntry) -> std::cmp::Ordering {
    b.mtime.cmp(&a.mtime).then_with(|| b.id.cmp(&a.id))
}

/// Threads asking for files' times when a directory is first read.
const STAT_THREADS: usize = 4;

/// The modification times of directory entries (`None` for a file
/// gone). Each is asked relative to the directory already open
/// (`fstatat`), not by its whole path.
fn stat_all(entries: &[std::fs::DirEntry]) -> Vec<Option<i128>> {
    let one = |e: &std::fs::DirEntry| e.metadata().and_then(|m| m.modified()).ok().map(nanos);
    if entries.len() < 1000 {
        return entries.iter().map(one).collect();
    }
    let chunk = entries.len().div_ceil(STAT_THREADS);
    std::thread::scope(|sc| {
        let hs: Vec<_> = entries
            .chunks(chunk)
            .map(|c| sc.spawn(move || c.iter().map(one).collect::<Vec<_>>()))
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

impl Listings {
    /// An empty cache.
    pub fn new() -> Listings {
        Listings::default()
    }

    /// Read the log directories of every user under `userdirs`
    /// (`userdirs/mailer/user/log`) so that first pages come from the
    /// cache; how many were read.
    pub fn index_all(&self, userdirs: &Path) -> usize {
        let mut n = 0;
        let Ok(mailers) = std::fs::read_dir(userdirs) else {
            return 0;
        };
        for m in mailers.flatten() {
            if !m.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let Ok(users) = std::fs::read_dir(m.path()) else {
                continue;
            };
            for u in users.flatten() {
                let log = u.path().join("log");
                if n < MAX_DIRS && log.is_dir() {
                    self.list(&log);
                    n += 1;
                }
            }
        }
        n
    }

    /// All log files below `logdir`, newest first (ties by name). A
    /// missing directory is an empty list.
    pub fn list(&self, logdir: &Path) -> Arc<Vec<LogEntry>> {
        let mut dirs = self.dirs.lock().unwrap_or_else(|p| p.into_inner());
        if dirs.len() > MAX_DIRS {
            dirs.clear();
        }
        let mut stamps = Vec::new();
        let mut parts = Vec::new();
        refresh(&mut dirs, logdir, "", 0, &mut stamps, &mut parts);
        drop(dirs);
        if parts.len() == 1 {
            return parts.pop().unwrap_or_default();
        }
        let mut merged = self.merged.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((st, list)) = merged.get(logdir) {
            if *st == stamps {
                return list.clone();
            }
        }
        let mut all: Vec<LogEntry> = parts.iter().flat_map(|p| p.iter().cloned()).collect();
        all.sort_unstable_by(newest_first);
        let list = Arc::new(all);
        if merged.len() > MAX_DIRS {
            merged.clear();
        }
        merged.insert(logdir.to_path_buf(), (stamps, list.clone()));
        list
    }
}

/// Bring the state of `dir` up to date; its sorted files go to `out`.
fn refresh(
    dirs: &mut HashMap<PathBuf, DirState>,
    dir: &Path,
    prefix: &str,
    depth: usize,
    stamps: &mut Stamps,
    out: &mut Vec<Arc<Vec<LogEntry>>>,
) {
    let mtime = std::fs::metadata(dir).and_then(|m| m.modified()).ok();
    stamps.push((dir.to_path_buf(), mtime));
    let state = dirs.entry(dir.to_path_buf()).or_default();
    if mtime.is_none() {
        *state = DirState::default();
    } else if state.mtime != mtime {
        reread(state, dir, prefix, depth);
        state.mtime = mtime;
    }
    out.push(state.sorted.clone());
    let subs = state.subdirs.clone();
    for s in subs {
        refresh(
            dirs,
            &dir.join(&s),
            &format!("{prefix}{s}/"),
            depth + 1,
            stamps,
            out,
        );
    }
}

/// Read a changed directory: ask the times of new files only.
fn reread(state: &mut DirState, dir: &Path, prefix: &str, depth: usize) {
    let mut seen = 0usize;
    let mut fresh: Vec<(Arc<str>, std::fs::DirEntry)> = Vec::new();
    let mut subdirs = Vec::new();
    let mut names_now: Option<std::collections::HashSet<Arc<str>>> = None;
    for pass in 0..2 {
        // a second pass, only when files went away, notes which remain
        if pass == 1 {
            if seen == state.files.len() {
                break;
            }
            names_now = Some(std::collections::HashSet::with_capacity(seen));
            fresh.clear();
            subdirs.clear();
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            break;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if depth < MAX_DEPTH && is_subdir(name) {
                    subdirs.push(name.to_string());
                }
            } else if ft.is_file() && is_log_name(name) {
                match state.files.get_key_value(name) {
                    Some((k, _)) => {
                        if let Some(now) = names_now.as_mut() {
                            now.insert(k.clone());
                        } else {
                            seen += 1;
                        }
                    }
                    None => fresh.push((Arc::from(name), e)),
                }
            }
        }
    }
    subdirs.sort();
    state.subdirs = subdirs;
    if let Some(now) = names_now {
        // files went away: keep only those still present
        state.files.retain(|k, _| now.contains(k));
        let mut v: Vec<LogEntry> = state
            .files
            .iter()
            .map(|(n, t)| LogEntry {
                id: Arc::from(format!("{prefix}{n}")),
                mtime: *t,
            })
            .collect();
        v.sort_unstable_by(newest_first);
        state.sorted = Arc::new(v);
    }
    if fresh.is_empty() {
        return;
    }
    let (names, entries): (Vec<Arc<str>>, Vec<std::fs::DirEntry>) = fresh.into_iter().unzip();
    let times = stat_all(&entries);
    drop(entries);
    let mut add: Vec<LogEntry> = Vec::with_capacity(names.len());
    for (n, t) in names.into_iter().zip(times) {
        let Some(t) = t else { continue };
        let id: Arc<str> = if prefix.is_empty() {
            n.clone()
        } else {
            Arc::from(format!("{prefix}{n}"))
        };
        state.files.insert(n, t);
        add.push(LogEntry { id, mtime: t });
    }
    add.sort_unstable_by(newest_first);
    // merge the two sorted lists
    let old = &state.sorted;
    let mut v = Vec::with_capacity(old.len() + add.len());
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < add.len() {
        if newest_first(&add[j], &old[i]).is_le() {
            v.push(add[j].clone());
            j += 1;
        } else {
            v.push(old[i].clone());
            i += 1;
        }
    }
    v.extend_from_slice(&old[i..]);
    v.extend_from_slice(&add[j..]);
    state.sorted = Arc::new(v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_changes() {
        let d = std::env::temp_dir().join(format!("listing-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("123/04")).unwrap();
        let l = Listings::new();
        assert!(l.list(&d.join("missing")).is_empty());
        let set = |p: &str, secs: u64| {
            let f = d.join(p);
            std::fs::write(&f, "x").unwrap();
            let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            std::fs::File::options()
                .write(true)
                .open(&f)
                .unwrap()
                .set_modified(t)
                .unwrap();
        };
        set("msg.aaaaaa", 100);
        set("msg.bbbbbb", 300);
        set("123/04/msg.cccccc", 200);
        std::fs::write(d.join("whiteclnt"), "x").unwrap();
        let ids = |l: &Listings| {
            l.list(&d)
                .iter()
                .map(|e| e.id.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&l), ["msg.bbbbbb", "123/04/msg.cccccc", "msg.aaaaaa"]);
        std::thread::sleep(std::time::Duration::from_millis(20));
        set("msg.dddddd", 400);
        std::fs::remove_file(d.join("msg.aaaaaa")).unwrap();
        assert_eq!(ids(&l), ["msg.dddddd", "msg.bbbbbb", "123/04/msg.cccccc"]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn ids() {
        assert!(valid_id("msg.AbC012"));
        assert!(valid_id("123/05/msg.AbC012"));
        for bad in [
            "",
            "../msg.a",
            "/msg.a",
            "msg.",
            "msg.a/b",
            "x/msg.a",
            "1/2/3/4/msg.a",
            "msg.a.b",
            "whiteclnt",
        ] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
