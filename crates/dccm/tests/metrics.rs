//! `-M`: dccm's counters on the statistics listener move by exactly the
//! traffic sent through the milter protocol (messages, recipients,
//! rejections, whitelisted messages, DNS blacklist hits, the DCC server's
//! answers and failures); a non-loopback address is refused at start.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::milter::{connect_data, macro_pkt, Client, Reply};
use common::{local_args, make_home, start_dccm_env};
use tally_dnsbl::testserver::TestServer;
use tally_stats::client::get;
use tally_testkit::metrics::{listener, scrape, value};
use tally_testkit::{write_map, FakeDccd};
use tally_wire::Op;

fn connect(sock: &Path, ip: &str) -> Client {
    let t0 = Instant::now();
    let mut c = loop {
        match Client::connect(sock) {
            Ok(c) => break c,
            Err(e) => assert!(t0.elapsed() < Duration::from_secs(10), "connect: {e}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    c.send(b'C', &connect_data("mail.example.com", ip)).unwrap();
    c.replies().unwrap();
    c
}

/// One message from `sender` to `rcpts` on a new connection from `ip`;
/// the replies at its end.
fn message(sock: &Path, ip: &str, sender: &str, rcpts: &[&str], n: u32) -> Vec<Reply> {
    let mut c = connect(sock, ip);
    c.send(b'D', &macro_pkt(b'M', &[("i", &format!("M{n}"))]))
        .unwrap();
    c.send(b'M', format!("{sender}\0").as_bytes()).unwrap();
    c.replies().unwrap();
    for r in rcpts {
        c.send(b'R', format!("{r}\0").as_bytes()).unwrap();
        c.replies().unwrap();
    }
    let subject = format!("metrics {n}");
    for (h, v) in [("From", sender), ("Subject", subject.as_str())] {
        c.send(b'L', format!("{h}\0{v}\0").as_bytes()).unwrap();
        c.replies().unwrap();
    }
    c.send(b'N', b"").unwrap();
    c.replies().unwrap();
    c.send(
        b'B',
        format!("Message {n} of the metrics test.\r\n").as_bytes(),
    )
    .unwrap();
    c.replies().unwrap();
    c.send(b'E', b"").unwrap();
    c.replies().unwrap()
}

fn dcc_requests(srv: &FakeDccd) -> usize {
    srv.ops(Op::Report).len() + srv.ops(Op::Query).len()
}

#[test]
fn counters_follow_the_traffic() {
    let (_rt, dns) = TestServer::start_blocking(&common::data().join("dnsbl/zone.txt")).unwrap();
    let home = make_home("metrics");
    let srv = FakeDccd::start(1200, "behbrand");
    write_map(&home, srv.addr);
    let args = local_args(
        &home,
        &["-w", "whiteclnt-if", "-B", "bl.test", "-M", "127.0.0.1,0"],
    );
    let d = start_dccm_env(
        &home,
        &args,
        &[("TALLY_DNSBL_SERVERS", dns.addr.to_string())],
    );
    let http = listener(|| std::fs::read_to_string(home.join("stderr.txt")).unwrap_or_default());
    let before = scrape(http);
    // the graphs page and its first sample, taken at start
    assert!(get(http, "/")
        .unwrap()
        .contains("<title>tally statistics</title>"));
    let h = get(http, "/history.json").unwrap();
    assert!(h.contains("\"name\":\"tally_dccm_messages_total\""), "{h}");
    assert!(
        before.contains("# TYPE tally_dccm_dcc_answers_total counter\n"),
        "{before}"
    );
    let dcc0 = dcc_requests(&srv);
    let mut rejected = 0.0;
    let mut note = |r: Vec<Reply>| {
        if r.iter()
            .any(|r| matches!(r, Reply::Code(t) if t.starts_with('5')))
        {
            rejected += 1.0;
        }
    };
    let two = ["<bob@example.net>", "<dave@example.net>"];
    for n in 0..3 {
        note(message(
            &d.sock,
            "192.0.2.10",
            "<carol@example.org>",
            &two,
            n,
        ));
    }
    let one = ["<eve@example.net>"];
    note(message(
        &d.sock,
        "192.0.2.10",
        "<alice-ok@example.com>",
        &one,
        3,
    ));
    note(message(
        &d.sock,
        "192.0.2.10",
        "<spammer@example.com>",
        &one,
        4,
    ));
    note(message(
        &d.sock,
        "192.0.2.66",
        "<carol@example.org>",
        &one,
        5,
    ));
    let dcc_seen = (dcc_requests(&srv) - dcc0) as f64;
    srv.freeze(true);
    note(message(
        &d.sock,
        "192.0.2.10",
        "<carol@example.org>",
        &one,
        6,
    ));
    srv.freeze(false);
    let after = scrape(http);
    let moved = |name: &str, l: &[(&str, &str)]| value(&after, name, l) - value(&before, name, l);
    assert_eq!(moved("tally_dccm_messages_total", &[]), 7.0, "{after}");
    assert_eq!(moved("tally_dccm_recipients_total", &[]), 10.0, "{after}");
    let res = "tally_dccm_results_total";
    assert!(rejected >= 1.0);
    assert_eq!(moved(res, &[("result", "rejected")]), rejected, "{after}");
    assert_eq!(moved(res, &[("result", "discarded")]), 0.0, "{after}");
    assert_eq!(moved(res, &[("result", "tempfailed")]), 0.0, "{after}");
    assert_eq!(moved("tally_dccm_whitelisted_total", &[]), 1.0, "{after}");
    let hits = "tally_dccm_dnsbl_hits_total";
    assert_eq!(moved(hits, &[("list", "black")]), 1.0, "{after}");
    assert_eq!(moved(hits, &[("list", "white")]), 0.0, "{after}");
    let dcc = "tally_dccm_dcc_answers_total";
    assert_eq!(moved(dcc, &[("result", "answered")]), dcc_seen, "{after}");
    assert_eq!(moved(dcc, &[("result", "failed")]), 1.0, "{after}");
    assert!(dcc_seen >= 4.0, "{dcc_seen} DCC requests");
    assert!(
        after.contains("# TYPE tally_dccm_connections gauge\n"),
        "{after}"
    );
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn non_loopback_listener_refused() {
    let home = make_home("metrics-refused");
    let o = Command::new(env!("CARGO_BIN_EXE_dccm"))
        .args(local_args(&home, &["-M", "192.0.2.1,80"]))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(64), "{err}");
    assert!(
        err.contains("dccm: -M 192.0.2.1,80: 192.0.2.1 is not a loopback address"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&home);
}
