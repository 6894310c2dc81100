//! `dbclean`: create, repair, verify and expire the database, and build the
//! server whitelist into it.
//!
//! Differences from the original, by necessity of our store:
//! - There is no hash table (`dcc_db.hash`): `-s`, `-H`, `-D`, `-F`, `-f`
//!   and `-u` are accepted and change nothing; `-R hash` is a normal
//!   cleaning.
//! - The original cleans while dccd runs, telling it over its
//!   administrative channel (`ADMN DB_CLEAN`, `DB_NEW`) to let go of the
//!   database and to switch to the new file. Our store keeps its tables in
//!   the server's memory, so it cannot change under a running dccd: dbclean
//!   takes the database lock ([`crate::lock`]) and refuses to run while
//!   another process holds it. Without `-S` (the way cron runs it, when
//!   the original would talk to dccd) it also refuses while something
//!   listens on the server's UDP port (6277, 6276 for a greylist server,
//!   or the port of `-a`): a running dccd cleans its database itself when
//!   asked with `cdcc "DB clean"`. `-i` is still required without `-S`, as
//!   in the original, but not used.
//! - A record damaged in the middle of the log is not repaired silently:
//!   dbclean stops naming the file unless `-R bad` is given, which keeps
//!   every readable record and saves the damaged file as `reports.log-old`.
//! - `-L` is checked but messages only go to standard error.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tally_store::{Expiry, LogStore, Store};

use crate::exit;
use crate::lock::{DbLock, LockError};
use crate::logfile::{self, Problem};
use crate::opts_clean::{self, CleanOpts, Mode, USAGE};
use crate::paths;
use crate::snapshot::{check_log_with, check_side_files, DbError};
use crate::text::secs2str;
use crate::white::{self, Source};

const DAY: u64 = 86_400;

/// Messages to standard error, quieted by `-q` except errors.
struct Out {
    quiet: bool,
    debug: u32,
}

impl Out {
    fn trace(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }
    fn debug(&self, msg: impl AsRef<str>) {
        if self.debug > 0 && !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }
    fn error(&self, msg: impl AsRef<str>) {
        eprintln!("{}", msg.as_ref());
    }
}

/// A fatal error: message and exit code.
type Fail = (String, i32);

fn db_fail(e: DbError) -> Fail {
    let code = e.code;
    (e.to_string(), code)
}

fn store_fail(dir: &Path, e: tally_store::Error) -> Fail {
    let code = match e {
        tally_store::Error::Io(_) => exit::IOERR,
        tally_store::Error::Corrupt(_) => exit::DATAERR,
        _ => exit::SOFTWARE,
    };
    (format!("{}: {e}", dir.display()), code)
}

/// Run `dbclean` with `args` (without the program name); the exit code.
pub fn main(args: &[String]) -> i32 {
    let o = match opts_clean::parse(args) {
        Ok(o) => o,
        Err((msg, code)) => {
            eprintln!("{msg}");
            return code;
        }
    };
    let out = Out {
        quiet: o.quiet,
        debug: o.debug,
    };
    for w in &o.warnings {
        out.error(w);
    }
    if o.complained {
        out.error(format!("{USAGE}\ncontinuing"));
    }
    if !o.standalone && o.server_id.is_none() {
        if o.version > 0 {
            return exit::OK;
        }
        out.error(if o.complained {
            "giving up".to_string()
        } else {
            USAGE.to_string()
        });
        return exit::USAGE;
    }
    if !o.ignored.is_empty() {
        out.debug(format!(
            "ignored for this database: {}",
            o.ignored.join(" ")
        ));
    }
    match run(&o, &out) {
        Ok(()) => exit::OK,
        Err((msg, code)) => {
            out.error(msg);
            code
        }
    }
}

