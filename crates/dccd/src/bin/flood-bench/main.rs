//! Flooding benchmark: starts the `dccd` built next to this program several
//! times on loopback and measures
//!
//! 1. **flood rate**: reports per second flooded from one server to
//!    another (a backlog of reports made while the sender's flooding was
//!    halted is timed from `flood resume` until the receiver has counted
//!    the last one);
//! 2. **load while flooding**: REPORT requests per second a server answers
//!    (four client threads, one request in flight each) without peers and
//!    while it floods every report to a peer;
//! 3. **convergence**: 8 servers (or the number given) in a ring (each
//!    floods to its two neighbours) and in a full mesh; a burst of reports
//!    at one server is timed until every server has counted its last one.
//!
//! Usage: `flood-bench [reports] [servers]` (defaults 20000 and 8).
//! Figures: see docs/flooding.md.

use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tally_ck::{CkType, Sum};
use tally_wire::admn::{AdmnRequest, Aop, FlodAop};
use tally_wire::packet::{CkRequest, Expect, Packet, Request, Response};
use tally_wire::response::Answer;
use tally_wire::sign::{Passwd, Signer};
use tally_wire::{OpNums, Tgts, WireCk};

const CLIENT: u32 = 32800;
const MANY: u32 = 0x00ff_fff0;

struct Dccd {
    child: Option<Child>,
    id: u16,
    port: u16,
    home: PathBuf,
}

impl Drop for Dccd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

