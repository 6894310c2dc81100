//! A UDP tap between dccifd and a (greylist) server on the loopback
//! interface: every datagram dccifd sends is kept and passed on, and the
//! server's answer passed back, so that a test can compare the requests
//! with recorded ones whatever the server keeps of them.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running tap; stopped when dropped.
pub struct Tap {
    /// Where dccifd is to send its requests.
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Tap {
    /// Pass datagrams on to `upstream`.
    pub fn start(upstream: SocketAddr) -> Tap {
        let front = UdpSocket::bind("127.0.0.1:0").expect("bind tap");
        front
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let back = UdpSocket::bind("127.0.0.1:0").expect("bind tap");
        back.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let addr = front.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, st2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !st2.load(Ordering::Relaxed) {
                let Ok((n, from)) = front.recv_from(&mut buf) else {
                    continue;
                };
                let req = buf[..n].to_vec();
                s2.lock().unwrap().push(req.clone());
                if back.send_to(&req, upstream).is_err() {
                    continue;
                }
                if let Ok(m) = back.recv(&mut buf) {
                    let _ = front.send_to(&buf[..m], from);
                }
            }
        });
        Tap {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// Every datagram received so far, in order.
    pub fn seen(&self) -> Vec<Vec<u8>> {
        self.seen.lock().unwrap().clone()
    }

    /// Forget what was received so far.
    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
