//! What `cdcc stats` counts of ordinary client requests, as the
//! original's dccd counts them (its recorded answers: the probes of the
//! vectors between two `stats` show it), against a socketless server:
//!
//! * datagrams the original drops before looking at their sender (a
//!   version it does not serve, a header length that is not the
//!   datagram's, an answer's operation, a greylist operation sent to a
//!   DCC server) are not "bad op"; bad checksums of a request are;
//! * "reject" counts the ERROR answers sent;
//! * "passwd" counts unknown IDs and a server-ID asking a QUERY as well
//!   as bad passwords;
//! * requests over a rate limit count as "bad op" too, those of
//!   unauthenticated clients under "anon", the others under "answers
//!   rate-limited";
//! * a report flagged as the notice of a reputation hit is no new report;
//! * a retransmitted DELETE counts as "retrans".

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use tally_ck::{CkType, Sum};
use tally_dccd::server::{Action, Server};
use tally_wire::admn::{AdmnRequest, Aop};
use tally_wire::header::ID_ANON;
use tally_wire::packet::{CkRequest, Delete, Expect, Packet, Request, Response};
use tally_wire::response::AdmnAnswer;
use tally_wire::sign::{Passwd, Signer};
use tally_wire::{OpNums, Tgts, WireCk};

use common::{passwd, socketless_server, unix_secs as now};

static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

fn from() -> SocketAddr {
    "127.0.0.1:5000".parse().unwrap()
}

/// The datagram of `body` from `id` signed with `pw`.
fn datagram(vers: u8, id: u32, pw: Option<&Passwd>, body: &Request) -> Vec<u8> {
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut p = Packet::request(vers, id, OpNums::from_le_words(9, 9, n, 1), body.clone());
    p.sign(&Signer::for_request(id, pw))
}

fn ask_pw(s: &mut Server, id: u32, pw: Option<Passwd>, body: Request) -> Option<Response> {
    let bytes = datagram(12, id, pw.as_ref(), &body);
    match s.handle(&bytes, from(), Instant::now()) {
        Action::Drop => None,
        Action::Send(a, _) => Some(
            Packet::<Response>::decode(&a, Expect::for_request(&body))
                .unwrap()
                .body,
        ),
    }
}

fn ask(s: &mut Server, id: u32, body: Request) -> Option<Response> {
    ask_pw(s, id, passwd(id), body)
}

/// The text of `cdcc stats`, from the server's own ID.
fn stats_text(s: &mut Server) -> String {
    match ask(
        s,
        1100,
        Request::Admn(AdmnRequest::new(now(), Aop::Stats, 1460)),
    ) {
        Some(Response::Admn(AdmnAnswer::Text(t))) => String::from_utf8(t).unwrap(),
        other => panic!("{other:?}"),
    }
}

/// The numbers of the stats line ending in `last_word` (`7>10` read as 7).
fn line(text: &str, last_word: &str) -> Vec<u64> {
    let l = text
        .lines()
        .find(|l| l.trim_end().ends_with(last_word))
        .unwrap_or_else(|| panic!("no line with {last_word}: {text}"));
    l.split_whitespace()
        .filter_map(|w| w.split('>').next()?.parse().ok())
        .collect()
}

fn ck(ty: CkType, b: u8) -> WireCk {
    WireCk::new(ty, Sum([b; 16]))
}

fn query(cks: Vec<WireCk>) -> Request {
    Request::Query(CkRequest { tgts: Tgts(0), cks })
}

fn report(tgts: u32, cks: Vec<WireCk>) -> Request {
    Request::Report(CkRequest {
        tgts: Tgts(tgts),
        cks,
    })
}

