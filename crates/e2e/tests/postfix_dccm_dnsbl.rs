//! Postfix with our dccm -B: the SMTP client 192.0.2.66 is listed in the
//! DNS blacklist bl.test of the loopback test DNS server (the recordings'
//! zone), which dccm is told to use through the test-only environment
//! variable TALLY_DNSBL_SERVERS.
//!
//! - With `option DNSBL-on` in the whiteclnt file the message is rejected
//!   at the end of DATA with the list's set:rej-msg text.
//! - Without it, the message is delivered and the hit is only logged
//!   (`DNSBL-->spam(off)` in the log file).

use std::path::Path;

use tally_dnsbl::testserver::TestServer;
use tally_dnsbl::zone::Zone;
use tally_e2e::msg;
use tally_e2e::require;
use tally_e2e::scene::{MilterScene, Setup};
use tally_e2e::smtp::Envelope;

fn dns() -> (tokio::runtime::Runtime, TestServer) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let zone = Zone::parse(
        &std::fs::read_to_string(
            // the recorded zone, kept with tally-dnsbl's tests
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../dnsbl/tests/data/zone.txt"),
        )
        .unwrap(),
    );
    let server = rt
        .block_on(TestServer::start(zone, "127.0.0.1".parse().unwrap()))
        .unwrap();
    (rt, server)
}

fn setup(server: &TestServer, whiteclnt: &str) -> Setup {
    Setup {
        dccm_opts: [
            "-l",
            "log",
            "-w",
            "whiteclnt",
            "-B",
            "set:rej-msg=5.7.1 550 listed by %BTGT in the DNS blacklist",
            "-B",
            "bl.test",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        whiteclnt: Some(whiteclnt.to_string()),
        files: vec![("log/.keep".to_string(), String::new())],
        dccm_env: vec![("TALLY_DNSBL_SERVERS".to_string(), server.addr.to_string())],
        ..Setup::default()
    }
}

fn listed() -> Envelope {
    Envelope::new("a@sender.example", &["bob@lab.test"])
        .client("192.0.2.66", "listed.sender.example")
}

/// Every line of dccm's log files.
fn log_text(home: &Path) -> String {
    let mut s = String::new();
    let mut stack = vec![home.join("log")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                s.push_str(&t);
            }
        }
    }
    s
}

#[test]
fn listed_client_rejected_with_dnsbl_on() {
    let (_rt, server) = dns();
    let s = require!(MilterScene::start(setup(&server, "option DNSBL-on\n")));
    let m = msg::message("a@sender.example", "bob@lab.test", "hello", &msg::unique());
    let out = s.send(&listed(), &m);
    assert_eq!(out.last.code, 550, "{out:?}\n{}", s.logs());
    assert!(
        format!("{out:?}").contains("listed by 192.0.2.66 in the DNS blacklist"),
        "{out:?}"
    );
    assert!(s.postfix.delivered("bob@lab.test").is_empty());
    assert!(server.queries().iter().any(|q| q == "A 66.2.0.192.bl.test"));
}

#[test]
fn listed_client_only_logged_without_the_option() {
    let (_rt, server) = dns();
    let s = require!(MilterScene::start(setup(&server, "")));
    let m = msg::message("a@sender.example", "bob@lab.test", "hello", &msg::unique());
    let out = s.send_and_settle(&listed(), &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    assert_eq!(s.postfix.delivered("bob@lab.test").len(), 1, "{}", s.logs());
    let log = log_text(&s.home);
    assert!(
        log.contains("DNSBL SMTP client ") && log.contains(" 66.2.0.192.bl.test=127.0.0.2"),
        "{log}"
    );
    assert!(log.contains("DNSBL-->spam(off)"), "{log}");
}
