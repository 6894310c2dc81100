//! How our dccd meets original (DCC 2.3.167) peers where the recordings
//! do not reach: an older peer refusing our reputations version string,
//! and the server-ID claims of greylist servers.

mod flood_util;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use flood_util::*;
use tally_ck::CkType;
use tally_wire::flood::{FloodReport, ListenerMsg, VersionHeader, VERS7, VERS7_REP, VERS_HDR_LEN};

/// Accept our server's next connection and read its version header.
fn next_header(l: &TcpListener) -> (TcpStream, VersionHeader) {
    let (mut c, _) = l.accept().unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut hdr = vec![0u8; VERS_HDR_LEN];
    c.read_exact(&mut hdr).unwrap();
    (c, VersionHeader::decode(&hdr).unwrap())
}

fn send(c: &mut TcpStream, m: &ListenerMsg) {
    let mut b = Vec::new();
    m.encode_into(&mut b);
    c.write_all(&b).unwrap();
}

/// Read records until `n` have come.
fn records(c: &mut TcpStream, n: usize) -> Vec<FloodReport> {
    let (mut buf, mut tmp, mut out) = (Vec::new(), [0u8; 512], Vec::new());
    while out.len() < n {
        let k = c.read(&mut tmp).unwrap();
        assert!(k > 0, "stream closed");
        buf.extend_from_slice(&tmp[..k]);
        while let Some((r, len)) = FloodReport::decode(&buf).unwrap() {
            buf.drain(..len);
            out.push(r);
        }
    }
    out
}

#[test]
fn a_peer_refusing_reputations_gets_the_plain_version_at_once() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = home("plainvers");
    flod(&h, &[format!("127.0.0.1,{port} 1101")]);
    let _s = Server::start(&h, 1100, free_port(), &[]);
    // an older original: "rep 7" is a version it does not know
    let (mut c, hdr) = next_header(&l);
    assert_eq!(hdr.vers_str(), VERS7_REP.as_bytes());
    let text = format!(
        "unrecognized flod version; expected \"{VERS7}\" not \"{}\"",
        &VERS7_REP[..VERS7_REP.len().min(27)]
    );
    send(&mut c, &ListenerMsg::End(text.into_bytes()));
    drop(c);
    // the next try comes soon (no back-off) with the plain string
    let began = Instant::now();
    let (mut c, hdr) = next_header(&l);
    assert!(began.elapsed() < Duration::from_secs(5));
    assert_eq!(hdr.vers_str(), VERS7.as_bytes());
    // and it stays plain while that stream works
    send(&mut c, &ListenerMsg::Rewind);
    let claim = &records(&mut c, 1)[0];
    assert_eq!(claim.cks[0].ty, CkType::SrvrId);
}

#[test]
fn greylist_servers_claim_their_server_id() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = home("greyclaim");
    std::fs::write(h.join("grey_flod"), format!("127.0.0.1,{port} 1101\n")).unwrap();
    let _s = Server::start(&h, 1100, free_port(), &["-G", "on"]);
    let (mut c, hdr) = next_header(&l);
    // greylist servers do not announce reputations
    assert_eq!(hdr.vers_str(), VERS7.as_bytes());
    send(&mut c, &ListenerMsg::Rewind);
    let claim = &records(&mut c, 1)[0];
    assert_eq!((claim.srvr_id, claim.tgts.0, claim.cks.len()), (1100, 1, 1));
    assert_eq!(claim.cks[0].ty, CkType::SrvrId);
    assert!(claim.path().is_empty());
}
