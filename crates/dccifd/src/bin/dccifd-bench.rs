//! Load generator for dccifd: messages per second and latency with 1, 8
//! and 32 concurrent clients over the unix socket, against a DCC server on
//! the loopback interface (started here), with the messages of the test
//! corpus.
//!
//! The DCC server is the project's `dccd` next to this program when it
//! was built (`-s` names another, `-s fake` takes the small counting
//! server of the tests), started on a loopback port with its own ids file
//! and store in a temporary directory and its rate limits lifted, so that
//! the figures are dccifd's (dccd's default of 400 requests/s per
//! client-ID would cap them); see dccm-bench's `local_dccd.rs`.
//!
//! Each client connects, sends a request as SpamAssassin does (options,
//! client, HELO, sender, recipient, the message), half-closes and reads
//! the answer to its end; the latency covers all of that. Each level
//! prints the rate, the latency percentiles, how many answers carried an
//! X-DCC header (the DCC server answered), and the CPU time per message
//! of this program, of dccifd and of the DCC server.
//!
//! With `-T` dccifd listens on TCP (127.0.0.1) instead of its unix socket.
//! With `-G` dccifd greylists (`-G on`) with the project's dccd as its
//! greylist server (`dccd -G on`, a second process next to the DCC
//! server): every request is a new triple, so the answers are `G` (or `R`
//! once a corpus message has come often enough to be bulk, which also
//! sends a GREY_SPAM) and each message costs a greylist request besides
//! the DCC report. Figures at 8 clients (`-n 6000 -l 8`, two runs each,
//! load average 2.6 from other work on the 2-CPU machine):
//!
//! |           | msgs/s      | p50, p99 (ms)       | dccifd CPU ms/msg | switches/msg | greylist dccd ms/msg |
//! |-----------|-------------|---------------------|-------------------|--------------|----------------------|
//! | without   | 11123-15480 | 0.39-0.51, 3.1-4.9  | 0.080-0.088       | 3.2-3.7      |                      |
//! | `-G on`   | 5853-8249   | 0.86-1.16, 3.2-6.0  | 0.153-0.178       | 8.8-9.1      | 0.015-0.017          |
//!
//! The greylist request is awaited through the runtime (the engine's
//! `DccClient::grey_blocking`), not on the job's thread as the DCC request
//! is (`ask_blocking`), which costs about 5 more thread switches and
//! most of the difference.
//!
//! Figures (`cargo build --release -p tally-dccifd -p tally-dccd --bins &&
//! target/release/dccifd-bench -n 6000`, three runs, on the 2-CPU
//! development machine at a load average of 0.4-1):
//!
//! | clients | msgs/s      | p50, p90, p99 (ms)              | dccifd CPU ms/msg |
//! |---------|-------------|---------------------------------|-------------------|
//! | 1       | 4944-6195   | 0.14-0.17, 0.21-0.27, 0.72-0.89 | 0.108-0.133       |
//! | 8       | 12996-15113 | 0.41-0.49, 0.89-1.07, 2.45-2.72 | 0.087-0.100       |
//! | 32      | 12422-13928 | 2.11-2.36, 3.39-3.87, 5.80-6.22 | 0.093-0.103       |
//!
//! The bench costs 0.03 ms per message, dccd 0.01-0.03 ms. What is left
//! of dccifd's time is mostly the kernel waking threads: a connection is
//! accepted by the thread that serves it (see `workers.rs`) and the job
//! waits for the DCC answer on that thread (`DccClient::ask_blocking`),
//! about 3 context switches per message. Before, an accepting task handed
//! each connection to a blocking thread and the answer came through a
//! runtime worker: 11-13 switches and 0.17-0.21 ms per message at one
//! client (3641-4284 msgs/s).
//!
//! usage: dccifd-bench [-n requests-per-level] [-c corpus-dir] [-d dccifd] [-s dccd|fake] [-l 1,8,32] [-T] [-G]

#[path = "../../../testkit/src/fake_dccd.rs"]
#[allow(dead_code)]
mod fake_dccd;
#[path = "dccifd_bench/grey_dccd.rs"]
mod grey_dccd;
#[path = "../../../dccm/src/bin/dccm_bench/local_dccd.rs"]
mod local_dccd;

use local_dccd::{free_tcp_port, start_server, Usage};

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

/// Where dccifd listens.
#[derive(Clone)]
enum Addr {
    Unix(PathBuf),
    Tcp(std::net::SocketAddr),
}

