//! The same behaviour checks run against every implementation.

mod common;

use std::path::Path;

use common::{ck, report, TempDir};
use tally_ck::CkType;
use tally_store::{tgts, CountPair, Expiry, Pos, Store, SyncPolicy, Ts};

const DAY: u64 = 24 * 60 * 60;
const NOW: u64 = 1_800_000_000;

fn add_and_query_totals(s: &mut dyn Store) {
    let body = ck(CkType::Body, 1);
    let fuz = ck(CkType::Fuz1, 1);
    let a = s.add(&report(NOW, 1, vec![body, fuz])).unwrap();
    assert_eq!(a.pos, Pos::FIRST);
    assert_eq!(a.counts, vec![CountPair { c: 1, p: 0 }; 2]);
    let b = s.add(&report(NOW, 4, vec![body])).unwrap();
    assert_eq!(b.counts, vec![CountPair { c: 5, p: 1 }]);
    assert!(b.pos > a.pos);
    assert_eq!(
        s.query(&[body, fuz, ck(CkType::Ip, 9)]).unwrap(),
        vec![
            CountPair { c: 5, p: 5 },
            CountPair { c: 1, p: 1 },
            CountPair { c: 0, p: 0 },
        ]
    );
    // Saturation at many.
    let m = s.add(&report(NOW, tgts::MANY, vec![body])).unwrap();
    assert_eq!(
        m.counts,
        vec![CountPair {
            c: tgts::MANY,
            p: 5
        }]
    );
    assert_eq!(
        s.add(&report(NOW, 3, vec![body])).unwrap().counts[0].c,
        tgts::MANY
    );
    // Limits.
    assert!(s.add(&report(NOW, 0, vec![body])).is_err());
    assert!(s.add(&report(NOW, tgts::DEL, vec![body])).is_err());
    assert!(s.add(&report(NOW, 1, vec![])).is_err());
    assert!(s.add(&report(NOW, 1, vec![body; 15])).is_err());
    assert!(s.add(&report(NOW, 1, vec![body, body])).is_err());
    let st = s.stats().unwrap();
    assert_eq!(st.records, 4);
    assert_eq!(st.checksums, 2);
}

fn whitelist_overrides(s: &mut dyn Store) {
    let ip = ck(CkType::Ip, 7);
    s.add(&report(NOW, 2, vec![ip])).unwrap();
    s.set_whitelist(&[(ip, tgts::OK)]).unwrap();
    assert_eq!(s.total(&ip).unwrap(), tgts::OK);
    let a = s.add(&report(NOW, 2, vec![ip])).unwrap();
    assert_eq!(
        a.counts,
        vec![CountPair {
            c: tgts::OK,
            p: tgts::OK
        }]
    );
    assert_eq!(s.whitelist().unwrap(), vec![(ip, tgts::OK)]);
    s.set_whitelist(&[]).unwrap();
    assert_eq!(s.total(&ip).unwrap(), 4);
}

fn delete_checksum(s: &mut dyn Store) {
    let body = ck(CkType::Body, 3);
    let other = ck(CkType::Fuz2, 3);
    s.add(&report(NOW, 7, vec![body, other])).unwrap();
    let pos = s.delete(body, 1100, Ts::new(NOW, 0)).unwrap();
    assert_eq!(s.total(&body).unwrap(), 0);
    assert_eq!(s.total(&other).unwrap(), 7);
    let log = s.read_log(Pos(pos.0 - 1), 10).unwrap();
    assert_eq!(log.len(), 1);
    assert!(log[0].report.is_delete());
    assert_eq!(log[0].report.cks, vec![body]);
    // Reports after the deletion count afresh, also after cleaning.
    s.add(&report(NOW, 2, vec![body])).unwrap();
    assert_eq!(s.total(&body).unwrap(), 2);
    s.clean(NOW, &Expiry::default()).unwrap();
    assert_eq!(s.total(&body).unwrap(), 2);
    assert_eq!(s.total(&other).unwrap(), 7);
}

fn expiry(s: &mut dyn Store) {
    let small = ck(CkType::Body, 10); // total 1, two days old: expires
    let bulk = ck(CkType::Body, 11); // total 20, two days old: kept
    let fuzzy = ck(CkType::Fuz1, 12); // long-term type, two days old: kept
    let ancient = ck(CkType::Body, 13); // bulk but 40 days old: expires
    let fresh = ck(CkType::Ip, 14);
    s.add(&report(NOW - 40 * DAY, 50, vec![ancient])).unwrap();
    s.add(&report(NOW - 2 * DAY, 1, vec![small, fuzzy]))
        .unwrap();
    s.add(&report(NOW - 2 * DAY, 20, vec![bulk])).unwrap();
    s.add(&report(NOW, 1, vec![fresh, small])).unwrap();
    let r = s.clean(NOW, &Expiry::default()).unwrap();
    assert_eq!((r.removed, r.trimmed, r.kept), (1, 1, 2));
    assert_eq!(s.total(&ancient).unwrap(), 0);
    assert_eq!(s.total(&small).unwrap(), 1, "the fresh report of it stays");
    assert_eq!(s.total(&fuzzy).unwrap(), 1);
    assert_eq!(s.total(&bulk).unwrap(), 20);
    assert_eq!(s.total(&fresh).unwrap(), 1);
    let log = s.read_log(Pos::START, 100).unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].report.cks, vec![fuzzy], "trimmed");
    let mut by_srv = 0;
    s.for_each_by_server(1100, &mut |_| {
        by_srv += 1;
        true
    })
    .unwrap();
    assert_eq!(by_srv, 3);
    let mut with = Vec::new();
    s.for_each_with(&small, &mut |e| {
        with.push(e.pos);
        true
    })
    .unwrap();
    assert_eq!(with.len(), 1);
}

