//! Tests of the report records.
use super::*;
use crate::flood::file::parse_line;
use tally_store::Pos;

fn peer(line: &str) -> Peer {
    parse_line(line, 1).unwrap()
}

fn entry(srvr_id: u16, tg: u32, path: Vec<u16>, cks: Vec<Ck>) -> LogEntry {
    LogEntry {
        pos: Pos(42),
        report: Report {
            ts: Ts::new(1_795_348_644, 266_432),
            srvr_id,
            tgts: tg,
            path,
            cks,
        },
    }
}

fn body(b: u8) -> Ck {
    Ck::new(CkType::Body, Sum([b; 16]))
}

#[test]
fn what_goes_to_a_peer() {
    let p = peer("h 1101");
    // ours, bulk: sent without a path
    let r = to_wire(
        &entry(1100, 20, vec![], vec![body(1)]),
        1100,
        &p,
        true,
        false,
    )
    .unwrap();
    assert_eq!((r.pos, r.tgts.0, r.srvr_id), (42, 20, 1100));
    assert_eq!(r.path(), Vec::<u16>::new());
    assert_eq!(r.ts.secs(), 1_795_348_644);
    // below the threshold: not sent, except by a greylist server
    assert!(to_wire(
        &entry(1100, 9, vec![], vec![body(1)]),
        1100,
        &p,
        true,
        false
    )
    .is_none());
    assert!(to_wire(
        &entry(1100, 1, vec![], vec![body(1)]),
        1100,
        &p,
        false,
        true
    )
    .is_some());
    // from another server: our ID goes first in the path
    let r = to_wire(
        &entry(1102, 20, vec![1103], vec![body(1)]),
        1100,
        &p,
        true,
        false,
    )
    .unwrap();
    assert_eq!(r.path(), vec![1100, 1103]);
    assert_eq!(r.cks[0].ty, CkType::EnvTo);
    // never back to where it came from
    assert!(to_wire(
        &entry(1101, 20, vec![], vec![body(1)]),
        1100,
        &p,
        true,
        false
    )
    .is_none());
    assert!(to_wire(
        &entry(1102, 20, vec![1101], vec![body(1)]),
        1100,
        &p,
        true,
        false
    )
    .is_none());
    // reputations only to peers that take them
    let rep = vec![body(1), Ck::new(CkType::GreyMsg, Sum([2; 16]))];
    assert_eq!(
        to_wire(&entry(1100, 20, vec![], rep.clone()), 1100, &p, true, false)
            .unwrap()
            .cks
            .len(),
        2
    );
    assert_eq!(
        to_wire(&entry(1100, 20, vec![], rep), 1100, &p, false, false)
            .unwrap()
            .cks
            .len(),
        1
    );
    // deletions: by default only with reputations; del and no-del decide
    let del = entry(1100, tgts::DEL, vec![], vec![body(1)]);
    assert!(to_wire(&del, 1100, &p, true, false).is_some());
    assert!(to_wire(&del, 1100, &p, false, false).is_none());
    assert!(to_wire(&del, 1100, &peer("h 1101 - del"), false, false).is_some());
    assert!(to_wire(&del, 1100, &peer("h 1101 - no-del"), true, false).is_none());
    // leaf=N as the original's code: not sent when the path, counting
    // ours, has N IDs or more; leaf=1 sends only our own reports, leaf=0
    // none (but claims)
    let leaf = |n: u8| peer(&format!("h 1101 - leaf={n}"));
    let own = entry(1100, 20, vec![], vec![body(1)]);
    let one_hop = entry(1102, 20, vec![], vec![body(1)]);
    let two_hops = entry(1102, 20, vec![1103], vec![body(1)]);
    assert!(to_wire(&own, 1100, &leaf(1), true, false).is_some());
    assert!(to_wire(&one_hop, 1100, &leaf(1), true, false).is_none());
    assert!(to_wire(&one_hop, 1100, &leaf(2), true, false).is_some());
    assert!(to_wire(&two_hops, 1100, &leaf(2), true, false).is_none());
    assert!(to_wire(&own, 1100, &leaf(0), true, false).is_none());
    let ours = entry(
        1100,
        1,
        vec![],
        vec![Ck::new(CkType::SrvrId, claim_sum("vm"))],
    );
    assert!(to_wire(&ours, 1100, &leaf(0), true, false).is_some());
    // the original's limit, 24, is accepted
    assert_eq!(leaf(24).out.leaf, Some(24));
    // translations: self->ok,all->reject sends only our own reports
    let only = peer("h 1101 - self->ok,all->reject");
    assert!(to_wire(
        &entry(1100, 20, vec![], vec![body(1)]),
        1100,
        &only,
        true,
        false
    )
    .is_some());
    assert!(to_wire(
        &entry(1102, 20, vec![], vec![body(1)]),
        1100,
        &only,
        true,
        false
    )
    .is_none());
}

