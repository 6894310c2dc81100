//! `dblist`: list the database as the original lists its `dcc_db`.
//!
//! For each database (the operands, or `HOME/tally-db`, `HOME/tally-grey-db`
//! with `-G on`): with `-v` a header with the database's figures, the expiry
//! ages of the last dbclean and the flooding positions; the records (all
//! with `-v`, or those selected by `-C -I -A -L -P -T`) in the original's
//! layout; then, unless records are selected, the record and checksum
//! counts per type, and the table of totals (our counterpart of the
//! original's hash table; `-H` leaves it out, `-vvv` lists it, and the
//! extension `-S` lists it sorted).
//!
//! A record's first line has its date, target count, server-ID and
//! position (printed in hex where the original prints the record's
//! address); its path line lists the servers it was flooded through; each
//! checksum line has the checksum's total up to and including this record,
//! which is what the original keeps in each record. There are no hash
//! chain pointers, "trimmed" or "delayed" marks: our records do not carry
//! them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tally_store::{tgts, Ck, LogEntry, Store};

use crate::clean::read_params;
use crate::exit;
use crate::logfile;
use crate::opts_list::{self, ListOpts};
use crate::paths;
use crate::snapshot::Snapshot;
use crate::text::{secs2str, tgts2str, ts2str};

/// Bytes in a "page" for `-P`.
pub const PAGE: u64 = 4096;

/// Run `dblist` with `args` (without the program name); the exit code.
pub fn main(args: &[String]) -> i32 {
    let o = match opts_list::parse(args) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::USAGE;
        }
    };
    for w in &o.warnings {
        eprintln!("{w}");
    }
    // -V (printed while the options were read) without files: done
    if o.version > 0 && o.files.is_empty() {
        return exit::OK;
    }
    let home = PathBuf::from(o.home.as_deref().unwrap_or(paths::DEFAULT_HOME));
    let dbs: Vec<PathBuf> = if o.files.is_empty() {
        vec![paths::db_dir(&home, o.grey)]
    } else {
        o.files.iter().map(|f| db_of(&home, f)).collect()
    };
    let mut code = exit::OK;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    for (i, db) in dbs.iter().enumerate() {
        if i > 0 {
            out(&mut w, "");
        }
        if o.verbose > 0 || i > 0 {
            out(&mut w, &format!("  {}", db.display()));
        }
        match Snapshot::open(db) {
            Ok(snap) => list_one(&mut w, &o, &snap),
            Err(e) => {
                flush(&mut w);
                eprintln!("{e}");
                code = code.max(e.code);
            }
        }
    }
    flush(&mut w);
    code
}

/// The database directory an operand names: a directory, or a file in one
/// (e.g. `tally-db/reports.log`); relative names are under the home directory.
fn db_of(home: &Path, f: &str) -> PathBuf {
    let p = home.join(f);
    if p.is_file() {
        if let Some(parent) = p.parent() {
            return parent.to_path_buf();
        }
    }
    p
}

fn out(w: &mut impl std::io::Write, line: &str) {
    // A closed pipe (dblist | head) ends the listing quietly.
    if writeln!(w, "{line}").is_err() {
        std::process::exit(exit::OK);
    }
}

fn flush(w: &mut impl std::io::Write) {
    let _ = w.flush();
}

fn type_name(ck: &Ck, grey: bool) -> &'static str {
    if grey {
        ck.ty.grey_name()
    } else {
        ck.ty.name()
    }
}

fn list_one(w: &mut impl std::io::Write, o: &ListOpts, snap: &Snapshot) {
    let stats = match snap.stats() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", snap.dir().display());
            return;
        }
    };
    let checked = *snap.checked();
    if o.verbose > 0 {
        header(w, o, snap, &stats, &checked);
    }
    if !o.no_data {
        records(w, o, snap, checked.file_len);
    }
    // As in the original, selecting records turns off the table listing.
    if !o.no_hash && !o.matching() {
        totals(w, o, snap, &stats);
    }
}

