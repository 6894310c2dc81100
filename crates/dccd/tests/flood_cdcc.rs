//! cdcc's flood operations against our dccd: list (as recorded from the
//! original), stats, check, halt, resume, rewind, ffwd in and out.

mod flood_util;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use flood_util::*;
use tally_wire::admn::{AdmnRequest, Aop, FlodAop};
use tally_wire::packet::{Expect, Packet, Request, Response};
use tally_wire::response::AdmnAnswer;
use tally_wire::sign::{Passwd, Signer};
use tally_wire::OpNums;

/// What an ADMN FLOD request of server-ID 1100 is answered.
fn flood_op(to: SocketAddr, op: FlodAop, peer: u32) -> Response {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    let body = Request::Admn(AdmnRequest::new(now, Aop::Flod, peer * 256 + op as u32));
    let pw = Passwd::new(b"vectorserverpw").unwrap();
    let mut p = Packet::request(12, 1100, OpNums::from_le_words(1, 2, now, 1), body.clone());
    let bytes = p.sign(&Signer::for_request(1100, Some(&pw)));
    send(to, &bytes, &body)
}

fn send(to: SocketAddr, bytes: &[u8], body: &Request) -> Response {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.send_to(bytes, to).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = s.recv_from(&mut buf).unwrap();
    Packet::<Response>::decode(&buf[..n], Expect::for_request(body))
        .unwrap()
        .body
}

