//! The lossy relay itself: its generator is deterministic and fair, and
//! over 10,000 datagrams it drops close to the configured fraction in each
//! direction while forwarding exactly what it counts.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally_testkit::lossy_relay::{LossyRelay, XorShift};

#[test]
fn generator_is_deterministic_and_fair() {
    let (mut a, mut b) = (XorShift::new(7), XorShift::new(7));
    let mut hits = 0;
    for _ in 0..10_000 {
        let x = a.chance(0.3);
        assert_eq!(x, b.chance(0.3));
        hits += usize::from(x);
    }
    assert!((2_800..=3_200).contains(&hits), "{hits} of 10000");
}

/// 10,000 datagrams to an echo server through the relay at 30 % loss:
/// the relay drops close to 30 % in each direction, and the server and
/// the client see exactly what it forwarded.
#[test]
fn drops_the_configured_fraction() {
    let echo = UdpSocket::bind("127.0.0.1:0").expect("bind echo");
    echo.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let server = echo.local_addr().expect("addr");
    let echoed = Arc::new(AtomicU64::new(0));
    let (e2, quit) = (echoed.clone(), Arc::new(AtomicBool::new(false)));
    let q2 = quit.clone();
    let t = std::thread::spawn(move || {
        let mut b = [0u8; 64];
        while !q2.load(Ordering::SeqCst) {
            if let Ok((n, from)) = echo.recv_from(&mut b) {
                e2.fetch_add(1, Ordering::SeqCst);
                let _ = echo.send_to(&b[..n], from);
            }
        }
    });
    let relay = LossyRelay::start(server, 0.3, 12_345).expect("relay");
    let client = UdpSocket::bind("127.0.0.1:0").expect("bind client");
    client
        .set_read_timeout(Some(Duration::from_millis(1)))
        .expect("timeout");
    let mut got = 0u64;
    let mut b = [0u8; 64];
    const N: u64 = 10_000;
    for i in 0..N {
        client
            .send_to(&i.to_be_bytes(), relay.addr())
            .expect("send");
        // in small batches, each through both ways before the next, so
        // that no socket buffer overflows
        if i % 100 == 99 {
            let t0 = Instant::now();
            loop {
                while client.recv_from(&mut b).is_ok() {
                    got += 1;
                }
                let s = relay.stats();
                let e = echoed.load(Ordering::SeqCst);
                let settled =
                    s.up + s.up_dropped == i + 1 && e == s.up && s.down + s.down_dropped == e;
                if (settled && got == s.down) || t0.elapsed() > Duration::from_secs(5) {
                    break;
                }
            }
        }
    }
    // until nothing moves for a while: all answers are in
    let (mut last, mut still) = (None, Instant::now());
    let t0 = Instant::now();
    while still.elapsed() < Duration::from_millis(300) && t0.elapsed() < Duration::from_secs(10) {
        while client.recv_from(&mut b).is_ok() {
            got += 1;
        }
        let now = (relay.stats(), got, echoed.load(Ordering::SeqCst));
        if last != Some(now) {
            (last, still) = (Some(now), Instant::now());
        }
    }
    let s = relay.stats();
    quit.store(true, Ordering::SeqCst);
    t.join().expect("echo thread");
    assert_eq!(s.up + s.up_dropped, N);
    // the loopback interface itself may drop a few on a loaded machine
    let echoed = echoed.load(Ordering::SeqCst);
    assert!(
        echoed <= s.up && echoed * 100 >= s.up * 98,
        "{s:?}, {echoed} echoed"
    );
    assert!(
        got <= s.down && got * 100 >= s.down * 98,
        "{s:?}, {got} back"
    );
    let up_rate = s.up_dropped as f64 / N as f64;
    let down_rate = s.down_dropped as f64 / (s.down + s.down_dropped) as f64;
    eprintln!(
        "relay at 30%: {s:?}; dropped {:.2}% up, {:.2}% down, {:.2}% overall",
        up_rate * 100.0,
        down_rate * 100.0,
        s.drop_rate() * 100.0
    );
    assert!((0.28..=0.32).contains(&up_rate), "{up_rate}");
    assert!((0.28..=0.32).contains(&down_rate), "{down_rate}");
}
