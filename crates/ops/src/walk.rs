//! Walking the log and per-user directory trees as `find` does for the
//! original's cron job: every directory once (also when symbolic links
//! are followed and lead back), at most [`MAX_DIRS`] of them, problems
//! collected with their paths.

use std::collections::HashSet;
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// At most this many directories are visited in one walk.
pub const MAX_DIRS: usize = 1_000_000;

/// One entry found: its path, its path below the root (as names) and its
/// metadata (of the link's target when links are followed).
pub struct Entry<'a> {
    pub path: &'a Path,
    pub rel: &'a [String],
    pub meta: &'a Metadata,
}

/// Visit every entry below `roots` (directories too, before their
/// contents). `follow`: symbolic links are followed. Returns the problems.
pub fn walk(roots: &[PathBuf], follow: bool, mut visit: impl FnMut(&Entry<'_>)) -> Vec<String> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<(PathBuf, Vec<String>)> = roots
        .iter()
        .filter(|r| r.is_dir())
        .map(|r| (r.clone(), Vec::new()))
        .collect();
    while let Some((dir, rel)) = stack.pop() {
        if seen.len() >= MAX_DIRS {
            errors.push(format!(
                "{}: more than {MAX_DIRS} directories; stopped",
                dir.display()
            ));
            break;
        }
        let meta = match fs::metadata(&dir) {
            Ok(m) => m,
            Err(e) => {
                errors.push(format!("{}: {e}", dir.display()));
                continue;
            }
        };
        if !seen.insert((meta.dev(), meta.ino())) {
            continue;
        }
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                errors.push(format!("{}: {e}", dir.display()));
                continue;
            }
        };
        for ent in entries.flatten() {
            let path = ent.path();
            let meta = if follow {
                fs::metadata(&path)
            } else {
                fs::symlink_metadata(&path)
            };
            let Ok(meta) = meta else { continue };
            let mut r = rel.clone();
            r.push(ent.file_name().to_string_lossy().into_owned());
            visit(&Entry {
                path: &path,
                rel: &r,
                meta: &meta,
            });
            if meta.is_dir() {
                stack.push((path, r));
            }
        }
    }
    errors
}
