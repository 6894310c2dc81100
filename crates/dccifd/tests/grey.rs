//! Greylisting (`-G on`): the recorded exchanges G1..G9 of the original
//! (config B, an embargo of 5 s) replayed in the recording's order against
//! our dccifd, a counting DCC server and a greylist server whose clock the
//! test moves on instead of waiting out the embargo; the answers are
//! compared byte for byte and the log files' lines after the message with
//! the recorded ones.

mod common;

use common::{data, localise, Daemon};
use std::path::Path;
use tally_testkit::{grey_map_text, map_text, FakeDccd, FakeGrey};

/// The recorded cases in the order they were played.
fn cases() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let dir = data().join("grey-cases");
    std::fs::read_to_string(dir.join("ORDER"))
        .expect("ORDER")
        .lines()
        .filter(|l| !l.is_empty())
        .map(|name| {
            let p = dir.join(name);
            let req = std::fs::read(p.join("request.bin")).expect("request");
            let resp = std::fs::read(p.join("response.bin")).expect("response");
            (name.to_string(), req, resp)
        })
        .collect()
}

/// The files of a log directory, oldest first (their names grow).
fn logs(dir: &Path) -> Vec<String> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort_by_key(|p| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .zip(Some(p.clone()))
    });
    v.iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect()
}

/// The part of a log file after the message, with the recording host's
/// name replaced by this host's.
fn tail(log: &str) -> String {
    let t = log
        .find("### end of message body")
        .map_or("", |i| &log[i..]);
    String::from_utf8(localise(t.as_bytes())).unwrap_or_default()
}

