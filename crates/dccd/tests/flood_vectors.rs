//! The recorded flood connections (DCC 2.3.167) replayed against our dccd,
//! in the listener's role and in the originator's.

mod flood_util;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use flood_util::*;
use tally_ck::CkType;
use tally_wire::flood::{split_listener, split_originator, ListenerMsg, VERS_HDR_LEN};

/// dccd #1 of the recordings (1100) with #2 (1101) in its flod file.
fn server1(tag: &str) -> Server {
    let h = home(tag);
    flod(&h, &[format!("127.0.0.1,{}    1101", free_port())]);
    Server::start(&h, 1100, free_port(), &[])
}

#[test]
fn refused_connections_end_as_recorded() {
    let s = server1("refused");
    for (conn, text) in [
        ("conn8_53424_to_16277", "bad authentication for ID 1101"),
        ("conn9_53436_to_16277", "unauthorized ID 1234"),
        (
            "conn10_53448_to_16277",
            "unrecognized flod version; expected \"DCC flod version 7\" not \"HELLO flood version 99\"",
        ),
    ] {
        let sent = recorded(&format!("{conn}_originator.hex"));
        let want = recorded(&format!("{conn}_listener.hex"));
        let got = replay(s.addr(), &sent, false);
        assert_eq!(got, want, "{conn}: {:?}", String::from_utf8_lossy(&got));
        assert!(s.wait_log(text, 5), "{conn}: no log line with {text:?}");
    }
    // fewer than 256 bytes, then EOF: closed without a word, logged
    let sent = recorded("conn11_53464_to_16277_originator.hex");
    let got = replay(s.addr(), &sent, true);
    assert!(got.is_empty());
    assert!(s.wait_log("garbage connection from 127.0.0.1", 5));
}

/// Date every report of a recorded originator stream now.
fn retime(stream: &mut [u8]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let ts = tally_wire::flood::Ts::new(now.as_secs(), now.subsec_micros());
    let mut off = VERS_HDR_LEN;
    while let Ok(Some((_, n))) = tally_wire::flood::FloodReport::decode(&stream[off..]) {
        stream[off + 14..off + 20].copy_from_slice(&ts.0);
        off += n;
    }
}

#[test]
fn recorded_stream_is_received_acknowledged_and_counted() {
    // our server as the recordings' #2 (1101) listening to #1 (1100)
    let h = home("listen2");
    flod(&h, &[format!("127.0.0.1,{}    1100", free_port())]);
    let s = Server::start(&h, 1101, free_port(), &[]);
    let mut sent = recorded("conn2_57956_to_16278_originator.hex");
    // the clock injected: the reports dated now (older ones are stale)
    retime(&mut sent);
    let (_, reports, rest) = split_originator(&sent).unwrap();
    assert!(rest.is_empty());
    let got = replay(s.addr(), &sent, true);
    let (msgs, left) = split_listener(&got).unwrap();
    assert!(left.is_empty());
    // a new database asks for everything; the last report is acknowledged;
    // the sender's EOF is answered with the graceful END naming it
    assert_eq!(msgs.first(), Some(&ListenerMsg::Rewind));
    let last = reports.last().unwrap().pos;
    assert!(msgs.contains(&ListenerMsg::Ack(last)), "{msgs:?}");
    match msgs.last() {
        Some(ListenerMsg::End(t)) => {
            let t = String::from_utf8_lossy(t);
            assert!(
                t.starts_with("DCC flod ok: 127.0.0.1,") && t.ends_with(" EOF"),
                "{t}"
            );
        }
        other => panic!("no END: {other:?}"),
    }
    // the many-reports of the recording are counted here
    let mut checked = 0;
    for r in &reports {
        if r.tgts.0 != 0x00ff_fff0 || r.srvr_id != 1100 {
            continue;
        }
        for ck in r.cks.iter().filter(|c| c.ty == CkType::Body) {
            assert_eq!(query(s.addr(), &[*ck]).unwrap()[0], 0x00ff_fff0, "{ck:?}");
            checked += 1;
        }
    }
    assert!(checked >= 3, "{checked} checksums checked");
    // the same stream again: nothing counted twice; a listener that has a
    // position opens with the NOTE "are you there?", as the recorded
    // listeners after dbclean did (an original sender closes the stream on
    // a position it did not send on this connection), and acknowledges
    let got = replay(s.addr(), &sent, true);
    let (msgs, _) = split_listener(&got).unwrap();
    assert_eq!(
        msgs.first(),
        Some(&ListenerMsg::Note(tally_wire::flood::ARE_YOU_THERE.into()))
    );
    assert!(msgs.contains(&ListenerMsg::Ack(last)), "{msgs:?}");
}

