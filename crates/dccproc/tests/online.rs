//! dccproc against DCC servers on the loopback interface: counts from a
//! (fake) dccd in the X-DCC header, queries, spam reports, thresholds,
//! log files, and delivery without delay when the server is dead or
//! silent, as the original behaves.

mod common;

use common::{code, host, run, scratch, stderr, stdout};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tally_testkit::{closed_port, map_text, write_map, FakeDccd, CLIENT_ID};
use tally_wire::Op;

const MSG: &[u8] = b"Return-Path: <news@shop.example.com>\n\
From: Example Shop <news@shop.example.com>\n\
To: customer@example.net\n\
Subject: Our autumn catalogue is here\n\
Message-ID: <autumn-2024-0001@shop.example.com>\n\
Date: Tue, 01 Oct 2024 09:00:00 +0000\n\
\n\
Dear customer,\n\
\n\
Our new autumn catalogue has arrived, with more than two hundred new\n\
products for your home and garden. Browse warm blankets, sturdy boots,\n\
hand-made ceramic mugs and a range of garden tools built to last.\n\
\n\
This week only, every order above fifty euros ships free of charge,\n\
and members of our loyalty programme receive a second discount on\n\
selected items from the kitchen and living room collections.\n\
\n\
Visit our shop to see the full catalogue, or reply to this message if\n\
you would like a printed copy sent to your address.\n\
\n\
Kind regards,\n\
The Example Shop team\n";

/// The header the original dccm added to a first message with server 1200
/// of brand "behbrand", on the host "vm" (recorded behaviour, scenario
/// a-defaults).
const RECORDED: &str = "X-DCC-behbrand-Metrics: vm 1200; Body=1 Fuz1=1 Fuz2=1\n";

/// A DCC home directory whose map file points at `addr`.
fn home(name: &str, addr: std::net::SocketAddr) -> (PathBuf, String) {
    let h = scratch(&format!("online-{name}"));
    write_map(&h, addr);
    let s = h.to_string_lossy().into_owned();
    (h, s)
}

/// Run dccproc with -H and return (header, stderr, exit code).
fn header(hs: &str, extra: &[&str]) -> (String, String, i32) {
    let mut args = vec!["-h", hs, "-H"];
    args.extend_from_slice(extra);
    let out = run(&args, MSG);
    (stdout(&out), stderr(&out), code(&out))
}

fn want(brand: &str, id: u32, counts: &str) -> String {
    format!("X-DCC-{brand}-Metrics: {} {id}; {counts}\n", host())
}

#[test]
fn reports_count_and_queries_do_not() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (h, hs) = home("count", srv.addr);
    // a query of a new message
    let (hdr, err, c) = header(&hs, &["-Q"]);
    assert_eq!(hdr, want("behbrand", 1200, "Body=0 Fuz1=0 Fuz2=0"), "{err}");
    assert_eq!((err.as_str(), c), ("", 0));
    // reported once, twice
    let (hdr, err, _) = header(&hs, &[]);
    assert_eq!(hdr, want("behbrand", 1200, "Body=1 Fuz1=1 Fuz2=1"), "{err}");
    // the same form as the original's header with the same server and host
    assert_eq!(hdr.replacen(&format!(" {} ", host()), " vm ", 1), RECORDED);
    let (hdr, _, _) = header(&hs, &[]);
    assert_eq!(hdr, want("behbrand", 1200, "Body=2 Fuz1=2 Fuz2=2"));
    // queries see the count without adding to it
    for _ in 0..2 {
        let (hdr, _, _) = header(&hs, &["-Q"]);
        assert_eq!(hdr, want("behbrand", 1200, "Body=2 Fuz1=2 Fuz2=2"));
    }
    // -t 5 adds five
    let (hdr, _, _) = header(&hs, &["-t", "5"]);
    assert_eq!(hdr, want("behbrand", 1200, "Body=7 Fuz1=7 Fuz2=7"));
    // requests were signed with the map's client-ID and password
    let rpts = srv.ops(Op::Report);
    assert_eq!(rpts.len(), 3);
    assert!(rpts
        .iter()
        .all(|s| s.sender == CLIENT_ID && s.authenticated));
    assert_eq!(srv.ops(Op::Query).len(), 3);
    // the whole message is delivered with the header at the end of the header
    let out = run(&["-h", &hs, "-Q"], MSG);
    let text = stdout(&out);
    assert!(text.contains(&format!(
        "Date: Tue, 01 Oct 2024 09:00:00 +0000\n{}\nDear customer,",
        want("behbrand", 1200, "Body=7 Fuz1=7 Fuz2=7")
    )));
    // the map file keeps what was learnt about the server
    let map = std::fs::read_to_string(h.join("map")).expect("map");
    assert!(map.contains("behbrand ID 1200"), "{map}");
    assert!(
        map.contains(&format!("{CLIENT_ID} {}", tally_testkit::PASSWD)),
        "{map}"
    );
}

