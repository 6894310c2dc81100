use super::*;
use proptest::prelude::*;
use tally_ck::Sum;

fn ck(ty: CkType, b: u8) -> Ck {
    Ck::new(ty, Sum([b; 16]))
}

/// A message from IP `ip` with body `body` for triple `t` (msg checksum
/// derived from body and triple).
fn msg(ip: u8, body: u8, t: u8) -> Vec<Ck> {
    vec![
        ck(CkType::Ip, ip),
        ck(CkType::EnvFrom, 100),
        ck(CkType::Body, body),
        ck(CkType::Fuz1, body),
        ck(CkType::GreyMsg, body ^ t.rotate_left(4)),
        ck(CkType::GreyTriple, t),
    ]
}

fn grey(arg: &str) -> Grey {
    Grey::new(Params::default().parse_arg(arg).unwrap())
}

fn ans(g: &mut Grey, op: GreyOp, cks: &[Ck], now: u64) -> (u32, u32) {
    let a = g.work(&Request::new(op, cks), now).unwrap();
    (a.msg, a.triple)
}

fn spam(g: &mut Grey, cks: &[Ck], now: u64) {
    let find = |t| *cks.iter().find(|c| c.ty == t).unwrap();
    let ch = g.spam(
        &find(CkType::Ip),
        &find(CkType::GreyMsg),
        &find(CkType::GreyTriple),
        now,
    );
    for c in &ch {
        g.apply(c);
    }
}

#[test]
fn recorded_sequence() {
    // the life of msg1 in the recorded vectors (embargo 20 s)
    let mut g = grey("on,20");
    let m1 = msg(1, 1, 1);
    assert_eq!(ans(&mut g, GreyOp::Report, &m1, 746), (0, 0));
    assert_eq!(ans(&mut g, GreyOp::Report, &m1, 752), (1, 1));
    assert_eq!(ans(&mut g, GreyOp::Query, &m1, 753), (1, 2));
    assert_eq!(
        ans(&mut g, GreyOp::Query, &m1, 753),
        (1, 2),
        "queries record nothing"
    );
    let w = msg(2, 1, 2);
    assert_eq!(ans(&mut g, GreyOp::White, &w, 754), (0, MANY));
    assert_eq!(
        ans(&mut g, GreyOp::Report, &w, 755),
        (0, MANY),
        "whitelisted triple is familiar"
    );
    let m2 = msg(1, 3, 3);
    assert_eq!(ans(&mut g, GreyOp::Report, &m2, 763), (0, 0));
    spam(&mut g, &m2, 763);
    assert_eq!(ans(&mut g, GreyOp::Report, &m1, 777), (1, OK));
    spam(&mut g, &m1, 777);
    assert_eq!(
        ans(&mut g, GreyOp::Report, &m1, 779),
        (0, 0),
        "GREY_SPAM restored the embargo"
    );
    // msg4
    let m4 = msg(4, 4, 4);
    assert_eq!(ans(&mut g, GreyOp::Report, &m4, 789), (0, 0));
    assert_eq!(ans(&mut g, GreyOp::Report, &m4, 811), (1, OK));
    assert_eq!(ans(&mut g, GreyOp::Report, &m4, 812), (0, MANY));
}

#[test]
fn embargo_needs_the_same_body() {
    let mut g = grey("on,20");
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 100), (0, 0));
    // another body for the same triple: a new embargo for that body
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 2, 1), 200), (0, 0));
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 2, 1), 210), (1, 1));
    // the first body, retried long after: its embargo is over
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 220).1, OK);
    // exactly at the end of the embargo it is not over yet
    let mut g = grey("on,20");
    ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 100);
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 120).1, 1);
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 121).1, OK);
}

#[test]
fn weak_body() {
    let mut g = grey("weak-body,20");
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 100), (0, 0));
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 2, 1), 130).1, OK);
    // no body needed
    let only = [ck(CkType::GreyTriple, 9)];
    assert_eq!(ans(&mut g, GreyOp::Report, &only, 100), (0, 0));
}