#[test]
fn our_header_is_the_recorded_one() {
    // a peer 1101 that listens; our server is #1 (1100)
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer_port = l.local_addr().unwrap().port();
    let h = home("origin1");
    flod(&h, &[format!("127.0.0.1,{peer_port}    1101")]);
    let s = Server::start(&h, 1100, free_port(), &[]);
    let (mut c, _) = l.accept().unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut hdr = vec![0u8; VERS_HDR_LEN];
    c.read_exact(&mut hdr).unwrap();
    let want = recorded("conn2_57956_to_16278_originator.hex");
    assert_eq!(hdr, want[..VERS_HDR_LEN].to_vec());
    // after our REWIND, a report of many at the server arrives as a record
    let mut m = Vec::new();
    ListenerMsg::Rewind.encode_into(&mut m);
    c.write_all(&m).unwrap();
    let ck = body(77);
    report(s.addr(), 0x00ff_fff0, &[ck]).unwrap();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 512];
    // as recorded, our server-ID claim (our host name, count 1) comes first
    let mut records = Vec::new();
    while records.len() < 2 {
        let n = c.read(&mut tmp).unwrap();
        assert!(n > 0, "stream closed");
        buf.extend_from_slice(&tmp[..n]);
        while let Some((r, len)) = tally_wire::flood::FloodReport::decode(&buf).unwrap() {
            buf.drain(..len);
            records.push(r);
        }
    }
    let claim = &records[0];
    assert_eq!((claim.srvr_id, claim.tgts.0, claim.cks.len()), (1100, 1, 1));
    assert_eq!(claim.cks[0].ty, CkType::SrvrId);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let host = host.trim();
    assert_eq!(
        tally_wire::flood::sum_text(&claim.cks[0].sum),
        &host.as_bytes()[..host.len().min(16)]
    );
    let r = &records[1];
    assert_eq!(r.srvr_id, 1100);
    assert_eq!(r.tgts.0, 0x00ff_fff0);
    assert_eq!(r.cks, vec![ck]);
    assert!(r.pos >= 10);
}

#[test]
fn end_request_is_followed_as_recorded() {
    // conn3: #2 (1101) floods to #1, which asks it to stop (END_REQ);
    // #2 half-closes and #1 ends with "DCC flod ok: vm EOF". Our server
    // is #2 here, the listener replays #1's side.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer_port = l.local_addr().unwrap().port();
    let h = home("endreq");
    flod(&h, &[format!("127.0.0.1,{peer_port}    1100")]);
    let s = Server::start(&h, 1101, free_port(), &[]);
    let (mut c, _) = l.accept().unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut hdr = vec![0u8; VERS_HDR_LEN];
    c.read_exact(&mut hdr).unwrap();
    let want = recorded("conn3_44414_to_16277_originator.hex");
    assert_eq!(hdr, want[..VERS_HDR_LEN].to_vec(), "our header is #2's");
    let (msgs, _) = split_listener(&recorded("conn3_44414_to_16277_listener.hex")).unwrap();
    let mut m = Vec::new();
    ListenerMsg::Rewind.encode_into(&mut m);
    c.write_all(&m).unwrap();
    // a report, then the END_REQ: what we sent ends with our half-close
    let ck = body(88);
    report(s.addr(), 0x00ff_fff0, &[ck]).unwrap();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 512];
    while tally_wire::flood::FloodReport::decode(&buf)
        .unwrap()
        .is_none()
    {
        let n = c.read(&mut tmp).unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&tmp[..n]);
    }
    let mut m = Vec::new();
    msgs.iter()
        .find(|m| **m == ListenerMsg::EndReq)
        .unwrap()
        .encode_into(&mut m);
    c.write_all(&m).unwrap();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    // the recorded END closes the stream; the sender takes it as graceful
    let mut end = Vec::new();
    msgs.last().unwrap().encode_into(&mut end);
    assert_eq!(
        msgs.last(),
        Some(&ListenerMsg::End(b"DCC flod ok: vm EOF".to_vec()))
    );
    c.write_all(&end).unwrap();
    drop(c);
    // a graceful end (nothing logged as an error), and it comes back
    let (c2, _) = l.accept().unwrap();
    drop(c2);
    assert!(
        !s.log().contains("without END") && !s.log().contains(" ended: "),
        "{}",
        s.log()
    );
}

#[test]
fn our_records_are_the_recorded_bytes() {
    // #1's own reports in conn2, made again from the log entries they came
    // from (position and time injected): the same bytes on the wire
    use tally_dccd::flood::{file::parse_line, proto::to_wire};
    use tally_store::{Ck, LogEntry, Pos, Report, Ts};
    let sent = recorded("conn2_57956_to_16278_originator.hex");
    let (_, reports, _) = split_originator(&sent).unwrap();
    let peer = parse_line("127.0.0.1,16278    1101", 1).unwrap();
    let mut checked = 0;
    for r in reports.iter().filter(|r| {
        r.srvr_id == 1100 && r.tgts.0 >= 10 && r.cks.iter().all(|c| c.ty != CkType::EnvTo)
    }) {
        let ts = r.ts.0.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
        let e = LogEntry {
            pos: Pos(r.pos),
            report: Report::new(
                Ts(ts),
                1100,
                r.tgts.0,
                r.cks.iter().map(|c| Ck::new(c.ty, c.sum)).collect(),
            ),
        };
        let ours = to_wire(&e, 1100, &peer, true, false).unwrap();
        let mut a = Vec::new();
        ours.encode_into(&mut a);
        // the very bytes of the recorded stream
        assert!(
            sent.windows(a.len()).any(|w| w == a.as_slice()),
            "record at {:#x}",
            r.pos
        );
        checked += 1;
    }
    assert!(checked >= 4, "{checked} records");
}
