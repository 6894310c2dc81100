//! Requests refused as the original's dccd refuses them, against a
//! socketless server: with `-u FOREVER`, or once their delay reaches 4 s,
//! the NOPs and `cdcc stats` of unauthenticated clients are dropped as
//! well as their queries; an unknown ADMN operation and TRACE ON without
//! bits get the original's ERRORs; a DELETE's date is checked before its
//! length.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tally_ck::{CkType, Sum};
use tally_dccd::server::{Action, Server};
use tally_wire::admn::{AdmnRequest, Aop};
use tally_wire::header::ID_ANON;
use tally_wire::packet::{CkRequest, Delete, Expect, Packet, Request, Response};
use tally_wire::sign::{Passwd, Signer};
use tally_wire::{OpNums, Tgts, WireCk};

use common::{passwd, socketless_server, unix_secs as now};

fn server(tag: &str, extra: &[&str]) -> (Server, std::path::PathBuf) {
    socketless_server(tag, extra, |_| {})
}

/// Send `body` from `id` signed with `pw` (unsigned without); the answer
/// and its delay, if any.
fn ask_pw(
    s: &mut Server,
    id: u32,
    pw: Option<Passwd>,
    body: Request,
) -> Option<(Response, Duration)> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut p = Packet::request(12, id, OpNums::from_le_words(8, 8, n, 1), body.clone());
    let bytes = p.sign(&Signer::for_request(id, pw.as_ref()));
    let from: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    match s.handle(&bytes, from, Instant::now()) {
        Action::Drop => None,
        Action::Send(a, delay) => {
            let r = Packet::<Response>::decode(&a, Expect::for_request(&body)).unwrap();
            Some((r.body, delay))
        }
    }
}

/// [`ask_pw`] with the ID's own password.
fn ask(s: &mut Server, id: u32, body: Request) -> Option<(Response, Duration)> {
    ask_pw(s, id, passwd(id), body)
}

fn stats() -> Request {
    Request::Admn(AdmnRequest::new(now(), Aop::Stats, 1460))
}

fn query() -> Request {
    Request::Query(CkRequest {
        tgts: Tgts(1),
        cks: vec![WireCk::new(CkType::Body, Sum([0x44; 16]))],
    })
}

fn error_text(r: Option<(Response, Duration)>) -> String {
    match r {
        Some((Response::Error(t), _)) => String::from_utf8(t).unwrap(),
        other => panic!("{other:?}"),
    }
}

/// dccd(8): FOREVER turns anonymous access off for `cdcc stats` too;
/// the original drops every request of an anonymous client, an unknown
/// ID or a bad password ("max anon delay drop") and counts it as a bad
/// operation.
#[test]
fn forever_drops_everything_unauthenticated() {
    let (mut s, home) = server("forever", &["-u", "FOREVER"]);
    let wrong = Passwd::new(b"notthepassword");
    for (id, pw) in [(ID_ANON, None), (40000, None), (32800, wrong)] {
        assert!(
            ask_pw(&mut s, id, pw.clone(), Request::Nop).is_none(),
            "{id}"
        );
        assert!(ask_pw(&mut s, id, pw.clone(), stats()).is_none(), "{id}");
        assert!(ask_pw(&mut s, id, pw, query()).is_none(), "{id}");
    }
    assert_eq!((s.stats.bad_op, s.stats.nops, s.stats.admin), (9, 3, 3));
    // authenticated clients and the server's own ID are served
    assert!(ask(&mut s, 32800, Request::Nop).is_some());
    assert!(ask(&mut s, 32800, query()).is_some());
    assert!(ask(&mut s, 1100, stats()).is_some());
    let _ = std::fs::remove_dir_all(home);
}

