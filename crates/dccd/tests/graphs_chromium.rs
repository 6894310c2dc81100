//! The graphs page of `-M` drawn by headless Chromium: dccd samples every
//! second while traffic runs, Chromium loads the page, and the drawn DOM
//! has one chart per family with as many points as samples (rates: one
//! less), titles and time labels; a screenshot is saved to
//! `target/test-output/dccd-graphs.png` and checked not to be blank.
//!
//! Without Chromium (`/usr/bin/chromium`, or `$CHROMIUM`) the test says so
//! and passes, unless `CI` is set.

mod common;
mod metrics_util;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, passwd, temp_home};
use metrics_util::start;
use tally_ck::{CkType, Sum};
use tally_wire::packet::{CkRequest, Packet, Request};
use tally_wire::sign::Signer;
use tally_wire::{OpNums, Tgts, WireCk};

fn chromium() -> Option<PathBuf> {
    let p = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    p.exists().then_some(p)
}

/// The test output directory: `$CARGO_TARGET_DIR/test-output` or the
/// workspace's `target/test-output`.
fn output_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("test-output");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run Chromium headless on `url` with `args`, at most 90 s; its stdout.
fn run_chromium(exe: &Path, profile: &Path, args: &[&str], url: &str) -> String {
    let out = profile.with_extension("out");
    let mut child = Command::new(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=5000"])
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium {args:?}: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium {args:?} still running after 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(&out).unwrap_or_default()
}

/// `2n` queries and `n` reports, with fresh operation numbers.
fn traffic(sock: &UdpSocket, to: SocketAddr, signer: &Signer, round: u32, n: u32) {
    for i in 0..n {
        // twice as many queries as reports
        for (j, report) in [false, false, true].into_iter().enumerate() {
            let r = CkRequest {
                tgts: Tgts(1),
                cks: vec![WireCk::new(CkType::Body, Sum([round as u8; 16]))],
            };
            let body = if report {
                Request::Report(r)
            } else {
                Request::Query(r)
            };
            let ops = OpNums::from_le_words(9, round, i * 3 + j as u32, 1);
            let mut p = Packet::request(12, 32800, ops, body);
            sock.send_to(&p.sign(signer), to).unwrap();
            let mut buf = [0u8; 2048];
            let _ = sock.recv_from(&mut buf);
        }
    }
}

fn samples(http: SocketAddr) -> usize {
    let h: serde_json::Value =
        serde_json::from_str(&tally_stats::client::get(http, "/history.json").unwrap()).unwrap();
    h["times"].as_array().map_or(0, Vec::len)
}

/// The charts of the dumped DOM: title and the points of each path.
fn charts(dom: &str) -> Vec<(String, Vec<usize>)> {
    dom.split("<div class=\"chart\"")
        .skip(1)
        .map(|c| {
            let title = c
                .split("<h2>")
                .nth(1)
                .and_then(|t| t.split("</h2>").next())
                .unwrap_or("")
                .to_string();
            let points = c
                .split("data-points=\"")
                .skip(1)
                .filter_map(|p| p.split('"').next()?.parse().ok())
                .collect();
            (title, points)
        })
        .collect()
}

#[test]
fn graphs_page_in_chromium() {
    let Some(exe) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed (scripts/e2e-deps.sh installs it)");
        }
        eprintln!("graphs_page_in_chromium skipped: no /usr/bin/chromium (set CHROMIUM)");
        return;
    };
    let home = temp_home("graphs");
    let d = start(&home, free_port(), &[], &[("TALLY_STATS_INTERVAL", "1")]);
    let signer = Signer::Passwd(passwd(32800).unwrap());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    // traffic that rises and falls across about six samples
    for (round, n) in [5u32, 20, 40, 10, 30, 15].into_iter().enumerate() {
        traffic(&sock, d.udp, &signer, round as u32 + 1, n);
        std::thread::sleep(Duration::from_millis(1000));
    }
    assert!(samples(d.http) >= 6, "fewer than 6 samples");
    let profile = std::env::temp_dir().join(format!("tally-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    let url = format!("http://{}/", d.http);
    let dom = run_chromium(&exe, &profile, &["--dump-dom"], &url);
    let drawn: usize = dom
        .split("data-samples=\"")
        .nth(1)
        .and_then(|s| s.split('"').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no data-samples in the drawn page: {dom}"));
    assert!(drawn >= 6, "{drawn} samples drawn");
    let cs = charts(&dom);
    let titles: Vec<&str> = cs.iter().map(|c| c.0.as_str()).collect();
    for want in [
        "tally_dccd_requests_total (per second)",
        "tally_dccd_dropped_total (per second)",
        "tally_dccd_clients",
        "tally_dccd_db_records",
    ] {
        assert!(titles.contains(&want), "no chart {want:?} in {titles:?}");
    }
    for (title, points) in &cs {
        assert!(!points.is_empty(), "{title}: no line");
        let want = if title.ends_with("(per second)") {
            drawn - 1
        } else {
            drawn
        };
        assert!(
            points.iter().all(|&p| p == want),
            "{title}: {points:?} points, {drawn} samples"
        );
    }
    // time labels on the axes
    assert!(dom.contains("class=\"t0\"") && dom.contains("class=\"t1\""));
    let shot = output_dir().join("dccd-graphs.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &exe,
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,900",
        ],
        &url,
    );
    let _ = std::fs::remove_dir_all(&profile);
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1200, 900));
    let bpp = info.line_size / info.width as usize;
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks(bpp).collect();
    let white = px.iter().filter(|p| p[..3] == [255, 255, 255]).count();
    let blue = px.iter().filter(|p| p[..3] == [0x1f, 0x77, 0xb4]).count();
    eprintln!(
        "screenshot {}: {} px, {} white, {} of the first line colour",
        shot.display(),
        px.len(),
        white,
        blue
    );
    assert!(white < px.len() * 99 / 100, "the screenshot is blank");
    assert!(blue > 100, "no line drawn in the first colour");
}
