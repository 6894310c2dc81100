//! The OK answer to a NOP announces, as the original's, the delay the
//! sender's answers will get: an authenticated client's own `delay=` of
//! the ids file, and for an anonymous client the anonymous delay as its
//! recent requests inflate it (`-u delay,inflate`).

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use tally_dccd::server::{Action, Server};
use tally_wire::header::ID_ANON;
use tally_wire::packet::{Expect, Packet, Request, Response};
use tally_wire::sign::{Passwd, Signer};
use tally_wire::OpNums;

use common::{ids_text, socketless_server};

/// The `qdelay_ms` of the OK answering a NOP from `id` signed with `pw`.
fn nop_qdelay(s: &mut Server, id: u32, pw: Option<&Passwd>, n: u32) -> u16 {
    let mut p = Packet::request(12, id, OpNums::from_le_words(4, 4, n, 1), Request::Nop);
    let bytes = p.sign(&Signer::for_request(id, pw));
    let from: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    match s.handle(&bytes, from, Instant::now()) {
        Action::Send(a, _) => {
            match Packet::<Response>::decode(&a, Expect::for_request(&Request::Nop))
                .unwrap()
                .body
            {
                Response::Ok(ok) => ok.qdelay_ms,
                other => panic!("{other:?}"),
            }
        }
        Action::Drop => panic!("no answer"),
    }
}

#[test]
fn ok_announces_the_senders_delay() {
    let (mut s, home) = socketless_server("nop-delay", &["-u", "100,1"], |home| {
        let mut ids = ids_text();
        ids.extend_from_slice(b"32801,delay=200 slowclientpw\n");
        std::fs::write(home.join("ids"), ids).unwrap();
    });
    let slow = Passwd::new(b"slowclientpw").unwrap();
    assert_eq!(nop_qdelay(&mut s, 32801, Some(&slow), 1), 200);
    let fast = common::passwd(32800).unwrap();
    assert_eq!(nop_qdelay(&mut s, 32800, Some(&fast), 2), 0);
    // the anonymous delay, inflated by each request of the last second
    assert_eq!(nop_qdelay(&mut s, ID_ANON, None, 3), 100);
    assert_eq!(nop_qdelay(&mut s, ID_ANON, None, 4), 200);
    let _ = std::fs::remove_dir_all(home);
}