fn wire(srvr_id: u16, tg: u32, path: &[u16], cks: &[(CkType, u8)]) -> FloodReport {
    let mut c: Vec<WireCk> = Vec::new();
    if !path.is_empty() {
        c.push(WireCk::new(CkType::EnvTo, path_sum(path)));
    }
    c.extend(cks.iter().map(|&(t, b)| WireCk::new(t, Sum([b; 16]))));
    FloodReport {
        pos: 100,
        tgts: Tgts(tg),
        srvr_id,
        ts: WireTs::new(1_795_348_644, 266_432),
        cks: c,
    }
}

#[test]
fn what_an_incoming_record_does() {
    let p = peer("h 1101");
    let all = |_: CkType| true;
    let body_only = |t: CkType| t == CkType::Body;
    match incoming(
        &wire(1102, 20, &[1101], &[(CkType::Body, 1)]),
        1100,
        &p,
        true,
        false,
        &all,
    ) {
        Incoming::Add(r) => {
            assert_eq!((r.srvr_id, r.tgts, r.path.clone()), (1102, 20, vec![1101]));
            assert_eq!(r.ts, Ts::new(1_795_348_644, 266_432));
        }
        other => panic!("{other:?}"),
    }
    // loops are stopped
    assert!(matches!(
        incoming(
            &wire(1100, 20, &[], &[(CkType::Body, 1)]),
            1100,
            &p,
            true,
            false,
            &all
        ),
        Incoming::Skip(_)
    ));
    assert!(matches!(
        incoming(
            &wire(1102, 20, &[1100], &[(CkType::Body, 1)]),
            1100,
            &p,
            true,
            false,
            &all
        ),
        Incoming::Skip(_)
    ));
    // timestamps records are ignored; nothing kept is skipped
    assert!(matches!(
        incoming(
            &wire(99, 1, &[], &[(CkType::SrvrId, 1)]),
            1100,
            &p,
            true,
            false,
            &all
        ),
        Incoming::Skip(_)
    ));
    assert!(matches!(
        incoming(
            &wire(1102, 20, &[], &[(CkType::Fuz1, 1)]),
            1100,
            &p,
            true,
            false,
            &body_only
        ),
        Incoming::Skip(_)
    ));
    // traps: counts become many
    let traps = peer("h 1101 - - traps");
    match incoming(
        &wire(1101, 20, &[], &[(CkType::Body, 1)]),
        1100,
        &traps,
        true,
        false,
        &all,
    ) {
        Incoming::Add(r) => assert_eq!(r.tgts, tgts::MANY),
        other => panic!("{other:?}"),
    }
    // deletions: accepted with reputations or del, refused otherwise
    let d = wire(1101, tgts::DEL, &[], &[(CkType::Body, 1)]);
    assert!(matches!(
        incoming(&d, 1100, &p, true, false, &all),
        Incoming::Delete(_)
    ));
    assert!(matches!(
        incoming(&d, 1100, &p, false, false, &all),
        Incoming::Skip(_)
    ));
    assert!(matches!(
        incoming(&d, 1100, &peer("h 1101 - - del"), false, false, &all),
        Incoming::Delete(_)
    ));
    assert!(matches!(
        incoming(&d, 1100, &peer("h 1101 - - no-del"), true, false, &all),
        Incoming::Skip(_)
    ));
    // bad counts end the stream
    assert_eq!(
        incoming(
            &wire(1101, 0x00ff_fff5, &[], &[(CkType::Body, 1)]),
            1100,
            &p,
            true,
            false,
            &all
        ),
        Incoming::Close("bogus target count 0xfffff5 in report 1795348644.266432 ID=1101".into())
    );
    // translations: rejected IDs skipped, self: the report becomes ours
    let tr = peer("h 1101 - - 1102->reject,1103->self");
    assert!(matches!(
        incoming(
            &wire(1102, 20, &[], &[(CkType::Body, 1)]),
            1100,
            &tr,
            true,
            false,
            &all
        ),
        Incoming::Skip(_)
    ));
    match incoming(
        &wire(1103, 20, &[], &[(CkType::Body, 1)]),
        1100,
        &tr,
        true,
        false,
        &all,
    ) {
        Incoming::Add(r) => assert_eq!((r.srvr_id, r.path), (1100, vec![1101])),
        other => panic!("{other:?}"),
    }
}

