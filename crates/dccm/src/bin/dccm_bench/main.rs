//! dccm-bench: messages per second and latency through the milter
//! protocol at 1, 8 and 32 concurrent connections, against a local DCC
//! server, and dccm's memory per open connection.
//!
//! Usage: `dccm-bench [-n messages-per-level] [-c corpus-dir] [-m dccm]
//! [-s dccd|fake] [-l 1,8,32] [-T] [-G pass|dccd] [--soak SECS [--conns N]]`
//! (`--soak`: N connections, default 64, for SECS seconds, with dccm's
//! memory, threads and descriptors once a minute: see `soak.rs`). The
//! corpus defaults to the project's `testdata/corpus/messages`; dccm is
//! the `dccm` program next to this one. The DCC server is the project's `dccd` next to this program when
//! it was built (`-s` names another, `-s fake` takes the small counting
//! server of the tests), started on a loopback port with its rate limits
//! lifted (see `local_dccd.rs`).
//!
//! Each connection is one thread speaking milter protocol 6 over dccm's
//! unix socket (TCP on 127.0.0.1 with `-T`) as an MTA does (see
//! `mta.rs`): connect once, then per message the macros, MAIL, RCPT, each
//! header field, end of headers, the body and the end of the message,
//! each waiting for dccm's answer (as dccm, like the original, asks for
//! no step to be left out or left unanswered). A message's latency runs
//! from MAIL to the answer to its end. Each level prints the rate, the
//! latency percentiles, how many messages got an X-DCC header (the DCC
//! server answered), the CPU time per message of this program, of dccm
//! and of the DCC server, and dccm's context switches per message (all
//! its threads); then dccm's memory per connection held open in the
//! middle of a message (resident size difference / connections).
//!
//! Figures (`cargo build --release -p tally-dccm -p tally-dccd --bins &&
//! target/release/dccm-bench -n 6000`, three runs, on the 2-CPU
//! development machine at a load average of 0.4-1):
//!
//! | conns | msgs/s    | p50, p90, p99 (ms)         | CPU ms/msg: bench, dccm |
//! |-------|-----------|----------------------------|-------------------------|
//! | 1     | 2779-3414 | 0.26-0.30, 0.37-0.47, 1.05-1.52 | 0.06-0.08, 0.24-0.29 |
//! | 8     | 8596-8891 | 0.80-0.83, 1.23-1.27, 2.48-2.91 | 0.06-0.07, 0.14      |
//! | 32    | 8492-9034 | 3.31-3.57, 4.68-4.93, 7.22-7.53 | 0.06-0.07, 0.14      |
//!
//! Over TCP (`-T`, `-n 3000`): 2642-2759, 7212-7447 and 7807-7963
//! msgs/s at 1, 8 and 32 connections. Memory: 65-68 KB per connection.
//! dccd spends 0.013-0.025 ms per message.
//!
//! Where the time goes: without help, a message of the corpus is some 34
//! round trips (28 header fields on average), each a wake-up of dccm and
//! one of the MTA, and at one connection that, not computing, sets the
//! latency (1445-1466 msgs/s, p50 0.58 ms). Most of those round trips
//! answer steps at which dccm never refuses anything: header fields, the
//! end of the headers, body chunks. Milter protocol 6 lets a milter ask
//! for no reply to those (`SMFIP_NR_HDR`, `NR_EOH`, `NR_BODY`; the
//! original does not ask), and dccm does when the MTA offers it, which
//! gave the figures above (this program offers it, as Postfix and sendmail
//! do). Computing the checksums is under a tenth of dccm's profile; the
//! UDP exchange with dccd is one datagram each way. Two thirds of dccm's
//! remaining CPU time is the kernel switching threads (12 switches per
//! message at one connection, 3-5 at 8 and 32).
//!
//! Greylisting (`-G pass`: dccm with `-G on` and a greylist server in
//! this program that lets every message pass; `-G dccd`: the project's
//! `dccd -G on`, which embargoes every message of the run), 8
//! connections, `-n 3000`/`-n 4000`, seven runs each, next to the same
//! runs without `-G`, on the 2-CPU machine while other builds ran (load
//! average 1.8-4.5, so the figures vary more than those above):
//!
//! | -G      | msgs/s    | p50, p90, p99 (ms)              | CPU ms/msg: dccm |
//! |---------|-----------|---------------------------------|------------------|
//! | (none)  | 5887-7245 | 0.84-1.12, 1.70-1.93, 3.44-7.51 | 0.13-0.15        |
//! | pass    | 5090-5642 | 1.16-1.29, 1.97-2.42, 4.25-6.81 | 0.15-0.17        |
//! | dccd    | 4668-5651 | 1.24-1.36, 1.99-2.43, 3.45-8.07 | 0.12-0.18        |
//!
//! A greylisted message costs one more UDP exchange (the greylist
//! request, which must be answered before the DCC server is asked, as in
//! the original): 0.2-0.3 ms more at the median here, and 0.02 ms of
//! dccm's CPU.
//!
//! Over TCP each message used to wait 44 ms (21-23 msgs/s at one
//! connection): dccm sends the header it adds and its verdict as two
//! packets at the end of the message, and Nagle's algorithm held the
//! second until the MTA's delayed acknowledgement of the first. dccm now
//! sets TCP_NODELAY on every accepted connection.

