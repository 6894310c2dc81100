//! The servers under load: tally's `dccd` (next to this program) and,
//! with `--original PATH` (or `DCCD_BENCH_ORIGINAL=PATH`; the option
//! wins), the original DCC's `dccd` at PATH, started alike: the same
//! options, each in a temporary home of its own with the same `ids` file
//! (the client-ID and password the bench signs with, and the server-ID).
//!
//! Only options both servers accept are given: `-b -i 1100 -n bench`,
//! `-R 1000000,1000000,1000000` (rate limits lifted; the original takes at
//! most about 1,070,000 per second and keeps its defaults for a larger
//! value), `-C` naming the `dbclean` next to the server when there is one
//! (the original runs it to create its database in the empty home;
//! without `-C`, the one it was built to look for; tally's server accepts
//! and ignores it), then `-h home -a 127.0.0.1,port`.
//!
//! Also the comparison lines (ratio tally/original per level) and what
//! each server's database files take after the memory fill: the
//! original's `dcc_db` and `dcc_db.hash`, tally's store files (in
//! `tally-db`).

use crate::bench_dccd::{BenchDccd, Start, LIFTED};
use crate::{Server, ID};
use std::path::{Path, PathBuf};

/// The environment variable that names the original `dccd`.
pub const ENV: &str = "DCCD_BENCH_ORIGINAL";

/// Take `--original PATH` out of the arguments; without it, the
/// environment's `DCCD_BENCH_ORIGINAL`. `Err` names what is wrong.
pub fn take(args: &mut Vec<String>) -> Result<Option<PathBuf>, String> {
    let from_env = std::env::var_os(ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let Some(i) = args.iter().position(|a| a == "--original") else {
        return Ok(from_env);
    };
    args.remove(i);
    if i >= args.len() || args[i].is_empty() {
        return Err("--original needs the path of the original's dccd".into());
    }
    Ok(Some(PathBuf::from(args.remove(i))))
}

/// The home directory of the server tagged `tag`.
pub fn home(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("dccd-bench-{tag}-{}", std::process::id()))
}

/// tally's `dccd`, next to this program.
pub fn tally_dccd() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    Ok(exe.with_file_name("dccd"))
}

/// Start the `dccd` at `exe` in the home tagged `tag` (a greylist server
/// with `grey`), rate limits lifted.
pub fn start(exe: &Path, tag: &str, grey: bool) -> Result<Server, String> {
    if !exe.is_file() {
        return Err(format!("{}: no such file", exe.display()));
    }
    let home = home(tag);
    let _ = std::fs::remove_dir_all(&home);
    blacklist(&home)?;
    let dbclean = exe.with_file_name("dbclean");
    let dbclean = dbclean.to_string_lossy().into_owned();
    let mut args = LIFTED.to_vec();
    if Path::new(&dbclean).is_file() {
        args.extend(["-C", &dbclean]);
    }
    if grey {
        args.extend(["-G", "on,20"]);
    }
    // DCCD_BENCH_ARGS: more options for the server (e.g. `-M 127.0.0.1,0`)
    let extra = std::env::var("DCCD_BENCH_ARGS").unwrap_or_default();
    args.extend(extra.split_whitespace());
    let what = if tag == "original" {
        format!(
            "{} (the original needs a dbclean to create its database: next to it, \
             or where it was built to look)",
            exe.display()
        )
    } else {
        exe.display().to_string()
    };
    BenchDccd::start(&Start {
        exe,
        home: &home,
        ids: &format!("{ID} benchpw\n1100 benchsrvpw\n"),
        args: &args,
        nop_as: None,
        // With DCCD_BENCH_PIN=1 the server runs on CPU 0 alone.
        pin_cpu0: std::env::var("DCCD_BENCH_PIN").is_ok_and(|v| v == "1"),
        what: &what,
    })
}

/// The environment variable that gives the server a `blacklist` file of
/// that many lines (see [`blacklist`]).
pub const BLACKLIST_ENV: &str = "DCCD_BENCH_BLACKLIST";

/// With `DCCD_BENCH_BLACKLIST=N`, a `blacklist` file of N lines in the
/// server's home before it starts: `ok 127.0.0.1` and then `bad` /24
/// blocks of 127.0.0.0/16 that do not cover it, so that every request
/// (from 127.0.0.1) is looked up among all the lines of its block and
/// decided by the first line (the lookup's slowest case). The bench's
/// requests are still answered.
fn blacklist(home: &Path) -> Result<(), String> {
    let Some(n) = std::env::var(BLACKLIST_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    else {
        return Ok(());
    };
    let mut text = String::from("ok 127.0.0.1\n");
    for i in 1..n.min(256) {
        text.push_str(&format!("bad 127.0.{i}.0/24\n"));
    }
    std::fs::create_dir_all(home).map_err(|e| format!("{}: {e}", home.display()))?;
    let file = home.join("blacklist");
    std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    println!("blacklist file of {} lines", n.min(256));
    Ok(())
}

/// The server, or the bench ends saying why not.
pub fn start_or_exit(exe: &Path, tag: &str, grey: bool) -> Server {
    start(exe, tag, grey).unwrap_or_else(|e| {
        eprintln!("dccd-bench: {e}");
        std::process::exit(1);
    })
}

/// The line said without `--original`.
pub fn recorded() {
    println!(
        "original DCC not given (--original PATH or {ENV}); for reference, recorded, not \
         measured in this run (issue 13, the 2-CPU development machine): the original dccd \
         answered QUERY 80k/s at 16 in flight and REPORT 65k/s at 64 in flight; its database \
         and hash files took 36-52 bytes per checksum"
    );
}

/// The comparison line of one level.
pub fn ratio(kind: &str, in_flight: usize, tally: f64, original: f64) {
    println!(
        "{kind:11} in flight {in_flight:3}: tally/original {:.2} (ops/s {tally:.0} / {original:.0})",
        tally / original.max(1e-9)
    );
}

/// The size in bytes of each regular file in the home tagged `tag` and
/// in its directories (one level down, as `dir/name`), by name.
pub fn files(tag: &str) -> Vec<(String, u64)> {
    let mut v = Vec::new();
    let mut dirs = vec![(home(tag), String::new())];
    // the home, then the directories found in it
    while let Some((dir, prefix)) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            let name = format!("{prefix}{}", e.file_name().to_string_lossy());
            if m.is_file() {
                v.push((name, m.len()));
            } else if m.is_dir() && prefix.is_empty() {
                dirs.push((e.path(), format!("{name}/")));
            }
        }
    }
    v.sort();
    v
}

/// What the database files of a server's home take per checksum and per
/// report: for the original its `dcc_db` and `dcc_db.hash`, for tally the
/// store's files (in `tally-db`).
pub fn files_line(tag: &str, original: bool, cks: f64, reports: f64) -> String {
    let all = files(tag);
    let picked: Vec<&(String, u64)> = all
        .iter()
        .filter(|(n, _)| {
            if original {
                n == "dcc_db" || n == "dcc_db.hash"
            } else {
                n.starts_with("tally-db/")
            }
        })
        .collect();
    let total: u64 = picked.iter().map(|(_, s)| s).sum();
    let names: Vec<String> = picked
        .iter()
        .map(|(n, s)| format!("{n} {:.1} MiB", *s as f64 / 1048576.0))
        .collect();
    format!(
        "files: {} = {:.1} bytes per checksum = {:.1} bytes per report",
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(" + ")
        },
        total as f64 / cks.max(1.0),
        total as f64 / reports.max(1.0)
    )
}
