//! dccm-bench: messages per second and latency through the milter
//! protocol at 1, 8 and 32 concurrent connections, against a local DCC
//! server, and dccm's memory per open connection.
//!
//! Usage: `dccm-bench [corpus-dir] [messages-per-run]`. The corpus
//! defaults to the project's `testdata/corpus/messages`; the DCC server is
//! a small counting server on 127.0.0.1 (the one the tests use); dccm is
//! the `dccm` binary next to this one.

#[path = "../../../../testkit/src/fake_dccd.rs"]
#[allow(dead_code)]
mod fake_dccd;
#[path = "../../../tests/common/milter.rs"]
mod milter;

use milter::{Client, Reply};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn collect(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else if let Ok(b) = std::fs::read(&p) {
            if !b.is_empty() && b.len() < 1 << 20 {
                out.push(b);
            }
        }
    }
}

/// A message split into unfolded header fields and the body.
struct Msg {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn split(raw: &[u8]) -> Msg {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = match text.find("\n\n").or_else(|| text.find("\r\n\r\n")) {
        Some(i) => {
            let skip = if text[i..].starts_with("\n\n") { 2 } else { 4 };
            (&text[..i], &raw[(i + skip).min(raw.len())..])
        }
        None => (&text[..], &raw[raw.len()..]),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push('\n');
                last.1.push_str(line);
            }
        } else if let Some((n, v)) = line.split_once(':').filter(|(n, _)| !n.is_empty()) {
            // (an MTA never passes a field without a name)
            headers.push((n.to_string(), v.trim_start().to_string()));
        }
    }
    Msg {
        headers,
        body: body.to_vec(),
    }
}

fn connect_cmd(c: &mut Client, ip: &str) {
    let mut d = b"client.example.com\0".to_vec();
    d.push(b'4');
    d.extend_from_slice(&25u16.to_be_bytes());
    d.extend_from_slice(ip.as_bytes());
    d.push(0);
    c.send(b'C', &d).expect("send");
    c.replies().expect("connect reply");
}

/// Send one message up to (not including) the end; `false` if refused.
fn send_head(c: &mut Client, m: &Msg, n: usize) -> std::io::Result<bool> {
    let mut mac = b"M".to_vec();
    mac.extend_from_slice(format!("i\0Q{n:08}\0").as_bytes());
    c.send(b'D', &mac)?;
    c.send(b'M', b"<sender@example.com>\0")?;
    if c.replies()? != vec![Reply::Final('c')] {
        return Ok(false);
    }
    c.send(b'R', b"<rcpt@example.net>\0")?;
    c.replies()?;
    for (k, v) in &m.headers {
        let mut d = k.as_bytes().to_vec();
        d.push(0);
        d.extend(v.bytes().filter(|&b| b != 0));
        d.push(0);
        c.send(b'L', &d)?;
        c.replies()?;
    }
    c.send(b'N', b"")?;
    c.replies()?;
    Ok(true)
}

fn send_msg(c: &mut Client, m: &Msg, n: usize) -> std::io::Result<()> {
    if !send_head(c, m, n)? {
        return Ok(());
    }
    for chunk in m.body.chunks(65535) {
        c.send(b'B', chunk)?;
        c.replies()?;
    }
    c.send(b'E', b"")?;
    c.replies()?;
    Ok(())
}

fn rss_kb(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let corpus = args.get(1).map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus/messages")
    });
    let per_run: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let mut raw = Vec::new();
    collect(&corpus, &mut raw);
    if std::env::var_os("DCCM_BENCH_LIST").is_some() {
        for (i, r) in raw.iter().enumerate() {
            println!("{i} {}", r.len());
        }
    }
    if raw.is_empty() {
        eprintln!("no messages in {}", corpus.display());
        std::process::exit(1);
    }
    let msgs: Vec<Msg> = raw.iter().map(|r| split(r)).collect();
    let msgs = std::sync::Arc::new(msgs);
    println!("{} messages from {}", msgs.len(), corpus.display());

    let srv = fake_dccd::FakeDccd::start(1200, "bench");
    let home = std::env::temp_dir().join(format!("dccm-bench-{}", std::process::id()));
    std::fs::create_dir_all(home.join("run")).expect("home");
    std::fs::write(home.join("map"), fake_dccd::map_text(srv.addr)).expect("map");
    let sock = home.join("run/dccm.sock");
    let exe = std::env::current_exe().expect("exe");
    let dccm = exe.with_file_name("dccm");
    let mut child = Command::new(&dccm)
        .args(["-b", "-h"])
        .arg(&home)
        .arg("-p")
        .arg(format!("local:{}", sock.display()))
        .arg("-R")
        .arg(home.join("run"))
        .args(["-j", "200", "-L", "off"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", dccm.display()));
    let t0 = Instant::now();
    let first = loop {
        if let Ok(c) = Client::connect(&sock) {
            break c;
        }
        if t0.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("dccm did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(first);

    for conc in [1usize, 8, 32] {
        let each = per_run.div_ceil(conc);
        let start = Instant::now();
        let handles: Vec<_> = (0..conc)
            .map(|t| {
                let msgs = msgs.clone();
                let sock = sock.clone();
                std::thread::spawn(move || {
                    let mut c = Client::connect(&sock).expect("connect");
                    connect_cmd(&mut c, &format!("192.0.2.{}", t + 1));
                    let mut lat = Vec::with_capacity(each);
                    let mut errors = Vec::new();
                    for k in 0..each {
                        let n = t * each + k;
                        let m = &msgs[n % msgs.len()];
                        let s = Instant::now();
                        match send_msg(&mut c, m, n) {
                            Ok(()) => lat.push(s.elapsed()),
                            Err(e) => {
                                errors.push(format!("message {}: {e}", n % msgs.len()));
                                c = Client::connect(&sock).expect("connect");
                                connect_cmd(&mut c, &format!("192.0.2.{}", t + 1));
                            }
                        }
                    }
                    (lat, errors)
                })
            })
            .collect();
        let mut lat: Vec<Duration> = Vec::new();
        let mut errors: Vec<String> = Vec::new();
        for h in handles {
            let (l, e) = h.join().expect("worker");
            lat.extend(l);
            errors.extend(e);
        }
        if !errors.is_empty() {
            println!("  {} messages failed, e.g. {}", errors.len(), errors[0]);
        }
        let secs = start.elapsed().as_secs_f64();
        lat.sort();
        println!(
            "concurrency {conc:>2}: {:>6} messages in {secs:.2} s = {:>7.0} msg/s; latency ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
            lat.len(),
            lat.len() as f64 / secs,
            pct(&lat, 0.5),
            pct(&lat, 0.9),
            pct(&lat, 0.99),
            pct(&lat, 1.0),
        );
    }

    // memory: connections held open in the middle of a message
    let idle = rss_kb(child.id());
    let n = 150;
    let mut open = Vec::new();
    for i in 0..n {
        let mut c = Client::connect(&sock).expect("connect");
        connect_cmd(&mut c, &format!("198.51.100.{}", i % 250 + 1));
        let _ = send_head(&mut c, &msgs[i % msgs.len()], i);
        open.push(c);
    }
    std::thread::sleep(Duration::from_millis(300));
    let busy = rss_kb(child.id());
    println!(
        "memory: {idle} KB resident idle, {busy} KB with {n} connections in mid-message = {:.1} KB per connection",
        busy.saturating_sub(idle) as f64 / n as f64
    );
    drop(open);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&home);
}
