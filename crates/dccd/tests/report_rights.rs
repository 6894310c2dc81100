//! What a client's entry in `ids` changes in the answers (audit findings
//! 5 and 8), against a socketless server: a client marked `no-reps` gets
//! `0` with the "no value" marker for both reputation types; with `-Q` a
//! REPORT with a bogus target count is answered as a query, and only the
//! reports answered as queries count as "reports rejected" (not those of
//! `rpt-ok` clients).

mod common;

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::time::Instant;

use common::{ids_text, socketless_server};
use tally_ck::{CkType, Sum};
use tally_dccd::server::{Action, Server};
use tally_wire::header::ID_ANON;
use tally_wire::packet::{CkRequest, Expect, Packet, Request, Response};
use tally_wire::response::Answer;
use tally_wire::sign::{Passwd, Signer};
use tally_wire::{OpNums, Tgts, WireCk};

const NO_REPS: u32 = 32801;
const RPT_OK: u32 = 32802;
const INV: u32 = 0x0100_0000;

/// A server whose ids file adds a `no-reps` and an `rpt-ok` client.
fn server(tag: &str, extra: &[&str]) -> (Server, std::path::PathBuf) {
    socketless_server(tag, extra, |home| {
        let mut ids = ids_text();
        ids.extend_from_slice(b"32801,no-reps\tnorepspw\n32802,rpt-ok\trptokpw\n");
        let path = home.join("ids");
        std::fs::write(&path, ids).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    })
}

/// IP, Body, rep-total and rep checksums of message `m`.
fn cks(m: u8) -> Vec<WireCk> {
    let s = |b: u8| Sum([b ^ m; 16]);
    vec![
        WireCk::new(CkType::Ip, s(1)),
        WireCk::new(CkType::Body, s(7)),
        WireCk::new(CkType::GreyMsg, s(1)),
        WireCk::new(CkType::GreyTriple, s(1)),
    ]
}

/// A REPORT (`tgts` > 0) or QUERY of message `m` from `id`: its count
/// pairs, or None when it is dropped.
fn ask(s: &mut Server, id: u32, r: u32, tgts: u32, m: u8) -> Option<Vec<(u32, u32)>> {
    let req = CkRequest {
        tgts: Tgts(tgts),
        cks: cks(m),
    };
    let body = if tgts == 0 {
        Request::Query(req)
    } else {
        Request::Report(req)
    };
    let pw = match id {
        NO_REPS => Some("norepspw"),
        RPT_OK => Some("rptokpw"),
        32800 => Some("vectorclientpw"),
        _ => None,
    };
    let pw = pw.and_then(|p| Passwd::new(p.as_bytes()));
    let mut p = Packet::request(12, id, OpNums::from_le_words(5, 5, r, 1), body.clone());
    let bytes = p.sign(&Signer::for_request(id, pw.as_ref()));
    let from: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    match s.handle(&bytes, from, Instant::now()) {
        Action::Drop => None,
        Action::Send(a, _) => match Packet::<Response>::decode(&a, Expect::for_request(&body))
            .unwrap()
            .body
        {
            Response::Answer(Answer::Pairs(v)) => Some(v.iter().map(|p| (p.c.0, p.p.0)).collect()),
            other => panic!("{other:?}"),
        },
    }
}

#[test]
fn no_reps_client_gets_no_reputations() {
    let (mut s, home) = server("noreps", &[]);
    // a known client's report records its reputations
    let a = ask(&mut s, 32800, 1, 1, 0).unwrap();
    assert_eq!(a, [(0, INV), (1, 0), (1, 0), (0, 0)]);
    let a = ask(&mut s, NO_REPS, 2, 1, 0).unwrap();
    assert_eq!(a, [(0, INV), (2, 1), (0, INV), (0, INV)]);
    let a = ask(&mut s, NO_REPS, 3, 0, 0).unwrap();
    assert_eq!(a, [(0, INV), (2, 2), (0, INV), (0, INV)]);
    // the others still see the reputation total, anonymous clients too
    assert_eq!(ask(&mut s, 32800, 4, 0, 0).unwrap()[2], (1, 1));
    assert_eq!(ask(&mut s, ID_ANON, 5, 0, 0).unwrap()[2], (1, 1));
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn query_only_answers_bogus_reports_as_queries() {
    let (mut s, home) = server("qonly", &["-Q"]);
    // not counted: answered as a query, whatever the count says
    assert_eq!(ask(&mut s, 32800, 1, 5000, 1).unwrap()[1], (0, 0));
    assert_eq!(ask(&mut s, 32800, 2, 3, 1).unwrap()[1], (0, 0));
    // rpt-ok: counted, and a bogus count is still dropped
    assert_eq!(ask(&mut s, RPT_OK, 3, 3, 1).unwrap()[1], (3, 0));
    assert_eq!(ask(&mut s, RPT_OK, 4, 5000, 1), None);
    assert_eq!(s.stats.report_reject, 2);
    let _ = std::fs::remove_dir_all(&home);
}
