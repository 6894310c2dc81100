//! Running dccifd against a fake DCC server in a scratch home directory.

#![allow(dead_code)]

pub mod smtp;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tally_testkit::{map_text, FakeDccd};

/// The test data directory.
pub fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A fresh scratch directory.
pub fn scratch(name: &str) -> PathBuf {
    tally_testkit::scratch("tally-dccifd", name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).expect("copy");
        }
    }
}

/// A running dccifd; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub home: PathBuf,
    pub sock: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.home);
        }
    }
}

impl Daemon {
    /// Start dccifd as the recordings ran it (config A), with `extra`
    /// options, in a home whose map points at `srv`.
    pub fn start(name: &str, srv: &FakeDccd, extra: &[&str]) -> Daemon {
        Daemon::start_map(name, &map_text(srv.addr), extra)
    }

    /// The same with the text of the map file.
    pub fn start_map(name: &str, map: &str, extra: &[&str]) -> Daemon {
        let mut args: Vec<&str> = vec![
            "-t",
            "CMN,2,3",
            "-l",
            "logs/if",
            "-U",
            "userdirs-if",
            "-w",
            "whiteclnt-if",
            "-S",
            "List-ID",
        ];
        args.extend_from_slice(extra);
        Daemon::start_args(name, map, &args)
    }

    /// Start dccifd in a home set up as the recordings' (whiteclnt-if,
    /// userdirs-if with bob and carol, the log directories logs/if and
    /// logs/if-grey, `files` copied from the test data) with `args` after
    /// `-b -h HOME -p HOME/dccifd.sock -R HOME/run`.
    pub fn start_args(name: &str, map: &str, args: &[&str]) -> Daemon {
        Daemon::start_files(name, map, &[], args)
    }

    /// The same, with files of the test data copied into the home.
    pub fn start_files(name: &str, map: &str, files: &[&str], args: &[&str]) -> Daemon {
        Daemon::start_env(name, map, files, args, &[])
    }
    /// [`Daemon::start_files`] with environment variables.
    pub fn start_env(
        name: &str,
        map: &str,
        files: &[&str],
        args: &[&str],
        env: &[(&str, String)],
    ) -> Daemon {
        let home = scratch(name);
        std::fs::write(home.join("map"), map).expect("map");
        std::fs::copy(data().join("whiteclnt-if"), home.join("whiteclnt-if")).expect("white");
        for f in files {
            let to = Path::new(f).file_name().expect("file name");
            std::fs::copy(data().join(f), home.join(to)).expect("copy test data");
        }
        copy_dir(&data().join("userdirs-if"), &home.join("userdirs-if"));
        std::fs::create_dir_all(home.join("logs/if")).expect("logs");
        std::fs::create_dir_all(home.join("logs/if-grey")).expect("logs");
        for u in ["bob", "carol"] {
            std::fs::create_dir_all(home.join("userdirs-if").join(u).join("log"))
                .expect("user log");
        }
        std::fs::create_dir_all(home.join("run")).expect("run");
        let sock = home.join("dccifd.sock");
        let hs = home.to_string_lossy().into_owned();
        let ss = sock.to_string_lossy().into_owned();
        let rs = home.join("run").to_string_lossy().into_owned();
        let mut all: Vec<&str> = vec!["-b", "-h", &hs, "-p", &ss, "-R", &rs];
        all.extend_from_slice(args);
        let err = std::fs::File::create(home.join("stderr.txt")).expect("stderr");
        let child = Command::new(env!("CARGO_BIN_EXE_dccifd"))
            .args(&all)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn dccifd");
        let d = Daemon { child, home, sock };
        if args.contains(&"-p") {
            return d;
        }
        let t0 = Instant::now();
        while UnixStream::connect(&d.sock).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "dccifd did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        d
    }

    /// Start dccifd listening on a free loopback TCP port (`-p` with the
    /// client address list `acl`) and connect to it.
    pub fn start_tcp(name: &str, srv: &FakeDccd, acl: &str, extra: &[&str]) -> (Daemon, TcpStream) {
        Daemon::start_tcp_map(name, &map_text(srv.addr), acl, extra)
    }

    /// The same with the text of the map file.
    pub fn start_tcp_map(name: &str, map: &str, acl: &str, extra: &[&str]) -> (Daemon, TcpStream) {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let p = format!("127.0.0.1,{port},{acl}");
        let mut args = vec!["-p", p.as_str()];
        args.extend_from_slice(extra);
        let d = Daemon::start_map(name, map, &args);
        let t0 = Instant::now();
        let s = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(e) => assert!(t0.elapsed() < Duration::from_secs(5), "connect: {e}"),
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (d, s)
    }

    /// Send a request, half-close, read the answer to EOF. dccifd may
    /// close the connection before the whole of a malformed request is
    /// written, so a failed write is not an error here: the answer (none)
    /// is what the tests check.
    pub fn ask(&self, req: &[u8]) -> Vec<u8> {
        let mut s = UnixStream::connect(&self.sock).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let _ = s.write_all(req);
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        out
    }

    /// What dccifd printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.home.join("stderr.txt")).unwrap_or_default()
    }
}

/// This host's name as dccifd puts it in headers.
pub fn host() -> String {
    tally_dccifd::config::hostname()
}

/// A recorded answer with the recording host's name ("vm") replaced by
/// this host's.
pub fn localise(resp: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(resp);
    s.replace("-Metrics: vm ", &format!("-Metrics: {} ", host()))
        .replace("-Metrics: vm;", &format!("-Metrics: {};", host()))
        .into_bytes()
}