/// Send a request, half-close, read the answer to its end.
fn exchange<S: Read + Write>(
    mut s: S,
    req: &[u8],
    half_close: impl Fn(&S) -> std::io::Result<()>,
) -> Result<Vec<u8>, String> {
    s.write_all(req).map_err(|e| e.to_string())?;
    half_close(&s).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// One request; its latency, whether the answer has an X-DCC header and
/// whether it is a greylist embargo (`G`).
fn one(addr: &Addr, req: &[u8]) -> Result<(Duration, bool, bool), String> {
    let t = Instant::now();
    let out = match addr {
        Addr::Unix(p) => {
            let s = UnixStream::connect(p).map_err(|e| e.to_string())?;
            exchange(s, req, |s| s.shutdown(std::net::Shutdown::Write))?
        }
        Addr::Tcp(a) => {
            let s = std::net::TcpStream::connect(a).map_err(|e| e.to_string())?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            exchange(s, req, |s| s.shutdown(std::net::Shutdown::Write))?
        }
    };
    if out.is_empty() {
        return Err("empty answer".into());
    }
    let headed = out.windows(5).any(|w| w == b"X-DCC");
    Ok((t.elapsed(), headed, out.first() == Some(&b'G')))
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// How the fake server is named in the output.
const FAKE: &str = "the tests' counting server (-s fake, or no dccd built next to this program)";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut per_level = 2000usize;
    let mut corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus/messages");
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dccifd = exe.with_file_name("dccifd");
    let mut dccd = Some(exe.with_file_name("dccd")).filter(|p| p.exists());
    let mut levels = vec![1usize, 8, 32];
    let mut tcp = false;
    let mut grey = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-T" {
            tcp = true;
            continue;
        }
        if a == "-G" {
            grey = true;
            continue;
        }
        match (a.as_str(), it.next()) {
            ("-n", Some(v)) => per_level = v.parse().unwrap_or(per_level),
            ("-c", Some(v)) => corpus = PathBuf::from(v),
            ("-d", Some(v)) => dccifd = PathBuf::from(v),
            ("-s", Some(v)) if v == "fake" => dccd = None,
            ("-s", Some(v)) => dccd = Some(PathBuf::from(v)),
            ("-l", Some(v)) => levels = v.split(',').filter_map(|l| l.parse().ok()).collect(),
            _ => {
                eprintln!(
                    "usage: dccifd-bench [-n requests-per-level] [-c corpus-dir] [-d dccifd] [-s dccd|fake] [-l 1,8,32] [-T] [-G]"
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
    let ((_fake, server), mut map) = start_server(dccd.as_deref(), &home.join("dccd"));
    let grey_srv = grey.then(|| {
        let exe = dccd.as_deref().unwrap_or_else(|| {
            eprintln!("-G needs the project's dccd (not -s fake)");
            std::process::exit(1);
        });
        grey_dccd::GreyDccd::start(exe, &home.join("grey")).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1);
        })
    });
    if let Some(g) = &grey_srv {
        map.push_str(&g.map_line());
    }
    std::fs::write(home.join("map"), map).expect("map");
    let (sock, listen) = if tcp {
        let port = free_tcp_port();
        let sa = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        (Addr::Tcp(sa), format!("127.0.0.1,{port},127.0.0.1"))
    } else {
        let p = home.join("dccifd.sock");
        let l = p.display().to_string();
        (Addr::Unix(p), l)
    };
    let mut child = Command::new(&dccifd)
        .args(["-b", "-h"])
        .arg(&home)
        .arg("-p")
        .arg(&listen)
        .args(["-R", ".", "-t", "CMN,2,3", "-j", "64"])
        .args(if grey { &["-G", "on"][..] } else { &[] })
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dccifd");
    let t0 = Instant::now();
    let up = |a: &Addr| match a {
        Addr::Unix(p) => UnixStream::connect(p).is_ok(),
        Addr::Tcp(a) => std::net::TcpStream::connect(a).is_ok(),
    };
    while !up(&sock) && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "server: {}{}; dccifd on {listen}; {} messages ({} KiB, mean {} bytes), {per_level} requests per level",
        server.as_ref().map_or(FAKE, |_| "dccd"),
        if grey { ", greylisting (-G on) with dccd -G" } else { "" },
        msgs.len(),
        total_bytes / 1024,
        total_bytes / msgs.len()
    );
    println!("clients  msgs/s   p50 ms   p90 ms   p99 ms   max ms  X-DCC  errors  CPU ms/msg: bench dccifd server  dccifd switches/msg");
    let srv_pid = server.as_ref().map(|s| s.pid());
    for clients in levels {
        let clients = clients.max(1);
        let next = Arc::new(AtomicUsize::new(0));
        let used = Usage::now(child.id(), srv_pid);
        let grey_cpu0 = grey_srv.as_ref().map(|g| local_dccd::cpu_ms(g.pid()));
        let start = Instant::now();
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let (next, msgs, sock) = (next.clone(), msgs.clone(), sock.clone());
                std::thread::spawn(move || {
                    let mut lat = Vec::new();
                    let (mut headed, mut errs, mut embargoed) = (0usize, 0usize, 0usize);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= per_level {
                            break;
                        }
                        let m = &msgs[i % msgs.len()];
                        match one(&sock, &request(i, m)) {
                            Ok((d, h, g)) => {
                                lat.push(d);
                                headed += usize::from(h);
                                embargoed += usize::from(g);
                            }
                            Err(_) => errs += 1,
                        }
                    }
                    (lat, headed, errs, embargoed)
                })
            })
            .collect();
        let mut lat = Vec::new();
        let (mut headed, mut errs, mut embargoed) = (0, 0, 0);
        for h in handles {
            if let Ok((l, hd, e, g)) = h.join() {
                lat.extend(l);
                headed += hd;
                errs += e;
                embargoed += g;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let [cpu_bench, cpu_daemon, cpu_srv, sw] = used.per_message(child.id(), srv_pid, lat.len());
        lat.sort();
        println!(
            "{clients:>7} {:>7.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {headed:>6} {errs:>7}  {:>16.3} {:>6.3} {:>6.3} {sw:>20.1}",
            lat.len() as f64 / secs,
            pct(&lat, 0.5),
            pct(&lat, 0.9),
            pct(&lat, 0.99),
            lat.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            cpu_bench,
            cpu_daemon,
            cpu_srv,
        );
        if let (Some(g), Some(g0)) = (&grey_srv, grey_cpu0) {
            let ms = local_dccd::cpu_ms(g.pid()).saturating_sub(g0) as f64;
            println!(
                "         {embargoed} answers G (embargoed); greylist dccd CPU {:.3} ms/msg",
                ms / lat.len().max(1) as f64
            );
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(server);
    let _ = std::fs::remove_dir_all(&home);
}
