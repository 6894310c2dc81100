//! Two behaviours of the original's dccd, against the real server on
//! loopback:
//!
//! * a retransmitted QUERY (the same client, request numbers and
//!   checksums) is answered from the retransmission cache with the answer
//!   sent the first time, and counted as a retransmission, not as another
//!   query (`start_work` in its `work.c` looks in the cache for QUERY and
//!   REPORT alike);
//! * the rate limits hold NOPs, `cdcc` requests and DELETEs too, not only
//!   QUERY and REPORT (its `ck_id`, which `do_nop`, `do_admn` and
//!   `do_delete` call as `do_work` and `do_grey` do).

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::{exchange, free_port, passwd, temp_home, unix_secs, Dccd};
use tally_ck::{CkType, Sum};
use tally_wire::admn::{AdmnRequest, Aop};
use tally_wire::header::ID_ANON;
use tally_wire::packet::{CkRequest, Delete, Expect, Packet, Request, Response};
use tally_wire::response::{AdmnAnswer, Answer};
use tally_wire::sign::Signer;
use tally_wire::{OpNums, Tgts, WireCk};

/// `body` from `id` with request number `r` and transmission `t`, signed
/// with the ID's password (anonymous without one).
fn datagram(id: u32, r: u32, t: u32, body: Request) -> Vec<u8> {
    let mut p = Packet::request(12, id, OpNums::from_le_words(5, 5, r, t), body);
    p.sign(&Signer::for_request(id, passwd(id).as_ref()))
}

fn query(b: u8) -> Request {
    Request::Query(CkRequest {
        tgts: Tgts(0),
        cks: vec![WireCk::new(CkType::Body, Sum([b; 16]))],
    })
}

/// The (count, previous) of a one-checksum answer.
fn counts(answer: &[u8], req: &Request) -> (u32, u32) {
    match Packet::<Response>::decode(answer, Expect::for_request(req))
        .unwrap()
        .body
    {
        Response::Answer(Answer::Pairs(v)) => (v[0].c.0, v[0].p.0),
        other => panic!("{other:?}"),
    }
}

/// `cdcc stats` from the server's own ID (request number `r`).
fn stats(addr: SocketAddr, r: u32) -> String {
    let body = Request::Admn(AdmnRequest::new(unix_secs(), Aop::Stats, 1460));
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bytes = datagram(1100, r, 1, body.clone());
    let (a, _) = exchange(&sock, addr, &bytes, Duration::from_secs(2)).expect("stats");
    match Packet::<Response>::decode(&a, Expect::for_request(&body))
        .unwrap()
        .body
    {
        Response::Admn(AdmnAnswer::Text(t)) => String::from_utf8(t).unwrap(),
        other => panic!("{other:?}"),
    }
}

/// The number before `word` in the stats text.
fn before(text: &str, word: &str) -> u64 {
    let words: Vec<&str> = text.split_whitespace().collect();
    let i = words
        .iter()
        .position(|w| *w == word)
        .unwrap_or_else(|| panic!("no {word}: {text}"));
    words[i - 1].parse().unwrap()
}

#[test]
fn retransmitted_query_answered_from_the_cache() {
    let home = temp_home("rt-query");
    let d = Dccd::start(&home, free_port(), &[]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let wait = Duration::from_secs(2);
    let q = query(0x31);
    let (first, _) = exchange(&sock, d.addr, &datagram(32800, 7, 1, q.clone()), wait).unwrap();
    assert_eq!(counts(&first, &q).0, 0);
    // another request reports the checksum in between
    let rpt = Request::Report(CkRequest {
        tgts: Tgts(3),
        cks: vec![WireCk::new(CkType::Body, Sum([0x31; 16]))],
    });
    let (a, _) = exchange(&sock, d.addr, &datagram(32800, 8, 1, rpt.clone()), wait).unwrap();
    assert_eq!(counts(&a, &rpt).0, 3);
    // the QUERY again, second transmission: the first answer, as it was
    let (again, _) = exchange(&sock, d.addr, &datagram(32800, 7, 2, q.clone()), wait).unwrap();
    assert_eq!(counts(&again, &q), counts(&first, &q));
    // a new QUERY sees the report
    let (new, _) = exchange(&sock, d.addr, &datagram(32800, 9, 1, q.clone()), wait).unwrap();
    assert_eq!(counts(&new, &q).0, 3);
    let t = stats(d.addr, 100);
    assert_eq!(before(&t, "query"), 2, "{t}");
    assert_eq!(line(&t, "retrans")[4], 1, "{t}");
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

/// The numbers of the stats line holding `phrase` (`7>10` read as 7).
fn line(text: &str, phrase: &str) -> Vec<u64> {
    let l = text
        .lines()
        .find(|l| l.contains(phrase))
        .unwrap_or_else(|| panic!("no {phrase}: {text}"));
    l.split_whitespace()
        .filter_map(|w| w.split('>').next()?.parse().ok())
        .collect()
}

/// How many of `n` requests made by `make(i)` are answered, sent one
/// after the other (each waits at most 100 ms).
fn answered(addr: SocketAddr, n: u32, make: impl Fn(u32) -> Vec<u8>) -> u32 {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    (0..n)
        .filter(|&i| exchange(&sock, addr, &make(i), Duration::from_millis(100)).is_some())
        .count() as u32
}

#[test]
fn nops_admn_and_deletes_are_rate_limited() {
    let home = temp_home("rl-admn");
    // 2 requests/s for authenticated IDs and anonymous clients
    let d = Dccd::start(&home, free_port(), &["-R", "2,2,1000"]);
    // (the NOPs of the start-up; then a full bucket again)
    let nops0 = before(&stats(d.addr, 8000), "NOPs");
    std::thread::sleep(Duration::from_millis(1100));
    let nops = answered(d.addr, 12, |i| datagram(32800, 1000 + i, 1, Request::Nop));
    let anon = answered(d.addr, 12, |i| datagram(ID_ANON, 2000 + i, 1, Request::Nop));
    let admn = answered(d.addr, 12, |i| {
        let a = AdmnRequest::new(unix_secs(), Aop::ClockCheck, 1460);
        datagram(1100, 3000 + i, 1, Request::Admn(a))
    });
    let del = answered(d.addr, 12, |i| {
        let del = Request::Delete(Delete {
            date: unix_secs(),
            ck: WireCk::new(CkType::Body, Sum([i as u8; 16])),
            pad: [0; 2],
        });
        datagram(1100, 4000 + i, 1, del)
    });
    // a burst of 2 plus what 2/s refills while the others wait 100 ms
    for (what, n) in [("NOP", nops), ("anonymous NOP", anon), ("ADMN", admn)] {
        assert!((2..12).contains(&n), "{n} {what}s answered");
    }
    assert!((1..12).contains(&del), "{del} DELETEs answered");
    // wait for a token, then look at the counts
    std::thread::sleep(Duration::from_millis(1500));
    let t = stats(d.addr, 9000);
    // every NOP counts, answered or dropped, as the original counts them
    assert_eq!(before(&t, "NOPs"), nops0 + 24, "{t}");
    let rl = u64::from((12 - nops) + (12 - admn) + (12 - del));
    let anon_rl = u64::from(12 - anon);
    assert_eq!(line(&t, "rate-limited")[..2], [rl, anon_rl], "{t}");
    assert_eq!(line(&t, "bad op")[0], rl + anon_rl, "{t}");
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}
