//! Per-message log files of the DCC clients (`-l logdir`, dcc(8) "log files").
//!
//! A file is created as `tmp.XXXXXX` (six characters from `0-9a-zA-Z`) in
//! the log directory, or in day/hour/minute subdirectories for the
//! `D?`/`H?`/`M?` forms, and renamed to `msg.XXXXXX` when the message is to
//! be kept, or removed. Only the first 32 KBytes of the message are copied.
//!
//! When a log file cannot be created, written or closed (a full file
//! system), it is abandoned and removed, and the message goes on as if
//! logging were off. The system log gets one line when a directory starts
//! failing and one when it works again ([`failing`]): the `Err` texts of
//! [`LogFile`] and [`Closed::report`] are those lines, nothing per message.

pub mod failing;
mod localtime;

pub use localtime::localtime;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
pub use tally_syslog::civil::{gmtime, Tm};

/// Most bytes of the message copied into a log file.
pub const MAX_LOG_BYTES: usize = 32 * 1024;
/// Marks the end of the copied message.
pub const MSG_SEP: &str = "\n### end of message body ########################\n";
/// Marks a message cut short.
pub const TRUNC_MSG_CR: &str = "\r\n### log truncated ######################\r\n";
/// Size of the buffer for complaints written at the end of the file.
pub const EARLY_LOG_MAX: usize = 500;

/// How log files are spread over subdirectories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogMode {
    /// All in the directory.
    #[default]
    Flat,
    /// `ddd/` day of the year.
    Day,
    /// `ddd/hh/`.
    Hour,
    /// `ddd/hh/mm/`.
    Minute,
}

/// Split a `-l` argument into its subdirectory mode and directory.
pub fn parse_logdir(arg: &str) -> (LogMode, &str) {
    let b = arg.as_bytes();
    if b.len() >= 2 && b[1] == b'?' {
        let mode = match b[0].to_ascii_uppercase() {
            b'D' => Some(LogMode::Day),
            b'H' => Some(LogMode::Hour),
            b'M' => Some(LogMode::Minute),
            _ => None,
        };
        if let Some(m) = mode {
            return (m, &arg[2..]);
        }
    }
    (LogMode::Flat, arg)
}

/// The `DATE:` value of log files in local time, as the original writes
/// it (`%x %X %Z` in the C locale): `mm/dd/yy HH:MM:SS ZONE`, for example
/// `12/07/26 11:15:22 UTC`.
pub fn log_date(secs: i64) -> String {
    let (t, zone) = localtime(secs);
    date_text(&t, &zone)
}

fn date_text(t: &Tm, zone: &str) -> String {
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02} {zone}",
        t.mon,
        t.mday,
        t.year.rem_euclid(100),
        t.hour,
        t.min,
        t.sec
    )
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Generator of the six-character unique parts of file names.
#[derive(Debug, Clone)]
pub struct NameGen {
    n: u32,
}

const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

impl NameGen {
    /// Seed from the clock and the process ID, as the original does, and
    /// from a count of the seeds made in this process, so that threads
    /// seeding at the same moment start far apart instead of trying the
    /// same names.
    pub fn new() -> NameGen {
        static SEEDS: AtomicU32 = AtomicU32::new(0);
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let r = (d.as_secs() % (14 * 24 * 60 * 60))
            .wrapping_mul(u64::from(d.subsec_micros() / 100).max(1))
            .wrapping_mul(u64::from(std::process::id()));
        let apart = SEEDS
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b1);
        NameGen {
            n: (r as u32).wrapping_add(apart),
        }
    }

    /// The next name.
    pub fn next_name(&mut self) -> String {
        let mut n = self.n;
        self.n = self.n.wrapping_add(1);
        let mut s = [b'0'; 6];
        for c in s.iter_mut().rev() {
            *c = DIGITS[(n % 62) as usize];
            n /= 62;
        }
        String::from_utf8_lossy(&s).into_owned()
    }
}

impl Default for NameGen {
    fn default() -> Self {
        Self::new()
    }
}

fn subdir(parent: &Path, name: String) -> io::Result<PathBuf> {
    let p = parent.join(name);
    let mode = fs::metadata(parent).map_or(0o755, |m| m.permissions().mode());
    let made = fs::DirBuilder::new()
        .mode((mode & 0o775) | 0o700)
        .create(&p);
    match made {
        Ok(()) => Ok(p),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && p.is_dir() => Ok(p),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("mkdir({}): {}", p.display(), crate::errno_str(&e)),
        )),
    }
}