#[path = "../../../../testkit/src/fake_dccd.rs"]
#[allow(dead_code)]
mod fake_dccd;

mod corpus;
#[cfg(feature = "dnsbl-bench")]
mod dnsbl;
#[path = "../../../../dccifd/src/bin/dccifd_bench/grey_dccd.rs"]
#[allow(dead_code)]
mod grey_dccd;
mod grey_pass;
mod local_dccd;
mod mta;
mod soak;

use corpus::Msg;
use local_dccd::{free_tcp_port, start_server, Usage};
use mta::{Addr, Conn};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn open(addr: &Addr, ip: &str) -> std::io::Result<Conn> {
    let mut c = Conn::connect(addr)?;
    let mut d = b"client.example.com\0".to_vec();
    d.push(b'4');
    d.extend_from_slice(&25u16.to_be_bytes());
    d.extend_from_slice(ip.as_bytes());
    d.push(0);
    c.cmd(b'C', &d)?;
    Ok(c)
}

/// Send one message up to (not including) the end; `false` if refused.
fn send_head(c: &mut Conn, m: &Msg, n: usize) -> std::io::Result<bool> {
    // the macros go with the command, as an MTA sends them
    let mut mac = b"M".to_vec();
    mac.extend_from_slice(format!("i\0Q{n:08}\0").as_bytes());
    c.queue(b'D', &mac);
    if c.cmd(b'M', b"<sender@example.com>\0")?.last != b'c' {
        return Ok(false);
    }
    c.cmd(b'R', b"<rcpt@example.net>\0")?;
    let mut d = Vec::new();
    for (k, v) in &m.headers {
        d.clear();
        d.extend_from_slice(k.as_bytes());
        d.push(0);
        d.extend(v.bytes().filter(|&b| b != 0));
        d.push(0);
        c.cmd(b'L', &d)?;
    }
    c.cmd(b'N', b"")?;
    Ok(true)
}

