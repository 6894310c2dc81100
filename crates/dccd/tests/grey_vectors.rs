//! Replay the greylist exchanges recorded from the reference dccd 2.3.167
//! (`-G on,20`, server-ID 1100, brand `vecgrey`) against our greylist
//! server, in the recorded order and at the recorded times (an injected
//! clock, so the 20 s embargo passes without sleeping): every answer must
//! equal the recorded one byte for byte, signature included.
//!
//! `data/grey_times.json` holds the capture time of each request (from
//! the recording's packet captures). The DCC QUERY and REPORT of the same
//! scenarios went to the recording's DCC server; sent to a greylist server
//! they are dropped.

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use serde_json::Value;
use tally_dccd::grey::GreyState;
use tally_dccd::server::{Action, Server};

use common::temp_home;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn data(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// A socketless greylist server as recorded, with a fresh database.
fn grey_server(home: &std::path::Path, g: &str) -> Server {
    grey_server_with(home, g, &[])
}

/// [`grey_server`] with more options.
fn grey_server_with(home: &std::path::Path, g: &str, extra: &[&str]) -> Server {
    let args: Vec<String> = ["-b", "-i", "1100", "-n", "vecgrey", "-G", g]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .chain(["-h".to_string(), home.to_string_lossy().into_owned()])
        .collect();
    let o = tally_dccd::opts::parse(&args).unwrap();
    tally_dccd::net::build_server(&o).unwrap()
}

fn from() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn is_grey(e: &Value) -> bool {
    e["server"]
        .as_str()
        .is_some_and(|s| s.starts_with("greylist"))
}

/// The recorded exchanges that have a capture time in `times`, in time
/// order, with their times; with `grey_only` only those sent to the
/// greylist server.
fn timed<'a>(vectors: &'a Value, times: &Value, grey_only: bool) -> Vec<(f64, &'a Value)> {
    let mut cases: Vec<(f64, &Value)> = vectors
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !grey_only || is_grey(e))
        .filter_map(|e| Some((times.get(e["name"].as_str()?)?.as_f64()?, e)))
        .collect();
    cases.sort_by(|a, b| a.0.total_cmp(&b.0));
    cases
}

/// Send `s` the recorded greylist requests in time order, each at its
/// time; every one must be answered. The time of the last.
fn replay_greylist(s: &mut Server) -> u64 {
    let vectors = data("udp_vectors.json");
    let times = data("grey_times.json");
    let mut last = 0;
    for (t, e) in timed(&vectors, &times, true) {
        last = t as u64;
        s.clock = Some(last);
        let req = unhex(e["request_hex"].as_str().unwrap());
        assert!(matches!(
            s.handle(&req, from(), Instant::now()),
            Action::Send(..)
        ));
    }
    last
}

