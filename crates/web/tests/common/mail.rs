//! The mail side of the end-to-end tests: the real dccm with `-U
//! userdirs` in a test home, a fake DCC server that counts the test
//! message as bulk, and the message sent through the milter protocol.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tally_e2e::milter::Mta;
use tally_testkit::{write_map, FakeDccd};

/// The message: bulk by its body checksums, markup in its subject and body.
pub const MSG: &str = "From: Alice Example <alice@example.com>\nTo: Bob <bob@example.net>\n\
Subject: Quarterly <b>planning</b> notes\nMessage-ID: <q1@example.com>\n\n\
Hi Bob,\n\nthe notes of the planning meeting are below <script>alert(1)</script>.\n\
Please read them before Friday.\n\nAlice\n";

/// A child process killed when dropped.
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Have `srv` count [`MSG`]'s Body, Fuz1 and Fuz2 checksums 50 times.
pub fn preload(srv: &FakeDccd) {
    let mut mc = tally_ck::message::MessageCks::new(
        &tally_ck::header::CkConfig::default(),
        &tally_ck::header::Envelope::default(),
    );
    mc.feed(MSG.replace('\n', "\r\n").as_bytes());
    for e in &mc.finish().entries {
        if matches!(
            e.ck_type,
            tally_ck::CkType::Body | tally_ck::CkType::Fuz1 | tally_ck::CkType::Fuz2
        ) {
            srv.preload(e.ck_type, e.sum, 50);
        }
    }
}

/// Start dccm (`dccm_bin`) in `home` against `srv` (which gets [`MSG`]
/// preloaded): a milter socket `run/dccm.sock`, rejecting bulk mail, with
/// per-user logs under `userdirs`; and the socket's path, once it exists.
pub fn start_dccm(dccm_bin: &Path, home: &Path, srv: &FakeDccd) -> (Kill, PathBuf) {
    std::fs::create_dir_all(home.join("run")).unwrap();
    std::fs::create_dir_all(home.join("logs")).unwrap();
    write_map(home, srv.addr);
    preload(srv);
    let hs = home.display().to_string();
    let sock = home.join("run/dccm.sock");
    let dccm = Kill(
        Command::new(dccm_bin)
            .args(["-b", "-h", &hs, "-p", &format!("local:{hs}/run/dccm.sock")])
            .args(["-R", &format!("{hs}/run")])
            .args([
                "-t", "CMN,2", "-a", "REJECT", "-l", "logs", "-U", "userdirs",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(home.join("dccm-stderr.txt")).unwrap())
            .spawn()
            .expect("start dccm"),
    );
    let t0 = Instant::now();
    while !sock.exists() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    (dccm, sock)
}

/// Send [`MSG`] to bob through dccm (queue ID `B<n>`); the last answer
/// and the reply.
pub fn send(sock: &Path, n: u32) -> (u8, String) {
    let mut m = Mta::connect(sock, Duration::from_secs(20)).expect("connect to dccm");
    m.rcpt_macros(&[("{rcpt_mailer}", "local"), ("{rcpt_addr}", "bob")]);
    let a = m
        .message(
            &format!("B{n}"),
            "alice@example.com",
            "bob@example.net",
            MSG.as_bytes(),
        )
        .expect("milter exchange");
    (a.last, a.reply)
}

/// Send [`MSG`] again every 2 s (queue IDs from `B<first>`) until dccm
/// accepts it, for at most 30 s (dccm looks at whiteclnt files' times
/// every 10 s); the time it took, None if it was still rejected.
pub fn until_accepted(sock: &Path, first: u32) -> Option<Duration> {
    let t0 = Instant::now();
    let mut n = first;
    loop {
        let (code, reply) = send(sock, n);
        if code == b'a' || code == b'c' {
            return Some(t0.elapsed());
        }
        assert!(
            code == b'y' || code == b'r',
            "unexpected answer {} {reply}",
            code as char
        );
        if t0.elapsed() > Duration::from_secs(30) {
            return None;
        }
        n += 1;
        std::thread::sleep(Duration::from_secs(2));
    }
}
