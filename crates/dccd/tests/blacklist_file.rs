//! The `blacklist` file of a running dccd on loopback: read when it
//! appears, changes or disappears (looked at every 100 ms here, through
//! `DCCD_BLACKLIST_CHECK_MS`; every 30 s by default, as the original),
//! with the original's messages; a bad line named with the file and line
//! while the other lines apply; `trace` logging requests; an incoming
//! flood from a `bad` address ended with `blacklisted` unless `flood-ok`.

mod flood_util;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use flood_util::{body, free_port, home, nop, query, replay, Server};
use tally_wire::packet::{CkRequest, Packet, Request};
use tally_wire::sign::Signer;
use tally_wire::{OpNums, Tgts};

/// Start dccd -i 1100 on 127.0.0.1 with its messages in `home/log` and
/// the blacklist file looked at every 100 ms.
fn start(home: &Path) -> Server {
    Server::start_env(
        home,
        1100,
        free_port(),
        &[],
        &[("DCCD_BLACKLIST_CHECK_MS", "100")],
    )
}

/// Write the blacklist file and wait (bounded) until the server has read
/// it for the `n`th time, as its log says `read N entries from FILE`.
fn listing(s: &Server, text: &str, entries: usize, n: usize) {
    let file = s.home.join("blacklist");
    std::fs::write(&file, text).unwrap();
    let said = format!("read {entries} entries from {}", file.display());
    assert!(wait_times(s, &said, n), "{}", s.log());
}

/// Wait (at most 10 s) until the log has `text` `n` times.
fn wait_times(s: &Server, text: &str, n: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if s.log().matches(text).count() >= n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// An anonymous QUERY from 127.0.0.1: answered (within a second)?
fn anon_query(to: SocketAddr) -> bool {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(250)))
        .unwrap();
    let body = Request::Query(CkRequest {
        tgts: Tgts(0),
        cks: vec![body(9)],
    });
    let bytes = Packet::request(12, 1, OpNums::from_le_words(3, 3, 3, 1), body).sign(&Signer::Zero);
    let mut buf = [0u8; 2048];
    (0..4).any(|_| {
        sock.send_to(&bytes, to).unwrap();
        sock.recv_from(&mut buf).is_ok()
    })
}

fn signed_answered(s: &Server) -> bool {
    query(s.addr(), &[body(1)]).is_some()
}

#[test]
fn the_file_is_read_again_when_it_changes() {
    let h = home("bl-file");
    let s = start(&h);
    let file = h.join("blacklist");
    // without the file: answered
    assert!(signed_answered(&s) && anon_query(s.addr()));
    // a line for the client: ignored
    listing(&s, "127.0.0.1\n", 1, 1);
    assert!(!signed_answered(&s));
    assert!(!anon_query(s.addr()));
    assert!(!nop(s.addr()));
    // a hole punched in a block: answered again
    listing(&s, "127.0.0.0/16\nok 127.0.0.1\n", 2, 1);
    assert!(signed_answered(&s) && anon_query(s.addr()));
    // the last line covering the address decides
    listing(&s, "ok 127.0.0.1\n127.0.0.0/16\n", 2, 2);
    assert!(!signed_answered(&s));
    // no-anon: only the anonymous client is ignored
    listing(&s, "no-anon 127.0.0.1\n", 1, 2);
    assert!(signed_answered(&s));
    assert!(!anon_query(s.addr()));
    // a bad line is named with the file and the line; the others apply
    listing(&s, "# two bad lines\nbogus\n127.0.0.1\n10.0.0.0/8\n", 1, 3);
    let log = s.log();
    assert!(
        log.contains(&format!("syntax error in line 2 of {}", file.display())),
        "{log}"
    );
    assert!(
        log.contains(&format!("block too large in line 4 of {}", file.display())),
        "{log}"
    );
    assert!(!signed_answered(&s));
    // gone: answered again
    std::fs::remove_file(&file).unwrap();
    assert!(
        wait_times(&s, &format!("{} disappeared", file.display()), 1),
        "{}",
        s.log()
    );
    assert!(signed_answered(&s) && anon_query(s.addr()));
    drop(s);
    let _ = std::fs::remove_dir_all(h);
}

#[test]
fn read_at_start_and_trace() {
    let h = home("bl-trace");
    std::fs::write(h.join("blacklist"), "127.0.0.0/16\nok,trace 127.0.0.1\n").unwrap();
    let s = start(&h);
    let file = h.join("blacklist");
    assert!(s
        .log()
        .contains(&format!("read 2 entries from {}", file.display())));
    // an `ok,trace` client is answered and each request logged
    assert!(signed_answered(&s));
    assert!(
        wait_times(&s, "QUERY from ID 32800 at 127.0.0.1,", 1),
        "{}",
        s.log()
    );
    // a `bad,trace` one is ignored and each drop logged
    listing(&s, "trace 127.0.0.1\n", 1, 1);
    assert!(!signed_answered(&s));
    assert!(
        wait_times(
            &s,
            "drop blacklisted QUERY from ID 32800 at blacklisted 127.0.0.1,",
            1
        ),
        "{}",
        s.log()
    );
    drop(s);
    let _ = std::fs::remove_dir_all(h);
}

#[test]
fn floods_from_blacklisted_addresses_are_refused() {
    let h = home("bl-flood");
    let s = start(&h);
    let file = h.join("blacklist");
    // not listed: the garbage header is refused for itself
    let end = replay(s.addr(), &[0u8; 256], true);
    assert!(!String::from_utf8_lossy(&end).contains("blacklisted"));
    listing(&s, "127.0.0.1\n", 1, 1);
    for _ in 0..2 {
        let end = replay(s.addr(), &[], true);
        assert!(
            String::from_utf8_lossy(&end).ends_with("blacklisted"),
            "{end:?}"
        );
    }
    // the first refusal is logged, not the second
    let said = "stop incoming flood; error, send 'blacklisted' to 127.0.0.1,";
    assert!(wait_times(&s, said, 1), "{}", s.log());
    assert_eq!(s.log().matches(said).count(), 1, "{}", s.log());
    // flood-ok: flooding is let through (and the header judged)
    listing(&s, "bad,flood-ok 127.0.0.1\n", 1, 2);
    let end = replay(s.addr(), &[0u8; 256], true);
    let end = String::from_utf8_lossy(&end);
    assert!(end.contains("unrecognized flod version"), "{end}");
    // while its UDP requests are still ignored
    assert!(!nop(s.addr()));
    assert!(file.exists());
    drop(s);
    let _ = std::fs::remove_dir_all(h);
}
