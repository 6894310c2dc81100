//! What the log files and the answer of the ASCII protocol say about
//! spam that is discarded rather than rejected, as the original's
//! users_process(), user_log_result() and ascii_done(): `-a DISCARD`, a
//! listed `mx` relay (which turns REJECT into DISCARD) and `-a IGNORE`.
//! The answer refuses the message and the main log says `result: reject`,
//! while each spam recipient's own log says `result: discard`.

mod common;

use common::Daemon;
use tally_testkit::files::texts;
use tally_testkit::FakeDccd;

fn request(client: &str, rcpts: &[&str]) -> Vec<u8> {
    let mut r = format!("log header\n{client}\nmail.example.org\nspammer@example.com\n");
    for t in rcpts {
        r.push_str(t);
        r.push('\n');
    }
    r.push_str(
        "\nReceived: from sender.example.org (sender.example.org [203.0.113.5])\n\
         \tby mx.example.net with ESMTP id D1; Mon, 3 Jun 2024 10:15:00 +0000\n\
         From: spammer@example.com\nSubject: offer\nMessage-ID: <d1@example.org>\n\n\
         Buy now.\n",
    );
    r.into_bytes()
}

fn daemon(name: &str, srv: &FakeDccd, action: &str) -> Daemon {
    Daemon::start_files(
        name,
        &tally_testkit::map_text(srv.addr),
        &["whiteclnt-discard"],
        &[
            "-a",
            action,
            "-l",
            "logs/if",
            "-U",
            "userdirs-if",
            "-w",
            "whiteclnt-discard",
        ],
    )
}

fn result_of(logs: &[String]) -> Vec<String> {
    logs.iter()
        .map(|l| l.lines().last().unwrap_or("").to_string())
        .collect()
}

/// The result lines of the log files in `dir` of `d`'s home.
fn results(d: &Daemon, dir: &str) -> Vec<String> {
    result_of(&texts(&d.home.join(dir)))
}

/// The answer of `d` to the spam message from `client` to `rcpts`.
fn ask(d: &Daemon, client: &str, rcpts: &[&str]) -> String {
    String::from_utf8_lossy(&d.ask(&request(client, rcpts))).into_owned()
}

/// carol's own whiteclnt file wants the message.
fn carol_wants_it(d: &Daemon) {
    std::fs::write(
        d.home.join("userdirs-if/carol/whiteclnt"),
        "option log-all\nok env_from spammer@example.com\n",
    )
    .expect("carol's whiteclnt");
}

#[test]
fn discard_for_every_recipient() {
    let srv = FakeDccd::start(1380, "dbrand");
    let d = daemon("discard-all", &srv, "DISCARD");
    let text = ask(
        &d,
        "192.0.2.50\rclient.example.org",
        &["bob@example.net\rbob"],
    );
    assert!(text.starts_with("R\nR\n"), "{text}\n{}", d.stderr());
    let main = results(&d, "logs/if");
    assert_eq!(main, ["result: reject"], "{main:?}");
    let bob = results(&d, "userdirs-if/bob/log");
    assert_eq!(bob, ["result: discard"], "{bob:?}");
}

#[test]
fn discard_for_some_recipients_is_a_forced_rejection() {
    // -a DISCARD clears every recipient's refusal of discarding, which
    // the original takes as a reason to refuse the message for all
    let srv = FakeDccd::start(1382, "ebrand");
    let d = daemon("discard-some", &srv, "DISCARD");
    carol_wants_it(&d);
    let text = ask(
        &d,
        "192.0.2.50\rclient.example.org",
        &["carol@example.net\rcarol", "bob@example.net\rbob"],
    );
    assert!(text.starts_with("R\nRR\n"), "{text}\n{}", d.stderr());
    let main = texts(&d.home.join("logs/if"));
    assert_eq!(main.len(), 1, "{main:?}");
    assert!(
        main[0].ends_with("\nforced reject for 1 targets\nresult: reject\n"),
        "{}",
        main[0]
    );
    let bob = results(&d, "userdirs-if/bob/log");
    assert_eq!(bob, ["result: discard"], "{bob:?}");
    let carol = results(&d, "userdirs-if/carol/log");
    assert_eq!(
        carol,
        ["result: reject forced by other recipients"],
        "{carol:?}"
    );
}

#[test]
fn mx_relay_discards() {
    // the SMTP client is a listed `mx` relay: REJECT becomes DISCARD
    let srv = FakeDccd::start(1384, "fbrand");
    let d = daemon("discard-relay", &srv, "REJECT");
    let text = ask(
        &d,
        "198.51.100.70\rmx.example.net",
        &["bob@example.net\rbob"],
    );
    assert!(text.starts_with("R\nR\n"), "{text}\n{}", d.stderr());
    let main = results(&d, "logs/if");
    assert_eq!(main, ["result: reject"], "{main:?}");
    let bob = results(&d, "userdirs-if/bob/log");
    assert_eq!(bob, ["result: discard"], "{bob:?}");
}

#[test]
fn ignored_spam_and_forced_discard_are_accepted() {
    let srv = FakeDccd::start(1386, "gbrand");
    let d = daemon("discard-ignore", &srv, "IGNORE");
    let text = ask(
        &d,
        "192.0.2.50\rclient.example.org",
        &["bob@example.net\rbob"],
    );
    assert!(text.starts_with("A\nR\n"), "{text}\n{}", d.stderr());
    let main = results(&d, "logs/if");
    assert_eq!(main, ["result: accept"], "{main:?}");
    let bob = results(&d, "userdirs-if/bob/log");
    assert_eq!(bob, ["result: ignore and accept"], "{bob:?}");

    // -a REJECT with a recipient that wants the message: spam is
    // discarded for the other, and the message accepted
    let d = daemon("discard-forced", &srv, "REJECT");
    carol_wants_it(&d);
    let text = ask(
        &d,
        "192.0.2.50\rclient.example.org",
        &["carol@example.net\rcarol", "bob@example.net\rbob"],
    );
    assert!(text.starts_with("A\nAR\n"), "{text}\n{}", d.stderr());
    let main = texts(&d.home.join("logs/if"));
    assert!(
        main[0].ends_with(
            "\nforced discard for 1 targets\n\
             result: discard forced for bob@example.net\nresult: accept\n"
        ),
        "{}",
        main[0]
    );
    let bob = results(&d, "userdirs-if/bob/log");
    assert_eq!(
        bob,
        ["result: discard forced by other recipients"],
        "{bob:?}"
    );
    let carol = results(&d, "userdirs-if/carol/log");
    assert_eq!(carol, ["result: ignore and accept"], "{carol:?}");
}
