//! Property test: random operations on each implementation agree with a
//! plain in-memory model of the database.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{ck, TempDir};
use proptest::prelude::*;
use tally_ck::CkType;
use tally_store::{tgts, Ck, CountPair, Expiry, LogEntry, Pos, Report, Store, SyncPolicy, Ts};

const T0: u64 = 1_800_000_000;
const HOUR: u64 = 3600;

#[derive(Debug, Clone)]
struct AddSpec {
    age_h: u64,
    tgts: u32,
    cks: std::collections::BTreeSet<(u8, u32)>,
}

#[derive(Debug, Clone)]
enum Op {
    /// One report (added with `add`) or several (with `add_batch`).
    Add(Vec<AddSpec>),
    Delete {
        ck: (u8, u32),
    },
    Clean {
        now_h: u64,
    },
    White {
        ck: (u8, u32),
    },
    Peer {
        id: u16,
        back: usize,
    },
    Reopen,
}

fn to_ck((t, n): (u8, u32)) -> Ck {
    let ty = [CkType::Ip, CkType::Body, CkType::Fuz1, CkType::GreyTriple][usize::from(t % 4)];
    ck(ty, n)
}

fn op() -> impl Strategy<Value = Op> {
    let c = (0u8..4, 0u32..6);
    prop_oneof![
        6 => prop::collection::vec(
            (0u64..2000, prop_oneof![1u32..12, Just(tgts::MANY)], prop::collection::btree_set(c.clone(), 1..4))
                .prop_map(|(age_h, tgts, cks)| AddSpec { age_h, tgts, cks }),
            1..4,
        )
        .prop_map(Op::Add),
        1 => c.clone().prop_map(|ck| Op::Delete { ck }),
        1 => (0u64..3000).prop_map(|now_h| Op::Clean { now_h }),
        1 => c.prop_map(|ck| Op::White { ck }),
        1 => (1u16..3, 0usize..5).prop_map(|(id, back)| Op::Peer { id, back }),
        1 => Just(Op::Reopen),
    ]
}

/// The model: the log as a list, totals recomputed from it.
#[derive(Default)]
struct Model {
    log: Vec<LogEntry>,
    next: u64,
    white: BTreeMap<Ck, u32>,
    peers: BTreeMap<u16, Pos>,
}

impl Model {
    fn raw_total(&self, c: &Ck) -> u32 {
        let mut t = 0;
        for e in &self.log {
            if e.report.cks.contains(c) {
                t = if e.report.is_delete() {
                    0
                } else {
                    tgts::add(t, e.report.tgts)
                };
            }
        }
        t
    }
    fn total(&self, c: &Ck) -> u32 {
        self.white
            .get(c)
            .copied()
            .unwrap_or_else(|| self.raw_total(c))
    }
    fn push(&mut self, report: Report) -> Pos {
        let pos = Pos(self.next);
        self.next += 1;
        self.log.push(LogEntry { pos, report });
        pos
    }
    fn clean(&mut self, now: u64, policy: &Expiry) {
        let totals: BTreeMap<Ck, u32> = self
            .log
            .iter()
            .flat_map(|e| e.report.cks.iter().copied())
            .map(|c| (c, self.raw_total(&c)))
            .collect();
        let old = std::mem::take(&mut self.log);
        for (i, mut e) in old.clone().into_iter().enumerate() {
            let age = now.saturating_sub(e.report.ts.secs());
            if e.report.is_delete() {
                if age <= policy.small {
                    self.log.push(e);
                }
                continue;
            }
            e.report.cks.retain(|c| {
                let deleted_later = old[i + 1..]
                    .iter()
                    .any(|d| d.report.is_delete() && d.report.cks.contains(c));
                !deleted_later && policy.keeps(c.ty, totals.get(c).copied().unwrap_or(0), age)
            });
            if !e.report.cks.is_empty() {
                self.log.push(e);
            }
        }
    }
}