#[test]
fn weak_ip() {
    let mut g = grey("on,weak-IP,20");
    ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 100);
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 130).1, OK);
    // another triple from the same IP address passes at once
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 5, 7), 131).1, MANY);
    // and weak-IP whitelisting is honoured after weak-IP is turned off
    g.set_params(Params::default().parse_arg("on,20").unwrap());
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 6, 8), 132).1, MANY);
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(2, 6, 9), 132).1, 0);
}

#[test]
fn embargo_zero_collects_names() {
    let mut g = grey("0");
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 100), (0, MANY));
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 101), (0, MANY));
}

/// The original's ERROR texts: its names of the checksum types (`Grey3`,
/// `Grey_Msg`) and of the operations (`GREYLIST REPORT` ...).
#[test]
fn missing_checksums_are_errors() {
    let g = grey("on");
    let no_triple: Vec<Ck> = msg(1, 1, 1)
        .into_iter()
        .filter(|c| c.ty != CkType::GreyTriple)
        .collect();
    for (op, name) in [
        (GreyOp::Query, "GREYLIST QUERY"),
        (GreyOp::Report, "GREYLIST REPORT"),
        (GreyOp::White, "GREYLIST WHITELIST"),
    ] {
        let e = g.decide(&Request::new(op, &no_triple), 1).unwrap_err();
        assert_eq!(e.0, format!("missing Grey3 checksum for {name}"));
    }
    let no_body: Vec<Ck> = msg(1, 1, 1)
        .into_iter()
        .filter(|c| c.ty != CkType::Body)
        .collect();
    assert_eq!(
        g.decide(&Request::new(GreyOp::Report, &no_body), 1)
            .unwrap_err()
            .0,
        "missing body checksum for GREYLIST REPORT"
    );
    // a query needs neither
    assert!(g.decide(&Request::new(GreyOp::Query, &no_body), 1).is_ok());
    let no_msg: Vec<Ck> = msg(1, 1, 1)
        .into_iter()
        .filter(|c| c.ty != CkType::GreyMsg)
        .collect();
    assert_eq!(
        g.decide(&Request::new(GreyOp::Report, &no_msg), 1)
            .unwrap_err()
            .0,
        "missing Grey_Msg checksum for GREYLIST REPORT"
    );
    // with weak-body a report needs neither either
    let w = grey("weak-body,on");
    assert!(w.decide(&Request::new(GreyOp::Report, &no_msg), 1).is_ok());
}

#[test]
fn grey_whitelist() {
    let mut g = grey("on,20");
    g.set_whitelist(&[(ck(CkType::EnvFrom, 100), GREY_WHITE)]);
    let d = g
        .decide(&Request::new(GreyOp::Report, &msg(1, 1, 1)), 100)
        .unwrap();
    assert!(d.grey_white);
    assert_eq!(d.outcome, Outcome::Whitelisted);
    assert_eq!((d.answer.msg, d.answer.triple), (0, MANY));
}

#[test]
fn white_ends_a_running_embargo() {
    let mut g = grey("on,20");
    ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 100);
    assert_eq!(ans(&mut g, GreyOp::White, &msg(1, 1, 1), 101), (1, OK));
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 102), (0, MANY));
}

#[test]
fn message_from_a_second_ip_after_acceptance() {
    // the msg checksum is many after acceptance; the same message from a
    // new IP address is a new embargo and must be reported again (msg 0)
    let mut g = grey("on,20");
    ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 100);
    ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 130);
    let other = {
        let mut m = msg(1, 1, 1);
        m[0] = ck(CkType::Ip, 2);
        m[5] = ck(CkType::GreyTriple, 2);
        m
    };
    let d = g
        .decide(&Request::new(GreyOp::Report, &other), 131)
        .unwrap();
    assert_eq!((d.answer.msg, d.answer.triple), (0, 0));
    assert!(matches!(d.changes[0], Change::Delete { ck, .. } if ck.ty == CkType::GreyMsg));
    for c in &d.changes {
        g.apply(c);
    }
    assert_eq!(ans(&mut g, GreyOp::Report, &other, 132), (1, 1));
}