fn run(o: &CleanOpts, out: &Out) -> Result<(), Fail> {
    let home = PathBuf::from(o.home.as_deref().unwrap_or(paths::DEFAULT_HOME));
    if !home.is_dir() {
        return Err((
            format!("{}: not a usable home directory", home.display()),
            exit::NOINPUT,
        ));
    }
    // checked before the database is touched, used when expiring
    let ages = if o.new_db { None } else { explicit_ages(o)? };
    let db = paths::db_dir(&home, o.grey);
    let what = match o.mode {
        Mode::Normal => "cleaning",
        Mode::Repair => "repairing",
        Mode::Quick => "quick cleaning",
        Mode::Hash => "expanding hash table in",
        Mode::Failsafe => "work around missing cron job for",
        Mode::Del => "clean up deletion in",
    };
    out.trace(format!("{what} {}", db.display()));

    let log = paths::log_file(&db);
    let exists = log.exists();
    if o.new_db && exists && fs::metadata(&log).map(|m| m.len()).unwrap_or(0) > logfile::HEADER_LEN
    {
        return Err((format!("{} already exists", db.display()), exit::USAGE));
    }
    fs::create_dir_all(&db).map_err(|e| (format!("{}: {e}", db.display()), exit::IOERR))?;
    let _lock = match DbLock::try_exclusive(&db) {
        Ok(l) => l,
        Err(LockError::Busy(pid)) => {
            let by = pid.map_or(String::new(), |p| format!(" by process {p}"));
            return Err(if o.standalone {
                (
                    format!(
                        "database {} in use{by}: dbclean already running?",
                        db.display()
                    ),
                    exit::USAGE,
                )
            } else {
                (
                    format!(
                        "database {} in use{by}; dccd must be stopped before cleaning \
                         (this database cannot be cleaned under a running server)",
                        db.display()
                    ),
                    exit::UNAVAILABLE,
                )
            });
        }
        Err(LockError::Io(e)) => {
            return Err((
                format!("{}: {e}", paths::lock_file(&db).display()),
                exit::IOERR,
            ))
        }
    };

    if !o.standalone {
        let port = o.port.unwrap_or(if o.grey { 6276 } else { 6277 });
        if port_in_use(port) {
            return Err((
                format!(
                    "UDP port {port} is in use: dccd seems to be running; \
                     stop it and use dbclean -S, or ask it to clean with cdcc \"DB clean\""
                ),
                exit::UNAVAILABLE,
            ));
        }
    }

    // Read the whitelist before touching the database, as the original
    // resolves its host names before locking.
    let white_path = paths::whitelist_file(&home, o.grey);
    let white = white::build(&white_path, &home, o.grey);

    if !o.new_db {
        verify(&db, exists, o, out)?;
    }
    let started = Instant::now();
    let mut store = LogStore::open(&db).map_err(|e| store_fail(&db, e))?;
    let before = store.stats().map_err(|e| store_fail(&db, e))?;
    out.debug(format!(
        "{} records, {} checksums, {} whitelisted before",
        before.records, before.checksums, before.whitelisted
    ));

    if o.new_db {
        let _ = fs::remove_file(paths::flood_map_file(&db));
        out.trace(format!("creating database {}", db.display()));
    } else {
        let policy = expiry(o, ages, &db, out)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        out.trace(format!(
            "expiring reports older than {} with totals below {} and all older than {} \
             ({} and {} for Fuz1, Fuz2 and reputations) in {} records",
            secs2str(policy.small).trim_end(),
            tally_store::tgts::BULK_THRESHOLD,
            secs2str(policy.bulk).trim_end(),
            secs2str(policy.long_term_small).trim_end(),
            secs2str(policy.long_term_bulk).trim_end(),
            before.records
        ));
        let rep = store.clean(now, &policy).map_err(|e| store_fail(&db, e))?;
        out.trace(format!(
            "expired {} records, trimmed {}, kept {} in {}",
            rep.removed,
            rep.trimmed,
            rep.kept,
            db.display()
        ));
    }

    match white {
        Source::Missing => {
            store.set_whitelist(&[]).map_err(|e| store_fail(&db, e))?;
        }
        Source::Unreadable(msg) => {
            out.error(format!("{msg}; keeping the current whitelist"));
        }
        Source::Built { entries, problems } => {
            for p in &problems {
                out.error(p);
            }
            if problems.len() >= white::MAX_PROBLEMS {
                out.error("stop complaining about the whitelist");
            }
            store
                .set_whitelist(&entries)
                .map_err(|e| store_fail(&db, e))?;
            out.debug(format!(
                "{} whitelist entries from {}",
                entries.len(),
                white_path.display()
            ));
        }
    }
    store.sync().map_err(|e| store_fail(&db, e))?;
    let after = store.stats().map_err(|e| store_fail(&db, e))?;
    out.trace(format!(
        "{} records containing {} checksums, {} whitelisted, {} bytes",
        after.records, after.checksums, after.whitelisted, after.disk_bytes
    ));
    out.debug(format!("{:.1} seconds", started.elapsed().as_secs_f64()));
    Ok(())
}

