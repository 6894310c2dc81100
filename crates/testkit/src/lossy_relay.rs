//! A lossy network between a DCC client and its server: a UDP relay on
//! the loopback interface that forwards each datagram of a client to the
//! server and each answer back, dropping each datagram in either
//! direction with a given probability.
//!
//! The drops come from a seeded xorshift generator, so a run's sequence
//! of decisions is the same every time (which datagram meets which
//! decision still depends on the order they arrive in). Every client
//! address gets its own socket towards the server, so answers find their
//! way back to the right client. The relay counts what it forwarded and
//! dropped, and its thread stops when the relay is dropped.
//!
//! Uses nothing but std, so that other crates' tests can include the file
//! with `#[path]`; its own tests are in `tests/lossy_relay.rs`.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// Seeded; a zero seed is replaced, as xorshift would stay at zero.
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        // 53 bits make a uniform number in [0, 1)
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// What the relay did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Datagrams from clients forwarded to the server.
    pub up: u64,
    /// Datagrams from clients dropped.
    pub up_dropped: u64,
    /// Answers forwarded to clients.
    pub down: u64,
    /// Answers dropped.
    pub down_dropped: u64,
}

impl RelayStats {
    /// The fraction of all datagrams dropped.
    pub fn drop_rate(&self) -> f64 {
        let all = self.up + self.up_dropped + self.down + self.down_dropped;
        if all == 0 {
            0.0
        } else {
            (self.up_dropped + self.down_dropped) as f64 / all as f64
        }
    }
}

#[derive(Default)]
struct Counters {
    up: AtomicU64,
    up_dropped: AtomicU64,
    down: AtomicU64,
    down_dropped: AtomicU64,
}

/// The running relay.
pub struct LossyRelay {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

/// Client addresses remembered at most; the one idle longest goes first.
const MAX_CLIENTS: usize = 4096;
/// How long the relay's loop sleeps when nothing arrived.
const IDLE_NAP: Duration = Duration::from_millis(1);
/// How long dropping the relay waits for its thread.
const JOIN_WAIT: Duration = Duration::from_secs(5);

struct Peer {
    up: UdpSocket,
    last: Instant,
}

impl LossyRelay {
    /// Relay datagrams to `server`, dropping each with probability
    /// `loss` (0.0 to 1.0) drawn from a generator seeded with `seed`.
    pub fn start(server: SocketAddr, loss: f64, seed: u64) -> io::Result<LossyRelay> {
        let front = UdpSocket::bind("127.0.0.1:0")?;
        front.set_nonblocking(true)?;
        let addr = front.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let (s, d, c) = (stop.clone(), done.clone(), counters.clone());
        let thread = std::thread::Builder::new()
            .name("lossy-relay".into())
            .spawn(move || {
                run(&front, server, loss, XorShift::new(seed), &s, &c);
                d.store(true, Ordering::SeqCst);
            })?;
        Ok(LossyRelay {
            addr,
            stop,
            done,
            counters,
            thread: Some(thread),
        })
    }

    /// Where clients send their datagrams.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counts so far.
    pub fn stats(&self) -> RelayStats {
        let c = &self.counters;
        RelayStats {
            up: c.up.load(Ordering::SeqCst),
            up_dropped: c.up_dropped.load(Ordering::SeqCst),
            down: c.down.load(Ordering::SeqCst),
            down_dropped: c.down_dropped.load(Ordering::SeqCst),
        }
    }
}

impl Drop for LossyRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let t0 = Instant::now();
        while !self.done.load(Ordering::SeqCst) && t0.elapsed() < JOIN_WAIT {
            std::thread::sleep(IDLE_NAP);
        }
        if let Some(t) = self.thread.take() {
            // joined only once finished, so dropping never hangs
            if self.done.load(Ordering::SeqCst) {
                let _ = t.join();
            }
        }
    }
}

fn run(
    front: &UdpSocket,
    server: SocketAddr,
    loss: f64,
    mut rng: XorShift,
    stop: &AtomicBool,
    c: &Counters,
) {
    let mut peers: HashMap<SocketAddr, Peer> = HashMap::new();
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::SeqCst) {
        let mut busy = false;
        // from clients, a bounded batch per round
        for _ in 0..256 {
            let Ok((n, from)) = front.recv_from(&mut buf) else {
                break;
            };
            busy = true;
            if rng.chance(loss) {
                c.up_dropped.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            let Some(p) = peer(&mut peers, from) else {
                continue;
            };
            p.last = Instant::now();
            if p.up.send_to(&buf[..n], server).is_ok() {
                c.up.fetch_add(1, Ordering::SeqCst);
            }
        }
        // answers back to each client
        for (client, p) in peers.iter_mut() {
            for _ in 0..256 {
                let Ok((n, _)) = p.up.recv_from(&mut buf) else {
                    break;
                };
                busy = true;
                if rng.chance(loss) {
                    c.down_dropped.fetch_add(1, Ordering::SeqCst);
                } else if front.send_to(&buf[..n], *client).is_ok() {
                    c.down.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        if !busy {
            std::thread::sleep(IDLE_NAP);
        }
    }
}

/// The socket towards the server for client `from`, made on first use.
fn peer(peers: &mut HashMap<SocketAddr, Peer>, from: SocketAddr) -> Option<&mut Peer> {
    if !peers.contains_key(&from) {
        if peers.len() >= MAX_CLIENTS {
            let oldest = peers.iter().min_by_key(|(_, p)| p.last).map(|(a, _)| *a);
            if let Some(a) = oldest {
                peers.remove(&a);
            }
        }
        let up = UdpSocket::bind("127.0.0.1:0").ok()?;
        up.set_nonblocking(true).ok()?;
        peers.insert(
            from,
            Peer {
                up,
                last: Instant::now(),
            },
        );
    }
    peers.get_mut(&from)
}
