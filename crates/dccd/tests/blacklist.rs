//! The `blacklist` file applied to requests, against a socketless server
//! whose table is set directly: requests from a listed address are
//! dropped without an answer (NOPs and `cdcc` requests too), `ok` lines
//! punch holes (the last line that covers an address decides), `no-anon`
//! drops only anonymous and unauthenticated clients, the drops are
//! counted in `cdcc stats` and the clients marked in `cdcc clients`.

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use tally_ck::{CkType, Sum};
use tally_dccd::blacklist::Blacklist;
use tally_dccd::server::{Action, Server};
use tally_wire::admn::{AdmnRequest, Aop};
use tally_wire::clients::{flags, ClientAddr};
use tally_wire::header::ID_ANON;
use tally_wire::packet::{CkRequest, Expect, Packet, Request, Response};
use tally_wire::response::AdmnAnswer;
use tally_wire::sign::{Passwd, Signer};
use tally_wire::{OpNums, Tgts, WireCk};

use common::{passwd, socketless_server, unix_secs as now};

fn server(tag: &str) -> (Server, std::path::PathBuf) {
    socketless_server(tag, &[], |_| {})
}

fn listing(s: &mut Server, text: &str) {
    let (t, problems) = Blacklist::from_text(text.as_bytes(), "blacklist");
    assert!(problems.is_empty(), "{problems:?}");
    s.blacklist = t;
}

/// Send `body` from `id` at `ip` (signed with `pw`, or the ID's password
/// in the ids file, unsigned when anonymous): the answer, if any.
fn ask_as(
    s: &mut Server,
    id: u32,
    pw: Option<Passwd>,
    ip: &str,
    body: Request,
) -> Option<Response> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut p = Packet::request(12, id, OpNums::from_le_words(7, 7, n, 1), body.clone());
    let bytes = p.sign(&Signer::for_request(id, pw.as_ref()));
    let from: SocketAddr = format!("{ip}:{}", 5000 + n % 1000).parse().unwrap();
    match s.handle(&bytes, from, Instant::now()) {
        Action::Drop => None,
        Action::Send(a, _) => Some(
            Packet::<Response>::decode(&a, Expect::for_request(&body))
                .unwrap()
                .body,
        ),
    }
}

fn ask(s: &mut Server, id: u32, ip: &str, body: Request) -> Option<Response> {
    ask_as(s, id, passwd(id), ip, body)
}

fn query() -> Request {
    Request::Query(CkRequest {
        tgts: Tgts(0),
        cks: vec![WireCk::new(CkType::Body, Sum([0x44; 16]))],
    })
}

/// Who gets answered from 127.0.0.1: (signed client, anonymous client).
fn answered(s: &mut Server) -> (bool, bool) {
    (
        ask(s, 32800, "127.0.0.1", query()).is_some(),
        ask(s, ID_ANON, "127.0.0.1", query()).is_some(),
    )
}