/// Whether a server (dccd) has the UDP port bound.
fn port_in_use(port: u16) -> bool {
    use std::net::{Ipv4Addr, Ipv6Addr, UdpSocket};
    let busy = |r: std::io::Result<UdpSocket>| matches!(r, Err(e) if e.kind() == std::io::ErrorKind::AddrInUse);
    busy(UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)))
        || busy(UdpSocket::bind((Ipv6Addr::UNSPECIFIED, port)))
}

/// Check the files before the store opens them; repair with `-R bad`.
fn verify(db: &Path, log_exists: bool, o: &CleanOpts, out: &Out) -> Result<(), Fail> {
    if log_exists {
        verify_log(db, o, out)?;
    }
    verify_side_files(db, o, out)
}

/// Check the report log, repairing it with `-R bad`; report progress on
/// long runs.
fn verify_log(db: &Path, o: &CleanOpts, out: &Out) -> Result<(), Fail> {
    let started = Instant::now();
    let mut last_report = started;
    let mut n = 0u64;
    let checked = check_log_with(db, |_, off| {
        n += 1;
        if n.is_multiple_of(65_536) && last_report.elapsed().as_secs() >= 10 {
            last_report = Instant::now();
            out.trace(format!("  checked {n} records, {} MBytes", off >> 20));
        }
    });
    let log = paths::log_file(db);
    match checked {
        Ok(c) => {
            if let Some(Problem::TornTail { offset }) = c.problem {
                out.error(format!(
                    "{}: incomplete last record at offset {offset} cut off",
                    log.display()
                ));
            }
            out.debug(format!(
                "{}: {} records verified in {:.1} seconds",
                log.display(),
                c.records,
                started.elapsed().as_secs_f64()
            ));
        }
        Err(e) if e.code == exit::DATAERR && o.mode == Mode::Repair => {
            out.error(format!("{e}; repairing"));
            salvage(db, out)?;
        }
        Err(e) => return Err(db_fail(e)),
    }
    Ok(())
}

/// Check the compiled whitelist and the flooding positions; `-R bad`
/// removes a damaged one.
fn verify_side_files(db: &Path, o: &CleanOpts, out: &Out) -> Result<(), Fail> {
    if let Err(e) = check_side_files(db) {
        if o.mode != Mode::Repair || e.code != exit::DATAERR {
            let mut e = db_fail(e);
            e.0.push_str("; repair with dbclean -R bad");
            return Err(e);
        }
        out.error(format!("{}: {}; removed", e.file.display(), e.what));
        fs::remove_file(&e.file)
            .map_err(|x| (format!("{}: {x}", e.file.display()), exit::IOERR))?;
        // The other side file may be damaged too.
        check_side_files(db).or_else(|e| {
            out.error(format!("{}: {}; removed", e.file.display(), e.what));
            fs::remove_file(&e.file)
                .map_err(|x| (format!("{}: {x}", e.file.display()), exit::IOERR))
                .map(|()| Default::default())
        })?;
    }
    Ok(())
}

/// Copy the readable records of a damaged log into a new one and put it
/// in place, keeping the damaged file as `reports.log-old`.
fn salvage(db: &Path, out: &Out) -> Result<(), Fail> {
    let log = paths::log_file(db);
    let new = db.join("reports.log-new");
    let old = db.join("reports.log-old");
    let io = |p: &Path, e: std::io::Error| (format!("{}: {e}", p.display()), exit::IOERR);
    let _ = fs::remove_file(&new);
    let s = logfile::salvage(&log, &new).map_err(|e| io(&new, e))?;
    fs::rename(&log, &old).map_err(|e| io(&old, e))?;
    fs::rename(&new, &log).map_err(|e| io(&log, e))?;
    if let Ok(d) = fs::File::open(db) {
        let _ = d.sync_all();
    }
    out.error(format!(
        "repaired {}: kept {} records, skipped {} damaged bytes; the damaged file is {}",
        log.display(),
        s.records,
        s.skipped,
        old.display()
    ));
    Ok(())
}

