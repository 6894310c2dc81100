//! Our DCC server on loopback and the client home directories that use it.
//!
//! The server runs as `dccd -b -i 1100 -n <brand>` on a random UDP port of
//! 127.0.0.1 with a temporary home holding its `ids` file (mode 0600, as
//! dccd requires for a file with passwords). A client home holds the `map`
//! that the DCC clients (dccproc, dccm, dccifd) read: written in the text
//! form that `cdcc info` prints, naming the one server with client ID 32800
//! and its password.

use crate::proc::{self, Daemon};
use crate::{bins, Skip};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tally_wire::packet::{Packet, Request};
use tally_wire::sign::{Passwd, Signer};
use tally_wire::OpNums;

/// The server-ID of the test server.
pub const SERVER_ID: u32 = 1100;
/// The server-ID of the greylist server (`dccd -G`).
pub const GREY_ID: u32 = 1101;
/// The server-ID of a second DCC server, a flooding peer of the first.
pub const PEER_ID: u32 = 1102;
/// The client-ID the clients authenticate with.
pub const CLIENT_ID: u32 = 32800;
/// The brand the server announces (`X-DCC-<brand>-Metrics:`).
pub const BRAND: &str = "e2ebrand";
/// Its password.
pub const CLIENT_PW: &str = "e2eclientpw";
const SERVER_PW: &str = "e2eserverpw";
const GREY_PW: &str = "e2egreypw";
const PEER_PW: &str = "e2epeerpw";

/// A running dccd; stopped when dropped.
#[derive(Debug)]
pub struct DccServer {
    /// Its UDP address.
    pub addr: SocketAddr,
    daemon: Option<Daemon>,
}

/// A port of 127.0.0.1 free for UDP (and TCP) a moment ago, for a server,
/// outside the ports the clients' own sockets get (see
/// [`tally_testkit::net::server_port`]): a server stopped and started
/// again on it finds it free.
pub fn free_udp_port() -> std::io::Result<u16> {
    Ok(tally_testkit::net::server_port())
}

/// A port of 127.0.0.1 free for TCP (and UDP) a moment ago, for a server
/// (as [`free_udp_port`]).
pub fn free_tcp_port() -> std::io::Result<u16> {
    Ok(tally_testkit::net::server_port())
}

fn io(e: std::io::Error) -> Skip {
    Skip(format!("set-up failed: {e}"))
}

impl DccServer {
    /// Start dccd with its home in `home` (created).
    pub fn start(home: &Path) -> Result<DccServer, Skip> {
        Self::spawn(home, SERVER_ID, None, &["-n", BRAND])
    }

    /// Start dccd as server `id` on UDP and TCP port `port` of 127.0.0.1
    /// with its home in `home` (created; a `flod` file written there
    /// before is read at start).
    pub fn start_at(home: &Path, id: u32, port: u16) -> Result<DccServer, Skip> {
        Self::spawn(home, id, Some(port), &["-n", BRAND])
    }

    /// Start a greylist server, `dccd -G grey`, with its home in `home`
    /// (created), e.g. `grey` = `on,3` for a 3 second embargo.
    pub fn start_grey(home: &Path, grey: &str) -> Result<DccServer, Skip> {
        Self::spawn(home, GREY_ID, None, &["-G", grey])
    }

    fn spawn(home: &Path, id: u32, port: Option<u16>, extra: &[&str]) -> Result<DccServer, Skip> {
        let exe = bins::binary("dccd")?;
        std::fs::create_dir_all(home).map_err(io)?;
        let ids = home.join("ids");
        std::fs::write(
            &ids,
            format!(
                "# end-to-end test ids\n{CLIENT_ID}\t{CLIENT_PW}\n\
                 {SERVER_ID}\t{SERVER_PW}\n{GREY_ID}\t{GREY_PW}\n{PEER_ID}\t{PEER_PW}\n"
            ),
        )
        .map_err(io)?;
        std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        let port = match port {
            Some(p) => p,
            None => free_udp_port().map_err(io)?,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut cmd = Command::new(exe);
        cmd.args(["-b", "-i", &id.to_string()])
            .args(extra)
            .arg("-h")
            .arg(home)
            .args(["-a", &format!("127.0.0.1,{port}")]);
        let daemon = Daemon::spawn("dccd", cmd, &home.join("dccd.out")).map_err(io)?;
        let mut s = DccServer {
            addr,
            daemon: Some(daemon),
        };
        s.wait_ready()?;
        Ok(s)
    }

    /// Wait (at most 10 s) until the server answers a NOP.
    fn wait_ready(&mut self) -> Result<(), Skip> {
        let sock = UdpSocket::bind("127.0.0.1:0").map_err(io)?;
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(io)?;
        // signed as the tests' client: greylist servers ignore anonymous requests
        let mut nop = Packet::request(
            12,
            CLIENT_ID,
            OpNums::from_le_words(1, 2, 3, 4),
            Request::Nop,
        );
        let pw = Passwd::new(CLIENT_PW.as_bytes()).expect("test password");
        let bytes = nop.sign(&Signer::Passwd(pw));
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 2048];
        while Instant::now() < deadline {
            let _ = sock.send_to(&bytes, self.addr);
            if sock.recv_from(&mut buf).is_ok() {
                return Ok(());
            }
            if let Some(d) = self.daemon.as_mut() {
                if d.exited().is_some() {
                    break;
                }
            }
        }
        let log = self
            .daemon
            .as_ref()
            .map(Daemon::log_text)
            .unwrap_or_default();
        panic!("dccd did not answer on {}\n{log}", self.addr);
    }

