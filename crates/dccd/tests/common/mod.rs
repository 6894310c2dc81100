//! Start the built dccd on loopback with a temporary home directory.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tally_ck::{CkType, Sum};
use tally_wire::packet::{CkRequest, Expect, Packet, Request, Response};
use tally_wire::sign::{Passwd, Signer};
use tally_wire::{OpNums, Tgts, WireCk};

/// The ids file of the recorded vectors.
pub fn ids_text() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ids")).unwrap()
}

/// A fresh temporary home with the ids file (mode 0600).
pub fn temp_home(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "dccd-test-{tag}-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ids = dir.join("ids");
    std::fs::write(&ids, ids_text()).unwrap();
    std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600)).unwrap();
    dir
}

/// A port free for UDP and TCP right now, outside the ports the tests'
/// own client sockets get, so that a server restarted on it finds it free
/// ([`tally_testkit::net::server_port`]).
pub fn free_port() -> u16 {
    tally_testkit::net::server_port()
}

/// A running dccd.
pub struct Dccd {
    pub child: Child,
    pub addr: SocketAddr,
    pub home: PathBuf,
}

impl Dccd {
    /// Start dccd -i 1100 -n vecbrand on a free loopback port with `extra` options.
    pub fn start(home: &Path, port: u16, extra: &[&str]) -> Dccd {
        Dccd::spawn(home, port, extra, Stdio::null())
    }

    /// [`Dccd::start`] with the server's messages in `home/log`.
    pub fn start_logged(home: &Path, port: u16, extra: &[&str]) -> Dccd {
        let log = std::fs::File::create(home.join("log")).unwrap();
        Dccd::spawn(home, port, extra, Stdio::from(log))
    }

    fn spawn(home: &Path, port: u16, extra: &[&str], stderr: Stdio) -> Dccd {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_dccd"))
            .args(["-b", "-i", "1100", "-n", "vecbrand", "-h"])
            .arg(home)
            .args(["-a", &format!("127.0.0.1,{port}")])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let d = Dccd {
            child,
            addr,
            home: home.to_path_buf(),
        };
        d.wait_ready();
        d
    }

    fn wait_ready(&self) {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut nop = Packet::request(12, 1, OpNums::from_le_words(9, 9, 9, 1), Request::Nop);
        let bytes = nop.sign(&Signer::Zero);
        let mut buf = [0u8; 2048];
        while Instant::now() < deadline {
            s.send_to(&bytes, self.addr).unwrap();
            if s.recv_from(&mut buf).is_ok() {
                return;
            }
        }
        panic!("dccd did not start");
    }

    /// kill -9.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Dccd {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Send a datagram and wait (at most `wait`) for one answer.
pub fn exchange(
    s: &UdpSocket,
    to: SocketAddr,
    req: &[u8],
    wait: Duration,
) -> Option<(Vec<u8>, Duration)> {
    s.set_read_timeout(Some(wait)).unwrap();
    let t0 = Instant::now();
    s.send_to(req, to).unwrap();
    let mut buf = [0u8; 2048];
    match s.recv_from(&mut buf) {
        Ok((n, _)) => Some((buf[..n].to_vec(), t0.elapsed())),
        Err(_) => None,
    }
}

/// The password of an ID in the vectors' ids file.
pub fn passwd(id: u32) -> Option<Passwd> {
    let ids = tally_wire::ids::Ids::parse(&ids_text()).ok()?;
    ids.passwd(id).cloned()
}

/// The checksums of greylist request `i`: an IP, a body and the message
/// and triple checksums, all of them `i`'s own.
pub fn grey_cks(i: u32) -> Vec<WireCk> {
    let s = |tag: u8| {
        let mut b = [tag; 16];
        b[..4].copy_from_slice(&i.to_be_bytes());
        Sum(b)
    };
    vec![
        WireCk::new(CkType::Ip, s(1)),
        WireCk::new(CkType::Body, s(7)),
        WireCk::new(CkType::GreyMsg, s(10)),
        WireCk::new(CkType::GreyTriple, s(11)),
    ]
}

/// A GREY_QUERY (`query`) or GREY_REPORT of triple `i` from client
/// 32800 with operation numbers `ops`, signed by `signer`: the datagram
/// and the request.
pub fn grey_request(i: u32, query: bool, ops: OpNums, signer: &Signer) -> (Vec<u8>, Request) {
    let r = CkRequest {
        tgts: Tgts(0),
        cks: grey_cks(i),
    };
    let body = if query {
        Request::GreyQuery(r)
    } else {
        Request::GreyReport(r)
    };
    let mut p = Packet::request(12, 32800, ops, body.clone());
    (p.sign(signer), body)
}

/// The (msg, triple) of the greylist answer `resp` to `req`.
pub fn grey_answer(resp: &[u8], req: &Request) -> (u32, u32) {
    match Packet::<Response>::decode(resp, Expect::for_request(req))
        .unwrap()
        .body
    {
        Response::GreyAnswer { msg, triple } => (msg.0, triple.0),
        other => panic!("not a greylist answer: {other:?}"),
    }
}

/// A server without sockets (requests go straight to `Server::handle`):
/// `dccd -b -i 1100 -n vecbrand -h HOME` and `extra`, in a new home
/// `tag` whose ids file is [`ids_text`] (rewritten first by `prepare`
/// when the test needs more clients).
pub fn socketless_server(
    tag: &str,
    extra: &[&str],
    prepare: impl FnOnce(&Path),
) -> (tally_dccd::server::Server, PathBuf) {
    let home = temp_home(tag);
    prepare(&home);
    let mut args: Vec<String> = ["-b", "-i", "1100", "-n", "vecbrand", "-h"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(home.to_string_lossy().into_owned());
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = tally_dccd::opts::parse(&args).unwrap();
    (tally_dccd::net::build_server(&o).unwrap(), home)
}

/// Now, in seconds since the epoch, as the wire's timestamps are.
pub fn unix_secs() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

/// The (count, previous count) the server at `addr` answers to a QUERY of
/// one checksum from client 32800, signed, with request number `r`.
pub fn query_one(addr: SocketAddr, ck: WireCk, r: u32) -> (u32, u32) {
    use tally_wire::response::Answer;
    let body = Request::Query(CkRequest {
        tgts: Tgts(0),
        cks: vec![ck],
    });
    let pw = passwd(32800).unwrap();
    let mut p = Packet::request(12, 32800, OpNums::from_le_words(1, 1, r, 1), body.clone());
    let bytes = p.sign(&Signer::Passwd(pw));
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (ans, _) = exchange(&sock, addr, &bytes, Duration::from_secs(2)).expect("answer");
    match Packet::<Response>::decode(&ans, Expect::for_request(&body))
        .unwrap()
        .body
    {
        Response::Answer(Answer::Pairs(v)) => (v[0].c.0, v[0].p.0),
        other => panic!("{other:?}"),
    }
}
