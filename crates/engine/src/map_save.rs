//! Writing the client's map file back after use.
//!
//! The original shares the measured state of its servers (RTTs, answer
//! rates, the back-off after failures) between all client processes of a
//! host through its memory-mapped map file, so that a dccproc started
//! after a failure does not wait for dead servers again. Here the map file
//! is text, and a one-shot client such as dccproc saves the state when it
//! changed. Saving never damages the file:
//!
//! - the new text goes to a fresh temporary file in the same directory,
//!   which is flushed to disk and then renamed over the map (so readers see
//!   either the old or the new file, and concurrent writers cannot mix
//!   their texts);
//! - a map that changed on disk since it was read (an administrator's
//!   `cdcc load`, another client saving) is left alone;
//! - a map this process may not write is left alone, silently.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;
use tally_client::map::print::print_map;
use tally_client::Map;

/// Size and modification time of a map file when it was read, to notice
/// changes by others before replacing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    /// The stamp of the file at `path` now.
    pub fn of(path: &Path) -> Option<Stamp> {
        let m = fs::metadata(path).ok()?;
        Some(Stamp {
            len: m.len(),
            modified: m.modified().ok(),
        })
    }
}

/// What happened to the map file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// The state did not change: nothing written.
    Unchanged,
    /// The file was replaced with the new state.
    Written,
    /// Not written: the file changed on disk since it was read, or it may
    /// not be written by this process.
    Skipped,
}

/// Whether `after` differs from `before` in anything the map text shows.
pub fn differs(before: &Map, after: &Map, now: u64) -> bool {
    print_map(before, now, true) != print_map(after, now, true)
}

/// Replace the map file at `path` with the text of `map` at date `now`,
/// unless the file changed since it had the stamp `read` or cannot be
/// written. `Err` is a complaint about a failed write (the old file is
/// then still intact).
pub fn replace(path: &Path, map: &Map, now: u64, read: Option<&Stamp>) -> Result<Saved, String> {
    // write where a symbolic link points, keeping the link
    let Ok(real) = fs::canonicalize(path) else {
        return Ok(Saved::Skipped);
    };
    if read.is_some() && Stamp::of(&real).as_ref() != read {
        return Ok(Saved::Skipped);
    }
    let Ok(meta) = fs::metadata(&real) else {
        return Ok(Saved::Skipped);
    };
    if !meta.is_file() || fs::OpenOptions::new().write(true).open(&real).is_err() {
        return Ok(Saved::Skipped);
    }
    let Some(dir) = real.parent() else {
        return Ok(Saved::Skipped);
    };
    let Some((tmp, mut f)) = create_tmp(dir, &real, &meta) else {
        return Ok(Saved::Skipped);
    };
    let text = print_map(map, now, true);
    let written = f.write_all(text.as_bytes()).and_then(|_| f.sync_all());
    drop(f);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(format!(
            "write({}): {}",
            tmp.display(),
            crate::errno_str(&e)
        ));
    }
    if let Err(e) = fs::rename(&tmp, &real) {
        let _ = fs::remove_file(&tmp);
        return Err(format!(
            "rename({}, {}): {}",
            tmp.display(),
            real.display(),
            crate::errno_str(&e)
        ));
    }
    Ok(Saved::Written)
}

/// A new temporary file next to the map, with the map's permissions.
fn create_tmp(dir: &Path, real: &Path, meta: &fs::Metadata) -> Option<(PathBuf, fs::File)> {
    static SERIAL: AtomicU32 = AtomicU32::new(0);
    let base = real.file_name()?.to_string_lossy().into_owned();
    for _ in 0..8 {
        let n = SERIAL.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = dir.join(format!(".{base}.{}.{n}.{nanos:x}.new", std::process::id()));
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            opts.mode(meta.permissions().mode() & 0o777);
        }
        #[cfg(not(unix))]
        let _ = meta;
        match opts.open(&tmp) {
            Ok(f) => return Some((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(_) => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_client::map::parse::parse_map;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tally-map-save-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).expect("scratch");
        d
    }

    #[test]
    fn replaces_and_leaves_changed_files_alone() {
        let d = scratch("replace");
        let p = d.join("map");
        fs::write(&p, "127.0.0.1,16277 32800 secret\n").expect("map");
        let stamp = Stamp::of(&p);
        let mut map = parse_map("127.0.0.1,16277 32800 secret\n", None).expect("parse");
        map.dcc.fail.fail_exp = 1;
        map.dcc.fail.fail_time = 1_000_032;
        assert_eq!(
            replace(&p, &map, 1_000_000, stamp.as_ref()),
            Ok(Saved::Written)
        );
        let text = fs::read_to_string(&p).expect("read");
        assert!(text.contains("continue not asking DCC server 32 seconds after 1 failures"));
        assert!(text.contains("32800 secret"));
        let back = parse_map(&text, None).expect("parse back");
        assert_eq!(back.dcc.fail, map.dcc.fail);
        // no temporary file is left behind
        assert_eq!(fs::read_dir(&d).expect("dir").count(), 1);
        // the old stamp no longer matches: left alone
        assert_eq!(
            replace(&p, &map, 1_000_000, stamp.as_ref()),
            Ok(Saved::Skipped)
        );
        let _ = fs::remove_dir_all(&d);
    }

    #[cfg(unix)]
    #[test]
    fn read_only_maps_are_skipped() {
        use std::os::unix::fs::PermissionsExt;
        let d = scratch("ro");
        let p = d.join("map");
        fs::write(&p, "127.0.0.1,16277 anon\n").expect("map");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o400)).expect("chmod");
        let writable = fs::OpenOptions::new().write(true).open(&p).is_ok();
        let map = parse_map("127.0.0.1,16277 anon\n", None).expect("parse");
        let r = replace(&p, &map, 1_000_000, Stamp::of(&p).as_ref());
        if writable {
            // running as root: permissions do not stop us
            assert_eq!(r, Ok(Saved::Written));
        } else {
            assert_eq!(r, Ok(Saved::Skipped));
            assert_eq!(
                fs::read_to_string(&p).expect("read"),
                "127.0.0.1,16277 anon\n"
            );
        }
        let _ = fs::remove_dir_all(&d);
    }
}