/// Create a uniquely named file `<dir>/<prefix>XXXXXX`.
pub fn create_unique(
    dir: &Path,
    prefix: &str,
    gen: &mut NameGen,
    mode: u32,
) -> io::Result<(File, PathBuf, String)> {
    let mut last = None;
    for _ in 0..=10 {
        let id = gen.next_name();
        let path = dir.join(format!("{prefix}{id}"));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600 | (mode & 0o777))
            .open(&path)
        {
            Ok(f) => return Ok((f, path, id)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                *gen = NameGen::new();
                last = Some(e);
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("open({}): {}", path.display(), crate::errno_str(&e)),
                ))
            }
        }
    }
    let why = last.map_or_else(
        || "cannot create file".to_string(),
        |e| crate::errno_str(&e),
    );
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("open({}/{prefix}XXXXXX): {why}", dir.display()),
    ))
}

/// Why no log file was created.
#[derive(Debug)]
pub struct LogError {
    /// What failed, with the OS error.
    pub why: String,
    /// The line for the system log when this starts the directory's
    /// trouble; `None` when it was already reported.
    pub report: Option<String>,
}

impl std::fmt::Display for LogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
    }
}

impl std::error::Error for LogError {}

/// A closed log file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Closed {
    /// The kept `msg.XXXXXX` file.
    pub kept: Option<PathBuf>,
    /// A line for the system log: the directory's trouble starting (this
    /// file could not be closed) or ending (this file was written).
    pub report: Option<String>,
}

/// An open per-message log file.
#[derive(Debug)]
pub struct LogFile {
    /// The `-l` directory (above the time subdirectories).
    root: PathBuf,
    /// A write failed: the file is abandoned.
    broken: bool,
    file: Option<File>,
    path: PathBuf,
    id: String,
    size: usize,
    used: bool,
    last: u8,
    early: Vec<u8>,
    gen: NameGen,
}

impl LogFile {
    /// Create `tmp.XXXXXX` in `dir` (and its time subdirectories).
    pub fn create(dir: &Path, mode: LogMode) -> Result<LogFile, LogError> {
        Self::open(dir, mode).map_err(|e| {
            let why = e.to_string();
            LogError {
                report: failing::failed(dir, &why),
                why,
            }
        })
    }

