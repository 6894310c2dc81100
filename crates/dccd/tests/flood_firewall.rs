//! `passive`, `SOCKS` and `NAT` in the `flod` file and the header's
//! `turn` byte, against a peer played by the test as the original's dccd
//! 2.3.167 behaves (iflod.c, oflod.c): who connects to whom, what a
//! turned-around connection does when our stream to the peer runs
//! already, how a refusal of our connection for a `NAT` peer's stream is
//! logged, and the outgoing stream hurried by an incoming one.

mod flood_util;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use flood_util::*;
use tally_wire::flood::{split_listener, ListenerMsg, VersionHeader, ARE_YOU_THERE};

fn msg(m: ListenerMsg) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode_into(&mut out);
    out
}

/// A listener on `port` that never blocks.
fn listen(port: u16) -> TcpListener {
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    l.set_nonblocking(true).unwrap();
    l
}

/// The 256-byte header the other side of `c` sends first.
fn read_header(c: &mut TcpStream) -> VersionHeader {
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut b = vec![0u8; 256];
    c.read_exact(&mut b).unwrap();
    VersionHeader::decode(&b).unwrap()
}

/// Accept what comes to `l` for `secs` seconds (or until `enough` says
/// so): the connections with the header each sent.
fn accept_for(
    l: &TcpListener,
    secs: u64,
    enough: impl Fn(&[(TcpStream, VersionHeader)]) -> bool,
) -> Vec<(TcpStream, VersionHeader)> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline && !enough(&got) {
        match l.accept() {
            Ok((mut c, _)) => {
                c.set_nonblocking(false).unwrap();
                let h = read_header(&mut c);
                got.push((c, h));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
    got
}

/// Read what the other side sends until it closes or `secs` pass.
fn read_some(c: &mut TcpStream, secs: u64) -> Vec<u8> {
    c.set_read_timeout(Some(Duration::from_secs(secs))).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    out
}

/// Connect to `to` as peer `id` with `turn`.
fn connect_as(to: SocketAddr, id: u16, turn: bool) -> TcpStream {
    let mut c = TcpStream::connect(to).unwrap();
    c.write_all(&peer_header(id, turn)).unwrap();
    c
}

fn count(log: &str, text: &str) -> usize {
    log.matches(text).count()
}

#[test]
fn passive_and_nat_count_in_either_column() {
    // the original takes passive, SOCKS and NAT for the peer whichever
    // column of options names them
    let (p1, p2) = (free_port(), free_port());
    let (l1, l2) = (listen(p1), listen(p2));
    let h = home("fw-columns");
    flod(
        &h,
        &[
            format!("127.0.0.1,{p1} 1101 - - passive"),
            format!("127.0.0.1,{p2} 1102 - - NAT"),
        ],
    );
    let _a = Server::start(&h, 1100, free_port(), &[]);
    // the NAT peer gets our stream and the connection for its own (turn)
    let to_nat = accept_for(&l2, 10, |g| g.iter().any(|(_, h)| h.turn == 1));
    assert!(
        to_nat
            .iter()
            .any(|(_, h)| h.turn == 1 && h.sender_srvr_id == 1100),
        "no connection with turn for the NAT peer"
    );
    assert!(to_nat.iter().any(|(_, h)| h.turn == 0));
    // the passive one never a connection
    let to_passive = accept_for(&l1, 3, |g| !g.is_empty());
    assert!(to_passive.is_empty(), "connected to a passive peer");
}

#[test]
fn conflicting_words_turn_the_peer_off() {
    // "passive" in one column and "NAT" in the other: the original
    // complains and keeps the peer with flooding off both ways
    let h = home("fw-conflict");
    flod(
        &h,
        &[format!("127.0.0.1,{} 1101 - passive NAT", free_port())],
    );
    let a = Server::start(&h, 1100, free_port(), &[]);
    assert!(
        a.wait_log(
            "only one of \"passive\", \"SOCKS\", or \"NAT\" allowed in line 1",
            5
        ),
        "{}",
        a.log()
    );
    let mut c = connect_as(a.addr(), 1101, false);
    let (m, _) = split_listener(&read_some(&mut c, 10))
        .map(|(m, r)| (m, r.len()))
        .unwrap();
    match m.last() {
        Some(ListenerMsg::End(t)) => {
            let t = String::from_utf8_lossy(t);
            assert!(
                t.starts_with("flood from 127.0.0.1,") && t.ends_with(" turned off"),
                "{t}"
            );
        }
        other => panic!("no END: {other:?}"),
    }
}

#[test]
fn a_turned_connection_is_refused_while_our_stream_runs() {
    // our own stream to 1101 runs; 1101 (an original peer that marks us
    // NAT) then connects asking for it: refused as the original refuses a
    // duplicate passive output flood, not a second stream
    let pf = free_port();
    let l = listen(pf);
    let h = home("fw-dup");
    flod(&h, &[format!("127.0.0.1,{pf} 1101")]);
    let a = Server::start(&h, 1100, free_port(), &[]);
    let mut ours = accept_for(&l, 10, |g| !g.is_empty());
    assert_eq!(ours.len(), 1);
    ours[0]
        .0
        .write_all(&msg(ListenerMsg::Note(ARE_YOU_THERE.into())))
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut c = connect_as(a.addr(), 1101, true);
    let got = read_some(&mut c, 5);
    let (m, _) = split_listener(&got).unwrap_or_else(|_| panic!("not an END: {} bytes", got.len()));
    match m.last() {
        Some(ListenerMsg::End(t)) => {
            let t = String::from_utf8_lossy(t);
            assert!(
                t.starts_with("reject duplicate passive output flood from 127.0.0.1,"),
                "{t}"
            );
        }
        other => panic!("no END: {other:?} ({} bytes)", got.len()),
    }
}

#[test]
fn no_own_connection_while_a_turned_one_carries_the_stream() {
    // 1101 is behind a firewall and makes the connection for our stream
    // (we are not passive for it): we turn it around, and do not connect
    // to it ourselves until that stream ends
    let pf = free_port();
    let h = home("fw-forced");
    flod(&h, &[format!("127.0.0.1,{pf} 1101")]);
    let a = Server::start(&h, 1100, free_port(), &[]);
    let mut c = connect_as(a.addr(), 1101, true);
    let ours = read_header(&mut c);
    assert_eq!((ours.sender_srvr_id, ours.turn), (1100, 0));
    c.write_all(&msg(ListenerMsg::Note(ARE_YOU_THERE.into())))
        .unwrap();
    assert!(
        a.wait_log(
            "convert incoming flood to forced passive outgoing to 127.0.0.1,",
            5
        ),
        "{}",
        a.log()
    );
    let l = listen(pf);
    let extra = accept_for(&l, 5, |g| !g.is_empty());
    assert!(extra.is_empty(), "a second outgoing stream:\n{}", a.log());
    // once the turned stream ends, we connect ourselves
    drop(c);
    let again = accept_for(&l, 10, |g| !g.is_empty());
    assert_eq!(again.len(), 1, "{}", a.log());
    assert_eq!(again[0].1.turn, 0);
}

#[test]
fn no_nat_connection_while_the_peer_connected_itself() {
    // the original makes the connection for a NAT peer's stream only while
    // no incoming stream from the peer runs
    let pf = free_port();
    let h = home("fw-natskip");
    flod(&h, &[format!("127.0.0.1,{pf} 1101 - NAT")]);
    let a = Server::start(&h, 1100, free_port(), &[]);
    let mut c = connect_as(a.addr(), 1101, false);
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut first = [0u8; 8];
    c.read_exact(&mut first).unwrap();
    let l = listen(pf);
    let got = accept_for(&l, 8, |g| g.iter().any(|(_, h)| h.turn == 1));
    assert!(
        got.iter().all(|(_, h)| h.turn == 0),
        "a NAT connection while the peer's stream runs"
    );
    drop(c);
}

#[test]
fn a_refused_nat_connection_is_logged_as_the_original() {
    let pf = free_port();
    let l = listen(pf);
    let h = home("fw-natrefused");
    flod(&h, &[format!("127.0.0.1,{pf} 1101 - NAT")]);
    let a = Server::start(&h, 1100, free_port(), &[]);
    let mut got = accept_for(&l, 10, |g| g.iter().any(|(_, h)| h.turn == 1));
    let (c, _) = got
        .iter_mut()
        .find(|(_, h)| h.turn == 1)
        .expect("no NAT connection");
    c.write_all(&msg(ListenerMsg::End(b"unauthorized ID 1100".to_vec())))
        .unwrap();
    c.shutdown(std::net::Shutdown::Both).unwrap();
    let want = format!("NAT rejected by 127.0.0.1,{pf} with \"unauthorized ID 1100\"");
    assert!(a.wait_log(&want, 5), "{}", a.log());
    assert!(!a.log().contains("garbage connection"), "{}", a.log());
}

#[test]
fn an_incoming_stream_hurries_the_outgoing_one() {
    // the original connects at once to a peer whose stream just came in,
    // rather than when its back-off ends
    let pf = free_port();
    let h = home("fw-rush");
    flod(&h, &[format!("127.0.0.1,{pf} 1101")]);
    let a = Server::start(&h, 1100, free_port(), &[]);
    // refused four times (0, 1, 3, 7 s): the next try is 8 s later
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(&a.log(), "connect(flood to") < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(count(&a.log(), "connect(flood to") >= 4, "{}", a.log());
    let l = listen(pf);
    let mut c = connect_as(a.addr(), 1101, false);
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut first = [0u8; 8];
    c.read_exact(&mut first).unwrap();
    let got = accept_for(&l, 3, |g| !g.is_empty());
    assert_eq!(got.len(), 1, "{}", a.log());
}