#[test]
fn recorded_greylist_exchanges() {
    let vectors = data("udp_vectors.json");
    let times = data("grey_times.json");
    let cases = timed(&vectors, &times, false);
    assert_eq!(
        cases.len(),
        25,
        "every recorded greylist scenario has a time"
    );

    let home = temp_home("grey-vectors");
    let mut s = grey_server(&home, "on,20");
    let (mut answered, mut dropped) = (0, 0);
    for (t, e) in cases {
        let name = e["name"].as_str().unwrap();
        let req = unhex(e["request_hex"].as_str().unwrap());
        s.clock = Some(t as u64);
        let got = s.handle(&req, from(), Instant::now());
        if is_grey(e) {
            let want = unhex(e["response_hex"].as_str().unwrap());
            match got {
                Action::Send(bytes, _) => {
                    assert_eq!(hex(&bytes), hex(&want), "{name}");
                    answered += 1;
                }
                Action::Drop => panic!("{name}: dropped"),
            }
        } else {
            assert!(
                matches!(got, Action::Drop),
                "{name}: a DCC request to a greylist server"
            );
            dropped += 1;
        }
    }
    assert_eq!((answered, dropped), (14, 11));
    let _ = std::fs::remove_dir_all(&home);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The same requests replayed against a server restarted in between:
/// the database rebuilt from the records decides the same.
#[test]
fn recorded_greylist_exchanges_across_restarts() {
    let vectors = data("udp_vectors.json");
    let times = data("grey_times.json");
    let cases = timed(&vectors, &times, true);
    let home = temp_home("grey-restart");
    let dir = home.join(tally_dccd::grey::DB_DIR);
    let mut s = grey_server(&home, "on,20");
    let params = *s.grey.as_ref().unwrap().grey.params();
    for (t, e) in cases {
        // as after a restart: the store opened again and the decisions
        // rebuilt from its records alone
        s.counter.store = Box::new(tally_store::LogStore::open(&dir).unwrap());
        s.grey = Some(GreyState::rebuild(params, s.counter.store.as_ref()).unwrap());
        s.clock = Some(t as u64);
        let req = unhex(e["request_hex"].as_str().unwrap());
        let Action::Send(bytes, _) = s.handle(&req, from(), Instant::now()) else {
            panic!("{}: dropped", e["name"]);
        };
        assert_eq!(
            hex(&bytes),
            e["response_hex"].as_str().unwrap(),
            "{}",
            e["name"]
        );
    }
    let _ = std::fs::remove_dir_all(&home);
}

fn vector(name: &str) -> Vec<u8> {
    let v = data("udp_vectors.json");
    let e = v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap();
    unhex(e["request_hex"].as_str().unwrap())
}

/// Malformed, unsigned or anonymous greylist requests are dropped and
/// counted; a signed one without its triple gets an ERROR; GREY_SPAM an
/// OK of 108 bytes.
#[test]
fn bad_greylist_requests() {
    use tally_wire::packet::{Packet, Request};
    use tally_wire::sign::{Passwd, Signer};
    use tally_wire::OpNums;

    let home = temp_home("grey-bad");
    let mut s = grey_server(&home, "on,20");
    s.clock = Some(1_795_348_746);
    let good = vector("grey_report_new#1_GREY_REPORT");

    // a wrong signature
    let mut bad_sig = good.clone();
    let n = bad_sig.len();
    bad_sig[n - 1] ^= 1;
    assert!(matches!(
        s.handle(&bad_sig, from(), Instant::now()),
        Action::Drop
    ));
    // anonymous
    let mut anon = good.clone();
    anon[4..8].copy_from_slice(&1u32.to_be_bytes());
    Signer::Zero.sign(&mut anon);
    assert!(matches!(
        s.handle(&anon, from(), Instant::now()),
        Action::Drop
    ));
    assert_eq!(s.grey.as_ref().unwrap().unauth, 2);
    assert_eq!(s.stats.passwd, 1);
    // truncated: the length field no longer matches
    assert!(matches!(
        s.handle(&good[..good.len() - 18], from(), Instant::now()),
        Action::Drop
    ));
    assert!(matches!(
        s.handle(&good[..10], from(), Instant::now()),
        Action::Drop
    ));
    // dropped before the sender is looked at: junk to the original, not
    // a bad operation
    assert!(s.stats.junk >= 2);
    // nothing was recorded by any of them
    let Action::Send(a, _) = s.handle(&good, from(), Instant::now()) else {
        panic!("dropped");
    };
    assert_eq!(&a[24..32], &[0u8; 8], "still a new embargo");

    // a DCC report sent to a greylist server
    let dcc = vector("grey_report_new#2_REPORT");
    assert!(matches!(
        s.handle(&dcc, from(), Instant::now()),
        Action::Drop
    ));
    assert_eq!(s.grey.as_ref().unwrap().dcc_dropped, 1);

    // signed but without the triple checksum: an ERROR
    let pw = Passwd::new(b"vectorclientpw").unwrap();
    let mut req = Packet::<Request>::decode(&good).unwrap();
    if let Request::GreyReport(r) = &mut req.body {
        r.cks.retain(|c| c.ty != tally_wire::CkType::GreyTriple);
    }
    req.op_nums = OpNums::from_le_words(5, 5, 5, 1);
    let bytes = req.sign(&Signer::Passwd(pw.clone()));
    let Action::Send(a, _) = s.handle(&bytes, from(), Instant::now()) else {
        panic!("no ERROR");
    };
    assert_eq!(a[3], 7, "ERROR op");
    assert!(
        String::from_utf8_lossy(&a).contains("missing Grey3 checksum for GREYLIST REPORT"),
        "the original's names of the type and the operation"
    );

    // GREY_SPAM: a 108-byte OK
    let spam = vector("grey_dccspam#3_GREY_SPAM");
    assert_eq!(spam.len(), 96);
    let Action::Send(a, _) = s.handle(&spam, from(), Instant::now()) else {
        panic!("dropped");
    };
    assert_eq!((a.len(), a[3]), (108, 6));
    let _ = std::fs::remove_dir_all(&home);
}

/// `cdcc stats` on a greylist server: the original's layout and the
/// greylist counts after the recorded exchanges.
#[test]
fn stats_of_a_greylist_server() {
    use tally_wire::packet::{Expect, Packet, Request, Response};
    use tally_wire::response::AdmnAnswer;

    let home = temp_home("grey-stats");
    let mut s = grey_server(&home, "on,20");
    replay_greylist(&mut s);
    let stats = vector("probe_admn_stats_anon#1_ADMN");
    let Action::Send(a, _) = s.handle(&stats, from(), Instant::now()) else {
        panic!("no stats");
    };
    let req = Packet::<Request>::decode(&stats).unwrap();
    let p = Packet::<Response>::decode(&a, Expect::for_request(&req.body)).unwrap();
    let Response::Admn(AdmnAnswer::Text(t)) = p.body else {
        panic!("not text");
    };
    let t = String::from_utf8(t).unwrap();
    assert!(t.starts_with("    version 2.3.167"), "{t}");
    assert!(
        t.starts_with("    version 2.3.167  greylist  tracing "),
        "{t}"
    );
    assert!(t.contains(" reports added between "), "{t}");
    assert!(!t.contains("rate-limited"), "{t}");
    // 7 embargo answers (two of them to queries), 2 released, 1 passed,
    // 1 whitelisted, 3 GREY_SPAM of which 3 forgot a triple
    assert!(
        t.contains("\n greylist 7 embargoed 2 released 1 passed 1 whitelisted\n"),
        "{t}"
    );
    assert!(
        t.contains("       3 forgotten as spam 0 expired 0 unauthenticated dropped\n"),
        "{t}"
    );
    assert!(t.ends_with("       0 triples embargoed 2 familiar"), "{t}");
    let _ = std::fs::remove_dir_all(&home);
}

/// `cdcc clean` on a greylist server: embargo records go after the
/// window, familiar triples stay, and the decisions follow.
#[test]
fn cleaning_a_greylist_server() {
    let home = temp_home("grey-clean");
    let mut s = grey_server(&home, "on,20,1d,2d");
    let last = replay_greylist(&mut s);
    let g = s.grey.as_ref().unwrap();
    let policy = tally_dccd::grey::expiry(g.grey.params());
    let before = g.grey.figures();
    assert_eq!(before.familiar_triples, 2);
    // a day and a half later: the embargo records are gone
    let r = s.clean_db(last + 36 * 3600, &policy).unwrap();
    assert!(r.removed > 0);
    let g = s.grey.as_ref().unwrap();
    assert_eq!(g.grey.figures().familiar_triples, 2);
    assert_eq!(g.counters.expired, r.removed);
    // msg4 (grey4_*) still passes; three days later it is forgotten
    let pass = vector("grey4_report_pass#1_GREY_REPORT");
    let mut again = pass.clone();
    again[16..20].copy_from_slice(&777u32.to_le_bytes());
    let pw = tally_wire::sign::Passwd::new(b"vectorclientpw").unwrap();
    tally_wire::sign::Signer::Passwd(pw.clone()).sign(&mut again);
    s.clock = Some(last + 36 * 3600);
    let Action::Send(a, _) = s.handle(&again, from(), Instant::now()) else {
        panic!("dropped");
    };
    assert_eq!(hex(&a[28..32]), "00fffff0");
    s.clean_db(last + 36 * 3600 + 2 * 86_400 + 1, &policy)
        .unwrap();
    assert_eq!(s.grey.as_ref().unwrap().grey.figures().familiar_triples, 0);
    again[16..20].copy_from_slice(&778u32.to_le_bytes());
    tally_wire::sign::Signer::Passwd(pw).sign(&mut again);
    s.clock = Some(last + 5 * 86_400);
    let Action::Send(a, _) = s.handle(&again, from(), Instant::now()) else {
        panic!("dropped");
    };
    assert_eq!(hex(&a[24..32]), "0000000000000000", "a new embargo");
    let _ = std::fs::remove_dir_all(&home);
}

/// `cdcc delck` of a triple on a greylist server restores its embargo.
#[test]
fn delck_on_a_greylist_server() {
    use tally_wire::packet::{Delete, Packet, Request};
    use tally_wire::sign::{Passwd, Signer};
    use tally_wire::{CkType, OpNums};

    let home = temp_home("grey-delck");
    let mut s = grey_server(&home, "on,20");
    let new = vector("grey4_report_new#1_GREY_REPORT");
    s.clock = Some(1_000);
    assert!(matches!(
        s.handle(&new, from(), Instant::now()),
        Action::Send(..)
    ));
    let req = Packet::<Request>::decode(&new).unwrap();
    let Request::GreyReport(r) = &req.body else {
        panic!("not a report");
    };
    let triple = *r.cks.iter().find(|c| c.ty == CkType::GreyTriple).unwrap();
    let msg = *r.cks.iter().find(|c| c.ty == CkType::GreyMsg).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    let srv = Signer::Passwd(Passwd::new(b"vectorserverpw").unwrap());
    for (i, ck) in [triple, msg].into_iter().enumerate() {
        let mut del = Packet::request(
            12,
            1100,
            OpNums::from_le_words(3, 3, 3 + i as u32, 1),
            Request::Delete(Delete {
                date: now,
                ck,
                pad: [0; 2],
            }),
        );
        let Action::Send(a, _) = s.handle(&del.sign(&srv), from(), Instant::now()) else {
            panic!("DELETE dropped");
        };
        assert_eq!(a[3], 6, "OK");
    }
    // the retry after the embargo starts a new one instead of ending it
    let retry = vector("grey4_report_embargo_end#1_GREY_REPORT");
    s.clock = Some(1_100);
    let Action::Send(a, _) = s.handle(&retry, from(), Instant::now()) else {
        panic!("dropped");
    };
    assert_eq!(hex(&a[24..32]), "0000000000000000");
    // and the database says so after a restart
    let dir = home.join(tally_dccd::grey::DB_DIR);
    let store = tally_store::LogStore::open(&dir).unwrap();
    let g = GreyState::rebuild(*s.grey.as_ref().unwrap().grey.params(), &store).unwrap();
    assert_eq!(g.grey.figures().embargoed_triples, 1);
    let _ = std::fs::remove_dir_all(&home);
}

/// Re-sign a request with the client's password, with other op numbers.
fn resigned(req: &mut tally_wire::packet::Packet<tally_wire::packet::Request>, r: u32) -> Vec<u8> {
    use tally_wire::sign::{Passwd, Signer};
    req.op_nums = tally_wire::OpNums::from_le_words(9, 9, r, 1);
    req.sign(&Signer::Passwd(Passwd::new(b"vectorclientpw").unwrap()))
}

/// The ERROR text of an answer.
fn error_text(a: &[u8]) -> String {
    assert_eq!(a[3], 7, "an ERROR");
    let text = &a[24..a.len() - 16];
    String::from_utf8_lossy(text)
        .trim_end_matches('\0')
        .to_string()
}

/// GREY_SPAM with checksums of the wrong types from an authenticated
/// client: the original's ERROR texts (triple checked first, then msg,
/// then IP; each names the type found in the msg's place).
#[test]
fn grey_spam_of_wrong_types_is_answered_with_an_error() {
    use tally_wire::packet::{Packet, Request};
    use tally_wire::CkType;

    let home = temp_home("grey-spam-types");
    let mut s = grey_server(&home, "on,20");
    s.clock = Some(1_000);
    let spam = vector("grey_dccspam#3_GREY_SPAM");
    type Spoil = fn(&mut tally_wire::packet::GreySpam);
    let cases: [(Spoil, &str); 3] = [
        (
            |g| g.triple.ty = CkType::Body,
            "Grey_Msg instead of Grey3 for GREYLIST SPAM",
        ),
        (
            |g| g.msg.ty = CkType::Body,
            "Body instead of Grey_Msg for GREYLIST SPAM",
        ),
        (
            |g| g.ip.ty = CkType::EnvFrom,
            "Grey_Msg instead of IP for GREYLIST SPAM",
        ),
    ];
    for (i, (spoil, want)) in cases.into_iter().enumerate() {
        let mut req = Packet::<Request>::decode(&spam).unwrap();
        let Request::GreySpam(g) = &mut req.body else {
            panic!("not GREY_SPAM");
        };
        spoil(g);
        let bytes = resigned(&mut req, 100 + i as u32);
        let Action::Send(a, _) = s.handle(&bytes, from(), Instant::now()) else {
            panic!("{want}: dropped");
        };
        assert_eq!(error_text(&a), want);
    }
    // anonymous: no answer
    let mut req = Packet::<Request>::decode(&spam).unwrap();
    if let Request::GreySpam(g) = &mut req.body {
        g.msg.ty = CkType::Body;
    }
    req.sender = 1;
    let bytes = req.sign(&tally_wire::sign::Signer::Zero);
    assert!(matches!(
        s.handle(&bytes, from(), Instant::now()),
        Action::Drop
    ));
    let _ = std::fs::remove_dir_all(&home);
}

/// Greylist requests from clients that are not authenticated: dropped;
/// an unknown ID or a bad password counts as a bad operation, an
/// anonymous client does not (as the original).
#[test]
fn unauthenticated_greylist_requests_are_counted_as_the_original() {
    use tally_wire::packet::{Packet, Request};
    use tally_wire::sign::{Passwd, Signer};

    let home = temp_home("grey-unauth");
    let mut s = grey_server(&home, "on,20");
    s.clock = Some(1_000);
    let good = vector("grey_report_new#1_GREY_REPORT");
    let bad_op = s.stats.bad_op;
    // anonymous
    let mut req = Packet::<Request>::decode(&good).unwrap();
    req.sender = 1;
    let anon = req.sign(&Signer::Zero);
    assert!(matches!(
        s.handle(&anon, from(), Instant::now()),
        Action::Drop
    ));
    assert_eq!(s.stats.bad_op, bad_op, "anonymous: not a bad operation");
    // a bad password
    let mut req = Packet::<Request>::decode(&good).unwrap();
    let bad = req.sign(&Signer::Passwd(Passwd::new(b"wrong").unwrap()));
    assert!(matches!(
        s.handle(&bad, from(), Instant::now()),
        Action::Drop
    ));
    assert_eq!(s.stats.bad_op, bad_op + 1);
    // an unknown ID
    req.sender = 32801;
    let unknown = req.sign(&Signer::Passwd(Passwd::new(b"vectorclientpw").unwrap()));
    assert!(matches!(
        s.handle(&unknown, from(), Instant::now()),
        Action::Drop
    ));
    assert_eq!(s.stats.bad_op, bad_op + 2);
    assert_eq!(s.grey.as_ref().unwrap().unauth, 3);
    let _ = std::fs::remove_dir_all(&home);
}

/// Under `-Q`, a GREY_QUERY that hits the greylist whitelist is worked as
/// a GREY_WHITE the client may not record: counted as a report treated
/// as a query, as the original.
#[test]
fn whitelisted_grey_query_under_q_is_a_rejected_report() {
    use tally_wire::packet::{Packet, Request};
    use tally_wire::CkType;

    let home = temp_home("grey-q-white");
    let mut s = grey_server_with(&home, "on,20", &["-Q"]);
    s.clock = Some(1_000);
    let query = vector("grey_query#1_GREY_QUERY");
    let req = Packet::<Request>::decode(&query).unwrap();
    let Request::GreyQuery(r) = &req.body else {
        panic!("not GREY_QUERY");
    };
    let ip = r.cks.iter().find(|c| c.ty == CkType::Ip).unwrap();
    s.grey
        .as_mut()
        .unwrap()
        .grey
        .set_whitelist(&[(tally_store::Ck::new(ip.ty, ip.sum), tally_grey::GREY_WHITE)]);
    let Action::Send(a, _) = s.handle(&query, from(), Instant::now()) else {
        panic!("dropped");
    };
    assert_eq!(hex(&a[28..32]), "00fffff0", "no embargo");
    assert_eq!(
        (s.stats.queries, s.stats.report_reject, s.stats.respwhite),
        (1, 1, 1)
    );
    // nothing recorded: the next query still finds no triple
    let g = s.grey.as_ref().unwrap();
    assert_eq!(g.grey.figures().records, 0);
    let _ = std::fs::remove_dir_all(&home);
}