#[test]
fn query_only_clients_do_not_record() {
    let g = grey("on");
    let cks = msg(1, 1, 1);
    let mut r = Request::new(GreyOp::Report, &cks);
    r.may_record = false;
    let d = g.decide(&r, 1).unwrap();
    assert!(d.changes.is_empty() && !d.recorded);
}

#[test]
fn expiry() {
    let mut g = grey("on,20,1h,2h");
    ans(&mut g, GreyOp::Report, &msg(1, 1, 1), 100);
    ans(&mut g, GreyOp::Report, &msg(2, 2, 2), 100);
    ans(&mut g, GreyOp::Report, &msg(2, 2, 2), 200);
    assert_eq!(g.figures().embargoed_triples, 1);
    assert_eq!(g.figures().familiar_triples, 1);
    // the embargo record of triple 1 goes after the window
    assert!(g.clean(100 + 3600) == 0);
    assert!(g.clean(100 + 3601) >= 1);
    assert_eq!(g.figures().embargoed_triples, 0);
    assert_eq!(ans(&mut g, GreyOp::Query, &msg(1, 1, 1), 4000), (0, 0));
    // the familiar triple stays for the white time after its last message
    assert_eq!(ans(&mut g, GreyOp::Query, &msg(2, 2, 2), 4000).1, MANY);
    g.clean(200 + 7201);
    assert_eq!(ans(&mut g, GreyOp::Query, &msg(2, 2, 2), 8000).1, 0);
}

#[test]
fn auto_white_ip() {
    let mut g = grey("on,auto-white-IP=2,20");
    for t in [1, 2] {
        ans(&mut g, GreyOp::Report, &msg(9, t, t), 100);
        assert_eq!(ans(&mut g, GreyOp::Report, &msg(9, t, t), 130).1, OK);
    }
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(9, 3, 3), 131).1, MANY);
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(8, 3, 4), 131).1, 0);
    // off by default
    let mut g = grey("on,20");
    for t in [1, 2, 3] {
        ans(&mut g, GreyOp::Report, &msg(9, t, t), 100);
        ans(&mut g, GreyOp::Report, &msg(9, t, t), 130);
    }
    assert_eq!(ans(&mut g, GreyOp::Report, &msg(9, 4, 4), 131).1, 0);
}

