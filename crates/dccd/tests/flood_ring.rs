//! Three of our servers flooding on loopback: counts converge, nothing is
//! counted twice, a peer killed mid-stream or away for a while catches up,
//! and damaged streams end with the original's END texts.

mod flood_util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use flood_util::*;
use tally_wire::flood::{split_listener, ListenerMsg, VersionHeader, VERS7_REP};
use tally_wire::sign::Passwd;

const MANY: u32 = 0x00ff_fff0;
const IDS3: [u16; 3] = [1100, 1101, 1102];

/// Homes and ports of a ring where every server floods to the other two.
fn mesh(tag: &str) -> (Vec<std::path::PathBuf>, Vec<u16>) {
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let homes: Vec<_> = (0..3).map(|i| home(&format!("{tag}{i}"))).collect();
    for (i, h) in homes.iter().enumerate() {
        let lines: Vec<String> = (0..3)
            .filter(|&j| j != i)
            .map(|j| format!("127.0.0.1,{} {}", ports[j], IDS3[j]))
            .collect();
        flod(h, &lines);
    }
    (homes, ports)
}

#[test]
fn ring_of_three_converges_without_doubling() {
    let (homes, ports) = mesh("ring");
    let s: Vec<Server> = (0..3)
        .map(|i| Server::start(&homes[i], IDS3[i], ports[i], &[]))
        .collect();
    // a bulk report at each server; a summary count at one
    for (i, srv) in s.iter().enumerate() {
        report(srv.addr(), MANY, &[body(100 + i as u32)]).unwrap();
    }
    report(s[1].addr(), 20, &[body(200)]).unwrap();
    report(s[2].addr(), 15, &[body(200)]).unwrap();
    for srv in &s {
        for i in 0..3 {
            assert_eq!(
                wait_count(srv.addr(), body(100 + i), MANY, 20),
                MANY,
                "server {}",
                srv.id
            );
        }
        assert_eq!(
            wait_count(srv.addr(), body(200), 35, 20),
            35,
            "server {}",
            srv.id
        );
    }
    // below the flooding threshold: counted only where reported
    report(s[0].addr(), 3, &[body(300)]).unwrap();
    report(s[0].addr(), 20, &[body(301)]).unwrap();
    for srv in &s[1..] {
        assert_eq!(wait_count(srv.addr(), body(301), 20, 20), 20);
        assert_eq!(query(srv.addr(), &[body(300)]).unwrap()[0], 0);
    }
    // small reports add up: flooded as one summary once they reach 10
    report(s[0].addr(), 4, &[body(400)]).unwrap();
    report(s[0].addr(), 4, &[body(400)]).unwrap();
    report(s[0].addr(), 20, &[body(401)]).unwrap();
    for srv in &s[1..] {
        assert_eq!(wait_count(srv.addr(), body(401), 20, 20), 20);
        assert_eq!(query(srv.addr(), &[body(400)]).unwrap()[0], 0);
    }
    report(s[0].addr(), 4, &[body(400)]).unwrap();
    for srv in &s {
        assert_eq!(
            wait_count(srv.addr(), body(400), 12, 20),
            12,
            "server {}",
            srv.id
        );
    }
    // nothing doubled after every stream had time to deliver twice
    std::thread::sleep(Duration::from_millis(500));
    for srv in &s {
        assert_eq!(query(srv.addr(), &[body(200)]).unwrap()[0], 35);
        assert_eq!(query(srv.addr(), &[body(301)]).unwrap()[0], 20);
        assert_eq!(query(srv.addr(), &[body(400)]).unwrap()[0], 12);
    }
}

#[test]
fn killed_peer_resumes_from_its_position() {
    let (homes, ports) = mesh("kill");
    let a = Server::start(&homes[0], IDS3[0], ports[0], &[]);
    let mut b = Server::start(&homes[1], IDS3[1], ports[1], &[]);
    let _c = Server::start(&homes[2], IDS3[2], ports[2], &[]);
    let n = 40u32;
    for i in 0..n / 2 {
        report(a.addr(), 10 + i, &[body(1000 + i)]).unwrap();
    }
    // kill -9 while the stream is busy
    b.kill9();
    for i in n / 2..n {
        report(a.addr(), 10 + i, &[body(1000 + i)]).unwrap();
    }
    // away for a while: more reports meanwhile, then back
    std::thread::sleep(Duration::from_millis(300));
    let b = Server::start(&homes[1], IDS3[1], ports[1], &[]);
    for i in 0..n {
        assert_eq!(
            wait_count(b.addr(), body(1000 + i), 10 + i, 30),
            10 + i,
            "checksum {i}"
        );
    }
    // the reports came through A and C: still counted once
    std::thread::sleep(Duration::from_millis(500));
    for i in 0..n {
        assert_eq!(query(b.addr(), &[body(1000 + i)]).unwrap()[0], 10 + i);
    }
}

/// An authenticated header from 1101 to a server 1100.
fn header() -> Vec<u8> {
    let mut h = VersionHeader::new(VERS7_REP, 1101);
    h.sign(&Passwd::new(b"vectorserver2pw").unwrap());
    h.encode()
}

/// Send a header and `rest`, half-close, return the listener's messages.
fn session(s: &Server, rest: &[u8]) -> Vec<ListenerMsg> {
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(&header()).unwrap();
    c.write_all(rest).unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    split_listener(&out).unwrap().0
}

fn end_text(m: &[ListenerMsg]) -> String {
    match m.last() {
        Some(ListenerMsg::End(t)) => String::from_utf8_lossy(t).into_owned(),
        other => panic!("no END: {other:?}"),
    }
}

fn record(pos: u64, tgts: u32, num: u8) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend_from_slice(&pos.to_be_bytes());
    r.extend_from_slice(&tgts.to_be_bytes());
    r.extend_from_slice(&1101u16.to_be_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    r.extend_from_slice(&tally_wire::flood::Ts::new(now.as_secs(), 0).0);
    r.push(num);
    for i in 0..num {
        r.extend_from_slice(&[1 + i, 18]);
        r.extend_from_slice(&[0x11; 16]);
    }
    r
}

#[test]
fn damaged_streams_end_with_the_original_texts() {
    let h = home("damaged");
    flod(&h, &[format!("127.0.0.1,{} 1101", free_port())]);
    let s = Server::start(&h, 1100, free_port(), &[]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (record(5, 1, 1), "bogus position 0x5 in flooded report #0"),
        (record(100, 1, 0), "impossible 0 checksums in report #0"),
        (record(100, 1, 15), "impossible 15 checksums in report #0"),
        (
            [record(100, 20, 1), record(200, 20, 1)[..30].to_vec()].concat(),
            "report 1 truncated after 30 bytes at EOF",
        ),
        (record(100, 0, 1), "bogus target count 0x0 in report"),
        (
            {
                let mut r = record(100, 20, 1);
                r[22] = 17;
                r
            },
            "unknown checksum length 17 in report",
        ),
    ];
    for (bytes, text) in cases {
        let m = session(&s, &bytes);
        let t = end_text(&m);
        assert!(t.starts_with(text), "{t:?} for {text:?}");
        assert!(s.wait_log(text, 5), "no log line {text:?}");
    }
    // a good stream still works after all that
    let m = session(&s, &record(300, 20, 1));
    assert!(m.contains(&ListenerMsg::Ack(300)), "{m:?}");
    assert!(end_text(&m).starts_with("DCC flod ok: 127.0.0.1,"));
}
