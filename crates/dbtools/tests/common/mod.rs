//! Helpers: temporary DCC home directories with a database filled through
//! the `Store` trait, and running the built programs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use tally_ck::{CkType, Sum};
use tally_store::{Ck, LogStore, Report, Store, Ts};

/// A temporary home directory, removed when dropped.
pub struct Home(pub PathBuf);

impl Home {
    pub fn new(tag: &str) -> Home {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tally-dbtools-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Home(dir)
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("tally-db")
    }

    pub fn log(&self) -> PathBuf {
        self.db().join("reports.log")
    }

    pub fn open(&self) -> LogStore {
        LogStore::open(&self.db()).unwrap()
    }

    /// Run `dbclean` with `-h HOME` and `args`.
    pub fn dbclean(&self, args: &[&str]) -> Output {
        run(env!("CARGO_BIN_EXE_dbclean"), &self.0, args)
    }

    /// Run `dblist` with `-h HOME` and `args`.
    pub fn dblist(&self, args: &[&str]) -> Output {
        run(env!("CARGO_BIN_EXE_dblist"), &self.0, args)
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(bin: &str, home: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .arg("-h")
        .arg(home)
        .args(args)
        .output()
        .unwrap()
}

/// A checksum of type `ty` whose bytes are all `b`.
pub fn ck(ty: CkType, b: u8) -> Ck {
    Ck::new(ty, Sum([b; 16]))
}

/// Seconds since the epoch now.
pub fn now() -> u64 {
    Ts::now().secs()
}

/// A report `age` seconds old.
pub fn report(age: u64, srvr: u16, tgts: u32, cks: Vec<Ck>) -> Report {
    Report::new(Ts::new(now() - age, 0), srvr, tgts, cks)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every total equals the sum of the target counts of the records left.
pub fn assert_totals_consistent(s: &dyn Store) {
    let mut sums = std::collections::HashMap::new();
    let mut after = tally_store::Pos::START;
    loop {
        let batch = s.read_log(after, 1000).unwrap();
        let Some(last) = batch.last() else { break };
        after = last.pos;
        for e in &batch {
            for c in &e.report.cks {
                if e.report.is_delete() {
                    sums.remove(c);
                } else {
                    let t: &mut u32 = sums.entry(*c).or_insert(0);
                    *t = tally_store::tgts::add(*t, e.report.tgts);
                }
            }
        }
    }
    let mut totals = std::collections::HashMap::new();
    s.for_each_total(&mut |c, t| {
        totals.insert(c, t);
        true
    })
    .unwrap();
    sums.retain(|_, v| *v != 0);
    assert_eq!(sums, totals);
}
