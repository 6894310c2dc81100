//! The figures kept as the database changes equal a walk of the whole
//! database after any sequence of changes: requests, GREY_SPAM, cleaning,
//! whitelisting, new settings, raw changes as a replay may bring them
//! (odd totals, repeated checksums, deletions of anything) and a reload.

use super::*;

/// A checksum of the pool the raw changes draw from.
fn pool_ck() -> impl Strategy<Value = Ck> {
    let ty = prop_oneof![
        Just(CkType::Ip),
        Just(CkType::Body),
        Just(CkType::GreyMsg),
        Just(CkType::GreyTriple),
    ];
    (ty, 0u8..5).prop_map(|(ty, b)| ck(ty, b))
}

#[derive(Debug, Clone)]
enum Edit {
    /// A request, GREY_SPAM or cleaning as the server does them.
    Step(Step),
    /// A record as a replay may bring it.
    Add(u64, u32, Vec<Ck>),
    /// A deletion of any checksum.
    Delete(Ck),
    /// A new greylist whitelist.
    White(Vec<(Ck, u32)>),
    /// New settings.
    Params(Params),
    /// Replay the log into a new database and go on with it.
    Reload,
}

fn edit() -> impl Strategy<Value = Edit> {
    let tgts = prop_oneof![
        Just(0u32),
        Just(1),
        Just(2),
        Just(MANY - 1),
        Just(MANY),
        Just(OK),
        Just(u32::MAX),
    ];
    let white = prop_oneof![Just(GREY_WHITE), Just(MANY), Just(3u32)];
    prop_oneof![
        10 => step().prop_map(Edit::Step),
        2 => (0u64..300, tgts, prop::collection::vec(pool_ck(), 0..5))
            .prop_map(|(age, t, cks)| Edit::Add(age, t, cks)),
        1 => pool_ck().prop_map(Edit::Delete),
        1 => prop::collection::vec((pool_ck(), white), 0..4).prop_map(Edit::White),
        1 => params().prop_map(Edit::Params),
        1 => Just(Edit::Reload),
    ]
}

proptest! {
    /// After every change, [`Grey::figures`] (kept as the totals change)
    /// equals [`Grey::figures_by_walk`] (a walk of every checksum).
    #[test]
    fn figures_kept_equal_a_walk(p in params(), edits in prop::collection::vec(edit(), 1..80)) {
        let mut g = Grey::new(p);
        let mut log: Vec<Change> = Vec::new();
        let mut white: Vec<(Ck, u32)> = Vec::new();
        let mut now = 1000u64;
        for e in edits {
            let mut changes = Vec::new();
            match e {
                Edit::Step(Step::Req(op, i, b, t, dt)) => {
                    now += dt;
                    if let Ok(d) = g.decide(&Request::new(op, &msg(i, b, t)), now) {
                        changes = d.changes;
                    }
                }
                Edit::Step(Step::Spam(i, b, t, dt)) => {
                    now += dt;
                    let cks = msg(i, b, t);
                    changes = g.spam(&cks[0], &cks[4], &cks[5], now);
                }
                Edit::Step(Step::Clean(dt)) => {
                    now += dt;
                    g.clean(now);
                    // what a cleaned store replays: the records left
                    log = log_of(&g);
                }
                Edit::Add(age, tgts, cks) => {
                    changes = vec![Change::Add(Record { ts: now.saturating_sub(age), tgts, cks })];
                }
                Edit::Delete(ck) => changes = vec![Change::Delete { ck, ts: now }],
                Edit::White(w) => {
                    g.set_whitelist(&w);
                    white = w;
                }
                Edit::Params(p) => g.set_params(p),
                Edit::Reload => {
                    let mut r = Grey::new(*g.params());
                    for c in &log {
                        r.apply(c);
                    }
                    r.set_whitelist(&white);
                    prop_assert_eq!(r.figures(), g.figures());
                    g = r;
                }
            }
            for c in &changes {
                g.apply(c);
            }
            log.extend(changes);
            prop_assert_eq!(g.figures(), g.figures_by_walk());
        }
    }
}

/// The records a database holds, as changes, oldest first.
fn log_of(g: &Grey) -> Vec<Change> {
    let mut ids: Vec<_> = g.db.recs.keys().copied().collect();
    ids.sort_unstable();
    ids.iter()
        .filter_map(|id| g.db.recs.get(id))
        .map(|r| {
            Change::Add(Record {
                ts: r.ts,
                tgts: r.tgts,
                cks: r.cks.clone(),
            })
        })
        .collect()
}

/// The cost of the figures with a million triples, the walk (as
/// `figures()` did before it kept counts) against the kept counts. A
/// measurement, not a check of time: run it by hand in release mode,
/// `cargo test -p tally-grey --release --lib -- --ignored --nocapture million`.
#[test]
#[ignore]
fn figures_of_a_million_triples() {
    const N: u32 = 1_000_000;
    let mut g = grey("on");
    let sum = |tag: u8, i: u32| {
        let mut s = [tag; 16];
        s[..4].copy_from_slice(&i.to_le_bytes());
        tally_ck::Sum(s)
    };
    for i in 0..N {
        // half of them embargoed, half familiar, each with its body and
        // message checksums as a server stores them
        let tgts = if i % 2 == 0 { 1 } else { MANY };
        g.apply(&Change::Add(Record {
            ts: 1000 + u64::from(i),
            tgts,
            cks: vec![
                Ck::new(CkType::Body, sum(1, i)),
                Ck::new(CkType::GreyMsg, sum(2, i)),
                Ck::new(CkType::GreyTriple, sum(3, i)),
            ],
        }));
    }
    let time = |f: &dyn Fn() -> Figures| {
        let mut best = std::time::Duration::MAX;
        let mut got = Figures::default();
        for _ in 0..5 {
            let t = std::time::Instant::now();
            got = std::hint::black_box(f());
            best = best.min(t.elapsed());
        }
        (got, best)
    };
    let (walked, walk) = time(&|| g.figures_by_walk());
    let (kept, read) = time(&|| g.figures());
    assert_eq!(walked, kept);
    assert_eq!(kept.embargoed_triples + kept.familiar_triples, u64::from(N));
    println!(
        "{} triples, {} checksums: walk {:?}, kept counts {:?} (best of 5)",
        N, kept.checksums, walk, read
    );
}