#[test]
fn stream_decoding() {
    let mut b = Vec::new();
    wire(1101, 20, &[1102], &[(CkType::Body, 1)]).encode_into(&mut b);
    let (r, n) = decode_in(&b, 0).unwrap().unwrap();
    assert_eq!(n, b.len());
    assert_eq!(r.path(), vec![1102]);
    for cut in 0..b.len() {
        assert_eq!(decode_in(&b[..cut], 0), Ok(None), "cut {cut}");
    }
    b[0..8].copy_from_slice(&3u64.to_be_bytes());
    assert_eq!(
        decode_in(&b, 7),
        Err("bogus position 0x3 in flooded report #7".into())
    );
}

#[test]
fn stale_and_future_reports() {
    let r = wire(1101, 20, &[], &[(CkType::Body, 1)]);
    let t = r.ts.secs();
    assert_eq!(timely(&r, t), Ok(()));
    assert_eq!(timely(&r, t + STALE_SECS - 1), Ok(()));
    assert!(timely(&r, t + STALE_SECS + 1)
        .unwrap_err()
        .starts_with("stale report"));
    assert!(timely(&r, t - MAX_CLOCK_SKEW - 1)
        .unwrap_err()
        .starts_with("future report"));
    // server-ID claims and deletions are never stale
    let claim = wire(1101, 1, &[], &[(CkType::SrvrId, 1)]);
    assert_eq!(timely(&claim, t + 10 * STALE_SECS), Ok(()));
}

#[test]
fn server_id_claims() {
    let p = peer("h 1101");
    let claim = |id: u16| {
        entry(
            id,
            1,
            vec![],
            vec![Ck::new(CkType::SrvrId, claim_sum("vm"))],
        )
    };
    // ours, whatever its count; the peer's own claim goes back to it, and
    // so does a claim that passed through it
    assert!(to_wire(&claim(1100), 1100, &p, true, false).is_some());
    let back = to_wire(&claim(1101), 1100, &p, true, false).unwrap();
    assert_eq!(back.path(), vec![1100]);
    let mut through = claim(1102);
    through.report.path = vec![1101];
    let back = to_wire(&through, 1100, &p, true, false).unwrap();
    assert_eq!(back.path(), vec![1100, 1101]);
    // but not an ordinary report
    let mut rpt = entry(1102, 20, vec![1101], vec![body(1)]);
    assert!(to_wire(&rpt, 1100, &p, true, false).is_none());
    rpt.report.path = vec![1103];
    assert!(to_wire(&rpt, 1100, &p, true, false).is_some());
    // our claim from another host is noticed; from ours, just skipped
    let mut w = wire(1100, 1, &[1101], &[]);
    w.cks.push(WireCk::new(CkType::SrvrId, claim_sum("other")));
    let all = |_: CkType| true;
    assert!(matches!(
        incoming_for(&w, 1100, Some("vm"), &p, true, false, &all),
        Incoming::Claimed(t) if t.starts_with("host other claimed our server-ID 1100")
    ));
    w.cks[1] = WireCk::new(CkType::SrvrId, claim_sum("vm"));
    assert!(matches!(
        incoming_for(&w, 1100, Some("vm"), &p, true, false, &all),
        Incoming::Skip(_)
    ));
    // another server's claim is kept even where server-IDs are not
    let body_only = |t: CkType| t == CkType::Body;
    let mut w = wire(1102, 1, &[], &[]);
    w.cks.push(WireCk::new(CkType::SrvrId, claim_sum("x")));
    assert!(matches!(
        incoming(&w, 1100, &p, true, false, &body_only),
        Incoming::Add(_)
    ));
}

#[test]
fn records_older_than_a_day_are_not_sent() {
    let e = entry(1100, 20, vec![], vec![body(1)]);
    let t = e.report.ts.secs();
    assert!(!too_old_to_send(&e.report, t));
    assert!(!too_old_to_send(&e.report, t + STALE_SECS));
    assert!(too_old_to_send(&e.report, t + STALE_SECS + 1));
    // claims and deletions too, as the original
    let del = entry(1100, tgts::DEL, vec![], vec![body(1)]);
    assert!(too_old_to_send(&del.report, t + 2 * STALE_SECS));
}