fn text(r: Response) -> String {
    match r {
        Response::Admn(AdmnAnswer::Text(t)) => String::from_utf8(t).unwrap(),
        other => panic!("not a text: {other:?}"),
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Connect to `to` as peer `id` and read its first answer (8 bytes, or
/// its 256-byte header when `turn` asks it to send).
fn peer_stream(to: SocketAddr, id: u16, turn: bool) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(to).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(&peer_header(id, turn)).unwrap();
    let mut first = vec![0u8; if turn { 256 } else { 8 }];
    c.read_exact(&mut first).unwrap();
    c
}

#[test]
fn flood_list_is_the_recorded_text() {
    use std::io::Read;
    // as when it was recorded, both streams with the peer are up: the
    // test plays the peer at 127.0.0.1,16278 (below the test ports)
    let l = std::net::TcpListener::bind("127.0.0.1:16278").expect("port 16278 free");
    let h = home("list");
    std::fs::write(h.join("flod"), "127.0.0.1,16278    1101\n").unwrap();
    let s = Server::start(&h, 1100, free_port(), &[]);
    let (mut out, _) = l.accept().unwrap();
    out.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut hdr = [0u8; 256];
    out.read_exact(&mut hdr).unwrap();
    let _in = peer_stream(s.addr(), 1101, false);
    // the request cdcc sent to the original, replayed as it was
    let req = hex("00340c050000044c6d017f00cc7b000003000000010000006b02d8970000000503000000ada054af18e5557093b8360c10f99121");
    let body = Packet::<Request>::decode(&req).unwrap().body;
    let t = text(send(s.addr(), &req, &body));
    assert_eq!(
        t,
        " 1101       127.0.0.1                   127.0.0.1,16278       "
    );
}

/// `flood list` and the first line of `flood stats` of `id`.
fn list_and_stats(to: SocketAddr, id: u32) -> (String, String) {
    let list = text(flood_op(to, FlodAop::List, 0));
    let st = text(flood_op(to, FlodAop::Stats, id));
    (list, st.lines().next().unwrap_or_default().to_string())
}

#[test]
fn flood_list_and_stats_show_passive_nat_and_forced_passive() {
    // flags after the host, two spaces before each, as the original's
    let (p1, p2) = (free_port(), free_port());
    let h = home("listflags");
    flod(
        &h,
        &[
            format!("127.0.0.1,{p1} 1101 - - passive"),
            format!("127.0.0.1,{p2} 1102 - NAT"),
        ],
    );
    let a = Server::start(&h, 1100, free_port(), &[]);
    let (list, st) = list_and_stats(a.addr(), 1101);
    let host1 = format!("127.0.0.1,{p1}");
    let host2 = format!("127.0.0.1,{p2}");
    assert_eq!(
        list,
        format!(
            " 1101     (no output)     (no input)    {host1:<22}  passive\n \
             1102     (no output)     (no input)    {host2:<22}  NAT"
        )
    );
    assert!(
        st.starts_with(" server-ID 1101  127.0.0.1  passive  "),
        "{st}"
    );
    // the NAT peer connects to us itself: its NAT is "rejected"
    let _in = peer_stream(a.addr(), 1102, false);
    let (list, _) = list_and_stats(a.addr(), 1102);
    assert!(
        list.ends_with(&format!(
            "(no output)   127.0.0.1       {host2:<22}  rejected NAT"
        )),
        "{list}"
    );

    // a peer we are not passive for makes the connection for our stream
    let pf = free_port();
    let h = home("listforced");
    flod(&h, &[format!("127.0.0.1,{pf} 1101")]);
    let b = Server::start(&h, 1100, free_port(), &[]);
    let _turned = peer_stream(b.addr(), 1101, true);
    let (list, st) = list_and_stats(b.addr(), 1101);
    assert!(
        list.starts_with(" 1101       127.0.0.1     (no input)    ")
            && list.ends_with("  forced passive"),
        "{list}"
    );
    assert!(
        st.starts_with(" server-ID 1101  127.0.0.1  forced passive  "),
        "{st}"
    );
}

#[test]
fn flood_operations_of_cdcc() {
    let (pa, pb) = (free_port(), free_port());
    let (ha, hb) = (home("opsa"), home("opsb"));
    flod(&ha, &[format!("127.0.0.1,{pb} 1101")]);
    flod(&hb, &[format!("127.0.0.1,{pa} 1100")]);
    let a = Server::start(&ha, 1100, pa, &[]);
    let b = Server::start(&hb, 1101, pb, &[]);
    report(a.addr(), 20, &[body(1)]).unwrap();
    assert_eq!(wait_count(b.addr(), body(1), 20, 20), 20);

    let st = text(flood_op(a.addr(), FlodAop::Stats, 1101));
    assert!(st.starts_with(" server-ID 1101 "), "{st}");
    // the report and our server-ID claim (and the peer's claim back to it,
    // once it has come)
    // (the original's layout: "\n  output connected a total of ...\n
    // N reports sent\n     connected since ...")
    let sent: u32 = st
        .lines()
        .find(|l| l.ends_with(" reports sent"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!((2..=3).contains(&sent), "{st}");
    assert!(
        st.contains("\n  output connected a total of 0 days"),
        "{st}"
    );
    assert!(st.contains("     connected since "), "{st}");
    assert!(st.contains("\n     position 0x"), "{st}");
    assert!(st.contains("\n  input connected a total of "), "{st}");
    assert!(st.contains(" accepted  0 duplicate  0 stale\n"), "{st}");
    // flood stats all: the peer, then the end marker naming the request
    let all = text(flood_op(a.addr(), FlodAop::Stats, 32768));
    assert!(all.starts_with(" server-ID 1101 "), "{all}");
    let end = text(flood_op(a.addr(), FlodAop::Stats, 32768 + 1101));
    assert_eq!(
        end,
        format!(" server-ID {} unknown remote server-ID", 32768 + 1101)
    );
    // a server-ID that is not a peer: the original's text, not an error
    assert_eq!(
        text(flood_op(a.addr(), FlodAop::Stats, 1234)),
        " server-ID 1234 unknown remote server-ID"
    );
    // check: the original's summary line
    let check = text(flood_op(a.addr(), FlodAop::Check, 0));
    assert!(
        check.starts_with("flood on   1 streams  ") && check.ends_with(" in"),
        "{check}"
    );
    // halt: nothing more leaves A; resume: it follows
    assert!(matches!(
        flood_op(a.addr(), FlodAop::Halt, 0),
        Response::Ok(_)
    ));
    report(a.addr(), 30, &[body(2)]).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(query(b.addr(), &[body(2)]).unwrap()[0], 0);
    assert!(matches!(
        flood_op(a.addr(), FlodAop::Resume, 0),
        Response::Ok(_)
    ));
    assert_eq!(wait_count(b.addr(), body(2), 30, 20), 30);

    // rewind: A asks B to send everything again (nothing counted twice)
    assert!(matches!(
        flood_op(a.addr(), FlodAop::Rewind, 1101),
        Response::Ok(_)
    ));
    assert!(b.wait_log("rewind flood to 127.0.0.1", 20), "{}", b.log());
    // ffwd in: A asks B to skip to its end
    assert!(matches!(
        flood_op(a.addr(), FlodAop::FfwdIn, 1101),
        Response::Ok(_)
    ));
    assert!(b.wait_log("fast forward flood to 127.0.0.1", 20));
    // ffwd out: A skips its own stream to B to the end
    assert!(matches!(
        flood_op(a.addr(), FlodAop::FfwdOut, 1101),
        Response::Ok(_)
    ));
    assert!(a.wait_log("fast forward flood to 127.0.0.1", 20));
    report(a.addr(), 40, &[body(3)]).unwrap();
    assert_eq!(wait_count(b.addr(), body(3), 40, 20), 40);
    assert_eq!(query(b.addr(), &[body(1)]).unwrap()[0], 20);
    // an unknown peer
    assert!(matches!(
        flood_op(a.addr(), FlodAop::Rewind, 1234),
        Response::Error(_)
    ));
}

/// `cdcc delck` at a server (its own server-ID 1100).
fn delck(to: SocketAddr, ck: tally_wire::WireCk) -> Response {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    let body = Request::Delete(tally_wire::packet::Delete {
        date: now,
        ck,
        pad: [0; 2],
    });
    let pw = Passwd::new(b"vectorserverpw").unwrap();
    let mut p = Packet::request(12, 1100, OpNums::from_le_words(3, 3, now, 1), body.clone());
    let bytes = p.sign(&Signer::for_request(1100, Some(&pw)));
    send(to, &bytes, &body)
}

#[test]
fn deletions_are_flooded_where_allowed() {
    // B takes deletions (reputations, the default); C refuses them (no-del)
    let (pa, pb, pc) = (free_port(), free_port(), free_port());
    let (ha, hb, hc) = (home("dela"), home("delb"), home("delc"));
    flod(
        &ha,
        &[
            format!("127.0.0.1,{pb} 1101"),
            format!("127.0.0.1,{pc} 1102"),
        ],
    );
    flod(&hb, &[format!("127.0.0.1,{pa} 1100")]);
    flod(&hc, &[format!("127.0.0.1,{pa} 1100 - - no-del")]);
    let a = Server::start(&ha, 1100, pa, &[]);
    let b = Server::start(&hb, 1101, pb, &[]);
    let c = Server::start(&hc, 1102, pc, &[]);
    report(a.addr(), 50, &[body(9)]).unwrap();
    assert_eq!(wait_count(b.addr(), body(9), 50, 20), 50);
    assert_eq!(wait_count(c.addr(), body(9), 50, 20), 50);
    assert!(matches!(delck(a.addr(), body(9)), Response::Ok(_)));
    assert_eq!(query(a.addr(), &[body(9)]).unwrap()[0], 0);
    // deleting it again, or a checksum never seen: the original's ERROR
    // texts, the deletion still recorded and flooded
    let err = |r: Response| match r {
        Response::Error(t) => String::from_utf8(t).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        err(delck(a.addr(), body(9))),
        format!("Body {} already deleted", body(9).sum)
    );
    report(b.addr(), 7, &[body(11)]).unwrap();
    assert_eq!(
        err(delck(a.addr(), body(11))),
        format!("\"Body {}\" not found to delete", body(11).sum)
    );
    assert_eq!(wait_count(b.addr(), body(11), 0, 20), 0);
    assert_eq!(wait_count(b.addr(), body(9), 0, 20), 0);
    assert!(b.wait_log("accept delete request", 5));
    // C refused it (logged with FLOOD2 only) and keeps its count
    report(a.addr(), 30, &[body(10)]).unwrap();
    assert_eq!(wait_count(c.addr(), body(10), 30, 20), 30);
    assert_eq!(query(c.addr(), &[body(9)]).unwrap()[0], 50);
}
