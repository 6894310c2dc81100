//! A greylist dccd killed (SIGKILL) under load: every triple whose answer
//! a client received is still known after the restart.

mod common;

use std::collections::HashSet;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{exchange, free_port, grey_answer, grey_request, passwd, temp_home, Dccd};
use tally_wire::packet::{Expect, Packet, Request, Response};
use tally_wire::sign::Signer;
use tally_wire::OpNums;

fn request(i: u32, query: bool, signer: &Signer) -> (Vec<u8>, Request) {
    grey_request(i, query, OpNums::from_le_words(7, 7, i, 1), signer)
}

#[test]
fn answered_triples_survive_kill9() {
    let home = temp_home("grey-kill9");
    let port = free_port();
    let pw = passwd(32800).unwrap();
    let signer = Signer::for_request(32800, Some(&pw));
    let answered: Arc<Mutex<HashSet<u32>>> = Arc::default();
    {
        let mut d = Dccd::start(&home, port, &["-G", "on,20", "-R", "1000000"]);
        let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        // receiver: note the triples whose answer arrived
        let rx = {
            let (sock, answered, stop) = (sock.clone(), answered.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 2048];
                let mut idle = 0;
                while idle < 10 {
                    match sock.recv_from(&mut buf) {
                        Ok((n, _)) => {
                            idle = 0;
                            let p = Packet::<Response>::decode(&buf[..n], Expect::Grey).unwrap();
                            assert!(
                                matches!(p.body, Response::GreyAnswer { triple, .. } if triple.0 == 0)
                            );
                            let r = u32::from_le_bytes(p.op_nums.r);
                            answered.lock().unwrap().insert(r);
                        }
                        Err(_) if stop.load(Ordering::Relaxed) => idle += 1,
                        Err(_) => {}
                    }
                }
            })
        };
        // sender: new triples with about 16 in flight (a request whose
        // answer is slow or lost is given up after 20 ms), still sending
        // when the server is killed
        let tx = {
            let (sock, answered, stop) = (sock.clone(), answered.clone(), stop.clone());
            let (to, signer) = (d.addr, signer.clone());
            std::thread::spawn(move || {
                let mut last = std::time::Instant::now();
                for i in 0..1_000_000u32 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    while i as usize - answered.lock().unwrap().len().min(i as usize) >= 16
                        && last.elapsed() < Duration::from_millis(20)
                    {
                        std::thread::sleep(Duration::from_micros(50));
                    }
                    let (bytes, _) = request(i, false, &signer);
                    let _ = sock.send_to(&bytes, to);
                    last = std::time::Instant::now();
                }
            })
        };
        for _ in 0..3000 {
            if answered.lock().unwrap().len() >= 3000 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        d.kill9();
        stop.store(true, Ordering::Relaxed);
        tx.join().unwrap();
        rx.join().unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= 3000, "only {} answers", answered.len());

    let d = Dccd::start(&home, port, &["-G", "on,20", "-R", "1000000"]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut lost = Vec::new();
    for &i in &answered {
        let (bytes, body) = request(i, true, &signer);
        let (ans, _) = exchange(&sock, d.addr, &bytes, Duration::from_secs(2)).expect("answer");
        // known and embargoed once: the next attempt would be number 1
        if grey_answer(&ans, &body) != (1, 1) {
            lost.push(i);
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} answered triples lost: {:?}",
        lost.len(),
        answered.len(),
        &lost[..lost.len().min(10)]
    );
    let _ = std::fs::remove_dir_all(&home);
}
