//! Greylist servers (`dccd -G`) flood their triples to each other through
//! `grey_flod`, and a restarted one resumes from `its position`.

mod common;
mod flood_util;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::{grey_answer, grey_request};
use flood_util::*;
use tally_wire::sign::{Passwd, Signer};
use tally_wire::OpNums;

/// A greylist request of triple `i`: the (msg, triple) answer.
fn grey(to: SocketAddr, i: u32, query: bool) -> (u32, u32) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(1);
    let pw = Passwd::new(b"vectorclientpw").unwrap();
    let n = N.fetch_add(1, Ordering::Relaxed);
    let signer = Signer::for_request(32800, Some(&pw));
    let (bytes, body) = grey_request(i, query, OpNums::from_le_words(9, 9, n, 1), &signer);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    for _ in 0..5 {
        s.send_to(&bytes, to).unwrap();
        let mut buf = [0u8; 2048];
        if let Ok((n, _)) = s.recv_from(&mut buf) {
            return grey_answer(&buf[..n], &body);
        }
    }
    panic!("no answer");
}

fn wait_same(a: SocketAddr, b: SocketAddr, i: u32) -> bool {
    let want = grey(a, i, true);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if grey(b, i, true) == want {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn greylist_servers_flood_triples() {
    let (pa, pb) = (free_port(), free_port());
    let (ha, hb) = (home("greya"), home("greyb"));
    std::fs::write(ha.join("grey_flod"), format!("127.0.0.1,{pb} 1101\n")).unwrap();
    std::fs::write(hb.join("grey_flod"), format!("127.0.0.1,{pa} 1100\n")).unwrap();
    let g = ["-G", "on,20"];
    let a = Server::start(&ha, 1100, pa, &g);
    let mut b = Server::start(&hb, 1101, pb, &g);
    let unknown = grey(b.addr(), 999, true);
    // a new triple at A is embargoed there, and B learns it
    let first = grey(a.addr(), 1, false);
    assert_ne!(grey(a.addr(), 1, true), unknown);
    assert!(wait_same(a.addr(), b.addr(), 1), "B never learned triple 1");
    let _ = first;
    // B killed, triples meanwhile at A, B back: it catches up
    b.kill9();
    for i in 2..6 {
        grey(a.addr(), i, false);
    }
    let b = Server::start(&hb, 1101, pb, &g);
    for i in 2..6 {
        assert!(
            wait_same(a.addr(), b.addr(), i),
            "B never learned triple {i}"
        );
    }
    // and the other way round
    grey(b.addr(), 50, false);
    assert!(wait_same(b.addr(), a.addr(), 50));
}
