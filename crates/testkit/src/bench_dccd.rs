//! The project's dccd started as a child process on a loopback port for
//! the benchmarks (dccd-bench, dccm-bench, dccifd-bench): its own home
//! directory (ids file and database), its rate limits lifted by the
//! caller's arguments, and started once it answers a NOP. Also the CPU
//! time of a process from `/proc`.
//!
//! The bench programs do not depend on this crate: they include this file
//! with `#[path]`, so it uses nothing but std and tally-wire.

use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tally_wire::sign::{Passwd, Signer};
use tally_wire::{OpNums, Packet, Request};

/// The arguments of a server under load in the benchmarks, which both
/// tally's dccd and the original accept: no DNS lookups of clients, server
/// ID 1100, the brand `bench`, and the rate limits lifted (the original
/// takes at most about 1,070,000 per second; above that it keeps its
/// default of 400).
pub const LIFTED: [&str; 7] = [
    "-b",
    "-i",
    "1100",
    "-n",
    "bench",
    "-R",
    "1000000,1000000,1000000",
];

/// How to start a dccd.
pub struct Start<'a> {
    /// The `dccd` program.
    pub exe: &'a Path,
    /// Its home directory, created (and removed when the server is
    /// dropped).
    pub home: &'a Path,
    /// The text of its ids file.
    pub ids: &'a str,
    /// Its arguments before `-h home -a 127.0.0.1,port`.
    pub args: &'a [&'a str],
    /// The client-ID and password of the NOP that shows it answers;
    /// anonymous without.
    pub nop_as: Option<(u32, &'a [u8])>,
    /// Run it on CPU 0 alone (with `taskset`, which execs it, so the
    /// child's process-ID is the server's).
    pub pin_cpu0: bool,
    /// What to call it when it does not answer.
    pub what: &'a str,
}

/// A running dccd, stopped and its home removed when dropped.
pub struct BenchDccd {
    child: Child,
    port: u16,
    home: PathBuf,
}

impl BenchDccd {
    /// Start a dccd as `s` says and wait until it answers a NOP. On an
    /// error its home is removed too.
    pub fn start(s: &Start) -> Result<BenchDccd, String> {
        let started = Self::start_in(s);
        if started.is_err() {
            let _ = std::fs::remove_dir_all(s.home);
        }
        started
    }

    fn start_in(s: &Start) -> Result<BenchDccd, String> {
        let home = s.home;
        std::fs::create_dir_all(home).map_err(|e| format!("{}: {e}", home.display()))?;
        let ids = home.join("ids");
        std::fs::write(&ids, s.ids).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let mut cmd = if s.pin_cpu0 {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(s.exe);
            c
        } else {
            Command::new(s.exe)
        };
        let child = cmd
            .args(s.args)
            .arg("-h")
            .arg(home)
            .args(["-a", &format!("127.0.0.1,{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", s.exe.display()))?;
        let d = BenchDccd {
            child,
            port,
            home: home.to_path_buf(),
        };
        let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|e| e.to_string())?;
        let ops = OpNums::from_le_words(1, 1, 1, 1);
        let bytes = match s.nop_as {
            None => Packet::request(12, 1, ops, Request::Nop).sign(&Signer::Zero),
            Some((id, pw)) => {
                let pw = Passwd::new(pw).ok_or("bad password")?;
                Packet::request(12, id, ops, Request::Nop).sign(&Signer::Passwd(pw))
            }
        };
        let mut buf = [0u8; 2048];
        for _ in 0..100 {
            let _ = sock.send_to(&bytes, d.addr());
            if sock.recv_from(&mut buf).is_ok() {
                return Ok(d);
            }
        }
        Err(format!("{} did not answer", s.what))
    }

    /// Its UDP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its UDP address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The server's process-ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for BenchDccd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// CPU time (user + system) a process has used so far, in milliseconds
/// (`/proc/<pid>/stat` counts in ticks of 10 ms); 0 if unknown.
pub fn cpu_ms(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // the fields after the command name, which is in parentheses: utime
    // and stime are the 12th and 13th
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<u64>() * 10
}
