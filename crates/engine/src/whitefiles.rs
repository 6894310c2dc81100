//! Whiteclnt files on disk: the global file (`-w`) and per-user files
//! (`-U userdirs`), kept current.
//!
//! As in the original:
//! - relative names (the `-w` file, `include` lines, `-U` directory) are
//!   relative to the DCC home directory;
//! - the file and every included file are checked for changes at most
//!   every [`Timing::stat_delay`] (10 s) and parsed again when one changed
//!   (modification time, size or inode), appeared or disappeared;
//! - files naming hosts in `ip` lines are parsed again every
//!   [`Timing::resolve_every`] (2 hours) to follow DNS changes;
//! - files with problems are parsed again every [`Timing::reparse_errors`]
//!   (30 minutes) so the complaint is repeated.
//!
//! A new version with problems is used at once, as the original uses it:
//! bad lines are left out, good lines take effect, and the problems are
//! returned (each naming its file and line). Only a main file that cannot
//! be read leaves the previous version in force, as only an I/O failure
//! keeps the original's old hash table; a main file that disappears is
//! dropped after [`Timing::missing_grace`].
//!
//! Per-user files `userdirs/<dir>/whiteclnt` are loaded on demand and a
//! bounded number of them is cached.
//!
//! [`WhiteFiles`] is meant to sit behind one lock shared by a program's
//! threads; the lists it hands out are `Arc`s, so lookups run outside the
//! lock. Host names are resolved while loading, under that lock.

mod disk;
pub mod grey_wanted;
mod userdir;

pub use disk::{HostResolver, Stamp, SystemResolver};
pub use userdir::user_dir;

use disk::{load, Loaded};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally_white::Built;
use tally_white::{FileKind, WhiteError, WhiteList};

/// How often files are looked at again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Least time between checks of the files' modification times.
    pub stat_delay: Duration,
    /// Parse files with host names again after this long.
    pub resolve_every: Duration,
    /// Parse files with problems again after this long.
    pub reparse_errors: Duration,
    /// Keep using a version whose main file disappeared for this long.
    pub missing_grace: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            stat_delay: Duration::from_secs(tally_white::WHITE_STAT_DELAY),
            resolve_every: Duration::from_secs(tally_white::WHITECLNT_RESOLVE),
            reparse_errors: Duration::from_secs(tally_white::WHITE_REPARSE_DELAY),
            missing_grace: Duration::from_secs(5 * 60),
        }
    }
}

/// What happened when a file was looked at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// Nothing to do (not time to look, or no change).
    Unchanged,
    /// A new version is in force, with the problems found in it (bad
    /// lines left out; log them).
    Reloaded(Vec<WhiteError>),
    /// The main file does not exist (any more); no list is in force.
    Missing,
    /// The main file exists but cannot be read; whatever was in force
    /// stays (the message names the file and the system error).
    Unreadable(String),
}

/// One whiteclnt file (with its included files), kept current.
#[derive(Debug)]
pub struct WhiteFile {
    home: PathBuf,
    name: String,
    path: PathBuf,
    kind: FileKind,
    current: Option<Arc<WhiteList>>,
    /// Stamps of the main file and included files of the last parse.
    stamps: Vec<(PathBuf, Option<Stamp>)>,
    errors: Vec<WhiteError>,
    last_check: Option<Instant>,
    parsed_at: Option<Instant>,
    missing_since: Option<Instant>,
    timing: Timing,
}

impl WhiteFile {
    /// A file named `name` (relative to `home` unless absolute). Nothing
    /// is read until [`WhiteFile::refresh`] or [`WhiteFile::get`].
    pub fn new(home: &Path, name: &str, kind: FileKind, timing: Timing) -> WhiteFile {
        WhiteFile {
            home: home.to_path_buf(),
            name: name.to_string(),
            path: home.join(name),
            kind,
            current: None,
            stamps: Vec::new(),
            errors: Vec::new(),
            last_check: None,
            parsed_at: None,
            missing_since: None,
            timing,
        }
    }

    /// The name used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The list in force, after looking for changes if it is time to.
    pub fn get(&mut self, resolver: &dyn HostResolver) -> (Option<Arc<WhiteList>>, Refresh) {
        let r = self.refresh(resolver, false);
        (self.current.clone(), r)
    }

    /// The list in force without looking at the disk.
    pub fn current(&self) -> Option<Arc<WhiteList>> {
        self.current.clone()
    }

    /// Problems of the version in force.
    pub fn errors(&self) -> &[WhiteError] {
        &self.errors
    }

