//! Removing old log files, as the original's cron job does with `find`:
//! files named `msg.*` older than the days kept and `tmp.*` older than a
//! day, then the empty per-day, hour or minute directories (named by one
//! to three digits). Ages count whole days, as `find -mtime +N`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::walk::walk;

const DAY: u64 = 86_400;

/// What a pruning did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Log files removed.
    pub files: u64,
    /// Empty numbered directories removed.
    pub dirs: u64,
    /// Files kept (younger, or not log files).
    pub kept: u64,
    /// Problems, each naming its path.
    pub errors: Vec<String>,
}

fn whole_days(now: SystemTime, t: SystemTime) -> u64 {
    now.duration_since(t).map_or(0, |d| d.as_secs() / DAY)
}

fn numbered(name: &str) -> bool {
    (1..=3).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_digit())
}

/// Remove the old log files below `roots`. `follow`: symbolic links to
/// directories are followed (each directory visited once).
pub fn prune(roots: &[PathBuf], logdays: u64, follow: bool, now: SystemTime) -> Pruned {
    let mut out = Pruned::default();
    let mut numbered_dirs = Vec::new();
    let mut removal_errors = Vec::new();
    out.errors = walk(roots, follow, |e| {
        let name = e.rel.last().map_or("", String::as_str);
        if e.meta.is_dir() {
            if numbered(name) {
                numbered_dirs.push(e.path.to_path_buf());
            }
        } else if e.meta.is_file() {
            let age = e.meta.modified().map_or(0, |m| whole_days(now, m));
            let old = (name.starts_with("msg.") && age > logdays)
                || (name.starts_with("tmp.") && age > 1);
            if !old {
                out.kept += 1;
                return;
            }
            match fs::remove_file(e.path) {
                Ok(()) => out.files += 1,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => removal_errors.push(format!("{}: {err}", e.path.display())),
            }
        }
    });
    out.errors.extend(removal_errors);
    // deepest first, so that a day directory empty of hours goes too
    numbered_dirs.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for d in numbered_dirs {
        if remove_if_empty(&d) {
            out.dirs += 1;
        }
    }
    out
}

fn remove_if_empty(d: &Path) -> bool {
    fs::read_dir(d).is_ok_and(|mut e| e.next().is_none()) && fs::remove_dir(d).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn age(path: &Path, days: u64, now: SystemTime) {
        let f = fs::File::options().write(true).open(path).unwrap();
        f.set_modified(now - Duration::from_secs(days * DAY + 60))
            .unwrap();
    }

    #[test]
    fn old_msg_and_tmp_files_go_new_ones_stay() {
        let dir = std::env::temp_dir().join(format!("tally-prune-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let now = SystemTime::now();
        let day = dir.join("log/001/02");
        fs::create_dir_all(&day).unwrap();
        fs::create_dir_all(dir.join("log/002")).unwrap();
        for (name, days) in [
            ("log/msg.old", 20),
            ("log/msg.new", 3),
            ("log/tmp.old", 2),
            ("log/tmp.new", 0),
            ("log/other", 90),
            ("log/001/02/msg.a", 30),
        ] {
            fs::write(dir.join(name), "x").unwrap();
            age(&dir.join(name), days, now);
        }
        fs::write(dir.join("log/002/msg.b"), "x").unwrap();
        let p = prune(&[dir.join("log")], 14, true, now);
        assert_eq!(p.files, 3, "{p:?}");
        assert_eq!(p.dirs, 2, "{p:?}");
        assert!(p.errors.is_empty());
        assert!(dir.join("log/msg.new").exists() && dir.join("log/tmp.new").exists());
        assert!(dir.join("log/other").exists() && dir.join("log/002/msg.b").exists());
        assert!(!dir.join("log/001").exists() && !dir.join("log/msg.old").exists());
        // exactly 14 whole days is kept, as find -mtime +14
        fs::write(dir.join("log/msg.edge"), "x").unwrap();
        age(&dir.join("log/msg.edge"), 14, now);
        assert_eq!(prune(&[dir.join("log")], 14, true, now).files, 0);
        fs::remove_dir_all(&dir).unwrap();
    }
}