#[test]
fn recorded_greylist_exchanges() {
    let all = cases();
    let srv = FakeDccd::start(1200, "behbrand");
    // the recording's DCC server had counted the bulk message 18 times
    // before G5 (its answer shows 19); the same message reported from
    // another client through a dccifd without greylisting brings our
    // server there (and leaves G5's client without reputation counts)
    {
        let g5 = &all.iter().find(|c| c.0.starts_with("G5-")).expect("G5").1;
        let bulk = String::from_utf8_lossy(g5).replacen("198.51.100.64", "203.0.113.64", 1);
        let plain = Daemon::start("grey-preload", &srv, &[]);
        for _ in 0..18 {
            plain.ask(bulk.as_bytes());
        }
    }
    let grey = FakeGrey::start(1202, "behgrey", "on,5");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let d = Daemon::start_args(
        "grey-replay",
        &map,
        &[
            "-t",
            "CMN,2,3",
            "-l",
            "logs/if-grey",
            "-U",
            "userdirs-if",
            "-w",
            "whiteclnt-if",
            "-S",
            "List-ID",
            "-G",
            "on",
        ],
    );
    let mut bad = Vec::new();
    for (name, req, resp) in &all {
        if name.starts_with("G6-") {
            // recorded 7 seconds after G1, past the 5 s embargo
            grey.advance(7);
        }
        let got = d.ask(req);
        let want = localise(resp);
        if got != want {
            bad.push(format!(
                "{name}:\n--- want\n{}--- got\n{}",
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&got)
            ));
        }
    }
    // the log files, message by message, after the message itself
    let rec = data().join("grey-logs");
    for (dir, want_dir) in [
        (d.home.join("logs/if-grey"), rec.join("global")),
        (d.home.join("userdirs-if/bob/log"), rec.join("bob")),
    ] {
        let got = logs(&dir);
        let mut want: Vec<_> = std::fs::read_dir(&want_dir)
            .expect("recorded logs")
            .flatten()
            .map(|e| e.path())
            .collect();
        want.sort();
        assert_eq!(got.len(), want.len(), "log files in {}", dir.display());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let w = std::fs::read_to_string(w).expect("log");
            if tail(g) != tail(&w) {
                bad.push(format!(
                    "{} log {} ({}):\n--- want\n{}--- got\n{}",
                    want_dir.file_name().unwrap().to_string_lossy(),
                    i + 1,
                    all.get(i).map_or("", |c| c.0.as_str()),
                    tail(&w),
                    tail(g)
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} differences:\n{}\nstderr:\n{}",
        bad.len(),
        bad.join("\n"),
        d.stderr()
    );
}

/// Mail from a relay the main whiteclnt file lists as `mx` is not
/// greylisted (the greylist server is not even asked), nor a request
/// with `grey-off`; other mail is.
#[test]
fn no_greylisting_through_listed_relays_or_with_grey_off() {
    let srv = FakeDccd::start(1200, "behbrand");
    let grey = FakeGrey::start(1202, "behgrey", "on,5");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let d = Daemon::start_files(
        "grey-mx",
        &map,
        &["whiteclnt-mx"],
        &["-G", "on", "-w", "whiteclnt-mx"],
    );
    let req = |opts: &str, client: &str| {
        format!(
            "{opts}\n{client}\rrelay.example.net\nrelay.example.net\n<a@example.org>\n<bob@example.net>\n\nFrom: a@example.org\nSubject: hi\n\nhello\n"
        )
    };
    let grey_ops = || {
        grey.seen()
            .iter()
            .filter(|s| s.op != tally_wire::Op::Nop)
            .count()
    };
    assert_eq!(
        d.ask(req("header", "198.51.100.70").as_bytes())[..4],
        *b"A\nA\n"
    );
    assert_eq!(grey_ops(), 0);
    assert_eq!(
        d.ask(req("grey-off header", "198.51.100.71").as_bytes())[..4],
        *b"A\nA\n"
    );
    assert_eq!(grey_ops(), 0);
    assert_eq!(
        d.ask(req("header", "198.51.100.71").as_bytes())[..4],
        *b"G\nG\n"
    );
    assert_eq!(grey_ops(), 1);
}

/// SpamAssassin's request (`cksums grey-off `) is answered as without
/// greylisting; `spam` with `grey-query` is refused as the original does
/// (the complaint is logged, the message only queried for); a greylist
/// server that does not answer lets the mail pass, and with `-x`
/// embargoes it.
#[test]
fn clients_and_a_missing_greylist_server() {
    let srv = FakeDccd::start(1200, "behbrand");
    let grey = FakeGrey::start(1202, "behgrey", "on,5");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let d = Daemon::start_map("grey-clients", &map, &["-G", "on"]);
    let req = |opts: &str| {
        format!(
            "{opts}\n198.51.100.80\rclient.example.net\nclient.example.net\n<a@example.org>\n<bob@example.net>\n\nFrom: a@example.org\nSubject: hi\n\nhello\n"
        )
    };
    let a = d.ask(req("cksums grey-off ").as_bytes());
    let a = String::from_utf8_lossy(&a);
    assert!(a.starts_with("A\nA\nX-DCC-behbrand-Metrics: "), "{a}");
    assert!(a.contains("reported: 1"), "{a}");
    let a = d.ask(req("spam grey-query header").as_bytes());
    assert_eq!(a[..4], *b"G\nG\n");
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(
        d.stderr().contains("spam and grey-query are incompatible"),
        "{}",
        d.stderr()
    );

    let dead = format!(
        "{}{}",
        map_text(srv.addr),
        grey_map_text(tally_testkit::closed_port())
    );
    let d = Daemon::start_map("grey-dead", &dead, &["-G", "on"]);
    assert_eq!(d.ask(req("header").as_bytes())[..4], *b"A\nA\n");
    let d = Daemon::start_map("grey-dead-x", &dead, &["-G", "on", "-x"]);
    assert_eq!(d.ask(req("header").as_bytes())[..4], *b"G\nG\n");
}

/// `-G noIP` leaves the client's address out of the triple and
/// `-G IPmask/24` keeps its first 24 bits: once a message passed, the same
/// sender, recipient and message pass from any address, or from the same
/// /24, as the recorded dccm scenarios l2 and l3 show for the original.
#[test]
fn triples_without_or_with_part_of_the_address() {
    let req = |client: &str| {
        format!(
            "header\n{client}\rclient.example.net\nclient.example.net\n<a@example.org>\n<bob@example.net>\n\nFrom: a@example.org\nSubject: hi\n\nhello again\n"
        )
    };
    for (g, other_ip_passes) in [("noIP", true), ("IPmask/24", false)] {
        let srv = FakeDccd::start(1200, "behbrand");
        let grey = FakeGrey::start(1202, "behgrey", "on,5");
        let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
        let d = Daemon::start_map("grey-mask", &map, &["-G", g]);
        let first = |r: Vec<u8>| r.first().copied().map(char::from);
        assert_eq!(
            first(d.ask(req("198.51.100.10").as_bytes())),
            Some('G'),
            "{g}"
        );
        grey.advance(6);
        assert_eq!(
            first(d.ask(req("198.51.100.10").as_bytes())),
            Some('A'),
            "{g}"
        );
        // the same /24
        assert_eq!(
            first(d.ask(req("198.51.100.99").as_bytes())),
            Some('A'),
            "{g}"
        );
        let other = first(d.ask(req("203.0.113.7").as_bytes()));
        let want = if other_ip_passes { 'A' } else { 'G' };
        assert_eq!(other, Some(want), "{g}");
    }
}
