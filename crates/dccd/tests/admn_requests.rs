//! `cdcc` requests as the original's dccd answers them, against a
//! socketless server: ANON DELAY changing the delay, CLOCK CHECK for
//! anyone, STATS CLEAR clearing the client list, and who may ask FLOOD
//! STATS and FLOOD STATS CLEAR.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tally_ck::{CkType, Sum};
use tally_dccd::server::{Action, Server};
use tally_wire::admn::{AdmnRequest, AnonDelay, Aop, FlodAop};
use tally_wire::header::ID_ANON;
use tally_wire::packet::{CkRequest, Expect, Packet, Request, Response};
use tally_wire::response::AdmnAnswer;
use tally_wire::sign::Signer;
use tally_wire::{OpNums, Tgts, WireCk};

use common::{passwd, socketless_server, unix_secs as now};

fn server(tag: &str) -> (Server, std::path::PathBuf) {
    socketless_server(tag, &[], |_| {})
}

/// Send `body` from `id` (signed with its password, unsigned when
/// anonymous) and port `port`; the answer and its delay, if any.
fn ask(s: &mut Server, id: u32, port: u16, body: Request) -> Option<(Response, Duration)> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let pw = passwd(id);
    let mut p = Packet::request(12, id, OpNums::from_le_words(7, 7, n, 1), body.clone());
    let bytes = p.sign(&Signer::for_request(id, pw.as_ref()));
    let from: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    match s.handle(&bytes, from, Instant::now()) {
        Action::Drop => None,
        Action::Send(a, delay) => {
            let r = Packet::<Response>::decode(&a, Expect::for_request(&body)).unwrap();
            Some((r.body, delay))
        }
    }
}

fn admn(date: u32, aop: Aop, val1: u32) -> Request {
    Request::Admn(AdmnRequest::new(date, aop, val1))
}

fn text(r: Option<(Response, Duration)>) -> String {
    match r {
        Some((Response::Admn(AdmnAnswer::Text(t)), _)) => String::from_utf8(t).unwrap(),
        other => panic!("{other:?}"),
    }
}

fn anon_delay(s: &mut Server, id: u32, date: u32, delay: u16, inflate: u32) -> Option<AnonDelay> {
    let mut a = AdmnRequest::new(date, Aop::AnonDelay, inflate);
    a.val2 = (delay >> 8) as u8;
    a.val3 = delay as u8;
    match ask(s, id, 5000, Request::Admn(a)) {
        Some((Response::Admn(AdmnAnswer::AnonDelay(d)), _)) => Some(d),
        None => None,
        other => panic!("{other:?}"),
    }
}

fn query() -> Request {
    let mut sum = [0x33; 16];
    sum[0] = 1;
    Request::Query(CkRequest {
        tgts: Tgts(1),
        cks: vec![WireCk::new(CkType::Body, Sum(sum))],
    })
}

const ASK: u16 = 0xfffe;

