//! Flooding tests: servers with their own IDs and flod files on loopback,
//! the recorded connections, and UDP reports and queries.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tally_ck::{CkType, Sum};
use tally_wire::packet::{CkRequest, Expect, Packet, Request, Response};
use tally_wire::response::Answer;
use tally_wire::sign::{Passwd, Signer};
use tally_wire::{OpNums, Tgts, WireCk};

/// The ids file of the recordings plus a third server.
pub const IDS: &str =
    "32800\tvectorclientpw\n1100\tvectorserverpw\n1101\tvectorserver2pw\n1102\tthirdserverpw\n";

/// A recorded stream (hex, 32 bytes a line).
pub fn recorded(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/flood")
        .join(name);
    let text = std::fs::read_to_string(p).unwrap();
    let hex: String = text.split_whitespace().collect();
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// A fresh temporary home with `ids` (0600).
pub fn home(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "dccd-flood-{tag}-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ids = dir.join("ids");
    std::fs::write(&ids, IDS).unwrap();
    std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600)).unwrap();
    dir
}

/// A port free for UDP and TCP right now, outside the ports the tests'
/// own client sockets get, so that a server restarted on it finds it free
/// ([`tally_testkit::net::server_port`]).
pub fn free_port() -> u16 {
    tally_testkit::net::server_port()
}

/// A running dccd whose messages go to `home/log`.
pub struct Server {
    pub child: Option<Child>,
    pub id: u16,
    pub port: u16,
    pub home: PathBuf,
}

impl Server {
    /// Start dccd -i `id` on `127.0.0.1,port` in `home`.
    pub fn start(home: &Path, id: u16, port: u16, extra: &[&str]) -> Server {
        Server::start_env(home, id, port, extra, &[])
    }

    /// [`Server::start`] with environment variables.
    pub fn start_env(
        home: &Path,
        id: u16,
        port: u16,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(home.join("log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_dccd"))
            .args(["-b", "-i", &id.to_string(), "-n", "floodtest", "-h"])
            .arg(home)
            .args(["-a", &format!("127.0.0.1,{port}")])
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let s = Server {
            child: Some(child),
            id,
            port,
            home: home.to_path_buf(),
        };
        s.wait_ready();
        s
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if nop(self.addr()) {
                return;
            }
        }
        panic!("dccd {} did not start", self.id);
    }

    /// kill -9.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.home.join("log")).unwrap_or_default()
    }

    /// Wait (bounded) until the log has `text`.
    pub fn wait_log(&self, text: &str, secs: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.log().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Write the flod file of `home`.
pub fn flod(home: &Path, lines: &[String]) {
    std::fs::write(home.join("flod"), lines.join("\n") + "\n").unwrap();
}

fn signer() -> Signer {
    let pw = Passwd::new(b"vectorclientpw").unwrap();
    Signer::for_request(32800, Some(&pw))
}

fn op_nums() -> OpNums {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(1);
    OpNums::from_le_words(std::process::id(), 7, N.fetch_add(1, Ordering::Relaxed), 1)
}

fn exchange(to: SocketAddr, body: Request) -> Option<Vec<u32>> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut p = Packet::request(12, 32800, op_nums(), body.clone());
    let bytes = p.sign(&signer());
    for _ in 0..5 {
        s.send_to(&bytes, to).unwrap();
        let mut buf = [0u8; 2048];
        if let Ok((n, _)) = s.recv_from(&mut buf) {
            let p = Packet::<Response>::decode(&buf[..n], Expect::for_request(&body)).ok()?;
            return match p.body {
                Response::Answer(Answer::Pairs(v)) => Some(v.iter().map(|c| c.c.0).collect()),
                _ => None,
            };
        }
    }
    None
}

/// Does a NOP get an answer?
pub fn nop(to: SocketAddr) -> bool {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut p = Packet::request(12, 32800, op_nums(), Request::Nop);
    let bytes = p.sign(&signer());
    s.send_to(&bytes, to).unwrap();
    let mut buf = [0u8; 2048];
    s.recv_from(&mut buf).is_ok()
}

/// Report checksums with a target count; the counts answered.
pub fn report(to: SocketAddr, tgts: u32, cks: &[WireCk]) -> Option<Vec<u32>> {
    exchange(
        to,
        Request::Report(CkRequest {
            tgts: Tgts(tgts),
            cks: cks.to_vec(),
        }),
    )
}

/// The current counts of checksums.
pub fn query(to: SocketAddr, cks: &[WireCk]) -> Option<Vec<u32>> {
    exchange(
        to,
        Request::Query(CkRequest {
            tgts: Tgts(0),
            cks: cks.to_vec(),
        }),
    )
}

/// A body checksum made from a number.
pub fn body(n: u32) -> WireCk {
    let mut s = [0x5au8; 16];
    s[..4].copy_from_slice(&n.to_be_bytes());
    WireCk::new(CkType::Body, Sum(s))
}

/// Wait (bounded) until the first count at `to` is `want`; the last count seen.
pub fn wait_count(to: SocketAddr, ck: WireCk, want: u32, secs: u64) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = 0;
    while Instant::now() < deadline {
        if let Some(v) = query(to, &[ck]) {
            last = v[0];
            if last == want {
                return last;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    last
}

/// Connect, send `bytes`, half-close, and read the answer to its end.
pub fn replay(to: SocketAddr, bytes: &[u8], half_close: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(to).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(bytes).unwrap();
    if half_close {
        s.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// The signed version header of the recorded peer 1101 (or 1102), with
/// the `turn` byte as given.
pub fn peer_header(id: u16, turn: bool) -> Vec<u8> {
    use tally_wire::flood::{VersionHeader, VERS7_REP};
    let pw: &[u8] = if id == 1101 {
        b"vectorserver2pw"
    } else {
        b"thirdserverpw"
    };
    let mut h = VersionHeader::new(VERS7_REP, id);
    h.turn = u8::from(turn);
    h.sign(&Passwd::new(pw).unwrap());
    h.encode()
}
