//! Log store specifics: a record torn by a crash is cut off at start-up,
//! damaged small files are reported, and the sync policies work.

mod common;

use std::io::Write;

use common::{ck, report, TempDir};
use tally_ck::CkType;
use tally_store::{Error, LogStore, Pos, Store, SyncPolicy};

#[test]
fn torn_tail_is_dropped_and_writing_goes_on() {
    let d = TempDir::new("torn");
    {
        let mut s = LogStore::open_with(d.path(), SyncPolicy::Always).unwrap();
        for i in 0..5 {
            s.add(&report(1_800_000_000, 1, vec![ck(CkType::Body, i)]))
                .unwrap();
        }
    }
    let log = d.path().join("reports.log");
    let full = std::fs::metadata(&log).unwrap().len();
    // Half a record, as a crash in the middle of a write leaves it.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&[40, 0, 0, 0, 1, 2, 3, 4, 9, 9])
        .unwrap();
    let mut s = LogStore::open(d.path()).unwrap();
    assert_eq!(std::fs::metadata(&log).unwrap().len(), full);
    assert_eq!(s.read_log(Pos::START, 100).unwrap().len(), 5);
    // the cut bytes are kept beside the log, and opening says so
    let side = d.path().join(format!("reports.log.tail-{full}"));
    assert_eq!(
        std::fs::read(&side).unwrap(),
        [40, 0, 0, 0, 1, 2, 3, 4, 9, 9]
    );
    assert!(s
        .recovered()
        .is_some_and(|n| n.contains("10 unreadable bytes")));
    let a = s
        .add(&report(1_800_000_000, 2, vec![ck(CkType::Body, 9)]))
        .unwrap();
    assert_eq!(a.pos, Pos(15));
    drop(s);
    let s = LogStore::open(d.path()).unwrap();
    assert_eq!(s.read_log(Pos::START, 100).unwrap().len(), 6);
    assert_eq!(s.total(&ck(CkType::Body, 9)).unwrap(), 2);
}

#[test]
fn damaged_files_are_errors_not_panics() {
    let d = TempDir::new("damaged");
    {
        let mut s = LogStore::open(d.path()).unwrap();
        s.set_peer_pos(1101, Pos(12)).unwrap();
    }
    std::fs::write(d.path().join("flood.map"), b"garbage").unwrap();
    assert!(matches!(LogStore::open(d.path()), Err(Error::Corrupt(_))));
    std::fs::remove_file(d.path().join("flood.map")).unwrap();
    std::fs::write(d.path().join("reports.log"), b"not a log").unwrap();
    assert!(matches!(LogStore::open(d.path()), Err(Error::Corrupt(_))));
}

#[test]
fn every_sync_policy_keeps_reports() {
    for policy in [
        SyncPolicy::Always,
        SyncPolicy::Never,
        SyncPolicy::Interval(std::time::Duration::ZERO),
        SyncPolicy::default(),
    ] {
        let d = TempDir::new("policy");
        {
            let mut s = LogStore::open_with(d.path(), policy).unwrap();
            let batch: Vec<_> = (0..50)
                .map(|i| report(1_800_000_000, 1, vec![ck(CkType::Fuz2, i)]))
                .collect();
            s.add_batch(&batch).unwrap();
            s.sync().unwrap();
        }
        let s = LogStore::open(d.path()).unwrap();
        assert_eq!(s.stats().unwrap().records, 50, "{policy:?}");
    }
}

#[test]
fn leftovers_of_interrupted_work_are_harmless() {
    let d = TempDir::new("leftovers");
    // An empty log (creation interrupted) and half a cleaning.
    std::fs::write(d.path().join("reports.log"), b"").unwrap();
    std::fs::write(d.path().join("reports.log.new"), b"partial").unwrap();
    let mut s = LogStore::open(d.path()).unwrap();
    assert!(!d.path().join("reports.log.new").exists());
    assert_eq!(
        s.add(&report(1_800_000_000, 1, vec![ck(CkType::Ip, 1)]))
            .unwrap()
            .pos,
        Pos::FIRST
    );
}

#[test]
fn damage_inside_the_log_stops_start_up_until_repaired() {
    let d = TempDir::new("repair");
    {
        let mut s = LogStore::open(d.path()).unwrap();
        let batch: Vec<_> = (0..400_000)
            .map(|i| report(1_800_000_000, 1, vec![ck(CkType::Body, i)]))
            .collect();
        s.add_batch(&batch).unwrap();
    }
    let log = d.path().join("reports.log");
    let mut bytes = std::fs::read(&log).unwrap();
    let at = 24 + 1000 * 49 + 10; // inside the 1001st record
    bytes[at] ^= 0xff;
    std::fs::write(&log, &bytes).unwrap();
    assert!(matches!(LogStore::open(d.path()), Err(Error::Corrupt(_))));
    let cut = LogStore::repair(d.path()).unwrap();
    assert_eq!(cut, bytes.len() as u64 - (24 + 1000 * 49));
    assert_eq!(
        std::fs::metadata(d.path().join("reports.log.damaged"))
            .unwrap()
            .len(),
        cut
    );
    let s = LogStore::open(d.path()).unwrap();
    assert_eq!(s.stats().unwrap().records, 1000);
    assert_eq!(s.total(&ck(CkType::Body, 999)).unwrap(), 1);
    assert_eq!(s.total(&ck(CkType::Body, 1000)).unwrap(), 0);
}
