//! Transactions that end without their message, as the original dccm
//! treats them: one aborted before the header is a likely dictionary
//! probe, reported to the DCC server as spam for its recipients; its log
//! file is kept only with `-d`; one aborted later is not reported.

mod common;

use common::milter::{connect_data, macro_pkt, Client, Reply};
use common::{make_home, start_dccm};
use std::path::Path;
use std::time::{Duration, Instant};
use tally_testkit::{write_map, FakeDccd};
use tally_wire::Op;

/// The wire value of `n` targets flagged as spam.
const SPAM: u32 = 0x0100_0000;

fn connect(sock: &Path) -> Client {
    let mut c = None;
    for _ in 0..200 {
        if let Ok(x) = Client::connect(sock) {
            c = Some(x);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut c = c.expect("connect to dccm");
    c.send(b'C', &connect_data("probe.example.com", "198.51.100.7"))
        .unwrap();
    assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
    c
}

/// MAIL and the recipients, then ABORT (after a header when `header`).
fn aborted(c: &mut Client, rcpts: &[&str], header: bool) {
    c.send(b'D', &macro_pkt(b'M', &[("i", "AB0001")])).unwrap();
    c.send(b'M', b"<harvest@example.org>\0").unwrap();
    assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
    for r in rcpts {
        c.send(b'R', format!("<{r}>\0").as_bytes()).unwrap();
        assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
    }
    if header {
        c.send(b'L', b"Subject\0hello\0").unwrap();
        c.replies().unwrap();
    }
    c.send(b'A', b"").unwrap();
}

/// Wait (at most 5 s) for `n` reports at the server.
fn reports(srv: &FakeDccd, n: usize) -> Vec<u32> {
    let t0 = Instant::now();
    loop {
        let r: Vec<u32> = srv.ops(Op::Report).iter().map(|s| s.tgts).collect();
        if r.len() >= n || t0.elapsed() > Duration::from_secs(5) {
            return r;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn log_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_file())
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn probe_is_reported_and_its_log_removed() {
    let home = make_home("abort");
    let srv = FakeDccd::start(1200, "behbrand");
    write_map(&home, srv.addr);
    let d = start_dccm(&home, &common::local_args(&home, &["-l", "logs"]));
    let mut c = connect(&d.sock);
    aborted(&mut c, &["a@example.net", "b@example.net"], false);
    assert_eq!(reports(&srv, 1), vec![SPAM | 2]);
    // after a header line: no longer a probe, nothing reported
    aborted(&mut c, &["a@example.net"], true);
    std::thread::sleep(Duration::from_millis(300));
    let all: Vec<u32> = srv.ops(Op::Report).iter().map(|s| s.tgts).collect();
    assert_eq!(all, vec![SPAM | 2]);
    drop(c);
    std::thread::sleep(Duration::from_millis(100));
    assert!(log_files(&home.join("logs")).is_empty(), "log files left");
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn with_d_the_log_is_kept() {
    let home = make_home("abortd");
    let srv = FakeDccd::start(1200, "behbrand");
    write_map(&home, srv.addr);
    let d = start_dccm(&home, &common::local_args(&home, &["-d", "-l", "logs"]));
    let mut c = connect(&d.sock);
    aborted(&mut c, &["a@example.net"], false);
    assert_eq!(reports(&srv, 1), vec![SPAM | 1]);
    let t0 = Instant::now();
    let mut logs = log_files(&home.join("logs"));
    while logs.is_empty() && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
        logs = log_files(&home.join("logs"));
    }
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(
        logs[0].contains("env_From: <harvest@example.org>"),
        "{}",
        logs[0]
    );
    assert!(
        logs[0].ends_with("result: STMP message aborted\n"),
        "{}",
        logs[0]
    );
    drop(c);
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn query_mode_reports_nothing() {
    let home = make_home("abortq");
    let srv = FakeDccd::start(1200, "behbrand");
    write_map(&home, srv.addr);
    let d = start_dccm(&home, &common::local_args(&home, &["-Q"]));
    let mut c = connect(&d.sock);
    aborted(&mut c, &["a@example.net"], false);
    std::thread::sleep(Duration::from_millis(300));
    assert!(srv.ops(Op::Report).is_empty());
    drop(c);
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}