/// `-B`: the URL chunk every message starts its body with (`Some(cold)`).
#[cfg(feature = "dnsbl-bench")]
static URLS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Send a whole message; whether dccm added an X-DCC header.
fn send_msg(c: &mut Conn, m: &Msg, n: usize) -> std::io::Result<bool> {
    if !send_head(c, m, n)? {
        return Ok(false);
    }
    #[cfg(feature = "dnsbl-bench")]
    if let Some(&cold) = URLS.get() {
        // every message of a cold run has names of its own
        static SENT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let k = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        c.cmd(b'B', &dnsbl::urls(cold, k))?;
    }
    for chunk in m.body.chunks(65535) {
        c.cmd(b'B', chunk)?;
    }
    Ok(c.cmd(b'E', b"")?.x_dcc)
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

/// What one connection's thread measured.
#[derive(Default)]
struct Tally {
    lat: Vec<Duration>,
    headed: usize,
    errors: Vec<String>,
}

/// One connection sending `count` messages starting at number `first`.
fn worker(sock: &Addr, msgs: &[Msg], t: usize, first: usize, count: usize) -> Tally {
    let ip = format!("192.0.2.{}", t % 250 + 1);
    let mut out = Tally::default();
    let mut c = match open(sock, &ip) {
        Ok(c) => c,
        Err(e) => {
            out.errors.push(format!("connect: {e}"));
            return out;
        }
    };
    for n in first..first + count {
        let m = &msgs[n % msgs.len()];
        let s = Instant::now();
        match send_msg(&mut c, m, n) {
            Ok(h) => {
                out.lat.push(s.elapsed());
                out.headed += usize::from(h);
            }
            Err(e) => {
                out.errors.push(format!("message {}: {e}", n % msgs.len()));
                match open(sock, &ip) {
                    Ok(n) => c = n,
                    Err(e) => {
                        out.errors.push(format!("connect: {e}"));
                        return out;
                    }
                }
            }
        }
    }
    c.quit();
    out
}

struct Args {
    per_level: usize,
    corpus: PathBuf,
    dccm: PathBuf,
    server: Option<PathBuf>,
    tcp: bool,
    levels: Vec<usize>,
    /// `-G pass|dccd`: greylisting on (see [`Grey`]).
    grey: Grey,
    /// `-B warm|cold` (feature `dnsbl-bench`): DNS list checks of 50 URL
    /// hosts a message, `Some(cold)`.
    dnsbl: Option<bool>,
    /// `--soak SECS`: the soak mode (see `soak.rs`) for SECS seconds.
    soak: Option<u64>,
    /// `--conns N`: the connections of the soak mode.
    conns: usize,
}

/// The greylist server of `-G`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Grey {
    /// No greylisting.
    Off,
    /// A server in this program that lets every message pass.
    Pass,
    /// The project's `dccd -G on`: every message of the run is embargoed
    /// (the corpus reuses a few triples, within the 270-second embargo).
    Dccd,
}

