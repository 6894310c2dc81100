//! Greylisting as the original's clients do it, beyond the recorded
//! cases: the `query` option makes the log files' greylist heading say
//! `query` (the original's `ASK_ST_QUERY`), and a bulk message embargoed
//! for one recipient while another, whitelisted one wants it stays
//! embargoed for all (the original discards for the recipient that
//! rejects spam rather than refusing the message for everyone, so a
//! recipient still takes it and the embargo holds).

mod common;

use common::{data, Daemon};
use tally_testkit::{grey_map_text, map_text, FakeDccd, FakeGrey};
use tally_wire::{CkType, Op, Sum};

/// A request: options, client, HELO, sender, recipients, the message.
fn request(opts: &str, client: &str, from: &str, rcpts: &[&str], msg: &str) -> Vec<u8> {
    let mut r = format!(
        "{opts}\n{client}\nmail.example.org\n{from}\n{}\n\n",
        rcpts.join("\n")
    )
    .into_bytes();
    r.extend(std::fs::read(data().join("grey-vectors").join(msg)).expect("message"));
    r
}

/// The files of a directory as text.
fn files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// Make msg2.eml bulk at the DCC server: its body checksums as recorded
/// in the greylist vectors.
fn preload_bulk(srv: &FakeDccd) {
    let text =
        std::fs::read_to_string(data().join("grey-vectors/grey-requests.txt")).expect("vectors");
    let line = text
        .lines()
        .find(|l| l.starts_with("grey_dccspam GREY_REPORT"))
        .expect("grey_dccspam");
    for w in line.split_whitespace().skip(2) {
        let (name, v) = w.split_once('=').expect("type=sum");
        let ty = match name {
            "Body" => CkType::Body,
            "Fuz1" => CkType::Fuz1,
            "Fuz2" => CkType::Fuz2,
            _ => continue,
        };
        let words: Vec<&str> = (0..4).map(|i| &v[8 * i..8 * i + 8]).collect();
        srv.preload(
            ty,
            Sum::parse_hex(&words.join(" ")).expect("hex"),
            0x00ff_fff0,
        );
    }
}

#[test]
fn query_option_heads_the_greylist_lines_query() {
    let srv = FakeDccd::start(1300, "qbrand");
    let grey = FakeGrey::start(1302, "qgrey", "on,20");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let d = Daemon::start_args("grey-client-query", &map, &["-G", "on", "-l", "logs/if"]);
    let answer = d.ask(&request(
        "query header",
        "192.0.2.78",
        "someone@example.org",
        &["bob@example.net"],
        "msg1.eml",
    ));
    assert!(
        answer.starts_with(b"G\nG\n"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let logs = files(&d.home.join("logs/if"));
    assert_eq!(logs.len(), 1, "{logs:?}\n{}", d.stderr());
    assert!(
        logs[0].contains("\n       greylist recipient query\n"),
        "{}",
        logs[0]
    );
}

#[test]
fn bulk_mail_wanted_by_a_whitelisted_recipient_stays_embargoed() {
    let srv = FakeDccd::start(1310, "mbrand");
    preload_bulk(&srv);
    let grey = FakeGrey::start(1312, "mgrey", "on,20");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let d = Daemon::start_files(
        "grey-client-mixed",
        &map,
        &["grey-client/whiteclnt-mixed"],
        &["-G", "on", "-t", "CMN,5", "-w", "whiteclnt-mixed"],
    );
    let answer = d.ask(&request(
        "header",
        "192.0.2.77",
        "sender@example.org",
        &["alice@example.net", "bob@example.net"],
        "msg2.eml",
    ));
    assert!(
        answer.starts_with(b"G\nGG\n"),
        "{}\n{}",
        String::from_utf8_lossy(&answer),
        d.stderr()
    );
    // alice's triple is whitelisted at the greylist server, bob's is
    // embargoed and, the message being bulk for him, put back under
    // embargo
    let ops: Vec<Op> = grey
        .seen()
        .iter()
        .map(|s| s.op)
        .filter(|o| *o != Op::Nop)
        .collect();
    assert_eq!(ops, vec![Op::GreyWhite, Op::GreyReport, Op::GreySpam]);
}

#[test]
fn try_hard_embargoes_mail_without_an_ip_address() {
    // -x: the original's ask_grey() fails for want of the IP address and
    // cmn_ask_white() then embargoes the message as for a silent server
    let srv = FakeDccd::start(1320, "xbrand");
    let grey = FakeGrey::start(1322, "xgrey", "on,20");
    let map = format!("{}{}", map_text(srv.addr), grey_map_text(grey.addr));
    let msg = "Message-ID: <no-ip@example.org>\nFrom: a@example.org\nSubject: t\n\nhello\n";
    let req = format!("header\n\n\nsender@example.org\nbob@example.net\n\n{msg}");
    for (name, args, want) in [
        (
            "grey-client-x",
            &["-G", "on", "-x", "-l", "logs/if"][..],
            "G\nG\n",
        ),
        (
            "grey-client-nox",
            &["-G", "on", "-l", "logs/if"][..],
            "A\nA\n",
        ),
    ] {
        let d = Daemon::start_args(name, &map, args);
        let answer = d.ask(req.as_bytes());
        assert!(
            answer.starts_with(want.as_bytes()),
            "{name}: {}\n{}",
            String::from_utf8_lossy(&answer),
            d.stderr()
        );
        let logs = files(&d.home.join("logs/if"));
        assert!(
            logs.iter().any(|l| l.contains("Sys Failure")),
            "{name}: {logs:?}"
        );
    }
    // nothing could be asked
    assert!(grey.seen().iter().all(|s| s.op == Op::Nop));
}
