//! Reading the `blacklist` file at start and again when it changes, as
//! the original's `check_blacklist_file` does: the server looks at the
//! file every [`CHECK`] (its 30-second timer for the `ids` and `blacklist`
//! files) and on SIGHUP, and reads it again when its modification time
//! (or size) changed.
//!
//! Messages, in the original's words: each bad line (`... in line N of
//! FILE`), `read N entries from FILE` when any line took, `FILE
//! disappeared` when a file that was there is gone (its table is then
//! empty), `stat(FILE): ...`, `fopen(FILE): ...` or `fgets(FILE): ...`
//! when it cannot be read (the table is emptied too; the same error is
//! repeated at most every two hours).
//!
//! [`ENV`] (`DCCD_BLACKLIST_CHECK_MS`), meant for tests, sets another
//! interval in milliseconds.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use tally_syslog::os_text;

use super::Blacklist;

/// How often the file is looked at (the original's timer for its files).
pub const CHECK: Duration = Duration::from_secs(30);

/// The environment variable that sets another interval, in milliseconds
/// (for tests).
pub const ENV: &str = "DCCD_BLACKLIST_CHECK_MS";

/// The same error is not repeated sooner than this.
const REPEAT: Duration = Duration::from_secs(2 * 60 * 60);

/// The interval: [`CHECK`], or what [`ENV`] says (1 ms to an hour).
pub fn interval() -> Duration {
    std::env::var(ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| (1..=3_600_000).contains(ms))
        .map_or(CHECK, Duration::from_millis)
}

/// What the file was when last looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// Not there (or never looked at).
    Absent,
    /// There but not readable.
    Failed,
    /// Read, with this modification time and size.
    Read(SystemTime, u64),
}

/// The file of a home directory and what is known of it.
#[derive(Debug)]
pub struct Watch {
    path: PathBuf,
    seen: Seen,
    /// The last error said: (call, error, when).
    said: Option<(&'static str, Option<i32>, ErrorKind, Instant)>,
    /// The table in use has lines.
    loaded: bool,
}

/// The outcome of a look at the file.
#[derive(Debug, Default)]
pub struct Checked {
    /// The table to use from now on (`None`: keep the current one).
    pub table: Option<Blacklist>,
    /// What to log.
    pub messages: Vec<String>,
}

impl Watch {
    /// The `blacklist` file of `home`, not yet looked at.
    pub fn new(home: &Path) -> Watch {
        Watch {
            path: home.join("blacklist"),
            seen: Seen::Absent,
            said: None,
            loaded: false,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Look at the file at `now`: a new table when it changed, appeared,
    /// disappeared or became unreadable.
    pub fn check(&mut self, now: Instant) -> Checked {
        let mut out = Checked::default();
        let name = self.path.display().to_string();
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if self.seen != Seen::Absent {
                    out.messages.push(format!("{name} disappeared"));
                }
                self.seen = Seen::Absent;
                self.said = None;
                self.clear(&mut out);
                return out;
            }
            Err(e) => {
                self.failed("stat", &e, now, &mut out);
                return out;
            }
        };
        let stamp = Seen::Read(
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            meta.len(),
        );
        if stamp == self.seen {
            return out;
        }
        let mut f = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) => {
                self.failed("fopen", &e, now, &mut out);
                return out;
            }
        };
        let mut data = Vec::new();
        if let Err(e) = f.read_to_end(&mut data) {
            // what was read before the error still counts, as the
            // original's lines before a failed fgets do
            out.messages.push(format!("fgets({name}): {}", os_text(&e)));
        }
        self.seen = stamp;
        self.said = None;
        let (table, problems) = Blacklist::from_text(&data, &name);
        out.messages.extend(problems.iter().map(|p| p.to_string()));
        if !table.is_empty() {
            out.messages
                .push(format!("read {} entries from {name}", table.len()));
        }
        self.loaded = !table.is_empty();
        out.table = Some(table);
        out
    }

    /// The file cannot be read: empty the table, and say so unless the
    /// same was said less than two hours ago.
    fn failed(&mut self, call: &'static str, e: &std::io::Error, now: Instant, out: &mut Checked) {
        let repeat = self.said.is_some_and(|(c, os, kind, at)| {
            c == call
                && os == e.raw_os_error()
                && kind == e.kind()
                && now.saturating_duration_since(at) < REPEAT
        });
        if !repeat {
            out.messages
                .push(format!("{call}({}): {}", self.path.display(), os_text(e)));
            self.said = Some((call, e.raw_os_error(), e.kind(), now));
        }
        self.seen = Seen::Failed;
        self.clear(out);
    }

    /// An empty table, unless the one in use is already empty.
    fn clear(&mut self, out: &mut Checked) {
        if self.loaded {
            out.table = Some(Blacklist::default());
            self.loaded = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn home(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "dccd-blwatch-{tag}-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn read_changed_disappeared() {
        let h = home("cycle");
        let mut w = Watch::new(&h);
        let now = Instant::now();
        let c = w.check(now);
        assert!(c.table.is_none() && c.messages.is_empty(), "{c:?}");
        std::fs::write(w.path(), "bogus\n10.0.0.1\n").unwrap();
        let c = w.check(now);
        let name = w.path().display().to_string();
        assert_eq!(
            c.messages,
            [
                format!("syntax error in line 1 of {name}"),
                format!("read 1 entries from {name}")
            ]
        );
        assert_eq!(c.table.unwrap().len(), 1);
        // unchanged: nothing
        let c = w.check(now);
        assert!(c.table.is_none() && c.messages.is_empty(), "{c:?}");
        std::fs::write(w.path(), "10.0.0.1\n10.0.0.2\n").unwrap();
        assert_eq!(w.check(now).table.unwrap().len(), 2);
        std::fs::remove_file(w.path()).unwrap();
        let c = w.check(now);
        assert_eq!(c.messages, [format!("{name} disappeared")]);
        assert!(c.table.unwrap().is_empty());
        let c = w.check(now);
        assert!(c.table.is_none() && c.messages.is_empty(), "{c:?}");
        let _ = std::fs::remove_dir_all(h);
    }

    #[test]
    fn unreadable_file_said_once() {
        let h = home("unreadable");
        let mut w = Watch::new(&h);
        std::fs::write(w.path(), "10.0.0.1\n").unwrap();
        let now = Instant::now();
        assert_eq!(w.check(now).table.unwrap().len(), 1);
        std::fs::write(w.path(), "10.0.0.1\n10.0.0.3\n").unwrap();
        std::fs::set_permissions(w.path(), std::fs::Permissions::from_mode(0o000)).unwrap();
        // root reads anything: nothing to see then
        if std::fs::File::open(w.path()).is_ok() {
            let _ = std::fs::remove_dir_all(h);
            return;
        }
        let c = w.check(now);
        assert_eq!(
            c.messages,
            [format!("fopen({}): Permission denied", w.path().display())]
        );
        assert!(c.table.unwrap().is_empty());
        let c = w.check(now + Duration::from_secs(60));
        assert!(c.table.is_none() && c.messages.is_empty(), "{c:?}");
        let c = w.check(now + REPEAT);
        assert_eq!(c.messages.len(), 1);
        std::fs::set_permissions(w.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(w.check(now).table.unwrap().len(), 2);
        let _ = std::fs::remove_dir_all(h);
    }

    #[test]
    fn interval_default_and_override() {
        // (the variable is not set by the test harness)
        if std::env::var_os(ENV).is_none() {
            assert_eq!(interval(), CHECK);
        }
    }
}