fn log_positions(s: &mut dyn Store) {
    let mut positions = Vec::new();
    for i in 0..30 {
        positions.push(
            s.add(&report(NOW, 1, vec![ck(CkType::Body, 100 + i)]))
                .unwrap()
                .pos,
        );
    }
    let batch: Vec<_> = (0..5)
        .map(|i| report(NOW, 2, vec![ck(CkType::Body, 200 + i)]))
        .collect();
    positions.extend(s.add_batch(&batch).unwrap().iter().map(|a| a.pos));
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    assert!(positions[0] >= Pos(10));
    let all = s.read_log(Pos::START, 1000).unwrap();
    assert_eq!(all.iter().map(|e| e.pos).collect::<Vec<_>>(), positions);
    let part = s.read_log(positions[9], 5).unwrap();
    assert_eq!(
        part.iter().map(|e| e.pos).collect::<Vec<_>>(),
        positions[10..15]
    );
    assert!(s
        .read_log(*positions.last().unwrap(), 5)
        .unwrap()
        .is_empty());
    assert_eq!(s.next_pos().0, positions.last().unwrap().0 + 1);
    assert_eq!(s.peer_pos(1101).unwrap(), None);
    s.set_peer_pos(1101, positions[3]).unwrap();
    s.set_peer_pos(1102, positions[7]).unwrap();
    assert_eq!(s.peer_pos(1101).unwrap(), Some(positions[3]));
}

fn reopen_keeps_everything(dir: &Path, open: &dyn Fn(&Path) -> Box<dyn Store>) {
    let (next, log, white) = {
        let mut s = open(dir);
        log_positions(s.as_mut());
        s.set_whitelist(&[(ck(CkType::Ip, 1), tgts::OK2)]).unwrap();
        let d = s
            .delete(ck(CkType::Body, 100), 1100, Ts::new(NOW, 0))
            .unwrap();
        assert!(d.0 > 10);
        (
            s.next_pos(),
            s.read_log(Pos::START, 1000).unwrap(),
            s.whitelist().unwrap(),
        )
    };
    let mut s = open(dir);
    assert_eq!(s.next_pos(), next);
    assert_eq!(s.read_log(Pos::START, 1000).unwrap(), log);
    assert_eq!(s.whitelist().unwrap(), white);
    assert_eq!(s.peer_pos(1102).unwrap(), Some(log[7].pos));
    assert_eq!(s.total(&ck(CkType::Body, 100)).unwrap(), 0);
    assert_eq!(s.total(&ck(CkType::Body, 201)).unwrap(), 2);
    // Cleaning everything away does not reuse positions.
    s.clean(NOW + 400 * DAY, &Expiry::default()).unwrap();
    assert!(s.read_log(Pos::START, 10).unwrap().is_empty());
    drop(s);
    let mut s = open(dir);
    assert_eq!(s.next_pos(), next);
    assert_eq!(
        s.add(&report(NOW, 1, vec![ck(CkType::Body, 1)]))
            .unwrap()
            .pos,
        next
    );
    let mut n = 0;
    s.for_each_total(&mut |_, _| {
        n += 1;
        true
    })
    .unwrap();
    assert_eq!(n, 1);
}

macro_rules! conformance {
    ($name:ident, $open:expr) => {
        mod $name {
            use super::*;

            fn fresh() -> (TempDir, Box<dyn Store>) {
                let d = TempDir::new(stringify!($name));
                let s = $open(d.path());
                (d, s)
            }

            #[test]
            fn add_and_query() {
                let (_d, mut s) = fresh();
                add_and_query_totals(s.as_mut());
            }
            #[test]
            fn whitelist() {
                let (_d, mut s) = fresh();
                whitelist_overrides(s.as_mut());
            }
            #[test]
            fn delete() {
                let (_d, mut s) = fresh();
                delete_checksum(s.as_mut());
            }
            #[test]
            fn expire() {
                let (_d, mut s) = fresh();
                expiry(s.as_mut());
            }
            #[test]
            fn positions() {
                let (_d, mut s) = fresh();
                log_positions(s.as_mut());
            }
            #[test]
            fn reopen() {
                let d = TempDir::new(stringify!($name));
                reopen_keeps_everything(d.path(), &$open);
            }
        }
    };
}

fn open_log(p: &Path) -> Box<dyn Store> {
    Box::new(tally_store::LogStore::open_with(p, SyncPolicy::Never).unwrap())
}
conformance!(log_store, open_log);

#[cfg(feature = "redb")]
fn open_redb(p: &Path) -> Box<dyn Store> {
    Box::new(tally_store::RedbStore::open_with(p, SyncPolicy::Never).unwrap())
}
#[cfg(feature = "redb")]
conformance!(redb_store, open_redb);

#[cfg(feature = "fjall")]
fn open_fjall(p: &Path) -> Box<dyn Store> {
    Box::new(tally_store::FjallStore::open_with(p, SyncPolicy::Never).unwrap())
}
#[cfg(feature = "fjall")]
conformance!(fjall_store, open_fjall);