/// The probes of the recorded vectors that the original dropped without
/// a word, followed by its `stats`, showed "0 bad op": junk is not
/// counted. Requests with bad checksums are.
#[test]
fn junk_is_not_a_bad_op_but_bad_checksums_are() {
    let (mut s, home) = socketless_server("stats-junk", &[], |_| {});
    let pw = passwd(32800).unwrap();
    let q = query(vec![ck(CkType::Body, 1)]);
    // a QUERY in version 13, which the server does not serve
    let v13 = datagram(13, 32800, Some(&pw), &q);
    // a header length that is not the datagram's
    let mut badlen = datagram(12, 32800, Some(&pw), &q);
    badlen[0..2].copy_from_slice(&300u16.to_be_bytes());
    // an ANSWER sent to the server
    let mut answer = datagram(12, 32800, Some(&pw), &q);
    answer[3] = 4;
    // a GREY_REPORT sent to a DCC server
    let grey = datagram(
        12,
        32800,
        Some(&pw),
        &Request::GreyReport(CkRequest {
            tgts: Tgts(1),
            cks: vec![ck(CkType::Body, 1)],
        }),
    );
    for d in [v13, badlen, answer, grey] {
        assert!(matches!(s.handle(&d, from(), Instant::now()), Action::Drop));
    }
    assert_eq!(s.stats.bad_op, 0);
    assert_eq!(line(&stats_text(&mut s), "retrans")[0], 0);

    // the same checksum type twice, and types out of order: dropped,
    // counted as bad operations
    for cks in [
        vec![ck(CkType::Body, 1), ck(CkType::Body, 2)],
        vec![ck(CkType::Fuz1, 1), ck(CkType::Body, 2)],
    ] {
        assert!(ask(&mut s, 32800, query(cks.clone())).is_none());
        assert!(ask(&mut s, 32800, report(1, cks)).is_none());
    }
    // a target count above 2000
    assert!(ask(&mut s, 32800, report(2001, vec![ck(CkType::Body, 1)])).is_none());
    let t = stats_text(&mut s);
    assert_eq!(line(&t, "retrans"), [5, 0, 0, 0, 0], "{t}");
    let _ = std::fs::remove_dir_all(home);
}

/// "reject" is the original's count of ERROR answers: TRACE ON without
/// a bit, a DELETE of a checksum the database lacks.
#[test]
fn reject_counts_error_answers() {
    let (mut s, home) = socketless_server("stats-errors", &[], |_| {});
    let a = AdmnRequest::new(now(), Aop::TraceOn, 0);
    assert!(matches!(
        ask(&mut s, 1100, Request::Admn(a)),
        Some(Response::Error(_))
    ));
    let del = Request::Delete(Delete {
        date: now(),
        ck: ck(CkType::Body, 0x55),
        pad: [0; 2],
    });
    assert!(matches!(ask(&mut s, 1100, del), Some(Response::Error(_))));
    let t = stats_text(&mut s);
    assert_eq!(line(&t, "retrans"), [0, 0, 0, 2, 0], "{t}");
    let _ = std::fs::remove_dir_all(home);
}

/// A retransmitted DELETE is answered from the cache and counted as a
/// retransmission, not as a second administrative request.
#[test]
fn retransmitted_delete_counts_as_retrans() {
    let (mut s, home) = socketless_server("stats-retrans", &[], |_| {});
    assert!(ask(&mut s, 32800, report(1, vec![ck(CkType::Body, 0x66)])).is_some());
    let del = Request::Delete(Delete {
        date: now(),
        ck: ck(CkType::Body, 0x66),
        pad: [0; 2],
    });
    let pw = passwd(1100).unwrap();
    let mut p = Packet::request(12, 1100, OpNums::from_le_words(3, 3, 77, 1), del.clone());
    let first = p.sign(&Signer::Passwd(pw.clone()));
    let mut p = Packet::request(12, 1100, OpNums::from_le_words(3, 3, 77, 2), del);
    let again = p.sign(&Signer::Passwd(pw));
    for d in [first, again] {
        assert!(matches!(
            s.handle(&d, from(), Instant::now()),
            Action::Send(..)
        ));
    }
    assert_eq!((s.stats.admin, s.stats.retrans), (1, 1));
    let _ = std::fs::remove_dir_all(home);
}

/// The recorded probes of an unknown ID's and a server-ID's QUERY each
/// added one to "passwd", as a bad password does; the anonymous client
/// and a signed client's NOP add nothing.
#[test]
fn passwd_counts_unknown_ids_and_server_id_queries() {
    let (mut s, home) = socketless_server("stats-passwd", &[], |_| {});
    let q = || query(vec![ck(CkType::Body, 1)]);
    assert!(ask_pw(&mut s, 40000, Passwd::new(b"nosuchid"), q()).is_some());
    assert!(ask(&mut s, 1100, q()).is_some());
    assert!(ask_pw(&mut s, 32800, Passwd::new(b"wrongpassword"), q()).is_some());
    assert!(ask(&mut s, ID_ANON, q()).is_some());
    assert!(ask(&mut s, 32800, Request::Nop).is_some());
    assert_eq!(s.stats.passwd, 3);
    let t = stats_text(&mut s);
    assert_eq!(line(&t, "retrans"), [0, 3, 0, 0, 0], "{t}");
    let _ = std::fs::remove_dir_all(home);
}