#[test]
fn anon_delay_is_changed_by_the_server_s_own_id() {
    let (mut s, home) = server("anon-delay");
    let was = |d: Option<AnonDelay>| d.map(|d| (d.delay_ms, d.inflate));
    // a client-ID only asks, whatever it sends
    assert_eq!(was(anon_delay(&mut s, 32800, now(), 300, 0)), Some((50, 0)));
    assert_eq!(was(anon_delay(&mut s, 1100, now(), ASK, 0)), Some((50, 0)));
    // the server's own ID: the answer has the old values
    assert_eq!(was(anon_delay(&mut s, 1100, now(), 200, 7)), Some((50, 0)));
    assert_eq!(was(anon_delay(&mut s, 1100, now(), ASK, 0)), Some((200, 7)));
    let (_, delay) = ask(&mut s, ID_ANON, 6000, query()).unwrap();
    assert_eq!(delay, Duration::from_millis(200));
    // too long: the original's limit
    anon_delay(&mut s, 1100, now(), 9000, 0);
    assert_eq!(
        was(anon_delay(&mut s, 1100, now(), ASK, 0)),
        Some((4000, 0))
    );
    // an old date: refused with the offset
    match ask(&mut s, 1100, 5000, {
        let mut a = AdmnRequest::new(now() - 200, Aop::AnonDelay, 0);
        a.val3 = 10;
        Request::Admn(a)
    }) {
        Some((Response::Error(t), _)) => {
            let t = String::from_utf8(t).unwrap();
            assert!(t.contains("timestamp off by"), "{t}");
        }
        other => panic!("{other:?}"),
    }
    // forever: anonymous clients are no longer answered
    anon_delay(&mut s, 1100, now(), AnonDelay::FOREVER, 0);
    assert_eq!(
        was(anon_delay(&mut s, 1100, now(), ASK, 0)),
        Some((AnonDelay::FOREVER, 0))
    );
    assert!(ask(&mut s, ID_ANON, 6001, query()).is_none());
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn clock_check_answers_anyone_in_the_original_s_words() {
    let (mut s, home) = server("clock");
    let t = text(ask(
        &mut s,
        ID_ANON,
        5000,
        admn(now(), Aop::ClockCheck, 1460),
    ));
    assert!(
        t == "    clocks differ by about 0 seconds" || t == "    clocks differ by about 1 seconds",
        "{t}"
    );
    let t = text(ask(
        &mut s,
        32800,
        5000,
        admn(now() - 100, Aop::ClockCheck, 1460),
    ));
    assert!(
        t.starts_with("    clocks differ by about -10")
            && t.ends_with(" seconds\n    which is more than the 64 allowed for commands"),
        "{t}"
    );
    let t = text(ask(
        &mut s,
        1100,
        5000,
        admn(now() + 8000, Aop::ClockCheck, 1460),
    ));
    assert!(
        t.ends_with(" seconds\n    which is more than the 7200 allowed for flooding"),
        "{t}"
    );
    let _ = std::fs::remove_dir_all(home);
}

fn clients_figure(t: &str) -> u32 {
    let line = t.lines().nth(2).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    let i = words.iter().position(|w| *w == "clients").unwrap();
    words[i - 1].parse().unwrap()
}

#[test]
fn stats_clear_clears_the_client_list() {
    let (mut s, home) = server("stats-clear");
    ask(&mut s, 32800, 5001, Request::Nop).unwrap();
    ask(&mut s, 32800, 5002, query()).unwrap();
    ask(&mut s, ID_ANON, 5003, query()).unwrap();
    // a client is an ID at an address: 32800, anonymous and 1100
    let t = text(ask(&mut s, 1100, 5004, admn(now(), Aop::Stats, 1460)));
    assert_eq!(clients_figure(&t), 3, "{t}");
    let cleared = text(ask(&mut s, 1100, 5004, admn(now(), Aop::StatsClear, 1460)));
    assert_eq!(clients_figure(&cleared), 3, "{cleared}");
    // only the request asking is left
    let t = text(ask(&mut s, 1100, 5004, admn(now(), Aop::Stats, 1460)));
    assert_eq!(clients_figure(&t), 1, "{t}");
    assert!(t.contains("  0 query  "), "{t}");
    // and `cdcc clients` lists no client of before
    let mut a = AdmnRequest::new(now(), Aop::Clients, 0);
    a.val2 = (1460u32 >> 5) as u8;
    let entries = match ask(&mut s, 1100, 5004, Request::Admn(a)) {
        Some((Response::Admn(AdmnAnswer::Clients(e)), _)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].id, Some(1100));
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn flood_stats_permissions_as_the_original() {
    let (mut s, home) = server("flood-perm");
    let stats = FlodAop::Stats as u32 + 1101 * 256;
    let clear = FlodAop::StatsClear as u32 + 1101 * 256;
    // any authenticated ID with a current date may ask for the figures
    assert!(ask(&mut s, 32800, 5000, admn(now(), Aop::Flod, stats)).is_some());
    match ask(&mut s, 32800, 5000, admn(now() - 300, Aop::Flod, stats)) {
        Some((Response::Error(t), _)) => {
            assert!(String::from_utf8(t).unwrap().contains("timestamp off by"))
        }
        other => panic!("{other:?}"),
    }
    assert!(ask(&mut s, ID_ANON, 5000, admn(now(), Aop::Flod, stats)).is_none());
    // clearing them needs the server's own ID
    assert!(ask(&mut s, 32800, 5000, admn(now(), Aop::Flod, clear)).is_none());
    assert!(ask(&mut s, 1100, 5000, admn(now(), Aop::Flod, clear)).is_some());
    // flood check without flooding: the original's line
    let t = text(ask(
        &mut s,
        1100,
        5000,
        admn(now(), Aop::Flod, FlodAop::Check as u32),
    ));
    assert_eq!(t, "flood off   0 streams  0 out active 0 in");
    let _ = std::fs::remove_dir_all(home);
}
