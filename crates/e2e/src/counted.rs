//! Asking our dccd directly (signed UDP QUERY, no client program in
//! between) how many reports it has counted for a message's Body
//! checksum: the check that acknowledged reports survive a crash.

use crate::dccd::{CLIENT_ID, CLIENT_PW};
use crate::milter::Parts;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use tally_ck::header::{CkConfig, Envelope};
use tally_ck::message::MessageCks;
use tally_wire::packet::CkRequest;
use tally_wire::response::Answer;
use tally_wire::{
    CkType, Expect, OpNums, Packet, Passwd, Request, Response, Signer, Sum, Tgts, WireCk,
};

/// The Body checksum of a raw message as dccproc computes it (and dccifd,
/// whose framing differs only for header fields over 1024 bytes).
pub fn body_sum_raw(raw: &[u8]) -> Option<Sum> {
    let mut m = MessageCks::new(&CkConfig::default(), &Envelope::default());
    m.feed(raw);
    m.finish().get(CkType::Body).map(|e| e.sum)
}

/// The Body checksum of a message as a milter (dccm) computes it from the
/// header fields and the body the MTA hands over.
pub fn body_sum_milter(raw: &[u8]) -> Option<Sum> {
    let p = Parts::of(raw);
    let mut m = MessageCks::new(&CkConfig::default(), &Envelope::default());
    for (n, v) in &p.headers {
        m.header(n.as_bytes(), v.as_bytes());
    }
    m.end_of_headers();
    m.body(&p.body);
    m.finish().get(CkType::Body).map(|e| e.sum)
}

/// The server's count of Body checksum `sum` (a QUERY, which adds
/// nothing), or None when the server did not answer within `limit`
/// (the request is sent again every 200 ms).
pub fn body_count(server: SocketAddr, sum: Sum, seq: u32, limit: Duration) -> Option<u32> {
    let sock = UdpSocket::bind("127.0.0.1:0").ok()?;
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .ok()?;
    let body = Request::Query(CkRequest {
        tgts: Tgts(0),
        cks: vec![WireCk::new(CkType::Body, sum)],
    });
    let mut p = Packet::request(
        12,
        CLIENT_ID,
        OpNums::from_le_words(7, 7, seq, 1),
        body.clone(),
    );
    let pw = Passwd::new(CLIENT_PW.as_bytes())?;
    let bytes = p.sign(&Signer::Passwd(pw));
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 2048];
    while Instant::now() < deadline {
        let _ = sock.send_to(&bytes, server);
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let Ok(ans) = Packet::<Response>::decode(buf.get(..n)?, Expect::for_request(&body)) else {
            continue;
        };
        return match ans.body {
            Response::Answer(Answer::Pairs(v)) => v.first().map(|c| c.c.0),
            Response::Answer(Answer::Singles(v)) => v.first().map(|c| c.0),
            _ => None,
        };
    }
    None
}