/// Requests over a rate limit: "answers rate-limited" for an
/// authenticated client, "anon" for the others, and "bad op" for both.
#[test]
fn rate_limited_requests_counted_apart() {
    let (mut s, home) = socketless_server("stats-rl", &["-R", "2,2,1000"], |_| {});
    let q = || query(vec![ck(CkType::Body, 1)]);
    let signed = (0..6).filter(|_| ask(&mut s, 32800, q()).is_some()).count();
    let anon = (0..6)
        .filter(|_| ask(&mut s, ID_ANON, q()).is_some())
        .count();
    assert!(signed < 6 && anon < 6, "{signed} {anon}");
    let (rl, anon_rl) = (6 - signed as u64, 6 - anon as u64);
    assert_eq!((s.stats.rl, s.stats.anon_rl), (rl, anon_rl));
    let t = stats_text(&mut s);
    assert_eq!(line(&t, "rejected"), [rl, anon_rl, 0], "{t}");
    assert_eq!(line(&t, "retrans")[0], rl + anon_rl, "{t}");
    let _ = std::fs::remove_dir_all(home);
}

/// A REPORT flagged as the notice of a reputation hit (a commercial
/// client's second report of a message) is answered but not counted
/// among the reports, nor among the answers of more than 10.
#[test]
fn reputation_hit_notice_is_no_new_report() {
    let (mut s, home) = socketless_server("stats-repspam", &[], |_| {});
    let cks = vec![ck(CkType::Body, 0x77)];
    assert!(ask(&mut s, 32800, report(Tgts::SPAM_FLAG | 1, cks.clone())).is_some());
    assert!(ask(&mut s, 32800, report(Tgts::REP_SPAM_FLAG | 1, cks)).is_some());
    assert_eq!(s.stats.reports, 1);
    let t = stats_text(&mut s);
    assert_eq!(line(&t, "many")[..5], [1, 1, 1, 1, 1], "{t}");
    let answers = t.lines().find(|l| l.contains("answers ")).unwrap();
    assert!(answers.trim_end().ends_with(" 1 many"), "{t}");
    let _ = std::fs::remove_dir_all(home);
}

/// A DELETE whose checksum has a bad length or an unknown type is
/// answered with the original's ERROR (its misspelling of "checksum"
/// too), counted as an administrative request and under "reject"; a
/// DELETE from a client is dropped as a bad operation.
#[test]
fn bad_delete_checksums_answered_and_counted() {
    let (mut s, home) = socketless_server("stats-delete", &[], |_| {});
    let pw = passwd(1100).unwrap();
    let del = Request::Delete(Delete {
        date: now(),
        ck: ck(CkType::Body, 0x11),
        pad: [0; 2],
    });
    let signer = Signer::Passwd(pw.clone());
    let mut texts = Vec::new();
    // (offset in the datagram, byte): the length, then the type
    for (at, b) in [(29usize, 17u8), (28, 0)] {
        let mut bytes = datagram(12, 1100, Some(&pw), &del);
        bytes[at] = b;
        signer.sign(&mut bytes);
        match s.handle(&bytes, from(), Instant::now()) {
            Action::Send(a, _) => {
                let text = &a[24..a.len() - 16];
                texts.push(
                    String::from_utf8_lossy(text)
                        .trim_end_matches('\0')
                        .to_string(),
                );
            }
            Action::Drop => panic!("no answer"),
        }
    }
    assert_eq!(
        texts,
        ["unknown checksum length 17", "unknown checkksum type 0"]
    );
    assert_eq!((s.stats.admin, s.stats.errors, s.stats.bad_op), (2, 2, 0));
    assert!(ask(&mut s, 32800, del).is_none());
    assert_eq!(s.stats.bad_op, 1);
    let _ = std::fs::remove_dir_all(home);
}
