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

#[test]
fn a_batch_is_written_at_its_end_and_read_only_then() {
    let d = TempDir::new("batch");
    let mut s = LogStore::open_with(d.path(), SyncPolicy::Never).unwrap();
    s.add(&report(1_800_000_000, 1, vec![ck(CkType::Body, 1)]))
        .unwrap();
    s.begin_batch();
    let a = s
        .add(&report(1_800_000_000, 2, vec![ck(CkType::Body, 1)]))
        .unwrap();
    assert_eq!((a.counts[0].c, a.counts[0].p), (3, 1));
    assert_eq!(s.total(&ck(CkType::Body, 1)).unwrap(), 3);
    // held records are not in the file yet, so flooding does not see them
    assert_eq!(s.read_log(Pos::START, 100).unwrap().len(), 1);
    // a deletion writes what is held before itself
    s.delete(
        ck(CkType::Fuz1, 9),
        1100,
        tally_store::Ts::new(1_800_000_000, 0),
    )
    .unwrap();
    assert_eq!(s.read_log(Pos::START, 100).unwrap().len(), 3);
    s.add(&report(1_800_000_000, 1, vec![ck(CkType::Fuz2, 1)]))
        .unwrap();
    s.end_batch().unwrap();
    assert_eq!(s.read_log(Pos::START, 100).unwrap().len(), 4);
    drop(s);
    let s = LogStore::open(d.path()).unwrap();
    assert_eq!(s.total(&ck(CkType::Body, 1)).unwrap(), 3);
    assert_eq!(s.total(&ck(CkType::Fuz2, 1)).unwrap(), 1);
    assert_eq!(s.next_pos(), Pos(14));
}

/// A small tmpfs mounted on a directory, unmounted when dropped.
struct SmallFs(std::path::PathBuf);

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_batch_whose_write_fails_is_undone() {
    let d = TempDir::new("batchfull");
    let mnt = d.path().join("fs");
    std::fs::create_dir_all(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|st| st.success());
    if !mounted {
        eprintln!("SKIPPED a_batch_whose_write_fails_is_undone: cannot mount a tmpfs (not root?)");
        return;
    }
    let _fs = SmallFs(mnt.clone());
    let mut s = LogStore::open_with(&mnt, SyncPolicy::Never).unwrap();
    // Batches of 100 reports of new checksums until one does not fit.
    let mut failed = None;
    for b in 0..200u32 {
        let (next, stats) = (s.next_pos(), s.stats().unwrap());
        s.begin_batch();
        for i in 0..100 {
            s.add(&report(
                1_800_000_000,
                1,
                vec![ck(CkType::Body, b * 100 + i)],
            ))
            .unwrap();
        }
        // the batch counts before it is written
        assert_eq!(s.total(&ck(CkType::Body, b * 100)).unwrap(), 1);
        if s.end_batch().is_err() {
            failed = Some((b, next, stats));
            break;
        }
    }
    let (b, next, stats) = failed.expect("64 KiB filled");
    // nothing of the failed batch is left, in memory or in the file
    assert_eq!(s.next_pos(), next);
    assert_eq!(s.stats().unwrap().records, stats.records);
    assert_eq!(s.stats().unwrap().checksums, stats.checksums);
    assert_eq!(s.total(&ck(CkType::Body, b * 100)).unwrap(), 0);
    assert_eq!(s.total(&ck(CkType::Body, b * 100 - 1)).unwrap(), 1);
    assert_eq!(
        s.read_log(Pos::START, 100_000).unwrap().len() as u64,
        stats.records
    );
    drop(s);
    let s = LogStore::open(&mnt).unwrap();
    assert_eq!(s.next_pos(), next);
    assert_eq!(s.total(&ck(CkType::Body, b * 100)).unwrap(), 0);
}

#[test]
fn reading_from_any_position_of_a_long_log() {
    let d = TempDir::new("positions");
    let mut s = LogStore::open_with(d.path(), SyncPolicy::Never).unwrap();
    for i in 0..1000u32 {
        let cks = (0..1 + i % 5)
            .map(|k| ck(CkType::Body, i * 8 + k))
            .collect();
        s.add(&report(1_800_000_000, 1, cks)).unwrap();
        if i % 97 == 0 {
            s.delete(
                ck(CkType::Body, i * 8),
                1100,
                tally_store::Ts::new(1_800_000_000, 0),
            )
            .unwrap();
        }
    }
    let all = s.read_log(Pos::START, 100_000).unwrap();
    assert_eq!(all.len() as u64, s.stats().unwrap().records);
    for after in (0..all.len()).step_by(7) {
        let from = all[after].pos;
        for max in [1, 5, 33, 4096] {
            let want: Vec<_> = all
                .iter()
                .filter(|e| e.pos > from)
                .take(max)
                .cloned()
                .collect();
            assert_eq!(
                s.read_log(from, max).unwrap(),
                want,
                "after {from:?} max {max}"
            );
        }
    }
    // and after reopening (the index rebuilt by the replay)
    drop(s);
    let s = LogStore::open(d.path()).unwrap();
    assert_eq!(s.read_log(Pos::START, 100_000).unwrap(), all);
    assert_eq!(s.read_log(all[500].pos, 3).unwrap(), all[501..504].to_vec());
}