#[test]
fn spam_reports_and_thresholds() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (_h, hs) = home("spam", srv.addr);
    // -c CMN,2: under the threshold once, over it the second time
    let (hdr, _, c) = header(&hs, &["-c", "CMN,2", "-x", "9"]);
    assert_eq!(hdr, want("behbrand", 1200, "Body=1 Fuz1=1 Fuz2=1"));
    assert_eq!(c, 0);
    let (hdr, _, c) = header(&hs, &["-c", "CMN,2", "-x", "9"]);
    assert_eq!(hdr, want("behbrand", 1200, "bulk Body=2 Fuz1=2 Fuz2=2"));
    assert_eq!(c, 9);
    // -t many reports spam: the counts become many
    let (hdr, _, c) = header(&hs, &["-t", "many"]);
    assert_eq!(
        hdr,
        want("behbrand", 1200, "bulk Body=many Fuz1=many Fuz2=many")
    );
    assert_eq!(c, 67);
    // and stay so for everyone
    let (hdr, _, c) = header(&hs, &["-Q", "-c", "CMN,20"]);
    assert_eq!(
        hdr,
        want("behbrand", 1200, "bulk Body=many Fuz1=many Fuz2=many")
    );
    assert_eq!(c, 67);
}

#[test]
fn log_files_show_the_server_counts() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (h, hs) = home("log", srv.addr);
    std::fs::create_dir(h.join("log")).expect("log dir");
    for _ in 0..2 {
        // log threshold 1: every message is logged
        let out = run(&["-h", &hs, "-l", "log", "-c", "CMN,1,"], MSG);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let mut logs: Vec<PathBuf> = std::fs::read_dir(h.join("log"))
        .expect("read log")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(logs.len(), 2);
    let texts: Vec<String> = logs
        .iter_mut()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).expect("log")).into_owned())
        .collect();
    // the first report found 0 before it, the second 1
    for prev in ["0", "1"] {
        let found = texts.iter().any(|t| {
            t.contains("reported: 1               checksum  server")
                && t.lines().any(|l| {
                    l.trim_start().starts_with("Body: ") && l.ends_with(&format!(" {prev}"))
                })
        });
        assert!(found, "no log with a server count of {prev}: {texts:?}");
    }
    assert!(texts
        .iter()
        .any(|t| t.contains(&want("behbrand", 1200, "Body=2 Fuz1=2 Fuz2=2"))));
}

#[test]
fn dead_server_delivers_at_once_and_backs_off() {
    let dead = closed_port();
    let (h, hs) = home("dead", dead);
    let started = Instant::now();
    let out = run(&["-h", &hs], MSG);
    let first = started.elapsed();
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains(&want("", 0, "Body=1 Fuz1=1 Fuz2=1")),
        "{text}"
    );
    assert_eq!(
        stderr(&out),
        format!("no working DCC server at {},{}\n", dead.ip(), dead.port())
    );
    assert!(first < Duration::from_secs(3), "{first:?}");
    // the failure is remembered in the map file: the next run does not ask
    let map = std::fs::read_to_string(h.join("map")).expect("map");
    assert!(map.contains("continue not asking DCC server"), "{map}");
    let started = Instant::now();
    let (hdr, err, c) = header(&hs, &[]);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(c, 0);
    assert_eq!(hdr, want("", 0, "Body=1 Fuz1=1 Fuz2=1"));
    assert!(
        err.starts_with("continue not asking DCC ") && err.ends_with(" seconds after 1 failures\n"),
        "{err}"
    );
}

#[test]
fn silent_server_delivers_within_the_time_budget() {
    // a socket that receives and never answers
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr");
    let (_h, hs) = home("silent", addr);
    let started = Instant::now();
    let (hdr, err, c) = header(&hs, &["-t", "3"]);
    let took = started.elapsed();
    assert_eq!(c, 0);
    assert_eq!(hdr, want("", 0, "Body=3 Fuz1=3 Fuz2=3"));
    assert!(err.starts_with("no working DCC server at "), "{err}");
    // the client's budget: NOPs for about 4 s, never the 16 s of a request
    assert!(took < Duration::from_secs(16), "{took:?}");
    let started = Instant::now();
    let (hdr, _, _) = header(&hs, &[]);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(hdr, want("", 0, "Body=1 Fuz1=1 Fuz2=1"));
}

#[test]
fn unreadable_or_bad_maps_do_not_stop_delivery() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (h, hs) = home("badmap", srv.addr);
    std::fs::write(h.join("map"), "this is not a map line\n").expect("map");
    let out = run(&["-h", &hs], MSG);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains(&want("", 0, "Body=1 Fuz1=1 Fuz2=1")),
        "{text}"
    );
    assert!(!stderr(&out).is_empty());
    // a bad map is never rewritten
    assert_eq!(
        std::fs::read_to_string(h.join("map")).expect("map"),
        "this is not a map line\n"
    );
    // -m names another map file, relative to the home directory
    std::fs::write(h.join("map2"), map_text(srv.addr)).expect("map2");
    let (hdr, err, _) = header(&hs, &["-m", "map2"]);
    assert_eq!(hdr, want("behbrand", 1200, "Body=1 Fuz1=1 Fuz2=1"), "{err}");
}