    fn open(dir: &Path, mode: LogMode) -> io::Result<LogFile> {
        let md = fs::metadata(dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "stat(log directory \"{}\"): {}",
                    dir.display(),
                    crate::errno_str(&e)
                ),
            )
        })?;
        if !md.is_dir() {
            return Err(io::Error::other(format!(
                "\"{}\" is not a log directory",
                dir.display()
            )));
        }
        let mut d = dir.to_path_buf();
        if mode != LogMode::Flat {
            // named in local time, as the original does
            let (t, _) = localtime(now_secs());
            d = subdir(&d, format!("{:03}", t.yday + 1))?;
            if mode != LogMode::Day {
                d = subdir(&d, format!("{:02}", t.hour))?;
                if mode == LogMode::Minute {
                    d = subdir(&d, format!("{:02}", t.min))?;
                }
            }
        }
        let mut gen = NameGen::new();
        let dir_mode = fs::metadata(&d).map_or(0, |m| m.permissions().mode());
        let (file, path, id) = create_unique(&d, "tmp.", &mut gen, dir_mode & 0o640)?;
        Ok(LogFile {
            root: dir.to_path_buf(),
            broken: false,
            file: Some(file),
            path,
            id,
            size: 0,
            used: false,
            last: b'\n',
            early: Vec::new(),
            gen,
        })
    }

    /// The unique part of the name.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Current path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether anything was written.
    pub fn used(&self) -> bool {
        self.used
    }

    /// Write bytes. After a failure the file is abandoned (and removed
    /// at [`LogFile::finish`]); `Err` only when the failure starts the
    /// directory's trouble, with the line for the system log.
    pub fn write(&mut self, b: &[u8]) -> Result<(), String> {
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        match f.write_all(b) {
            Ok(()) => {
                self.used = true;
                self.size += b.len();
                if let Some(&c) = b.last() {
                    self.last = c;
                }
                Ok(())
            }
            Err(e) => {
                self.file = None;
                self.broken = true;
                let why = format!("write({}): {}", self.path.display(), crate::errno_str(&e));
                failing::failed(&self.root, &why).map_or(Ok(()), Err)
            }
        }
    }

    /// The directory's trouble noted, the file removed.
    fn lost(&self, why: String) -> Closed {
        let _ = fs::remove_file(&self.path);
        Closed {
            kept: None,
            report: failing::failed(&self.root, &why),
        }
    }

    /// The file closed as it should.
    fn done(&self, kept: Option<PathBuf>) -> Closed {
        Closed {
            kept,
            report: failing::worked(&self.root),
        }
    }

    /// Write part of the message, stopping near [`MAX_LOG_BYTES`] at a line end.
    pub fn body_write(&mut self, b: &[u8]) -> Result<(), String> {
        if self.file.is_none() || self.size > MAX_LOG_BYTES {
            return Ok(());
        }
        let room = MAX_LOG_BYTES - self.size;
        if room >= b.len() {
            return self.write(b);
        }
        let mut cut = room;
        let lim = room.saturating_sub(90);
        let mut p = room;
        while p > 0 {
            p -= 1;
            if p <= lim {
                break;
            }
            if b.get(p) == Some(&b'\n') {
                cut = p + 1;
                break;
            }
        }
        let part = b.get(..cut).unwrap_or(b);
        self.write(part)?;
        if self.last != b'\n' {
            self.write(b"\n")?;
        }
        self.write(TRUNC_MSG_CR.as_bytes())?;
        self.size = MAX_LOG_BYTES + 1;
        Ok(())
    }

    /// Keep a complaint to write after the message.
    pub fn early(&mut self, msg: &str) {
        let room = EARLY_LOG_MAX.saturating_sub(self.early.len());
        if msg.len() < room {
            self.early.extend_from_slice(msg.as_bytes());
        } else if room > 0 {
            self.early.extend_from_slice(&msg.as_bytes()[..room]);
            let n = self.early.len();
            self.early[n.saturating_sub(3)..].copy_from_slice(b"...");
        }
    }

    /// Write the kept complaints.
    pub fn write_early(&mut self) -> Result<(), String> {
        let e = std::mem::take(&mut self.early);
        if e.is_empty() {
            Ok(())
        } else {
            self.write(&e)
        }
    }

    /// Close; keep the file as `msg.XXXXXX` or remove it. A file whose
    /// writing failed is removed.
    pub fn finish(mut self, keep: bool) -> Closed {
        let synced = self.file.take().map(|f| f.sync_all());
        if self.broken {
            // reported (or counted) when the write failed
            let _ = fs::remove_file(&self.path);
            return Closed::default();
        }
        if let Some(Err(e)) = synced {
            let why = format!("fsync({}): {}", self.path.display(), crate::errno_str(&e));
            return self.lost(why);
        }
        if !keep {
            return match fs::remove_file(&self.path) {
                Ok(()) => self.done(None),
                Err(e) => {
                    let why = format!("unlink({}): {}", self.path.display(), crate::errno_str(&e));
                    self.lost(why)
                }
            };
        }
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut id = self.id.clone();
        for n in 0..=11 {
            let new = dir.join(format!("msg.{id}"));
            match fs::hard_link(&self.path, &new) {
                Ok(()) => {
                    let _ = fs::remove_file(&self.path);
                    return self.done(Some(new));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 11 => {
                    if n >= 1 {
                        self.gen = NameGen::new();
                    }
                    id = self.gen.next_name();
                }
                Err(e) => {
                    let why = format!(
                        "link({},{}) {} times: {}",
                        self.path.display(),
                        new.display(),
                        n,
                        crate::errno_str(&e)
                    );
                    return self.lost(why);
                }
            }
        }
        self.lost(format!("cannot rename {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        // the text of a time; log_date gives the local one (TZ=... in
        // crates/dccproc/tests/cli.rs)
        assert_eq!(date_text(&gmtime(0), "UTC"), "01/01/70 00:00:00 UTC");
        // 2026-11-22 12:08:03 UTC
        assert_eq!(
            date_text(&gmtime(1_795_349_283), "UTC"),
            "11/22/26 12:08:03 UTC"
        );
        assert_eq!(gmtime(1_795_349_283).yday + 1, 326);
        assert_eq!(gmtime(951_782_400).mday, 29); // 2000-02-29
    }

    #[test]
    fn logdir_forms() {
        assert_eq!(parse_logdir("D?log"), (LogMode::Day, "log"));
        assert_eq!(parse_logdir("h?/var/log"), (LogMode::Hour, "/var/log"));
        assert_eq!(parse_logdir("M?x"), (LogMode::Minute, "x"));
        assert_eq!(parse_logdir("log"), (LogMode::Flat, "log"));
        assert_eq!(parse_logdir("X?log"), (LogMode::Flat, "X?log"));
    }

    #[test]
    fn names() {
        let mut g = NameGen { n: 0 };
        assert_eq!(g.next_name(), "000000");
        assert_eq!(g.next_name(), "000001");
        let mut g = NameGen { n: 61 };
        assert_eq!(g.next_name(), "00000Z");
        assert_eq!(g.next_name(), "000010");
    }
}
