//! The threads that serve connections: each one waits in `accept()` on the
//! listening socket and handles the connection it gets itself, so that a
//! request costs no hand-over between threads. There are always a few
//! spare threads waiting; when the last waiting one takes a connection it
//! starts another, up to `-j` threads in all. Threads stay once started
//! (starting and ending threads under load costs more than it saves), so
//! the pool is as large as the busiest moment needed. With `-j` threads
//! busy, further clients wait in the socket's backlog, as with the
//! original's job limit.

use crate::opts::Acl;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Threads kept waiting for connections.
const SPARE: usize = 2;

/// A listening socket in blocking mode.
pub enum Listener {
    /// A unix domain socket.
    Unix(std::os::unix::net::UnixListener),
    /// A TCP port and who may connect.
    Tcp(std::net::TcpListener, Acl),
}

/// An accepted connection as a blocking stream.
pub enum Conn {
    /// From the unix socket.
    Unix(std::os::unix::net::UnixStream),
    /// From TCP, with the client's address.
    Tcp(std::net::TcpStream, std::net::IpAddr),
}

/// What a thread got from `accept()`.
enum Accepted {
    Conn(Conn),
    /// A TCP client the ACL does not allow (its address).
    Refused(std::net::SocketAddr),
    Failed(std::io::Error),
}

impl Listener {
    fn accept(&self) -> Accepted {
        match self {
            Listener::Unix(l) => match l.accept() {
                Ok((s, _)) => Accepted::Conn(Conn::Unix(s)),
                Err(e) => Accepted::Failed(e),
            },
            Listener::Tcp(l, acl) => match l.accept() {
                Ok((s, peer)) if acl.allows(peer.ip()) => Accepted::Conn(Conn::Tcp(s, peer.ip())),
                Ok((_, peer)) => Accepted::Refused(peer),
                Err(e) => Accepted::Failed(e),
            },
        }
    }
}

/// The pool: the listener, the connection handler and the counts.
pub struct Pool<H> {
    listener: Listener,
    handle: H,
    complain: Box<dyn Fn(&str) + Send + Sync>,
    max: usize,
    total: AtomicUsize,
    idle: AtomicUsize,
}

impl<H: Fn(Conn) + Send + Sync + 'static> Pool<H> {
    /// Serve `listener` with `handle` on at most `max` threads; `complain`
    /// logs refused clients and failures of `accept()`.
    pub fn start(
        listener: Listener,
        handle: H,
        complain: Box<dyn Fn(&str) + Send + Sync>,
        max: usize,
    ) -> std::io::Result<Arc<Pool<H>>> {
        let pool = Arc::new(Pool {
            listener,
            handle,
            complain,
            max: max.max(1),
            total: AtomicUsize::new(0),
            idle: AtomicUsize::new(0),
        });
        for _ in 0..SPARE.min(pool.max) {
            Pool::spawn(&pool)?;
        }
        Ok(pool)
    }

    /// Start one more thread, unless there are `max` already.
    fn spawn(pool: &Arc<Pool<H>>) -> std::io::Result<()> {
        let max = pool.max;
        if pool
            .total
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                (t < max).then_some(t + 1)
            })
            .is_err()
        {
            return Ok(());
        }
        let p = pool.clone();
        let r = std::thread::Builder::new()
            .name("dccifd job".into())
            .spawn(move || p.work());
        if r.is_err() {
            pool.total.fetch_sub(1, Ordering::SeqCst);
        }
        r.map(|_| ())
    }

    fn work(self: Arc<Self>) {
        loop {
            self.idle.fetch_add(1, Ordering::SeqCst);
            let got = self.listener.accept();
            let idle_now = self.idle.fetch_sub(1, Ordering::SeqCst) - 1;
            if idle_now == 0 {
                if let Err(e) = Pool::spawn(&self) {
                    (self.complain)(&format!("pthread_create(): {e}"));
                }
            }
            match got {
                Accepted::Conn(c) => (self.handle)(c),
                // the original's words, with the address as it writes it
                Accepted::Refused(peer) => {
                    let ip = peer.ip().to_canonical();
                    (self.complain)(&format!("unauthorized client address {ip},{}", peer.port()))
                }
                Accepted::Failed(e) => {
                    (self.complain)(&format!("accept(): {}", tally_engine::errno_str(&e)));
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// Threads now, and threads waiting for a connection.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.total.load(Ordering::SeqCst),
            self.idle.load(Ordering::SeqCst),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::sync::mpsc;

    /// At most `max` connections are served at once; the next waits in the
    /// backlog until a thread is free, and then is served.
    #[test]
    fn at_most_max_at_once() {
        let dir = std::env::temp_dir().join(format!("dccifd-pool-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s");
        let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let busy = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let (b, m) = (busy.clone(), most.clone());
        let handle = move |c: Conn| {
            let n = b.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(n, Ordering::SeqCst);
            // each connection is held until its client sends a byte
            if let Conn::Unix(mut s) = c {
                let mut one = [0u8; 1];
                let _ = s.read(&mut one);
            }
            b.fetch_sub(1, Ordering::SeqCst);
            let _ = done_tx.send(());
        };
        let pool = Pool::start(Listener::Unix(l), handle, Box::new(|_| {}), 2).unwrap();
        let mut clients: Vec<_> = (0..3)
            .map(|_| std::os::unix::net::UnixStream::connect(&path).unwrap())
            .collect();
        // two are taken, the third waits
        let t0 = std::time::Instant::now();
        while busy.load(Ordering::SeqCst) < 2 && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(busy.load(Ordering::SeqCst), 2);
        assert_eq!(pool.counts().0, 2);
        // release them one by one: all three are served, never more than 2
        use std::io::Write;
        for c in clients.iter_mut() {
            c.write_all(b"x").unwrap();
            done_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