#[derive(Debug, Clone)]
enum Step {
    Req(GreyOp, u8, u8, u8, u64),
    Spam(u8, u8, u8, u64),
    Clean(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let op = prop_oneof![
        Just(GreyOp::Report),
        Just(GreyOp::Query),
        Just(GreyOp::White)
    ];
    prop_oneof![
        8 => (op, 0u8..3, 0u8..3, 0u8..4, 0u64..40).prop_map(|(o, i, b, t, dt)| Step::Req(o, i, b, t, dt)),
        1 => (0u8..3, 0u8..3, 0u8..4, 0u64..40).prop_map(|(i, b, t, dt)| Step::Spam(i, b, t, dt)),
        1 => (0u64..200).prop_map(Step::Clean),
    ]
}

fn params() -> impl Strategy<Value = Params> {
    (
        any::<bool>(),
        any::<bool>(),
        0u32..30,
        prop::option::of(1u32..3),
    )
        .prop_map(|(wb, wi, e, a)| Params {
            embargo: e,
            window: 60,
            white: 120,
            weak_body: wb,
            weak_ip: wi,
            auto_white_ip: a,
        })
}

proptest! {
    /// Replaying what was persisted rebuilds a database that decides the
    /// same; an embargo never ends before `embargo` seconds.
    #[test]
    fn replay_and_embargo(p in params(), steps in prop::collection::vec(step(), 1..60)) {
        let mut g = Grey::new(p);
        let mut log: Vec<Change> = Vec::new();
        let mut now = 1000u64;
        let mut first_seen: std::collections::HashMap<u8, u64> = Default::default();
        for s in &steps {
            match *s {
                Step::Req(op, i, b, t, dt) => {
                    now += dt;
                    let cks = msg(i, b, t);
                    let d = g.decide(&Request::new(op, &cks), now).unwrap();
                    if d.answer.triple == OK && op == GreyOp::Report && g.total(&cks[0]) != MANY {
                        let first = first_seen.get(&t).copied();
                        prop_assert!(first.is_some_and(|f| f + u64::from(p.embargo) < now),
                            "embargo ended early: {:?} at {}", first, now);
                    }
                    if op == GreyOp::Report && d.recorded {
                        first_seen.entry(t).or_insert(now);
                    }
                    for c in &d.changes { g.apply(c); }
                    log.extend(d.changes);
                    prop_assert_eq!(g.figures(), g.figures_by_walk());
                }
                Step::Spam(i, b, t, dt) => {
                    now += dt;
                    let cks = msg(i, b, t);
                    let ch = g.spam(&cks[0], &cks[4], &cks[5], now);
                    if ch.iter().any(|c| matches!(c, Change::Delete{ck,..} if ck.ty == CkType::GreyTriple)) {
                        first_seen.remove(&t);
                    }
                    for c in &ch { g.apply(c); }
                    log.extend(ch);
                    prop_assert_eq!(g.figures(), g.figures_by_walk());
                }
                Step::Clean(_) => {}
            }
        }
        let mut r = Grey::new(p);
        for c in &log { r.apply(c); }
        prop_assert_eq!(r.figures(), g.figures());
        prop_assert_eq!(r.figures(), r.figures_by_walk());
        for i in 0..3u8 { for b in 0..3u8 { for t in 0..4u8 {
            let cks = msg(i, b, t);
            for op in [GreyOp::Report, GreyOp::Query, GreyOp::White] {
                let req = Request::new(op, &cks);
                prop_assert_eq!(r.decide(&req, now + 5), g.decide(&req, now + 5));
            }
        }}}
    }

    /// Arbitrary checksum lists never panic.
    #[test]
    fn no_panic(p in params(), cks in prop::collection::vec((1u8..14, 0u8..3), 0..14), t in 0u64..100) {
        let mut g = Grey::new(p);
        let cks: Vec<Ck> = cks.into_iter().filter_map(|(ty, b)| CkType::from_number(ty).map(|ty| ck(ty, b))).collect();
        for op in [GreyOp::Report, GreyOp::Query, GreyOp::White] {
            let _ = g.work(&Request::new(op, &cks), t);
        }
        g.clean(t + 1000);
    }

    /// Expiry keeps exactly what the rule says: after a cleaning, a
    /// database rebuilt from the surviving records decides the same.
    #[test]
    fn clean_is_consistent(p in params(), steps in prop::collection::vec(step(), 1..40)) {
        let mut g = Grey::new(p);
        let mut now = 1000u64;
        for s in &steps {
            match *s {
                Step::Req(op, i, b, t, dt) => { now += dt; let _ = g.work(&Request::new(op, &msg(i, b, t)), now); }
                Step::Spam(i, b, t, dt) => {
                    now += dt;
                    let cks = msg(i, b, t);
                    for c in g.spam(&cks[0], &cks[4], &cks[5], now) { g.apply(&c); }
                }
                Step::Clean(dt) => { now += dt; g.clean(now); }
            }
            prop_assert_eq!(g.figures(), g.figures_by_walk());
        }
        let f = g.figures();
        prop_assert!(f.records <= 2 * steps.len() as u64);
    }
}

mod figures;
