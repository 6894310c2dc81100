//! A small authoritative DNS server on a loopback address for tests and
//! benchmarks (feature `testserver`): it serves a [`Zone`] over UDP and TCP on
//! one port and keeps every query it receives, as the recording server logged
//! them (`A 66.2.0.192.bl.test`), dropped and retransmitted ones included.
//!
//! Built on hickory-proto's message types rather than hickory-server: the
//! faults the tests need (names never answered, SERVFAIL, truncated and
//! malformed replies) are a few lines here and would need a custom
//! authority there.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};

use hickory_proto::op::Message;
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;

use crate::zone::{Reply, Zone};

/// A running test server; it stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn describe(query: &Message) -> String {
    match query.queries().first() {
        Some(q) => {
            let n = q.name().to_ascii();
            let n = n.strip_suffix('.').unwrap_or(&n);
            format!("{} {}", q.query_type(), n)
        }
        None => "? ?".to_string(),
    }
}

fn serve(zone: &Zone, log: &Mutex<Vec<String>>, bytes: &[u8], tcp: bool) -> Option<Vec<u8>> {
    let query = Message::from_bytes(bytes).ok()?;
    if let Ok(mut l) = log.lock() {
        l.push(describe(&query));
    }
    match zone.respond(&query, tcp) {
        Reply::Drop => None,
        Reply::Garbage(b) => Some(b),
        Reply::Message(m) => m.to_bytes().ok(),
    }
}

impl TestServer {
    /// Starts serving the zone in the file `zone_file` on 127.0.0.1, in a
    /// runtime of its own with one worker thread, for tests that are not
    /// async: the runtime (keep it while the server is needed) and the
    /// server.
    pub fn start_blocking(zone_file: &Path) -> io::Result<(tokio::runtime::Runtime, TestServer)> {
        let text = std::fs::read_to_string(zone_file)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", zone_file.display())))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let server = rt.block_on(TestServer::start(
            Zone::parse(&text),
            IpAddr::from([127, 0, 0, 1]),
        ))?;
        Ok((rt, server))
    }

    /// Starts serving `zone` on `ip` (a loopback address) and a free port, on
    /// the current tokio runtime.
    pub async fn start(zone: Zone, ip: IpAddr) -> io::Result<TestServer> {
        if !ip.is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "loopback addresses only",
            ));
        }
        let zone = Arc::new(zone);
        let log = Arc::new(Mutex::new(Vec::new()));
        // The same port for UDP and TCP; a few tries in case TCP's is taken.
        let mut bound = None;
        for _ in 0..20 {
            let udp = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
            let addr = udp.local_addr()?;
            if let Ok(tcp) = TcpListener::bind(addr).await {
                bound = Some((udp, tcp, addr));
                break;
            }
        }
        let (udp, tcp, addr) =
            bound.ok_or_else(|| io::Error::new(io::ErrorKind::AddrInUse, "no free port"))?;
        let (z, l) = (zone.clone(), log.clone());
        let udp_task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok((n, peer)) = udp.recv_from(&mut buf).await {
                if let Some(out) = serve(&z, &l, &buf[..n], false) {
                    let _ = udp.send_to(&out, peer).await;
                }
            }
        });
        let (z, l) = (zone, log.clone());
        let tcp_task = tokio::spawn(async move {
            while let Ok((mut s, _)) = tcp.accept().await {
                let (z, l) = (z.clone(), l.clone());
                tokio::spawn(async move {
                    loop {
                        let mut len = [0u8; 2];
                        if s.read_exact(&mut len).await.is_err() {
                            return;
                        }
                        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
                        if s.read_exact(&mut buf).await.is_err() {
                            return;
                        }
                        let Some(out) = serve(&z, &l, &buf, true) else {
                            continue;
                        };
                        let Ok(n) = u16::try_from(out.len()) else {
                            return;
                        };
                        if s.write_all(&n.to_be_bytes()).await.is_err()
                            || s.write_all(&out).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        Ok(TestServer {
            addr,
            log,
            tasks: vec![udp_task, tcp_task],
        })
    }

    /// The queries received so far, in order.
    pub fn queries(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Forgets the queries received so far.
    pub fn clear(&self) {
        if let Ok(mut l) = self.log.lock() {
            l.clear();
        }
    }
}