/// The `-e`/`-E` ages of this run before the database is touched: the
/// defaults are `-e` 1 day or `-E` if smaller, `-E` 30 days or `-e` if
/// larger; explicit values with `-E` shorter than `-e` are a usage error,
/// as in the original. `None` with `-P` and `-G`.
fn explicit_ages(o: &CleanOpts) -> Result<Option<(u64, u64)>, Fail> {
    if o.grey || o.previous_ages {
        return Ok(None);
    }
    let small = o.small.unwrap_or_else(|| DAY.min(o.bulk.unwrap_or(DAY)));
    let bulk = o.bulk.unwrap_or_else(|| (30 * DAY).max(small));
    if bulk < small {
        return Err((
            "spam expiration -E must be longer than -e".into(),
            exit::USAGE,
        ));
    }
    Ok(Some((small, bulk)))
}

/// The expiry ages (`ages`: the explicit ones, [`explicit_ages`]): `-P` reuses the last ones given with `-e`/`-E` (or
/// reused by `-P`), otherwise `-e`/`-E` or the defaults. The ages used are
/// remembered with a mark of whether they were chosen (`-e`, `-E`, or
/// `-P` of chosen ages) as the original's `DB_PARM_FG_EXP_SET`, so a
/// cleaning with the defaults makes a later `-P` use the defaults again.
fn expiry(o: &CleanOpts, ages: Option<(u64, u64)>, db: &Path, out: &Out) -> Result<Expiry, Fail> {
    if o.grey {
        return Ok(grey_expiry(db, out));
    }
    let params = paths::params_file(db);
    let (small, bulk, chosen) = match ages {
        Some((small, bulk)) => (small, bulk, o.small.is_some() || o.bulk.is_some()),
        None => match read_params_marked(&params) {
            Some((small, bulk, true)) => (small, bulk, true),
            _ => {
                out.debug(format!(
                    "{}: no previous -e/-E; using the defaults",
                    params.display()
                ));
                let d = Expiry::default();
                (d.small, d.bulk, false)
            }
        },
    };
    let policy = Expiry::from_args(small, bulk);
    let text = if chosen {
        format!("{} {}\n", policy.small, policy.bulk)
    } else {
        format!("{} {} {PARAMS_DEFAULT}\n", policy.small, policy.bulk)
    };
    fs::write(&params, text).map_err(|e| (format!("{}: {e}", params.display()), exit::IOERR))?;
    Ok(policy)
}

/// The word after the ages in `dbclean.params` when they are the defaults
/// rather than chosen with `-e`/`-E`.
const PARAMS_DEFAULT: &str = "default";

/// The expiry of a greylist database, from the `-G` settings its server
/// saved beside it (`grey-params`; the defaults when absent): embargo
/// records go after the window, the records of accepted messages after
/// the white time.
fn grey_expiry(db: &Path, out: &Out) -> Expiry {
    grey_expiry_or(db, &mut |e| out.error(e))
}

/// [`grey_expiry`] with a settings file that cannot be used told to
/// `complain` (the defaults are then used).
pub fn grey_expiry_or(db: &Path, complain: &mut dyn FnMut(String)) -> Expiry {
    let path = db.join(tally_grey::PARAMS_FILE);
    let p = match fs::read_to_string(&path) {
        Ok(text) => tally_grey::Params::default()
            .parse_arg(text.trim())
            .unwrap_or_else(|e| {
                complain(format!("{}: {e}; using the defaults", path.display()));
                tally_grey::Params::default()
            }),
        Err(_) => tally_grey::Params::default(),
    };
    Expiry::greylist(p.window.into(), p.white.into())
}

/// The `-e`/`-E` ages of the last cleaning (chosen or the defaults).
pub fn read_params(path: &Path) -> Option<(u64, u64)> {
    read_params_marked(path).map(|(s, b, _)| (s, b))
}

/// The ages of the last cleaning and whether they were chosen with
/// `-e`/`-E` (files written before the mark existed held chosen ages only).
pub fn read_params_marked(path: &Path) -> Option<(u64, u64, bool)> {
    let s = fs::read_to_string(path).ok()?;
    let mut words = s.split_whitespace();
    let small = words.next()?.parse().ok()?;
    let bulk = words.next()?.parse().ok()?;
    Some((small, bulk, words.next() != Some(PARAMS_DEFAULT)))
}
