//! The resolver layer against the loopback test server serving the recorded
//! zone: the recorded questions in order, the same outcomes as the pure plan,
//! the cache, parallel questions, and faults (no answer, SERVFAIL, truncated
//! and malformed replies) that never hold a message past its time.

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::{recorded, scenarios};
use tally_dnsbl::resolve::Resolver;
use tally_dnsbl::testserver::TestServer;
use tally_dnsbl::zone::Zone;
use tally_dnsbl::{Client, Mode, Parser, Targets};

fn loopback() -> IpAddr {
    "127.0.0.153".parse().unwrap()
}

async fn server(zone_text: &str) -> TestServer {
    match TestServer::start(Zone::parse(zone_text), loopback()).await {
        Ok(s) => s,
        // Some systems route only 127.0.0.1.
        Err(_) => TestServer::start(Zone::parse(zone_text), "127.0.0.1".parse().unwrap())
            .await
            .expect("test DNS server"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_sessions_ask_the_recorded_questions_over_the_network() {
    let srv = server(&common::read("zone.txt")).await;
    let mut problems = Vec::new();
    for sc in scenarios() {
        // The timeout scenarios take seconds each; see the tests below.
        if sc.name.starts_with("09") {
            continue;
        }
        let (rec, _) = recorded(&sc.name);
        for (i, (s, r)) in sc.sessions.iter().zip(&rec).enumerate() {
            let settings = sc.settings(s);
            let resolver = Resolver::with_servers(&[srv.addr], 8).without_cache();
            srv.clear();
            let o = resolver
                .check(&settings, sc.mode, s.targets.clone(), 1)
                .await;
            // Without a cache the resolver still asks a question once per message.
            let mut once: Vec<String> = Vec::new();
            for q in &r.raw_queries {
                if !once.contains(q) {
                    once.push(q.clone());
                }
            }
            // Retransmissions aside (the notes of dccproc runs leave them out).
            let mut seen = srv.queries();
            seen.dedup();
            if seen != once {
                problems.push(format!(
                    "{} session {}: server saw {:?}, recorded {:?}",
                    sc.name,
                    i + 1,
                    seen,
                    once
                ));
            }
            let asked: Vec<String> = o.questions.iter().map(|q| q.to_string()).collect();
            assert_eq!(asked, r.queries, "{} session {}", sc.name, i + 1);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_url_times_out_and_the_next_one_still_counts_as_recorded() {
    // 09a sessions 1 and 2: msg-secs 3, URL-secs 2; the slow name is asked twice
    // (two tries of a second), then given up.
    let srv = server(&common::read("zone.txt")).await;
    let all = scenarios();
    let sc = all.iter().find(|s| s.name == "09a-timeout-url").unwrap();
    let (rec, _) = recorded(&sc.name);
    for (i, want_timeout) in [(0, true), (1, false)] {
        let s = &sc.sessions[i];
        let resolver = Resolver::with_servers(&[srv.addr], 8).without_cache();
        srv.clear();
        let start = Instant::now();
        let o = resolver
            .check(&sc.settings(s), sc.mode, s.targets.clone(), 1)
            .await;
        assert!(
            start.elapsed() < Duration::from_secs(3 + 5),
            "held past msg-secs"
        );
        assert_eq!(srv.queries(), rec[i].raw_queries, "session {}", i + 1);
        assert_eq!(o.timed_out(0), want_timeout, "session {}", i + 1);
        assert_eq!(o.hit(0).is_some(), !want_timeout, "session {}", i + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_cached_and_parallel_questions_find_the_same() {
    let srv = server(&common::read("zone.txt")).await;
    let (settings, _) = Parser::parse_all(["bl.test", "set:group=2", "dbl.test,,name"]);
    let targets = Targets {
        client: Some(Client {
            ip: "192.0.2.10".parse().unwrap(),
            name: Some("[192.0.2.10]".into()),
        }),
        mail_host: Some("mxspam.example".into()),
        urls: vec![
            "www.clean.example".into(),
            "urlns.example".into(),
            "www.urlname.example".into(),
        ],
    };
    let one = Resolver::with_servers(&[srv.addr], 1)
        .without_cache()
        .check(&settings, Mode::Daemon, targets.clone(), 1)
        .await;
    let resolver = Resolver::with_servers(&[srv.addr], 16);
    let many = resolver
        .check(&settings, Mode::Daemon, targets.clone(), 16)
        .await;
    assert_eq!(one.groups, many.groups);
    assert!(one.hit(0).is_some() && one.hit(1).is_some());
    srv.clear();
    let again = resolver.check(&settings, Mode::Daemon, targets, 16).await;
    assert_eq!(again.groups, one.groups);
    assert!(
        srv.queries().is_empty(),
        "cached answers asked again: {:?}",
        srv.queries()
    );
}

const FAULTS: &str = "
bl.test                SOA  -
77.2.0.192.bl.test     A    127.0.0.2
$TRUNCATE 77.2.0.192.bl.test
sf.example             A    198.51.100.66
$SERVFAIL sf.example
bad.example            A    198.51.100.67
$MALFORMED bad.example
$DROP slow.example
ok.example             A    198.51.100.68
68.100.51.198.bl.test  A    127.0.0.2
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_never_hold_a_message_and_mail_goes_on() {
    let srv = server(FAULTS).await;
    let (settings, _) = Parser::parse_all(["set:msg-secs=4", "set:URL-secs=2", "bl.test"]);
    let msg = |ip: &str, urls: &[&str]| Targets {
        client: Some(Client {
            ip: ip.parse().unwrap(),
            name: None,
        }),
        mail_host: None,
        urls: urls.iter().map(|u| u.to_string()).collect(),
    };
    let resolver = Resolver::with_servers(&[srv.addr], 8).without_cache();
    // A truncated UDP reply: the answer comes over TCP.
    let o = resolver
        .check(&settings, Mode::Daemon, msg("192.0.2.77", &[]), 4)
        .await;
    assert_eq!(
        o.hit(0).map(|h| h.probe.as_str()),
        Some("77.2.0.192.bl.test")
    );
    // SERVFAIL and a malformed reply: nothing found, the next URL still checked.
    let start = Instant::now();
    let o = resolver
        .check(
            &settings,
            Mode::Daemon,
            msg("192.0.2.10", &["sf.example", "bad.example", "ok.example"]),
            1,
        )
        .await;
    assert!(
        start.elapsed() < Duration::from_secs(4 + 5),
        "held past msg-secs"
    );
    assert_eq!(
        o.hit(0).map(|h| h.target.as_str()),
        Some("198.51.100.68"),
        "{o:?}"
    );
    // Names never answered: the message ends within msg-secs, marked timed out.
    let start = Instant::now();
    let o = resolver
        .check(
            &settings,
            Mode::Daemon,
            msg(
                "192.0.2.10",
                &[
                    "a.slow.example",
                    "b.slow.example",
                    "c.slow.example",
                    "ok.example",
                ],
            ),
            8,
        )
        .await;
    assert!(
        start.elapsed() < Duration::from_secs(4 + 5),
        "held past msg-secs"
    );
    assert!(o.timed_out(0), "{o:?}");
    assert!(o.hit(0).is_none());
}

#[test]
fn a_resolver_is_made_outside_a_runtime_and_checks_blocking() {
    // dccproc has no runtime of its own: `check_blocking` makes one.
    let _ = Resolver::system(4); // the machine's resolv.conf may be missing: no panic
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let srv = rt.block_on(server(&common::read("zone.txt")));
    let (settings, _) = Parser::parse_all(["bl.test"]);
    let targets = Targets {
        client: Some(Client {
            ip: "192.0.2.66".parse().unwrap(),
            name: None,
        }),
        mail_host: None,
        urls: vec![],
    };
    let resolver = Resolver::with_servers(&[srv.addr], 1);
    // The server runs on `rt`'s thread only while it is driven: run it aside
    // until the check is over.
    let (done, wait) = tokio::sync::oneshot::channel::<()>();
    let handle = std::thread::spawn(move || {
        rt.block_on(async {
            let _ = wait.await;
            drop(srv);
        })
    });
    let o = resolver.check_blocking(&settings, Mode::Direct, targets, 1);
    let _ = done.send(());
    assert_eq!(
        o.log_lines(false, ""),
        ["DNSBL SMTP client 192.0.2.66 66.2.0.192.bl.test=127.0.0.2"]
    );
    handle.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_streamed_while_the_body_arrives_find_what_the_whole_message_finds() {
    let srv = server(&common::read("zone.txt")).await;
    let all = scenarios();
    for name in [
        "05a-groups-DNSBL2-on",
        "03c-url-ip-mx-ns",
        "06a-rej-msg-macros",
    ] {
        let sc = all.iter().find(|s| s.name == name).unwrap();
        for s in &sc.sessions {
            let settings = sc.settings(s);
            let whole = Resolver::with_servers(&[srv.addr], 8)
                .without_cache()
                .check(&settings, sc.mode, s.targets.clone(), 1)
                .await;
            let mut head = s.targets.clone();
            let urls = std::mem::take(&mut head.urls);
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            let feeder = tokio::spawn(async move {
                for u in urls {
                    tokio::task::yield_now().await;
                    let _ = tx.send(u).await;
                }
            });
            let streamed = Resolver::with_servers(&[srv.addr], 8)
                .without_cache()
                .check_streaming(&settings, sc.mode, head, rx, 1)
                .await;
            feeder.await.unwrap();
            assert_eq!(streamed.groups, whole.groups, "{name} {:?}", s.targets);
            assert_eq!(
                streamed.questions, whole.questions,
                "{name} {:?}",
                s.targets
            );
        }
    }
}