    /// Stop the server now (the clients then find no server).
    pub fn stop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            if let Some(pid) = d.pid() {
                proc::signal(pid, "CONT");
            }
            d.stop();
        }
    }

    /// Kill the server with SIGKILL (no orderly stop) and wait for it.
    pub fn kill9(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            if let Some(pid) = d.pid() {
                proc::signal(pid, "KILL");
            }
            d.stop();
        }
    }

    /// Its process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.daemon.as_ref().and_then(Daemon::pid)
    }

    /// The exit status if the server has exited (e.g. after SIGTERM).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.daemon.as_mut().and_then(Daemon::exited)
    }

    /// Freeze the server (SIGSTOP): its port stays bound but nothing
    /// answers, like a hung or unreachable server. [`DccServer::stop`]
    /// (and dropping) lets it continue before stopping it.
    pub fn freeze(&mut self) {
        if let Some(pid) = self.daemon.as_ref().and_then(Daemon::pid) {
            proc::signal(pid, "STOP");
        }
    }

    /// Prepare a client home in `dir` (created): the `map` naming this
    /// server, and optionally a `whiteclnt`.
    pub fn client_home(&self, dir: &Path, whiteclnt: Option<&str>) -> std::io::Result<PathBuf> {
        self.client_home_with(dir, whiteclnt, None)
    }

    /// [`DccServer::client_home`] whose map also names the greylist server
    /// `grey`.
    pub fn client_home_with(
        &self,
        dir: &Path,
        whiteclnt: Option<&str>,
        grey: Option<&DccServer>,
    ) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
        let mut map = map_text(dir, self.addr);
        if let Some(g) = grey {
            map.push_str(&grey_map_line(g.addr));
        }
        std::fs::write(dir.join("map"), map)?;
        std::fs::set_permissions(dir.join("map"), std::fs::Permissions::from_mode(0o600))?;
        if let Some(w) = whiteclnt {
            std::fs::write(dir.join("whiteclnt"), w)?;
        }
        Ok(dir.to_path_buf())
    }
}

impl Drop for DccServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The client map in `cdcc info` text form: one DCC server with client ID
/// and password, IPv6 off (the server is on 127.0.0.1 only).
pub fn map_text(home: &Path, addr: SocketAddr) -> String {
    format!(
        "# {}/map\n# 1 total, 1 working servers\nIPv6 off   version=3\n\n\
         {},{:<20} {CLIENT_ID} {CLIENT_PW}\n",
        home.display(),
        addr.ip(),
        addr.port(),
    )
}

/// The map line of a greylist server (`cdcc info` text form).
pub fn grey_map_line(addr: SocketAddr) -> String {
    format!(
        "{},{:<20} Greylist {CLIENT_ID} {CLIENT_PW}\n",
        addr.ip(),
        addr.port()
    )
}

/// Report `message` to the server `targets` times over (dccproc `-t`,
/// a number or `many`) from the client home `home`; returns dccproc's
/// X-DCC header line.
pub fn report(home: &Path, targets: &str, message: &[u8]) -> String {
    let exe = match bins::binary("dccproc") {
        Ok(p) => p,
        Err(s) => panic!("dccproc is needed to preload counts: {s}"),
    };
    let mut cmd = Command::new(exe);
    cmd.arg("-h").arg(home).args(["-H", "-t", targets]);
    let out = match proc::run(cmd, message, Duration::from_secs(30)) {
        Ok(o) => o,
        Err(e) => panic!("dccproc did not run: {e}"),
    };
    // dccproc's exit status says whether the message would be rejected,
    // which a bulk preload is: only the header line tells that it worked
    assert!(
        out.status.is_some() && out.stdout.contains("X-DCC-"),
        "dccproc -t {targets} failed: {}{}",
        out.stdout,
        out.stderr
    );
    out.stdout
}

/// The greylist triple checksum of the made-up triple number `n` that
/// [`grey_report`] sends.
pub fn grey_triple(n: u8) -> tally_wire::Sum {
    tally_wire::Sum([5 ^ n; 16])
}

/// A GREY_REPORT for a made-up triple number `n` from the tests' client
/// to the greylist server `server`; returns the answer's triple word (0
/// for a new embargo).
pub fn grey_report(server: &DccServer, n: u8) -> u32 {
    use tally_wire::packet::CkRequest;
    use tally_wire::{CkType, Expect, Response, Sum, Tgts, WireCk};
    let sum = |t: u8| Sum([t ^ n; 16]);
    let cks = [
        (CkType::Ip, sum(1)),
        (CkType::EnvFrom, sum(2)),
        (CkType::Body, sum(3)),
        (CkType::GreyMsg, sum(4)),
        (CkType::GreyTriple, grey_triple(n)),
    ]
    .iter()
    .map(|&(t, s)| WireCk::new(t, s))
    .collect();
    let req = Request::GreyReport(CkRequest { tgts: Tgts(0), cks });
    let mut pkt = Packet::request(
        12,
        CLIENT_ID,
        OpNums::from_le_words(7, 8, u32::from(n), 1),
        req,
    );
    let pw = Passwd::new(CLIENT_PW.as_bytes()).expect("password");
    let bytes = pkt.sign(&Signer::Passwd(pw));
    let sock = UdpSocket::bind("127.0.0.1:0").expect("socket");
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut buf = [0u8; 2048];
    for _ in 0..10 {
        sock.send_to(&bytes, server.addr).expect("send");
        if let Ok((len, _)) = sock.recv_from(&mut buf) {
            let ans = Packet::<Response>::decode(&buf[..len], Expect::Grey).expect("answer");
            match ans.body {
                Response::GreyAnswer { triple, .. } => return triple.0,
                other => panic!("not a greylist answer: {other:?}"),
            }
        }
    }
    panic!("no answer from the greylist server at {}", server.addr);
}
