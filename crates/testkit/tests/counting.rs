//! The fake server counts as dccd does with its default settings: only the
//! body checksums and the reputation total are kept, queries do not count,
//! a spam report makes the body counts "many", a retransmission is not
//! counted twice, and a silent server answers nothing.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;
use tally_testkit::FakeDccd;
use tally_wire::packet::{Answer, CkRequest, CountPair, Response};
use tally_wire::response::Expect;
use tally_wire::sign::Signer;
use tally_wire::{CkType, Op, OpNums, Packet, Request, Sum, Tgts, WireCk};

const BODY: Sum = Sum([7; 16]);
const FROM: Sum = Sum([3; 16]);

/// Send one anonymous request with operation number `n`; the counts of the
/// answer, or None without an answer.
fn ask(to: SocketAddr, n: u32, report: Option<Tgts>) -> Option<Vec<CountPair>> {
    let cks = vec![
        WireCk {
            ty: CkType::From,
            sum: FROM,
        },
        WireCk {
            ty: CkType::Body,
            sum: BODY,
        },
    ];
    let body = match report {
        Some(tgts) => Request::Report(CkRequest { tgts, cks }),
        None => Request::Query(CkRequest { tgts: Tgts(0), cks }),
    };
    let mut req = Packet::request(12, 1, OpNums::from_le_words(1, 2, n, 1), body);
    let bytes = req.sign(&Signer::Zero);
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    s.send_to(&bytes, to).expect("send");
    let mut buf = [0u8; 2048];
    let (len, _) = s.recv_from(&mut buf).ok()?;
    let resp = Packet::<Response>::decode(buf.get(..len)?, Expect::Dcc).expect("decode");
    match resp.body {
        Response::Answer(Answer::Pairs(p)) => Some(p),
        other => panic!("unexpected answer {other:?}"),
    }
}

#[test]
fn counts_like_dccd() {
    let srv = FakeDccd::start(1200, "testbrand");
    // a query of a new message: nothing counted
    let q = ask(srv.addr, 1, None).expect("answer");
    assert_eq!(
        q[0],
        CountPair {
            c: Tgts(0),
            p: Tgts::INVALID
        }
    );
    assert_eq!(
        q[1],
        CountPair {
            c: Tgts(0),
            p: Tgts(0)
        }
    );
    // a report of 2 recipients; its retransmission is not counted again
    let r = ask(srv.addr, 2, Some(Tgts(2))).expect("answer");
    assert_eq!(
        r[1],
        CountPair {
            c: Tgts(2),
            p: Tgts(0)
        }
    );
    assert_eq!(ask(srv.addr, 2, Some(Tgts(2))), Some(r));
    assert_eq!(srv.count(CkType::Body, BODY), 2);
    assert_eq!(srv.count(CkType::From, FROM), 0);
    // a spam report makes the body count "many"
    let spam = Tgts(1 | Tgts::SPAM_FLAG);
    let r = ask(srv.addr, 3, Some(spam)).expect("answer");
    assert_eq!(
        r[1],
        CountPair {
            c: Tgts::MANY,
            p: Tgts(2)
        }
    );
    assert_eq!(srv.ops(Op::Report).len(), 3);
    assert_eq!(srv.ops(Op::Query).len(), 1);
    assert!(srv.seen().iter().all(|s| s.sender == 1 && !s.authenticated));
}

#[test]
fn preloaded_and_silent() {
    let srv = FakeDccd::start(1200, "testbrand");
    srv.preload(CkType::Body, BODY, 5);
    let q = ask(srv.addr, 1, None).expect("answer");
    assert_eq!(
        q[1],
        CountPair {
            c: Tgts(5),
            p: Tgts(5)
        }
    );
    srv.freeze(true);
    assert_eq!(ask(srv.addr, 2, None), None);
    // the unanswered request was still received
    assert_eq!(srv.ops(Op::Query).len(), 2);
    let silent = FakeDccd::silent();
    assert_eq!(ask(silent.addr, 1, None), None);
}
