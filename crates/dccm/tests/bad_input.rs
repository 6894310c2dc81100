//! Malformed milter input: dccm names the trouble in its log, keeps
//! serving other connections, and never takes mail down with it.

mod common;

use common::milter::{connect_data, Client, Reply};
use common::{make_home, start_dccm};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tally_testkit::{closed_port, write_map};

fn args(home: &Path) -> Vec<String> {
    common::local_args(home, &[])
}

fn connect_raw(sock: &Path) -> UnixStream {
    for _ in 0..200 {
        if let Ok(s) = UnixStream::connect(sock) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("cannot connect to dccm");
}

/// Wait until dccm's standard error holds `needle`; its text either way.
fn stderr_with(home: &Path, needle: &str) -> String {
    let t0 = Instant::now();
    loop {
        let s = std::fs::read_to_string(home.join("stderr.txt")).unwrap_or_default();
        if s.contains(needle) || t0.elapsed() > Duration::from_secs(5) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The connection is closed by dccm: a read gives end of file (or an error).
fn closed(s: &mut UnixStream) -> bool {
    let mut buf = [0u8; 64];
    !matches!(s.read(&mut buf), Ok(n) if n > 0)
}

/// A dccm without a reachable server, and a raw connection to it.
fn started(tag: &str) -> (PathBuf, common::Dccm, UnixStream) {
    let home = make_home(tag);
    write_map(&home, closed_port());
    let d = start_dccm(&home, &args(&home));
    let s = connect_raw(&d.sock);
    (home, d, s)
}

#[test]
fn oversized_packet_is_logged_and_the_connection_dropped() {
    let (home, d, mut s) = started("badlen");
    // a length of almost 4 GB: no milter packet is that long
    s.write_all(&[0xff, 0xff, 0xff, 0xf0, b'C']).unwrap();
    assert!(closed(&mut s), "dccm kept a connection with a bad length");
    let err = stderr_with(&home, "milter connection dropped");
    assert!(err.contains("milter connection dropped"), "stderr: {err}");

    // dccm still serves a well-behaved MTA
    let mut c = Client::connect(&d.sock).unwrap();
    c.send(b'C', &connect_data("mail.example.com", "192.0.2.1"))
        .unwrap();
    assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
    drop(c);
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

/// An MTA that hangs up between packets is only noted.
#[test]
fn hang_up_without_quit_is_noted() {
    let (home, d, mut s) = started("eof");
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(closed(&mut s));
    let err = stderr_with(&home, "without QUIT");
    assert!(
        err.contains("closed its milter connection without QUIT"),
        "stderr: {err}"
    );
    assert!(!err.contains("dropped"), "stderr: {err}");
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn truncated_packet_is_logged() {
    let (home, d, mut s) = started("trunc");
    // announces 100 bytes, sends 3, then goes away
    s.write_all(&[0, 0, 0, 100, b'C', b'a', b'b']).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(closed(&mut s));
    let err = stderr_with(&home, "milter connection dropped");
    assert!(err.contains("early eof"), "stderr: {err}");
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}
