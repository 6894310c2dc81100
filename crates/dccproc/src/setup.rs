//! The places dccproc works in: the DCC home directory, the log and
//! temporary directories, the spool file.

use crate::delivery::Run;
use crate::opts::Opts;
use std::path::{Path, PathBuf};
use tally_engine::errno_str;
use tally_engine::logfile::{self, LogFile, NameGen};
use tally_engine::spool::Spool;

pub use tally_engine::home::{absolute, hostname};

/// The DCC home directory, complaining as the original does when it
/// cannot be used.
pub fn home_dir(r: &mut Run, o: &Opts, cwd: &Path) -> PathBuf {
    tally_engine::home::home_dir(o.homedir.as_deref(), cwd, &mut |m| r.error_msg(m))
}

/// The directories for the spool file: -T, the log directory, /tmp.
/// A relative `-T` is taken in the DCC home directory, as the original
/// does (it works there after changing to it).
pub fn tmp_dirs(r: &mut Run, o: &Opts, home: &Path, logdir: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(t) = o.tmpdir.as_deref() {
        if t.is_empty() {
            r.error_msg("null -T temporary directory");
        } else {
            let d = absolute(home, t);
            match std::fs::metadata(&d) {
                Err(e) => r.error_msg(&format!(
                    "stat(temporary directory \"{}\"): {}",
                    d.display(),
                    errno_str(&e)
                )),
                Ok(m) if !m.is_dir() => {
                    r.error_msg(&format!("\"{}\" is not a temporary directory", d.display()))
                }
                Ok(_) => {}
            }
            dirs.push(d);
        }
    }
    if let Some(l) = logdir {
        dirs.push(l.to_path_buf());
    }
    dirs.push(std::env::temp_dir());
    dirs
}

/// Create the spool file (removed at once, so nothing is left behind;
/// it moves to the next directory when one is full).
pub fn make_spool(dirs: &[PathBuf]) -> Result<Spool, String> {
    Spool::create(dirs, "tmp.", &mut NameGen::new())
        .map(|(s, _)| s)
        .map_err(|e| e.to_string())
}

/// Check the `-l` directory, open the log file (with `-E`, starting it
/// with the `VERSION` and `DATE` lines), and return the directories for
/// the spool file.
pub fn open_log(r: &mut Run, o: &Opts, home: &Path) -> Vec<PathBuf> {
    // log directory
    let mut logdir: Option<(PathBuf, logfile::LogMode)> = None;
    if let Some(l) = o.logdir.as_deref() {
        let (mode, d) = logfile::parse_logdir(l);
        let p = absolute(home, d);
        match std::fs::metadata(&p) {
            Err(e) => r.error_msg(&format!("stat(log directory \"{d}\"): {}", errno_str(&e))),
            Ok(m) if !m.is_dir() => r.error_msg(&format!("\"{d}\" is not a log directory")),
            Ok(_) => logdir = Some((p, mode)),
        }
    }
    let tmp = tmp_dirs(r, o, home, logdir.as_ref().map(|(p, _)| p.as_path()));
    match &logdir {
        None => {
            if o.log_tgts_set {
                r.dccproc_error("log thresholds set with -c but no -l directory");
            }
        }
        Some((p, mode)) => match LogFile::create(p, *mode) {
            Ok(l) => r.log = Some(l),
            Err(e) => {
                if let Some(m) = e.report {
                    r.dccproc_error(&m);
                }
            }
        },
    }
    if o.fake_envelope && r.log.is_some() {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let v = format!("VERSION: 3\nDATE: {}\n", logfile::log_date(secs));
        r.log_write(v.as_bytes());
    }
    tmp
}