/// The `-v` header: the file, its figures, the expiry ages and the
/// flooding positions.
fn header(
    w: &mut impl std::io::Write,
    o: &ListOpts,
    snap: &Snapshot,
    stats: &tally_store::Stats,
    checked: &logfile::Checked,
) {
    let log = paths::log_file(snap.dir());
    out(w, &format!("     {}", log.display()));
    out(
        w,
        &format!(
            "     {}next position {:#x}  first position {:#x}",
            if o.grey { "greylist  " } else { "" },
            stats.next_pos.0,
            checked.base.0
        ),
    );
    out(
        w,
        &format!(
            "     {} records  {} checksums  {} whitelisted",
            stats.records, stats.checksums, stats.whitelisted
        ),
    );
    out(
        w,
        &format!(
            "     log {} bytes, {} valid  {} bytes in all files",
            checked.file_len, checked.good_end, stats.disk_bytes
        ),
    );
    if let Some(logfile::Problem::TornTail { offset }) = checked.problem {
        out(
            w,
            &format!("     incomplete last record at offset {offset}"),
        );
    }
    // a greylist database expires by its server's -G window and white
    // time, an ordinary one by the ages of the last cleaning
    let e = if o.grey {
        crate::clean::grey_expiry_or(snap.dir(), &mut |m| out(w, &format!("     {m}")))
    } else {
        match read_params(&paths::params_file(snap.dir())) {
            Some((s, b)) => tally_store::Expiry::from_args(s, b),
            None => tally_store::Expiry::default(),
        }
    };
    out(w, "");
    out(
        w,
        &format!(" {:>12}   {:>10} {:>10}", "", "non-bulk", "bulk"),
    );
    for t in tally_ck::CkType::ALL {
        if t == tally_ck::CkType::SrvrId || t == tally_ck::CkType::EnvTo {
            continue;
        }
        let (s, b) = if t.is_long_term() {
            (e.long_term_small, e.long_term_bulk)
        } else {
            (e.small, e.bulk)
        };
        let name = if o.grey { t.grey_name() } else { t.name() };
        out(
            w,
            &format!(" {:>12}   {:>10} {:>10}", name, secs2str(s), secs2str(b)),
        );
    }
    let peers = snap.peers();
    out(w, "");
    out(
        w,
        &format!("  {}", paths::flood_map_file(snap.dir()).display()),
    );
    // The original's columns: peer (host name there; the direction
    // here, as flood.map holds no host names), ID, position in hex.
    out(
        w,
        &format!("{:>38} {:>9} {}", "peer      ", "ID", "position"),
    );
    for (id, pos) in peers {
        // dccd keeps the position a peer's stream has reached here beside
        // ours for that peer, under the ID with the high bit set
        let (dir, id) = if id & 0x8000 != 0 {
            ("incoming from", id & 0x7fff)
        } else {
            ("outgoing to", *id)
        };
        out(w, &format!("{dir:>38} {id:>9} {pos:8x}"));
    }
    out(
        w,
        &format!("{:>38} {:>9} {:8x}", "maximum", "", stats.next_pos.0),
    );
}

/// Whether `e` (at file offset `off`) is selected by the patterns.
fn selected(o: &ListOpts, e: &LogEntry, off: u64, file_len: u64) -> bool {
    let r = &e.report;
    if o.min_pos != 0 && e.pos.0 < o.min_pos {
        return false;
    }
    if o.pages != 0 && off.saturating_add(o.pages.saturating_mul(PAGE)) < file_len {
        return false;
    }
    if !o.ids.is_empty() && !o.ids.contains(&r.srvr_id) {
        return false;
    }
    if !o.cks.is_empty() && !o.cks.iter().any(|p| r.cks.iter().any(|ck| p.matches(ck))) {
        return false;
    }
    if !o.times.is_empty() && !o.times.iter().any(|(lo, hi)| *lo <= r.ts && r.ts <= *hi) {
        return false;
    }
    o.min_path == 0 || r.path.len() >= o.min_path
}

