//! dnsbl-bench: the DNS list checks of one message with 50 distinct URL host
//! names, each needing its A, NS and MX checks (7 questions a host), against
//! the loopback test server; time per message with a cold cache (a new
//! resolver each message) and a warm one.
//!
//! `cargo run --release -p tally-dnsbl --features resolve,testserver --bin dnsbl-bench [MESSAGES]`

use std::time::{Duration, Instant};

use tally_dnsbl::resolve::Resolver;
use tally_dnsbl::testserver::TestServer;
use tally_dnsbl::zone::Zone;
use tally_dnsbl::{Mode, Parser, Settings, Targets};

const HOSTS: usize = 50;

fn zone() -> String {
    let mut z = String::from("bl.test SOA -\nexample SOA -\n");
    for i in 0..HOSTS {
        let (a, b) = (i / 200, i % 200 + 1);
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

fn targets() -> Targets {
    Targets {
        client: None,
        mail_host: None,
        urls: (0..HOSTS).map(|i| format!("h{i}.bench.example")).collect(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn one(r: &Resolver, s: &Settings, parallel: usize) -> (Duration, usize) {
    let start = Instant::now();
    let o = r.check(s, Mode::Daemon, targets(), parallel).await;
    assert!(o.hit(0).is_none());
    (start.elapsed(), o.questions.len())
}

fn main() {
    let messages: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20)
        .max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let srv = TestServer::start(Zone::parse(&zone()), "127.0.0.1".parse().unwrap())
            .await
            .expect("test DNS server");
        let (settings, _) = Parser::parse_all(["bl.test"]);
        println!("dnsbl-bench: {HOSTS} URL hosts a message, A + NS + MX each, -B bl.test, {messages} messages");
        for parallel in [1, 8, 32] {
            let mut cold = Vec::new();
            let mut questions = 0;
            for _ in 0..messages {
                let r = Resolver::with_servers(&[srv.addr], parallel);
                let (t, q) = one(&r, &settings, parallel).await;
                cold.push(t);
                questions = q;
            }
            let warm_r = Resolver::with_servers(&[srv.addr], parallel);
            one(&warm_r, &settings, parallel).await;
            srv.clear();
            let mut warm = Vec::new();
            for _ in 0..messages {
                warm.push(one(&warm_r, &settings, parallel).await.0);
            }
            assert!(srv.queries().is_empty(), "warm messages reached the server");
            println!(
                "parallel {parallel:>2}: {questions} questions; cold {:>8.2} ms/message, warm {:>6.3} ms/message (medians)",
                median(cold).as_secs_f64() * 1e3,
                median(warm).as_secs_f64() * 1e3
            );
        }
    });
}
