//! `web-bench [files] [rounds]`: the time to the first page of a user's
//! logged messages when the user has many log files (default 100,000).
//!
//! Makes a DCC home in a temporary directory with one user whose `log`
//! directory holds the files (a realistic log file each, about 2 KBytes),
//! serves it in this process on loopback, signs in and times `GET /log`
//! through HTTP: cold (a new service, so an empty listing cache; sign-in
//! and the first page timed together since sign-in starts reading the
//! directory; the files' metadata is in the kernel's cache as on a
//! running mail server), a new service after its start-up indexing of
//! all log directories, warm (the same service again), and after one new
//! message arrived (the directory changed: read again, one file asked).
//! The site has a `header` and a `footer` file (`cgi-bin`), as most do;
//! a last figure times a small page (`/password`) where they are the
//! larger part of the work.
//! Prints the median and the worst of each.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tally_web::client::{enc, Client};
use tally_web::opts;
use tally_web::server::{serve, App};

const LOG: &str = "VERSION: 3\nDATE: 11/22/26 12:08:03 UTC\n\
IP: relay.example.org ::ffff:198.51.100.81\nHELO: mail.example.com\n\
env_From: <alice@example.com>  mail_host=example.com\nenv_To: <bench@example.net>  addr=bench  dir=userdirs/local/bench\n\n\
From: Alice <alice@example.com>\nTo: bench@example.net\nSubject: message number NUM\n\
Message-ID: <NUM@example.com>\n\n";

/// The site's `header` and `footer`: a few hundred bytes of HTML each.
const FRAME_TOP: &str = "<div id=\"site-top\"><style>nav{background:#eef}</style>\
<p><b>Example site</b>: your logged messages and your own white- and blacklist. \
Ask postmaster@example.com for help.</p></div>";
const FRAME_END: &str = "<div id=\"site-end\"><p>Mail for this site is checked by DCC. \
Messages are kept for a week; see the site's policy for more.</p></div>";

fn log_text(n: usize) -> String {
    let mut s = LOG.replace("NUM", &n.to_string());
    for _ in 0..20 {
        s.push_str("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n");
    }
    s.push_str(
        "\n### end of message body ########################\nDCC-->spam  dccm  per-user-log\n\n",
    );
    s.push_str("X-DCC-x-Metrics: vm 1200; bulk Body=51\n                            reported: 2               checksum  server thold\n");
    s.push_str("                     Body: e7ab4056 66b5f492 922c6974 e3be4999      49     3\n\nresult: reject\n");
    s
}

fn name(n: usize) -> String {
    const A: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut s = String::from("msg.");
    let mut v = n;
    for _ in 0..6 {
        s.push(char::from(A[v % 62]));
        v /= 62;
    }
    s
}

fn start(home: &std::path::Path, index: bool) -> (std::net::SocketAddr, tokio::runtime::Runtime) {
    let args: Vec<String> = vec![
        "-S".into(),
        "-h".into(),
        home.display().to_string(),
        "-p".into(),
        "0".into(),
    ];
    let o = opts::parse(&args).expect("options");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = Arc::new(App::new(o));
    if index {
        // as dcc-web does at start, here waited for
        app.listings.index_all(&app.opts.userdirs);
    }
    rt.spawn(async move {
        let _ = serve(app, listener).await;
    });
    (addr, rt)
}

fn sign_in(addr: std::net::SocketAddr) -> Client {
    let mut c = Client::new(addr);
    let p = c.get("/signin").expect("sign-in page");
    let csrf = p.csrf().expect("csrf field");
    let a = c
        .post(
            "/signin",
            &format!("csrf={}&user=bench&password=bench", enc(&csrf)),
        )
        .expect("sign in");
    assert_eq!(a.status, 303, "sign-in failed: {}", a.body);
    c
}

fn timed(c: &mut Client) -> Duration {
    let t = Instant::now();
    let a = c.get("/log").expect("listing");
    let d = t.elapsed();
    assert_eq!(a.status, 200);
    assert!(a.body.contains("message number"), "no rows in the page");
    d
}

