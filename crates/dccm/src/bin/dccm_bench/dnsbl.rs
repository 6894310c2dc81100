//! `-B warm|cold` (feature `dnsbl-bench`): dccm with `-B bl.test` against
//! the loopback test DNS server of tally-dnsbl, each message carrying 50
//! URL host names (each needing its A, NS and MX checks, 7 questions a
//! host), sent as a first body chunk. `warm`: the same 50 names in every
//! message (answers come from dccm's cache after the first); `cold`:
//! names no earlier message had.

use std::net::SocketAddr;

use tally_dnsbl::testserver::TestServer;
use tally_dnsbl::zone::Zone;

/// URL hosts a message.
pub const HOSTS: usize = 50;

/// The DNS side of the benchmark.
pub struct Dns {
    _rt: tokio::runtime::Runtime,
    server: TestServer,
}

fn zone(hosts: usize) -> String {
    let mut z = String::from("bl.test SOA -\nexample SOA -\n");
    for i in 0..hosts {
        let (a, b) = ((i / 250) % 250, i % 250 + 1);
        z.push_str(&format!(
            "h{i}.bench.example A 198.51.{a}.{b}\n\
             h{i}.bench.example NS ns{i}.bench.example\n\
             h{i}.bench.example MX 10 mx{i}.bench.example\n\
             ns{i}.bench.example A 203.0.{a}.{b}\n\
             mx{i}.bench.example A 192.0.{a}.{b}\n"
        ));
    }
    z
}

impl Dns {
    /// The server, with names for `messages` messages when `cold`.
    pub fn start(cold: bool, messages: usize) -> Dns {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let hosts = if cold { HOSTS * messages.max(1) } else { HOSTS };
        let server = rt
            .block_on(TestServer::start(
                Zone::parse(&zone(hosts)),
                "127.0.0.1".parse().expect("loopback"),
            ))
            .expect("test DNS server");
        Dns { _rt: rt, server }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Questions the server was asked.
    pub fn questions(&self) -> usize {
        self.server.queries().len()
    }
}

/// The body chunk of URLs of message `n`.
pub fn urls(cold: bool, n: usize) -> Vec<u8> {
    let base = if cold { n * HOSTS } else { 0 };
    let mut b = Vec::new();
    for i in base..base + HOSTS {
        b.extend_from_slice(format!("see http://h{i}.bench.example/page\r\n").as_bytes());
    }
    b
}