fn run(ops: Vec<Op>, dir: &Path, open: &dyn Fn(&Path) -> Box<dyn Store>) {
    let mut s = open(dir);
    let mut m = Model {
        next: Pos::FIRST.0,
        ..Model::default()
    };
    let policy = Expiry::default();
    for op in ops {
        match op {
            Op::Add(specs) => {
                let mut reports = Vec::new();
                let mut want = Vec::new();
                for AddSpec {
                    age_h,
                    tgts: n,
                    cks,
                } in specs
                {
                    let cks: Vec<Ck> = cks.into_iter().map(to_ck).collect();
                    let ts = Ts::new(T0 + 3000 * HOUR - age_h * HOUR, 0);
                    let report = Report::new(ts, 1100, n, cks.clone());
                    let counts: Vec<CountPair> = cks
                        .iter()
                        .map(|c| match m.white.get(c) {
                            Some(&w) => CountPair { c: w, p: w },
                            None => {
                                let p = m.raw_total(c);
                                CountPair {
                                    c: tgts::add(p, n),
                                    p,
                                }
                            }
                        })
                        .collect();
                    let pos = m.push(report.clone());
                    want.push((pos, counts));
                    reports.push(report);
                }
                let got: Vec<_> = if reports.len() == 1 {
                    vec![s.add(&reports[0]).unwrap()]
                } else if (reports[0].ts.secs() / HOUR) % 2 == 1 {
                    // one add at a time within a batch, written at its end
                    s.begin_batch();
                    let got = reports.iter().map(|r| s.add(r).unwrap()).collect();
                    s.end_batch().unwrap();
                    got
                } else {
                    s.add_batch(&reports).unwrap()
                };
                let got: Vec<_> = got.into_iter().map(|a| (a.pos, a.counts)).collect();
                assert_eq!(got, want);
            }
            Op::Delete { ck } => {
                let c = to_ck(ck);
                let pos = m.push(Report::new(Ts::new(T0, 0), 1100, tgts::DEL, vec![c]));
                assert_eq!(s.delete(c, 1100, Ts::new(T0, 0)).unwrap(), pos);
            }
            Op::Clean { now_h } => {
                let now = T0 + now_h * HOUR;
                m.clean(now, &policy);
                s.clean(now, &policy).unwrap();
            }
            Op::White { ck } => {
                let c = to_ck(ck);
                if m.white.remove(&c).is_none() {
                    m.white.insert(c, tgts::OK);
                }
                let w: Vec<(Ck, u32)> = m.white.iter().map(|(c, v)| (*c, *v)).collect();
                s.set_whitelist(&w).unwrap();
            }
            Op::Peer { id, back } => {
                let pos = m.log.iter().rev().nth(back).map_or(Pos::START, |e| e.pos);
                m.peers.insert(id, pos);
                s.set_peer_pos(id, pos).unwrap();
            }
            Op::Reopen => {
                drop(s);
                s = open(dir);
            }
        }
        // The whole state agrees after every step.
        assert_eq!(s.next_pos(), Pos(m.next));
        assert_eq!(s.read_log(Pos::START, 10_000).unwrap(), m.log);
        for t in 0..4u8 {
            for n in 0..6 {
                let c = to_ck((t, n));
                assert_eq!(s.total(&c).unwrap(), m.total(&c), "total of {c}");
            }
        }
        for (id, p) in &m.peers {
            assert_eq!(s.peer_pos(*id).unwrap(), Some(*p));
        }
        let mut n = 0;
        s.for_each_total(&mut |c, t| {
            assert_eq!(t, m.raw_total(&c));
            n += 1;
            true
        })
        .unwrap();
        let distinct: std::collections::BTreeSet<Ck> = m
            .log
            .iter()
            .flat_map(|e| e.report.cks.iter().copied())
            .filter(|c| m.raw_total(c) != 0)
            .collect();
        assert_eq!(n, distinct.len());
    }
}

fn open_log(p: &Path) -> Box<dyn Store> {
    Box::new(tally_store::LogStore::open_with(p, SyncPolicy::Never).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn log_store_matches_model(ops in prop::collection::vec(op(), 1..40)) {
        let d = TempDir::new("model-log");
        run(ops, d.path(), &open_log);
    }
}

#[cfg(feature = "redb")]
fn open_redb(p: &Path) -> Box<dyn Store> {
    Box::new(tally_store::RedbStore::open_with(p, SyncPolicy::Never).unwrap())
}

#[cfg(feature = "redb")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn redb_store_matches_model(ops in prop::collection::vec(op(), 1..40)) {
        let d = TempDir::new("model-redb");
        run(ops, d.path(), &open_redb);
    }
}

#[cfg(feature = "fjall")]
fn open_fjall(p: &Path) -> Box<dyn Store> {
    Box::new(tally_store::FjallStore::open_with(p, SyncPolicy::Never).unwrap())
}

#[cfg(feature = "fjall")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn fjall_store_matches_model(ops in prop::collection::vec(op(), 1..40)) {
        let d = TempDir::new("model-fjall");
        run(ops, d.path(), &open_fjall);
    }
}