/// This process's user and system time in clock ticks (1/100 s).
fn cpu_ticks() -> u64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    // the words after the name start with field 3 (state); utime and
    // stime are fields 14 and 15
    let n = |i: usize| f.get(i).and_then(|w| w.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12)
}

fn report(what: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what:<28} median {:8.2} ms  worst {:8.2} ms  (n={})",
        ms(v[v.len() / 2]),
        ms(v[v.len() - 1]),
        v.len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let files: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(7);
    let home = std::env::temp_dir().join(format!("web-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let log = home.join("userdirs/local/bench/log");
    std::fs::create_dir_all(&log).expect("log directory");
    std::fs::write(
        home.join("userdirs/webusers"),
        "bench:{SHA}5cicUp3MubQnFvTZEY1hB5yIPZ4=\n",
    )
    .expect("htpasswd");
    let site = home.join(tally_web::frame::SITE_DIR);
    std::fs::create_dir_all(&site).expect("site directory");
    std::fs::write(site.join("header"), FRAME_TOP).expect("header");
    std::fs::write(site.join("footer"), FRAME_END).expect("footer");
    let t = Instant::now();
    for n in 0..files {
        std::fs::write(log.join(name(n)), log_text(n)).expect("log file");
    }
    println!(
        "{files} log files written in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let cpu0 = cpu_ticks();
    let alone: Vec<Duration> = (0..rounds)
        .map(|_| {
            let l = tally_web::listing::Listings::new();
            let t = Instant::now();
            assert!(l.list(&log).len() >= files);
            t.elapsed()
        })
        .collect();
    let cpu_alone = cpu_ticks().saturating_sub(cpu0);
    let mut cold = Vec::new();
    for _ in 0..rounds {
        let (addr, rt) = start(&home, false);
        let mut c = Client::new(addr);
        let csrf = c
            .get("/signin")
            .expect("sign-in page")
            .csrf()
            .expect("csrf field");
        // sign-in starts reading the user's log directory: time both
        let t = Instant::now();
        let a = c
            .post(
                "/signin",
                &format!("csrf={}&user=bench&password=bench", enc(&csrf)),
            )
            .expect("sign in");
        assert_eq!(a.status, 303);
        let d = timed(&mut c);
        cold.push(t.elapsed().max(d));
        rt.shutdown_timeout(Duration::from_secs(1));
    }
    let mut indexed = Vec::new();
    let mut index = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let (addr, rt) = start(&home, true);
        index.push(t.elapsed());
        let mut c = sign_in(addr);
        indexed.push(timed(&mut c));
        rt.shutdown_timeout(Duration::from_secs(1));
    }
    let (addr, rt) = start(&home, false);
    let mut c = sign_in(addr);
    let _ = timed(&mut c);
    let warm: Vec<Duration> = (0..rounds * 3).map(|_| timed(&mut c)).collect();
    let mut fresh = Vec::new();
    for i in 0..rounds {
        std::thread::sleep(Duration::from_millis(5));
        std::fs::write(log.join(name(files + i)), log_text(files + i)).expect("log file");
        fresh.push(timed(&mut c));
    }
    let small: Vec<Duration> = (0..rounds * 100)
        .map(|_| {
            let t = Instant::now();
            let a = c.get("/password").expect("password page");
            let d = t.elapsed();
            assert_eq!(a.status, 200);
            assert!(a.body.contains("site-end"), "no footer in the page");
            d
        })
        .collect();
    rt.shutdown_timeout(Duration::from_secs(1));
    println!(
        "first page of {} messages (50 per page) through HTTP on loopback:",
        files + rounds
    );
    report("listing alone, empty cache", alone);
    println!(
        "{:<28} {:8.1} ms of CPU (user and system, all threads) per listing",
        "listing alone, CPU time",
        cpu_alone as f64 * 10.0 / rounds as f64
    );
    report("start-up indexing", index);
    report("cold: sign-in + first page", cold);
    report("first after start-up index", indexed);
    report("warm (cached listing)", warm);
    report("after a new message", fresh);
    report("small page, header+footer", small);
    let _ = std::fs::remove_dir_all(&home);
}