impl Dccd {
    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

fn free_port() -> u16 {
    loop {
        let u = UdpSocket::bind("127.0.0.1:0").expect("udp");
        let p = u.local_addr().expect("addr").port();
        if std::net::TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

fn ids_text(n: usize) -> String {
    let mut t = format!("{CLIENT} benchpw\n");
    for i in 0..n {
        t.push_str(&format!("{} srvpw{i}\n", 1100 + i));
    }
    t
}

/// A home for server `i` of `n` flooding to `peers` (index, port).
fn prepare(tag: &str, i: usize, n: usize, peers: &[(usize, u16)]) -> PathBuf {
    let home = std::env::temp_dir().join(format!("flood-bench-{}-{tag}-{i}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).expect("home");
    let ids = home.join("ids");
    std::fs::write(&ids, ids_text(n)).expect("ids");
    std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let lines: String = peers
        .iter()
        .map(|(j, p)| format!("127.0.0.1,{p} {}\n", 1100 + j))
        .collect();
    std::fs::write(home.join("flod"), lines).expect("flod");
    home
}

fn start(home: PathBuf, id: u16, port: u16) -> Dccd {
    let exe = std::env::current_exe().expect("exe").with_file_name("dccd");
    let child = Command::new(exe)
        .args([
            "-b",
            "-i",
            &id.to_string(),
            "-n",
            "bench",
            "-R",
            "10000000,10000000,10000000",
        ])
        .arg("-h")
        .arg(&home)
        .args(["-a", &format!("127.0.0.1,{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dccd");
    let d = Dccd {
        child: Some(child),
        id,
        port,
        home,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && count(d.addr(), ck(0)).is_none() {}
    d
}

fn ck(n: u32) -> WireCk {
    let mut s = [0x33u8; 16];
    s[..4].copy_from_slice(&n.to_be_bytes());
    WireCk::new(CkType::Body, Sum(s))
}

struct Client {
    sock: UdpSocket,
    signer: Signer,
    n: u32,
    tag: u32,
}

impl Client {
    fn new(tag: u32) -> Client {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("udp");
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        let pw = Passwd::new(b"benchpw").expect("pw");
        Client {
            sock,
            signer: Signer::for_request(CLIENT, Some(&pw)),
            n: 0,
            tag,
        }
    }

    fn ask(&mut self, to: SocketAddr, body: Request) -> Option<u32> {
        self.n += 1;
        let mut p = Packet::request(
            12,
            CLIENT,
            OpNums::from_le_words(self.tag, 1, self.n, 1),
            body.clone(),
        );
        let bytes = p.sign(&self.signer);
        let mut buf = [0u8; 2048];
        for _ in 0..3 {
            self.sock.send_to(&bytes, to).ok()?;
            if let Ok((len, _)) = self.sock.recv_from(&mut buf) {
                let r = Packet::<Response>::decode(&buf[..len], Expect::for_request(&body)).ok()?;
                if let Response::Answer(Answer::Pairs(v)) = r.body {
                    return v.first().map(|c| c.c.0);
                }
                return None;
            }
        }
        None
    }

    fn report(&mut self, to: SocketAddr, tgts: u32, c: WireCk) -> Option<u32> {
        self.ask(
            to,
            Request::Report(CkRequest {
                tgts: Tgts(tgts),
                cks: vec![c],
            }),
        )
    }
}

fn count(to: SocketAddr, c: WireCk) -> Option<u32> {
    Client::new(std::process::id()).ask(
        to,
        Request::Query(CkRequest {
            tgts: Tgts(0),
            cks: vec![c],
        }),
    )
}

/// Wait until every server counts `c` as `want`; the time it took.
fn converge(servers: &[&Dccd], c: WireCk, want: u32, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    let mut cl = Client::new(7);
    for s in servers {
        loop {
            let q = cl.ask(
                s.addr(),
                Request::Query(CkRequest {
                    tgts: Tgts(0),
                    cks: vec![c],
                }),
            );
            if q == Some(want) {
                break;
            }
            if t0.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    Some(t0.elapsed())
}

/// `cdcc "flood halt"` or `"flood resume"` from the server's own ID.
fn flood_admin(d: &Dccd, op: FlodAop) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.as_secs() as u32)
        .unwrap_or(0);
    let body = Request::Admn(AdmnRequest::new(now, Aop::Flod, op as u32));
    let pw = Passwd::new(format!("srvpw{}", d.id - 1100).as_bytes()).expect("pw");
    let id = u32::from(d.id);
    let mut p = Packet::request(12, id, OpNums::from_le_words(5, 5, now, 1), body);
    let bytes = p.sign(&Signer::for_request(id, Some(&pw)));
    let sock = UdpSocket::bind("127.0.0.1:0").expect("udp");
    sock.set_read_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let _ = sock.send_to(&bytes, d.addr());
    let mut buf = [0u8; 2048];
    let _ = sock.recv_from(&mut buf);
}

fn flood_rate(n: u32) {
    let (pa, pb) = (free_port(), free_port());
    let a = start(prepare("rate", 0, 2, &[(1, pb)]), 1100, pa);
    let b = start(prepare("rate", 1, 2, &[(0, pa)]), 1101, pb);
    let mut cl = Client::new(1);
    // the stream is up once a first report has arrived
    cl.report(a.addr(), MANY, ck(0));
    if converge(&[&b], ck(0), MANY, Duration::from_secs(60)).is_none() {
        println!("flood rate: no stream");
        return;
    }
    // a backlog made while A's flooding is halted, then sent at once
    flood_admin(&a, FlodAop::Halt);
    for i in 1..=n {
        cl.report(a.addr(), MANY, ck(i));
    }
    let t0 = Instant::now();
    flood_admin(&a, FlodAop::Resume);
    match converge(&[&b], ck(n), MANY, Duration::from_secs(300)) {
        Some(_) => {
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "flood rate: a backlog of {n} reports in {secs:.2} s = {:.0} reports/s",
                f64::from(n) / secs
            );
        }
        None => println!("flood rate: the receiver did not catch up"),
    }
}

fn load(to: SocketAddr, secs: u64, base: u32) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let (stop, done) = (stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut cl = Client::new(100 + t);
                let mut i = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    if cl.report(to, 20, ck(base + t * 10_000_000 + i)).is_some() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    done.load(Ordering::Relaxed) as f64 / secs as f64
}

fn load_while_flooding() {
    let (p0, pa, pb) = (free_port(), free_port(), free_port());
    let alone = start(prepare("alone", 0, 2, &[]), 1100, p0);
    let a = start(prepare("load", 0, 2, &[(1, pb)]), 1100, pa);
    let b = start(prepare("load", 1, 2, &[(0, pa)]), 1101, pb);
    // interleaved runs, so that other work on the machine hits both alike
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for run in 0..3u32 {
        without.push(load(alone.addr(), 2, 100_000_000 + run * 1_000_000));
        with.push(load(a.addr(), 2, 200_000_000 + run * 1_000_000));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|x, y| x.total_cmp(y));
        v[v.len() / 2]
    };
    let (r0, r1) = (median(&mut without), median(&mut with));
    println!(
        "REPORT/s at one server, 4 clients (median of 3 interleaved runs): {r0:.0} without peers, {r1:.0} while flooding each report to a peer ({:+.1}%)",
        (r1 / r0 - 1.0) * 100.0
    );
    drop(b);
}

fn scale(n: usize, reports: u32, mesh: bool) {
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let tag = if mesh { "mesh" } else { "ring" };
    let servers: Vec<Dccd> = (0..n)
        .map(|i| {
            let peers: Vec<(usize, u16)> = if mesh {
                (0..n).filter(|&j| j != i).map(|j| (j, ports[j])).collect()
            } else {
                let (prev, next) = ((i + n - 1) % n, (i + 1) % n);
                let mut v = vec![(next, ports[next])];
                if prev != next {
                    v.push((prev, ports[prev]));
                }
                v
            };
            start(prepare(tag, i, n, &peers), 1100 + i as u16, ports[i])
        })
        .collect();
    let refs: Vec<&Dccd> = servers.iter().collect();
    // the streams are up once a first report has gone around
    let _ = Client::new(3).report(servers[0].addr(), MANY, ck(1));
    if converge(&refs, ck(1), MANY, Duration::from_secs(60)).is_none() {
        println!("{tag} of {n}: never converged");
        return;
    }
    // one report: latency
    let mut cl = Client::new(4);
    cl.report(servers[n / 2].addr(), MANY, ck(2));
    let one = converge(&refs, ck(2), MANY, Duration::from_secs(60));
    // a burst at one server: time until every server has the last report
    let t0 = Instant::now();
    for i in 0..reports {
        cl.report(servers[0].addr(), MANY, ck(1_000_000 + i));
    }
    let sent = t0.elapsed();
    let all = converge(
        &refs,
        ck(1_000_000 + reports - 1),
        MANY,
        Duration::from_secs(600),
    );
    match (one, all) {
        (Some(o), Some(_)) => println!(
            "{tag} of {n}: one report everywhere in {:.1} ms; {reports} reports sent in {:.2} s, everywhere {:.2} s after the first was sent",
            o.as_secs_f64() * 1000.0,
            sent.as_secs_f64(),
            t0.elapsed().as_secs_f64()
        ),
        _ => println!("{tag} of {n}: did not converge"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reports: u32 = args.first().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let servers: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    flood_rate(reports);
    load_while_flooding();
    scale(servers, reports, false);
    scale(servers, reports, true);
}