/// A delay of 4 s or more is not served but dropped, also once the
/// inflation (`-u delay,inflate`, here one step per recent request)
/// brings it there.
#[test]
fn delays_reaching_4_s_are_dropped() {
    let (mut s, home) = server("anon-4s", &["-u", "4000"]);
    assert!(ask(&mut s, ID_ANON, query()).is_none());
    assert!(ask(&mut s, ID_ANON, Request::Nop).is_none());
    assert!(ask(&mut s, 32800, query()).is_some());
    let _ = std::fs::remove_dir_all(home);

    let (mut s, home) = server("anon-inflate", &["-u", "1000*1"]);
    let delays: Vec<Option<Duration>> = (0..4)
        .map(|_| ask(&mut s, ID_ANON, query()).map(|(_, d)| d))
        .collect();
    let ms = Duration::from_millis;
    assert_eq!(
        delays,
        [Some(ms(1000)), Some(ms(2000)), Some(ms(3000)), None]
    );
    let _ = std::fs::remove_dir_all(home);
}

/// The original answers an operation it does not know with `invalid`
/// and its name, to anyone it serves; TRACE ON or OFF without a bit is
/// as invalid as an unknown bit.
#[test]
fn unknown_operations_and_no_trace_bits_are_errors() {
    let (mut s, home) = server("admn-errors", &[]);
    let unknown = |val1| Request::Admn(AdmnRequest::new(now(), Aop::Other(99), val1));
    assert_eq!(
        error_text(ask(&mut s, ID_ANON, unknown(0))),
        "invalid ADMN UNKNOWN #99 0"
    );
    assert_eq!(
        error_text(ask(&mut s, 1100, unknown(0x15))),
        "invalid ADMN UNKNOWN #99 0x15"
    );
    assert_eq!(
        error_text(ask(
            &mut s,
            32800,
            Request::Admn(AdmnRequest::new(now(), Aop::Other(2), 0))
        )),
        "invalid ADMN UNKNOWN #2 0"
    );
    let trace = |aop, val1| Request::Admn(AdmnRequest::new(now(), aop, val1));
    assert_eq!(
        error_text(ask(&mut s, 1100, trace(Aop::TraceOn, 0))),
        "invalid trace bits 0"
    );
    assert_eq!(
        error_text(ask(&mut s, 1100, trace(Aop::TraceOff, 0))),
        "invalid trace bits 0"
    );
    assert_eq!(
        error_text(ask(&mut s, 1100, trace(Aop::TraceOn, 0x8000))),
        "invalid trace bits 0x8000"
    );
    assert!(matches!(
        ask(&mut s, 1100, trace(Aop::TraceOn, 1)),
        Some((Response::Ok(_), _))
    ));
    let _ = std::fs::remove_dir_all(home);
}

/// A DELETE from the server's own ID two bytes short (without its
/// padding), dated `date`, signed.
fn short_delete(date: u32) -> Vec<u8> {
    let d = Request::Delete(Delete {
        date,
        ck: WireCk::new(CkType::Body, Sum([0x55; 16])),
        pad: [0; 2],
    });
    let full = Packet::request(12, 1100, OpNums::from_le_words(9, 9, 9, 9), d).sign(&Signer::Zero);
    let n = full.len();
    let mut b = [&full[..n - 18], &full[n - 16..]].concat();
    let len = u16::try_from(b.len()).unwrap();
    b[..2].copy_from_slice(&len.to_be_bytes());
    Signer::Passwd(passwd(1100).unwrap()).sign(&mut b);
    b
}

/// The original checks a DELETE's date before its length: a stale one
/// of the wrong length is told about its date.
#[test]
fn delete_date_before_length() {
    let (mut s, home) = server("delete-order", &[]);
    let from: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let mut answer = |b: Vec<u8>| match s.handle(&b, from, Instant::now()) {
        Action::Send(a, _) => error_text(
            Packet::<Response>::decode(&a, Expect::for_request(&Request::Nop))
                .ok()
                .map(|r| (r.body, Duration::ZERO)),
        ),
        Action::Drop => panic!("dropped"),
    };
    let t = answer(short_delete(now() - 300));
    assert!(t.starts_with("drop DELETE; timestamp off by -30"), "{t}");
    assert_eq!(
        answer(short_delete(now())),
        "wrong packet length 62 for DELETE"
    );
    let _ = std::fs::remove_dir_all(home);
}
