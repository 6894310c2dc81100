//! Load generator for dccifd: messages per second and latency with 1, 8
//! and 32 concurrent clients over the unix socket, against a counting DCC
//! server on the loopback interface (started here), with the messages of
//! the test corpus.
//!
//! With `-s dccd` the project's dccd is started instead of the built-in
//! counting server (server-ID 1200, a private ids file, and its per-client
//! rate limit raised with `-R 100000` so that the figures are dccifd's:
//! dccd's default of 400 requests/s per client-ID would cap them).
//!
//! usage: dccifd-bench [-n requests-per-level] [-c corpus-dir] [-d dccifd] [-s dccd]

#[path = "../../../testkit/src/fake_dccd.rs"]
#[allow(dead_code)]
mod fake_dccd;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn messages(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            messages(&p, out);
        } else if let Ok(b) = std::fs::read(&p) {
            if !b.is_empty() && b.len() < 256 * 1024 {
                out.push(b);
            }
        }
    }
}

fn request(i: usize, msg: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "header\n192.0.2.{}\rclient{i}.example.com\nclient{i}.example.com\n<sender{i}@example.com>\n<rcpt@example.net>\rrcpt\n\n",
        i % 250 + 1
    )
    .into_bytes();
    r.extend_from_slice(msg);
    r
}

fn one(sock: &Path, req: &[u8]) -> Result<Duration, String> {
    let t = Instant::now();
    let mut s = UnixStream::connect(sock).map_err(|e| e.to_string())?;
    s.write_all(req).map_err(|e| e.to_string())?;
    s.shutdown(std::net::Shutdown::Write)
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).map_err(|e| e.to_string())?;
    if out.is_empty() {
        return Err("empty answer".into());
    }
    Ok(t.elapsed())
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut per_level = 2000usize;
    let mut corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus/messages");
    let mut dccifd = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("dccifd")))
        .unwrap_or_else(|| PathBuf::from("dccifd"));
    let mut dccd: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("-n", Some(v)) => per_level = v.parse().unwrap_or(per_level),
            ("-c", Some(v)) => corpus = PathBuf::from(v),
            ("-d", Some(v)) => dccifd = PathBuf::from(v),
            ("-s", Some(v)) => dccd = Some(PathBuf::from(v)),
            _ => {
                eprintln!(
                    "usage: dccifd-bench [-n requests-per-level] [-c corpus-dir] [-d dccifd]"
                );
                std::process::exit(1);
            }
        }
    }
    let mut msgs = Vec::new();
    messages(&corpus, &mut msgs);
    if msgs.is_empty() {
        eprintln!("no messages in {}", corpus.display());
        std::process::exit(1);
    }
    let msgs: Arc<Vec<Vec<u8>>> = Arc::new(msgs);
    let total_bytes: usize = msgs.iter().map(|m| m.len()).sum();

    let home = std::env::temp_dir().join(format!("dccifd-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).expect("home");
    let mut fake = None;
    let mut server = None;
    match &dccd {
        None => {
            let srv = fake_dccd::FakeDccd::start(1200, "bench");
            std::fs::write(home.join("map"), fake_dccd::map_text(srv.addr)).expect("map");
            fake = Some(srv);
        }
        Some(exe) => {
            use std::os::unix::fs::PermissionsExt;
            let shome = home.join("dccd");
            std::fs::create_dir_all(&shome).expect("dccd home");
            let ids = shome.join("ids");
            std::fs::write(&ids, "32800\tbenchclientpw\n1200\tbenchserverpw\n").expect("ids");
            std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600)).expect("mode");
            let port = std::net::UdpSocket::bind("127.0.0.1:0")
                .and_then(|s| s.local_addr())
                .map(|a| a.port())
                .expect("port");
            let c = Command::new(exe)
                .args(["-b", "-i", "1200", "-n", "bench", "-h"])
                .arg(&shome)
                .args(["-a", &format!("127.0.0.1,{port}"), "-R", "100000"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start dccd");
            std::thread::sleep(Duration::from_millis(500));
            std::fs::write(
                home.join("map"),
                format!("127.0.0.1,{port} 32800 benchclientpw\n"),
            )
            .expect("map");
            server = Some(c);
        }
    }
    let sock = home.join("dccifd.sock");
    let mut child = Command::new(&dccifd)
        .args(["-b", "-h"])
        .arg(&home)
        .arg("-p")
        .arg(&sock)
        .args(["-R", ".", "-t", "CMN,2,3", "-j", "64"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dccifd");
    let t0 = Instant::now();
    while UnixStream::connect(&sock).is_err() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "server: {}; {} messages ({} KiB, mean {} bytes), {per_level} requests per level",
        if dccd.is_some() {
            "dccd"
        } else {
            "built-in counting server"
        },
        msgs.len(),
        total_bytes / 1024,
        total_bytes / msgs.len()
    );
    println!("clients  msgs/s   p50 ms   p90 ms   p99 ms   max ms  errors");
    for clients in [1usize, 8, 32] {
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let (next, msgs, sock) = (next.clone(), msgs.clone(), sock.clone());
                std::thread::spawn(move || {
                    let mut lat = Vec::new();
                    let mut errs = 0usize;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= per_level {
                            break;
                        }
                        let m = &msgs[i % msgs.len()];
                        match one(&sock, &request(i, m)) {
                            Ok(d) => lat.push(d),
                            Err(_) => errs += 1,
                        }
                    }
                    (lat, errs)
                })
            })
            .collect();
        let mut lat = Vec::new();
        let mut errs = 0;
        for h in handles {
            if let Ok((l, e)) = h.join() {
                lat.extend(l);
                errs += e;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        lat.sort();
        println!(
            "{clients:>7} {:>7.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {errs:>7}",
            lat.len() as f64 / secs,
            pct(&lat, 0.5),
            pct(&lat, 0.9),
            pct(&lat, 0.99),
            lat.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    if let Some(mut c) = server {
        let _ = c.kill();
        let _ = c.wait();
    }
    drop(fake);
    let _ = std::fs::remove_dir_all(&home);
}