/// The records, with running totals per checksum.
fn records(w: &mut impl std::io::Write, o: &ListOpts, snap: &Snapshot, file_len: u64) {
    let matching = o.matching();
    let mut running: HashMap<Ck, u32> = HashMap::new();
    let mut per_type: HashMap<tally_ck::CkType, u64> = HashMap::new();
    let (mut n_rcds, mut n_sums) = (0u64, 0u64);
    let mut printed = false;
    let mut labelled = false;
    let mut last = None;
    let log = paths::log_file(snap.dir());
    let scanned = logfile::scan(&log, |e, off| {
        last = Some(e.pos);
        let r = &e.report;
        for ck in &r.cks {
            if r.is_delete() {
                running.remove(ck);
            } else {
                let t = running.entry(*ck).or_insert(0);
                *t = tgts::add(*t, r.tgts);
            }
        }
        let show = if matching {
            selected(o, e, off, file_len)
        } else {
            o.verbose > 0
        };
        if matching && !show {
            return;
        }
        n_rcds += 1;
        n_sums += r.cks.len() as u64;
        for ck in &r.cks {
            *per_type.entry(ck.ty).or_insert(0) += 1;
        }
        if !show {
            return;
        }
        if !labelled {
            out(w, "");
            labelled = true;
        }
        printed = true;
        out(
            w,
            &format!(
                "{:<27} {:<8.8} {:<10.10} {:>7} {:x}",
                ts2str(r.ts),
                tgts2str(r.tgts, o.grey),
                r.srvr_id,
                "",
                e.pos.0
            ),
        );
        if !r.path.is_empty() {
            // as the original: each server followed by "<-", pointing
            // on to the server-ID on the first line that made the report
            let path: String = r.path.iter().map(|p| format!("{p}<-")).collect();
            out(w, &format!("     path: {path}"));
        }
        for ck in &r.cks {
            let total = if r.is_delete() {
                0
            } else {
                running.get(ck).copied().unwrap_or(0)
            };
            let line = format!(
                "  {:<10.10} {:<10.10} {}",
                type_name(ck, o.grey),
                tgts2str(total, o.grey),
                ck.sum
            );
            out(w, &line);
        }
    });
    if let Err(e) = scanned {
        let what = match e {
            logfile::LogError::Io(e) => e.to_string(),
            logfile::LogError::Header => "damaged or missing file header".into(),
        };
        eprintln!("{}: {what}", log.display());
        return;
    }
    if o.verbose >= 2 {
        whitelist(w, o, snap);
    }
    if o.verbose > 0 || matching {
        if printed {
            let next = last.map_or(0, |p| p.0 + 1);
            out(
                w,
                &format!("{:<27} {:<8} {:<10} {:>7} {:x}", "", "", "", "", next),
            );
        }
        out(w, "");
    }
    if !matching {
        out(w, &format!(" {}", snap.dir().display()));
        out(
            w,
            &format!("{n_rcds:8} records containing {n_sums} checksums"),
        );
        for t in tally_ck::CkType::ALL {
            if let Some(n) = per_type.get(&t) {
                let name = if o.grey { t.grey_name() } else { t.name() };
                out(w, &format!("    {n:8} {name}"));
            }
        }
    }
}

/// The whitelist built into the database (`-vv`).
fn whitelist(w: &mut impl std::io::Write, o: &ListOpts, snap: &Snapshot) {
    let Ok(list) = snap.whitelist() else {
        return;
    };
    if list.is_empty() {
        return;
    }
    out(w, "");
    out(w, "whitelist");
    for (ck, v) in list {
        if o.cks.is_empty() || o.cks.iter().any(|p| p.matches(&ck)) {
            out(
                w,
                &format!(
                    "  {:<10.10} {:<10.10} {}",
                    type_name(&ck, o.grey),
                    tgts2str(v, o.grey),
                    ck.sum
                ),
            );
        }
    }
}

/// The table of totals: figures, and every entry with `-vvv` or `-S`.
fn totals(w: &mut impl std::io::Write, o: &ListOpts, snap: &Snapshot, stats: &tally_store::Stats) {
    let (mut bulk, mut many) = (0u64, 0u64);
    let mut all = Vec::new();
    let list_all = o.sums || o.verbose >= 3;
    let _ = snap.for_each_total(&mut |ck, t| {
        if t >= tgts::BULK_THRESHOLD {
            bulk += 1;
        }
        if t >= tgts::MANY {
            many += 1;
        }
        if list_all {
            all.push((ck, t));
        }
        true
    });
    out(w, "");
    out(w, &format!(" {} totals", snap.dir().display()));
    if list_all {
        all.sort();
        for (ck, t) in &all {
            out(
                w,
                &format!(
                    "  {:<10.10} {:<10.10} {}",
                    type_name(ck, o.grey),
                    tgts2str(*t, o.grey),
                    ck.sum
                ),
            );
        }
    }
    out(
        w,
        &format!(
            "{:8} checksums  {} bulk (at least {})  {} many",
            stats.checksums,
            bulk,
            tgts::BULK_THRESHOLD,
            many
        ),
    );
    out(w, &format!("{:8} whitelisted", stats.whitelisted));
}