fn args() -> Args {
    let exe = std::env::current_exe().unwrap_or_default();
    let dccd = exe.with_file_name("dccd");
    let mut a = Args {
        per_level: 2000,
        corpus: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus/messages"),
        dccm: exe.with_file_name("dccm"),
        server: dccd.exists().then_some(dccd),
        tcp: false,
        levels: vec![1, 8, 32],
        grey: Grey::Off,
        dnsbl: None,
        soak: None,
        conns: 64,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(o) = it.next() {
        if o == "-T" {
            a.tcp = true;
            continue;
        }
        match (o.as_str(), it.next()) {
            ("-n", Some(v)) => a.per_level = v.parse().unwrap_or(a.per_level),
            ("-c", Some(v)) => a.corpus = PathBuf::from(v),
            ("-m", Some(v)) => a.dccm = PathBuf::from(v),
            ("-s", Some(v)) if v == "fake" => a.server = None,
            ("-s", Some(v)) => a.server = Some(PathBuf::from(v)),
            ("-G", Some(v)) if v == "pass" => a.grey = Grey::Pass,
            ("-G", Some(v)) if v == "dccd" => a.grey = Grey::Dccd,
            ("-B", Some(v)) if cfg!(feature = "dnsbl-bench") && (v == "warm" || v == "cold") => {
                a.dnsbl = Some(v == "cold")
            }
            ("--soak", Some(v)) if v.parse::<u64>().is_ok_and(|s| s > 0) => a.soak = v.parse().ok(),
            ("--conns", Some(v)) if v.parse::<usize>().is_ok_and(|n| n > 0) => {
                a.conns = v.parse().unwrap_or(a.conns)
            }
            ("-l", Some(v)) => {
                a.levels = v.split(',').filter_map(|l| l.parse().ok()).collect();
            }
            _ => {
                eprintln!("usage: dccm-bench [-n messages-per-level] [-c corpus-dir] [-m dccm] [-s dccd|fake] [-l 1,8,32] [-T] [-G pass|dccd] [-B warm|cold (feature dnsbl-bench)] [--soak SECS [--conns N]]");
                std::process::exit(1);
            }
        }
    }
    a
}

/// How the fake server is named in the output.
const FAKE: &str = "the tests' counting server (-s fake, or no dccd built next to this program)";

fn main() {
    let a = args();
    let mut raw = Vec::new();
    corpus::collect(&a.corpus, &mut raw);
    if raw.is_empty() {
        eprintln!("no messages in {}", a.corpus.display());
        std::process::exit(1);
    }
    let mut msgs: Vec<Msg> = raw.iter().map(|r| corpus::split(r)).collect();
    if a.dnsbl.is_some() {
        // the URL chunk must be text the checksums read: plain messages only
        // (in a multipart body it would be the preamble)
        msgs.retain(|m| {
            !m.headers.iter().any(|(k, v)| {
                let v = v.to_ascii_lowercase();
                (k.eq_ignore_ascii_case("Content-Type")
                    && !v.trim_start().starts_with("text/plain"))
                    || (k.eq_ignore_ascii_case("Content-Transfer-Encoding")
                        && (v.contains("base64") || v.contains("quoted")))
            })
        });
    }
    let msgs = std::sync::Arc::new(msgs);
    let home = std::env::temp_dir().join(format!("dccm-bench-{}", std::process::id()));
    std::fs::create_dir_all(home.join("run")).expect("home");
    let ((_fake, server), mut map) = start_server(a.server.as_deref(), &home.join("dccd"));
    let mut _grey_pass = None;
    let mut _grey_dccd = None;
    match a.grey {
        Grey::Off => {}
        Grey::Pass => {
            let g = grey_pass::GreyPass::start().expect("greylist server");
            map.push_str(&g.map_line());
            _grey_pass = Some(g);
        }
        Grey::Dccd => {
            let exe = a.server.clone().unwrap_or_else(|| {
                eprintln!("-G dccd needs the project's dccd next to this program");
                std::process::exit(1);
            });
            let g = grey_dccd::GreyDccd::start(&exe, &home.join("grey")).expect("greylist dccd");
            map.push_str(&g.map_line());
            _grey_dccd = Some(g);
        }
    }
    std::fs::write(home.join("map"), map).expect("map");
    #[cfg(feature = "dnsbl-bench")]
    let dns = a.dnsbl.map(|cold| {
        let total = a.per_level * a.levels.len() + a.levels.iter().sum::<usize>();
        let _ = URLS.set(cold);
        dnsbl::Dns::start(cold, total)
    });
    #[cfg(feature = "dnsbl-bench")]
    let (b_args, b_env): (Vec<String>, Vec<(String, String)>) = match dns.as_ref() {
        Some(d) => (
            vec!["-B".into(), "bl.test".into()],
            vec![("TALLY_DNSBL_SERVERS".into(), d.addr().to_string())],
        ),
        None => (Vec::new(), Vec::new()),
    };
    #[cfg(not(feature = "dnsbl-bench"))]
    let (b_args, b_env): (Vec<String>, Vec<(String, String)>) = (Vec::new(), Vec::new());
    let (sock, listen) = if a.tcp {
        let port = free_tcp_port();
        let sa = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        (Addr::Tcp(sa), format!("inet:{port}@127.0.0.1"))
    } else {
        let p = home.join("run/dccm.sock");
        let l = format!("local:{}", p.display());
        (Addr::Unix(p), l)
    };
    let mut child = Command::new(&a.dccm)
        .args(["-b", "-h"])
        .arg(&home)
        .arg("-p")
        .arg(&listen)
        .arg("-R")
        .arg(home.join("run"))
        .args(["-j", "200", "-L", "off"])
        .args(if a.grey == Grey::Off {
            &[][..]
        } else {
            &["-G", "on"][..]
        })
        .args(&b_args)
        .envs(b_env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", a.dccm.display()));
    let t0 = Instant::now();
    while Conn::connect(&sock).is_err() {
        if t0.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("dccm did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "server: {}; greylisting: {}; dccm on {listen}; {} messages from {}, {} per level",
        server.as_ref().map_or(FAKE, |_| "dccd"),
        match a.grey {
            Grey::Off => "off",
            Grey::Pass => "-G on, a server that lets everything pass",
            Grey::Dccd => "-G on, dccd -G on (messages embargoed)",
        },
        msgs.len(),
        a.corpus.display(),
        a.per_level
    );
    if let Some(cold) = a.dnsbl {
        println!(
            "-B bl.test: 50 URL hosts a message (A, NS and MX each), {} cache",
            if cold {
                "cold (new names in every message)"
            } else {
                "warm (the same names)"
            }
        );
    }
    if let Some(secs) = a.soak {
        soak::run(&sock, msgs, child.id(), a.conns, secs);
        let _ = child.kill();
        let _ = child.wait();
        drop(server);
        let _ = std::fs::remove_dir_all(&home);
        return;
    }
    println!("conns  msgs/s  p50 ms  p90 ms  p99 ms  max ms  X-DCC  errors  CPU ms/msg: bench dccm server  dccm switches/msg");
    let srv_pid = server.as_ref().map(|s| s.pid());
    for &conc in &a.levels {
        let conc = conc.max(1);
        let each = a.per_level.div_ceil(conc);
        let used = Usage::now(child.id(), srv_pid);
        let start = Instant::now();
        let handles: Vec<_> = (0..conc)
            .map(|t| {
                let (msgs, sock) = (msgs.clone(), sock.clone());
                std::thread::spawn(move || worker(&sock, &msgs, t, t * each, each))
            })
            .collect();
        let mut all = Tally::default();
        for h in handles {
            if let Ok(t) = h.join() {
                all.lat.extend(t.lat);
                all.headed += t.headed;
                all.errors.extend(t.errors);
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let [cpu_bench, cpu_daemon, cpu_srv, sw] =
            used.per_message(child.id(), srv_pid, all.lat.len());
        all.lat.sort();
        println!(
            "{conc:>5} {:>7.0} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>6} {:>7}  {:>16.3} {:>4.3} {:>6.3} {sw:>18.1}",
            all.lat.len() as f64 / secs,
            pct(&all.lat, 0.5),
            pct(&all.lat, 0.9),
            pct(&all.lat, 0.99),
            pct(&all.lat, 1.0),
            all.headed,
            all.errors.len(),
            cpu_bench,
            cpu_daemon,
            cpu_srv,
        );
        if let Some(e) = all.errors.first() {
            println!("      e.g. {e}");
        }
    }

    #[cfg(feature = "dnsbl-bench")]
    if let Some(d) = dns.as_ref() {
        println!("DNS questions answered: {}", d.questions());
    }

    // memory: connections held open in the middle of a message
    let idle = rss_kb(child.id());
    let n = 150;
    let mut open_conns = Vec::new();
    for i in 0..n {
        if let Ok(mut c) = open(&sock, &format!("198.51.100.{}", i % 250 + 1)) {
            let _ = send_head(&mut c, &msgs[i % msgs.len()], i);
            open_conns.push(c);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let busy = rss_kb(child.id());
    println!(
        "memory: {idle} KB resident idle, {busy} KB with {} connections in mid-message = {:.1} KB per connection",
        open_conns.len(),
        busy.saturating_sub(idle) as f64 / open_conns.len().max(1) as f64
    );
    for c in open_conns {
        c.quit();
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(server);
    let _ = std::fs::remove_dir_all(&home);
}