    /// Look for changes if it is time to (or now with `force`) and load a
    /// new version when something changed.
    pub fn refresh(&mut self, resolver: &dyn HostResolver, force: bool) -> Refresh {
        let now = Instant::now();
        if !force {
            if let Some(t) = self.last_check {
                if now.duration_since(t) < self.timing.stat_delay {
                    return Refresh::Unchanged;
                }
            }
        }
        self.last_check = Some(now);
        if !force && self.parsed_at.is_some() && !self.due(now) {
            return Refresh::Unchanged;
        }
        let loaded = match load(&self.home, &self.name, &self.path, self.kind, resolver) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return self.missing(now),
            Err(e) => {
                // unreadable: keep what is in force and try again later
                self.stamps = vec![(self.path.clone(), Stamp::of(&self.path))];
                self.parsed_at = Some(now);
                let msg = format!("open({}): {}", self.path.display(), crate::errno_str(&e));
                return Refresh::Unreadable(msg);
            }
        };
        self.missing_since = None;
        self.parsed_at = Some(now);
        let Loaded { built, stamps } = loaded;
        self.stamps = stamps;
        self.errors = built.errors;
        self.current = Some(Arc::new(built.list));
        Refresh::Reloaded(self.errors.clone())
    }

    /// Whether the files changed or a periodic re-parse is due.
    fn due(&self, now: Instant) -> bool {
        if self.stamps.iter().any(|(p, old)| Stamp::of(p) != *old) {
            return true;
        }
        let Some(at) = self.parsed_at else {
            return true;
        };
        let age = now.duration_since(at);
        let hosts = self.current.as_ref().is_some_and(|l| l.has_host_names());
        (hosts && age >= self.timing.resolve_every)
            || (!self.errors.is_empty() && age >= self.timing.reparse_errors)
    }

    fn missing(&mut self, now: Instant) -> Refresh {
        if self.current.is_none() {
            self.stamps = vec![(self.path.clone(), None)];
            self.parsed_at = Some(now);
            return Refresh::Missing;
        }
        let since = *self.missing_since.get_or_insert(now);
        if now.duration_since(since) < self.timing.missing_grace {
            return Refresh::Unchanged;
        }
        self.current = None;
        self.errors.clear();
        self.stamps = vec![(self.path.clone(), None)];
        self.parsed_at = Some(now);
        Refresh::Missing
    }
}

/// Read, parse and build a whiteclnt file once (dccproc handles one
/// message per run): `name` relative to `home` unless absolute, included
/// files relative to `home`, host names resolved with `resolver`.
/// `None` when the main file cannot be read (dccproc then goes on without
/// a whitelist); otherwise the list and every problem found.
pub fn load_file(
    home: &Path,
    name: &str,
    kind: FileKind,
    resolver: &dyn HostResolver,
) -> Option<Built> {
    load(home, name, &home.join(name), kind, resolver)
        .ok()
        .map(|l| l.built)
}

/// The whiteclnt file of a command-line client (`-w name`, relative to
/// `home` unless absolute), read once with the system's resolver.
/// `Ok(None)` when there is no such file: the original then goes on
/// without it, silently; `Err` (the complaint) when it exists but cannot
/// be read; otherwise the list and the problems found in it.
pub fn load_named(home: &Path, name: &str) -> Result<Option<Built>, String> {
    let path = home.join(name);
    if let Err(e) = std::fs::File::open(&path) {
        if e.kind() == std::io::ErrorKind::NotFound {
            return Ok(None);
        }
        return Err(format!(
            "open({}): {}",
            path.display(),
            crate::errno_str(&e)
        ));
    }
    Ok(load_file(home, name, FileKind::Global, &SystemResolver))
}

/// Most per-user files kept in memory.
pub const MAX_USER_FILES: usize = 64;

/// The global whiteclnt file and the per-user files of `-U userdirs`.
pub struct WhiteFiles {
    home: PathBuf,
    timing: Timing,
    resolver: Arc<dyn HostResolver>,
    global: Option<WhiteFile>,
    userdirs: Option<String>,
    /// Per-user files, most recently used last.
    users: Vec<WhiteFile>,
}

impl WhiteFiles {
    /// `home`: the DCC home directory; `global`: the `-w` file name, if
    /// any; `userdirs`: the `-U` directory, if any (both relative to home
    /// unless absolute).
    pub fn new(
        home: &Path,
        global: Option<&str>,
        userdirs: Option<&str>,
        resolver: Arc<dyn HostResolver>,
        timing: Timing,
    ) -> WhiteFiles {
        WhiteFiles {
            home: home.to_path_buf(),
            timing,
            resolver,
            global: global.map(|g| WhiteFile::new(home, g, FileKind::Global, timing)),
            userdirs: userdirs.map(|u| u.trim_end_matches('/').to_string()),
            users: Vec::new(),
        }
    }

    /// The global list in force (`None` without `-w` or when the file is
    /// missing), and what looking at it found.
    pub fn global(&mut self) -> (Option<Arc<WhiteList>>, Refresh) {
        match &mut self.global {
            None => (None, Refresh::Unchanged),
            Some(f) => f.get(self.resolver.as_ref()),
        }
    }

    /// The global file, for its errors and name.
    pub fn global_file(&self) -> Option<&WhiteFile> {
        self.global.as_ref()
    }

    /// The per-user list of directory `dir` under userdirs (as made by
    /// [`user_dir`], e.g. `local/bob`): `userdirs/local/bob/whiteclnt`.
    /// `None` without `-U` or when the user has no file.
    pub fn user(&mut self, dir: &str) -> (Option<Arc<WhiteList>>, Refresh) {
        let Some(base) = &self.userdirs else {
            return (None, Refresh::Unchanged);
        };
        let name = format!("{base}/{dir}/whiteclnt");
        let pos = match self.users.iter().position(|f| f.name == name) {
            Some(p) => p,
            None => {
                if self.users.len() >= MAX_USER_FILES {
                    self.users.remove(0);
                }
                let f = WhiteFile::new(&self.home, &name, FileKind::PerUser, self.timing);
                self.users.push(f);
                self.users.len() - 1
            }
        };
        let mut f = self.users.remove(pos);
        let (list, r) = f.get(self.resolver.as_ref());
        self.users.push(f);
        (list, r)
    }

    /// The per-user file of `dir` if it has been loaded, for its errors.
    pub fn user_file(&self, dir: &str) -> Option<&WhiteFile> {
        let base = self.userdirs.as_ref()?;
        let name = format!("{base}/{dir}/whiteclnt");
        self.users.iter().find(|f| f.name == name)
    }
}
