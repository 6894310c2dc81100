//! The flod file read again when it changes, the flood trace switch, and a
//! sender that tries the second password of its passwd-ID after "bad
//! authentication".

mod flood_util;

use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use flood_util::*;
use tally_wire::admn::{AdmnRequest, Aop};
use tally_wire::packet::{Packet, Request};
use tally_wire::sign::{Passwd, Signer};
use tally_wire::OpNums;

/// `cdcc "trace FLOOD1 on"` as server-ID `id` with `pw`.
fn trace_on(to: SocketAddr, id: u32, pw: &[u8], bits: u32) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    let body = Request::Admn(AdmnRequest::new(now, Aop::TraceOn, bits));
    let pw = Passwd::new(pw).unwrap();
    let mut p = Packet::request(12, id, OpNums::from_le_words(4, 4, now, 1), body);
    let bytes = p.sign(&Signer::for_request(id, Some(&pw)));
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.send_to(&bytes, to).unwrap();
    let mut buf = [0u8; 2048];
    s.recv_from(&mut buf).unwrap();
}

#[test]
fn flod_file_changes_are_noticed_and_traced() {
    let (pa, pb) = (free_port(), free_port());
    let (ha, hb) = (home("filea"), home("fileb"));
    flod(&ha, &["# no peers yet".to_string()]);
    flod(&hb, &[format!("127.0.0.1,{pa} 1100")]);
    let a = Server::start(&ha, 1100, pa, &[]);
    let b = Server::start(&hb, 1101, pb, &[]);
    trace_on(b.addr(), 1101, b"vectorserver2pw", 0x40);
    report(a.addr(), 30, &[body(1)]).unwrap();
    // A does not know B: B's stream is refused
    assert!(a.wait_log("unauthorized ID 1101", 20), "{}", a.log());
    assert_eq!(query(b.addr(), &[body(1)]).unwrap()[0], 0);
    // a bad line is named, the good one taken
    flod(
        &ha,
        &["bogus line".to_string(), format!("127.0.0.1,{pb} 1101")],
    );
    assert!(a.wait_log("in line 1 of", 20), "{}", a.log());
    assert_eq!(wait_count(b.addr(), body(1), 30, 20), 30);
    assert!(b.wait_log("flood from 127.0.0.1,", 20), "{}", b.log());
    assert!(b.log().contains("authenticated"), "{}", b.log());
}

#[test]
fn second_password_after_bad_authentication() {
    let (pa, pb) = (free_port(), free_port());
    let (ha, hb) = (home("pwa"), home("pwb"));
    // A still signs with its old password first; B knows only the new one
    for (h, line) in [
        (&ha, "1100 oldserverpw vectorserverpw"),
        (&hb, "1100 vectorserverpw"),
    ] {
        let ids = h.join("ids");
        std::fs::write(
            &ids,
            format!("{IDS}{line}\n").replace("1100\tvectorserverpw\n", ""),
        )
        .unwrap();
        std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    flod(&ha, &[format!("127.0.0.1,{pb} 1101")]);
    flod(&hb, &[format!("127.0.0.1,{pa} 1100")]);
    let a = Server::start(&ha, 1100, pa, &[]);
    let b = Server::start(&hb, 1101, pb, &[]);
    report(a.addr(), 30, &[body(2)]).unwrap();
    assert_eq!(wait_count(b.addr(), body(2), 30, 30), 30);
    assert!(
        b.log().contains("bad authentication for ID 1100"),
        "{}",
        b.log()
    );
}

#[test]
fn a_peer_behind_a_firewall_makes_both_connections() {
    // A is inside (SOCKS: it connects for both streams), B outside (passive)
    let (pa, pb) = (free_port(), free_port());
    let (ha, hb) = (home("insidea"), home("outsideb"));
    flod(&ha, &[format!("127.0.0.1,{pb} 1101 - SOCKS")]);
    flod(&hb, &[format!("127.0.0.1,{pa} 1100 - passive")]);
    let a = Server::start(&ha, 1100, pa, &[]);
    let b = Server::start(&hb, 1101, pb, &[]);
    report(a.addr(), 30, &[body(5)]).unwrap();
    assert_eq!(wait_count(b.addr(), body(5), 30, 20), 30);
    // B's reports reach A over the connection A made
    report(b.addr(), 40, &[body(6)]).unwrap();
    assert_eq!(wait_count(a.addr(), body(6), 40, 20), 40, "{}", b.log());
    // and B never connected to A itself
    assert!(!b.log().contains("connect(flood"), "{}", b.log());
}