#[test]
fn listed_addresses_are_ignored_and_ok_lines_punch_holes() {
    let (mut s, home) = server("bl-holes");
    assert_eq!(answered(&mut s), (true, true));
    listing(&mut s, "# no line covers the client\n10.0.0.0/16\n");
    assert_eq!(answered(&mut s), (true, true));
    listing(&mut s, "127.0.0.1\n");
    assert_eq!(answered(&mut s), (false, false));
    // NOPs and cdcc's requests from there are dropped too
    assert!(ask(&mut s, 32800, "127.0.0.1", Request::Nop).is_none());
    let stats = Request::Admn(AdmnRequest::new(now(), Aop::Stats, 1460));
    assert!(ask(&mut s, 1100, "127.0.0.1", stats.clone()).is_none());
    // the rest of the block is not
    assert!(ask(&mut s, 32800, "127.0.0.2", query()).is_some());
    // the last line covering an address decides
    listing(&mut s, "127.0.0.0/16\nok 127.0.0.1\n");
    assert_eq!(answered(&mut s), (true, true));
    assert!(ask(&mut s, 32800, "127.0.0.2", query()).is_none());
    listing(&mut s, "ok 127.0.0.1\n127.0.0.0/16\n");
    assert_eq!(answered(&mut s), (false, false));
    listing(&mut s, "127.0.0.0-127.0.0.9\nok,trace 127.0.0.1\n");
    assert_eq!(answered(&mut s), (true, true));
    // IPv4-mapped senders are their IPv4 address
    listing(&mut s, "127.0.0.1\n");
    assert!(ask(&mut s, 32800, "[::ffff:127.0.0.1]", query()).is_none());
    // an empty table again: all answered
    s.blacklist = Blacklist::default();
    assert_eq!(answered(&mut s), (true, true));
    assert!(ask(&mut s, 1100, "127.0.0.1", stats).is_some());
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn no_anon_drops_only_unauthenticated_clients() {
    let (mut s, home) = server("bl-noanon");
    listing(&mut s, "no-anon 127.0.0.0/24\n");
    assert_eq!(answered(&mut s), (true, false));
    // an unknown ID and a bad password count as anonymous
    assert!(ask(&mut s, 40000, "127.0.0.1", query()).is_none());
    let wrong = Passwd::new(b"wrongpw");
    assert!(ask_as(&mut s, 32800, wrong, "127.0.0.1", query()).is_none());
    // the server's own ID is authenticated for NOPs and cdcc requests
    assert!(ask(&mut s, 1100, "127.0.0.1", Request::Nop).is_some());
    assert!(ask(&mut s, ID_ANON, "127.0.0.1", Request::Nop).is_none());
    // `ok` with `no-anon` is a conflict, and the line is `ok`
    let (t, problems) = Blacklist::from_text(b"127.0.0.0/24\nok,no-anon 127.0.0.1\n", "bl");
    assert_eq!(problems.len(), 1);
    s.blacklist = t;
    assert_eq!(answered(&mut s), (true, true));
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn drops_are_counted_and_clients_marked() {
    let (mut s, home) = server("bl-marked");
    listing(&mut s, "127.0.0.2\n");
    let (bad_op, blist, nops) = (s.stats.bad_op, s.stats.blist, s.stats.nops);
    assert!(ask(&mut s, 32800, "127.0.0.2", Request::Nop).is_none());
    assert!(ask(&mut s, 32800, "127.0.0.2", query()).is_none());
    assert!(ask(&mut s, ID_ANON, "127.0.0.2", query()).is_none());
    assert_eq!(s.stats.bad_op - bad_op, 3);
    assert_eq!(s.stats.blist - blist, 3);
    assert_eq!(s.stats.nops - nops, 1);
    assert!(ask(&mut s, 32800, "127.0.0.1", query()).is_some());
    // `cdcc clients` from 127.0.0.1
    let mut a = AdmnRequest::new(now(), Aop::Clients, 0);
    a.val2 = (1460u32 >> 5) as u8;
    let entries = match ask(&mut s, 1100, "127.0.0.1", Request::Admn(a)) {
        Some(Response::Admn(AdmnAnswer::Clients(e))) => e,
        other => panic!("{other:?}"),
    };
    let of = |ip: [u8; 4], id: Option<u64>| {
        entries
            .iter()
            .find(|e| e.addr == ClientAddr::V4(ip) && e.id == id)
            .unwrap_or_else(|| panic!("{ip:?} {id:?}: {entries:?}"))
    };
    let signed = of([127, 0, 0, 2], Some(32800));
    assert_eq!(
        signed.flags & (flags::BLACK | flags::DROPPED),
        flags::BLACK | flags::DROPPED
    );
    assert_eq!((signed.reqs, signed.nops), (2, 1));
    let anon = of([127, 0, 0, 2], None);
    assert_ne!(anon.flags & flags::BLACK, 0);
    assert_eq!(of([127, 0, 0, 1], Some(32800)).flags & flags::BLACK, 0);
    // unlisted again: the next request clears the mark
    s.blacklist = Blacklist::default();
    assert!(ask(&mut s, 32800, "127.0.0.2", query()).is_some());
    let mut a = AdmnRequest::new(now(), Aop::Clients, 0);
    a.val2 = (1460u32 >> 5) as u8;
    let entries = match ask(&mut s, 1100, "127.0.0.1", Request::Admn(a)) {
        Some(Response::Admn(AdmnAnswer::Clients(e))) => e,
        other => panic!("{other:?}"),
    };
    let e = entries
        .iter()
        .find(|e| e.addr == ClientAddr::V4([127, 0, 0, 2]) && e.id == Some(32800))
        .unwrap();
    assert_eq!(e.flags & flags::BLACK, 0);
    assert_ne!(e.flags & flags::DROPPED, 0, "dropped until stats clear");
    let _ = std::fs::remove_dir_all(home);
}
