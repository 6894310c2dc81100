//! Replaying the recorded dccm scenarios against our dccm.

#![allow(dead_code)]

pub mod milter;
pub mod transcript;

use milter::{Client, Reply};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tally_testkit::fake_grey::{grey_map_text, FakeGrey};
use tally_testkit::{closed_port, map_text, write_map, FakeDccd};
use transcript::Pkt;

/// The test data directory.
pub fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A fresh DCC home directory with the recorded configuration files.
pub fn make_home(tag: &str) -> PathBuf {
    let base = std::env::temp_dir().join(format!(
        "dccm-test-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(base.join("run")).unwrap();
    std::fs::create_dir_all(base.join("logs")).unwrap();
    copy_dir(&data().join("config"), &base);
    base
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// Split a recorded command line (single quotes only).
pub fn split_cmd(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut inq = false;
    let mut any = false;
    for c in s.trim().chars() {
        match c {
            '\'' => {
                inq = !inq;
                any = true;
            }
            ' ' if !inq => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A running dccm.
pub struct Dccm {
    pub child: Child,
    pub sock: PathBuf,
    pub home: PathBuf,
}

impl Drop for Dccm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Options for a foreground dccm on a unix socket in `home`'s `run`
/// directory, then `extra`.
#[allow(dead_code)]
pub fn local_args(home: &Path, extra: &[&str]) -> Vec<String> {
    let h = home.display().to_string();
    let mut v: Vec<String> = vec![
        "-b".into(),
        "-h".into(),
        h.clone(),
        "-p".into(),
        format!("local:{h}/run/dccm.sock"),
        "-R".into(),
        format!("{h}/run"),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// Start our dccm with the recorded arguments (HOME replaced).
pub fn start_dccm(home: &Path, args: &[String]) -> Dccm {
    start_dccm_env(home, args, &[])
}

/// [`start_dccm`] with environment variables.
pub fn start_dccm_env(home: &Path, args: &[String], env: &[(&str, String)]) -> Dccm {
    let h = home.display().to_string();
    let args: Vec<String> = args.iter().map(|a| a.replace("HOME", &h)).collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dccm"));
    cmd.args(&args).envs(env.iter().map(|(k, v)| (k, v)));
    spawn_dccm(home, cmd)
}

/// Run `cmd` (dccm, or a shell that starts it) with its standard error in
/// `home/stderr.txt`, and wait up to 10 s for its socket in `home/run`.
pub fn spawn_dccm(home: &Path, mut cmd: Command) -> Dccm {
    let sock = home.join("run/dccm.sock");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(home.join("stderr.txt")).unwrap())
        .spawn()
        .expect("start dccm");
    let t0 = Instant::now();
    while !sock.exists() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    Dccm {
        child,
        sock,
        home: home.to_path_buf(),
    }
}

/// Preload the bulk message's checksums as `dccproc -t 5` did.
pub fn preload_bulk(srv: &FakeDccd) {
    let eml = std::fs::read(data().join("msgs/bulk1.eml")).unwrap();
    let mut mc = tally_ck::message::MessageCks::new(
        &tally_ck::header::CkConfig::default(),
        &tally_ck::header::Envelope::default(),
    );
    mc.feed(&eml);
    let sums = mc.finish();
    for e in &sums.entries {
        if matches!(
            e.ck_type,
            tally_ck::CkType::Body | tally_ck::CkType::Fuz1 | tally_ck::CkType::Fuz2
        ) {
            srv.preload(e.ck_type, e.sum, 5);
        }
    }
}

fn encode(p: &Pkt) -> Vec<u8> {
    let mut d = Vec::new();
    let z = |d: &mut Vec<u8>, v: &[u8]| {
        d.extend_from_slice(v);
        d.push(0);
    };
    match p.cmd {
        'D' => {
            d.extend_from_slice(p.get("for").unwrap_or(b"C"));
            for (k, v) in &p.args {
                if let Some(k) = k {
                    if k.as_slice() != b"for" {
                        z(&mut d, k);
                        z(&mut d, v);
                    }
                }
            }
        }
        'C' => {
            z(&mut d, p.get("host").unwrap_or(b""));
            d.extend_from_slice(p.get("family").unwrap_or(b"4"));
            let port: u16 = std::str::from_utf8(p.get("port").unwrap_or(b"0"))
                .unwrap()
                .parse()
                .unwrap();
            d.extend_from_slice(&port.to_be_bytes());
            z(&mut d, p.get("addr").unwrap_or(b""));
        }
        'B' => d.extend_from_slice(p.get("data").unwrap_or(b"")),
        _ => {
            for v in p.plain() {
                z(&mut d, v);
            }
        }
    }
    d
}

fn expected(p: &Pkt) -> Reply {
    let s = |v: Option<&[u8]>| String::from_utf8_lossy(v.unwrap_or(b"")).into_owned();
    match p.cmd {
        'y' => Reply::Code(s(p.plain().first().copied())),
        'h' => Reply::AddHeader(s(p.get("name")), s(p.get("value"))),
        'm' => Reply::ChgHeader(
            s(p.get("index")).parse().unwrap_or(0),
            s(p.get("name")),
            s(p.get("value")),
        ),
        '-' => Reply::DelRcpt(s(p.plain().first().copied())),
        c => Reply::Final(c),
    }
}

/// This machine's host name, which our headers carry where the
/// recording has "vm".
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Counts above 1 depend on the recording server's history: they are
/// compared as "N".
pub fn mask_counts(v: &str) -> String {
    let mut out = String::new();
    for (i, w) in v.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match w.split_once('=') {
            Some((k, n)) if n.parse::<u32>().is_ok_and(|n| n > 1) => {
                out.push_str(k);
                out.push_str("=N");
            }
            _ => out.push_str(w),
        }
    }
    out
}

fn normalize(r: Reply, host: &str) -> Reply {
    match r {
        Reply::AddHeader(n, v) => {
            let v = match v.strip_prefix(host) {
                Some(rest) if !host.is_empty() => format!("vm{rest}"),
                _ => v,
            };
            Reply::AddHeader(n, mask_counts(&v))
        }
        r => r,
    }
}

/// Replay one connection; the differences found.
pub fn replay(sock: &Path, pkts: &[Pkt]) -> Vec<String> {
    let host = hostname();
    let mut diffs = Vec::new();
    let mut tries = 0;
    let mut c = loop {
        match Client::connect(sock) {
            Ok(c) => break c,
            // up to 10 s: a loaded machine can be slow to let dccm accept
            Err(_) if tries < 500 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return vec![format!("connect: {e}")],
        }
    };
    let mut i = 0;
    while i < pkts.len() {
        let p = &pkts[i];
        i += 1;
        if !p.from_mta || p.cmd == 'O' {
            continue;
        }
        if c.send(p.cmd as u8, &encode(p)).is_err() {
            diffs.push(format!("send {} failed", p.cmd));
            break;
        }
        if matches!(p.cmd, 'D' | 'A' | 'Q') {
            continue;
        }
        let mut want = Vec::new();
        while i < pkts.len() && !pkts[i].from_mta {
            want.push(normalize(expected(&pkts[i]), "vm"));
            i += 1;
        }
        let got = match c.replies() {
            Ok(g) => g
                .into_iter()
                .map(|r| normalize(r, &host))
                .collect::<Vec<_>>(),
            Err(e) => {
                diffs.push(format!("after {}: {e}", p.cmd));
                break;
            }
        };
        if got != want {
            diffs.push(format!("after {}: want {want:?}\n   got {got:?}", p.cmd));
        }
    }
    diffs
}

/// A recorded scenario: dccm's arguments (without the program name) and
/// the transcript, a fresh home, and the fake DCC server with the bulk
/// counts preloaded.
fn scenario(name: &str) -> (Vec<String>, String, PathBuf, FakeDccd) {
    let dir = data().join("dccm").join(name);
    let cmd = std::fs::read_to_string(dir.join("command.txt")).unwrap();
    let text = std::fs::read_to_string(dir.join("transcript.txt")).unwrap();
    let home = make_home(name);
    let srv = FakeDccd::start(1200, "behbrand");
    preload_bulk(&srv);
    let args: Vec<String> = split_cmd(&cmd).into_iter().skip(1).collect();
    (args, text, home, srv)
}

/// Run a recorded scenario; the differences found.
pub fn run_scenario(name: &str) -> Vec<String> {
    let (diffs, home) = run_scenario_kept(name);
    let _ = std::fs::remove_dir_all(&home);
    diffs
}

/// Run a recorded scenario and keep its home directory (logs and all):
/// the differences found and the home, to be removed by the caller.
pub fn run_scenario_kept(name: &str) -> (Vec<String>, PathBuf) {
    let (args, text, home, srv) = scenario(name);
    write_map(&home, srv.addr);
    let silent = name.contains("silent").then(FakeDccd::silent);
    let dead = silent.as_ref().map_or_else(closed_port, |s| s.addr);
    std::fs::write(home.join("map-dead"), map_text(dead)).unwrap();
    // log directories exist before dccm starts, as in the recording
    for w in args.windows(2) {
        if w[0] == "-l" {
            let d = w[1].trim_start_matches(['D', 'H', 'M']);
            let d = d.trim_start_matches('?');
            std::fs::create_dir_all(home.join(d)).unwrap();
        }
    }
    let d = start_dccm(&home, &args);
    let pkts = transcript::parse(&text);
    let mut diffs = Vec::new();
    for (n, conn) in transcript::connections(&pkts).iter().enumerate() {
        for x in replay(&d.sock, conn) {
            diffs.push(format!("{name} connection {}: {x}", n + 1));
        }
    }
    drop(d);
    (diffs, home)
}

/// Run a recorded greylist scenario (`-G`): a fake DCC server and a fake
/// greylist server with the recording's 5-second embargo, whose clock is
/// moved on by the time between the recorded connections instead of
/// sleeping. The differences found, the greylist server and the DCC
/// server, to look at the requests they received.
pub fn run_grey_scenario(name: &str) -> (Vec<String>, FakeGrey, FakeDccd) {
    let (args, text, home, srv) = scenario(name);
    let grey = FakeGrey::start(1202, "greybrand", "on,5");
    std::fs::write(
        home.join("map"),
        format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr)),
    )
    .unwrap();
    let d = start_dccm(&home, &args);
    let pkts = transcript::parse(&text);
    let mut diffs = Vec::new();
    let mut last_ms: Option<u64> = None;
    for (n, conn) in transcript::connections(&pkts).iter().enumerate() {
        if let (Some(prev), Some(first)) = (last_ms, conn.first()) {
            let gap = first.at_ms.saturating_sub(prev);
            grey.advance((gap + 500) / 1000);
        }
        last_ms = conn.last().map(|p| p.at_ms);
        for x in replay(&d.sock, conn) {
            diffs.push(format!("{name} connection {}: {x}", n + 1));
        }
    }
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
    (diffs, grey, srv)
}
