//! The `-X` external filter in dccifd (docs/xfltr.md), through its
//! ASCII protocol and as an SMTP proxy: a unix-socket filter and a
//! filter program answering accept, reject, discard and tempfail; the
//! answer replaces the result of each recipient with `option xfltr-on`
//! (per-user file over the main file) and is only logged for the others;
//! a filter that never answers, one that answers garbage and one that
//! crashes leave the results alone. The proxy answers a recipient whose
//! setting differs with 452 and refuses the message with the filter's
//! reply.

mod common;

use common::smtp::Smtp;
use common::Daemon;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tally_testkit::xfltr::{self, Key};
use tally_testkit::{closed_port, log_with_subject, map_text};

/// A unix-socket filter answering by the sender's local part up to `-` (see
/// `tally_testkit::xfltr`).
fn socket_filter(home: &Path) -> String {
    let path = home.join("xfltr.sock");
    xfltr::socket_filter(&path, Key::Sender);
    format!("unix:{}", path.display())
}

/// A filter program doing what [`socket_filter`] does.
fn program_filter(home: &Path) -> String {
    let path = home.join("xfltr.sh");
    xfltr::program_filter(&path, Key::Sender);
    path.display().to_string()
}

/// A home with a closed DCC server, main whiteclnt `main` and per-user
/// files `userdirs-x/NAME/whiteclnt`.
fn home_with(tag: &str, main: &str, users: &[(&str, &str)]) -> PathBuf {
    let home = common::scratch(tag);
    std::fs::write(home.join("map"), map_text(closed_port())).unwrap();
    std::fs::write(home.join("whiteclnt-x"), main).unwrap();
    for (u, text) in users {
        let d = home.join("userdirs-x").join(u);
        std::fs::create_dir_all(d.join("log")).unwrap();
        std::fs::write(d.join("whiteclnt"), text).unwrap();
    }
    std::fs::create_dir_all(home.join("logs")).unwrap();
    std::fs::create_dir_all(home.join("run")).unwrap();
    home
}

/// Start dccifd in `home` with the filter `target` and `extra` options.
fn start(home: &Path, target: &str, extra: &[&str]) -> Daemon {
    let sock = home.join("dccifd.sock");
    let hs = home.display().to_string();
    let ss = sock.display().to_string();
    let rs = home.join("run").display().to_string();
    let mut args: Vec<&str> = vec!["-b", "-h", &hs, "-R", &rs];
    if !extra.contains(&"-p") {
        args.extend(["-p", &ss]);
    }
    args.extend([
        "-w",
        "whiteclnt-x",
        "-U",
        "userdirs-x",
        "-l",
        "logs",
        "-X",
        target,
        "-X",
        "set:msg-secs=1",
    ]);
    args.extend_from_slice(extra);
    let child = Command::new(env!("CARGO_BIN_EXE_dccifd"))
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(home.join("stderr.txt")).unwrap())
        .spawn()
        .expect("spawn dccifd");
    let d = Daemon {
        child,
        home: home.to_path_buf(),
        sock,
    };
    if !extra.contains(&"-p") {
        let t0 = Instant::now();
        while std::os::unix::net::UnixStream::connect(&d.sock).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "dccifd did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    d
}

/// Ask about a message from `<KEY-…@example.org>` to `rcpts` (user
/// names, each at example.net with its user directory): the overall
/// result and the recipients' letters.
fn ask(d: &Daemon, from: &str, rcpts: &[&str]) -> (String, String) {
    let mut req = format!("log header\n192.0.2.7\rmx.example.org\nmx.example.org\n<{from}>\n");
    for r in rcpts {
        req.push_str(&format!("<{r}@example.net>\r{r}\n"));
    }
    req.push_str(&format!(
        "\nFrom: <{from}>\nSubject: {from}\nMessage-ID: <{from}@example.org>\n\nhello there\n"
    ));
    let a = d.ask(req.as_bytes());
    let text = String::from_utf8_lossy(&a).into_owned();
    let mut l = text.lines();
    (
        l.next().unwrap_or("").to_string(),
        l.next().unwrap_or("").to_string(),
    )
}

/// The main log file of the message with subject `subject`.
fn log_of(home: &Path, subject: &str) -> String {
    log_with_subject(&home.join("logs"), subject)
}

fn every_answer(tag: &str, filter: fn(&Path) -> String, crash_line: &str) {
    let home = home_with(
        tag,
        "many env_from acc-black@example.org\n",
        &[
            ("on", "option xfltr-on\n"),
            ("on2", "option xfltr-on\n"),
            ("off", "option xfltr-off\n"),
        ],
    );
    let target = filter(&home);
    let d = start(&home, &target, &[]);
    let ar = |a: &str, b: &str| (a.to_string(), b.to_string());
    // every recipient with xfltr-on
    assert_eq!(ask(&d, "rej-1@example.org", &["on", "on2"]), ar("R", "RR"));
    assert!(log_of(&home, "rej-1@example.org")
        .contains("external filter: reject 554 5.7.9 refused by the local filter\n"));
    assert_eq!(ask(&d, "tmp-1@example.org", &["on", "on2"]), ar("T", "GG"));
    assert_eq!(ask(&d, "dis-1@example.org", &["on"]), ar("R", "R"));
    assert_eq!(ask(&d, "same-1@example.org", &["on"]), ar("A", "A"));
    // blacklisted by the main file, accepted by the filter for on only
    assert_eq!(ask(&d, "acc-black@example.org", &["off"]), ar("R", "R"));
    assert_eq!(
        ask(&d, "acc-black@example.org", &["on", "off"]),
        ar("A", "AR")
    );
    // per-recipient results when the recipients differ
    assert_eq!(
        ask(&d, "rej-2@example.org", &["on", "off", "dave"]),
        ar("A", "RAA")
    );
    assert!(log_of(&home, "rej-2@example.org").contains(
        "external filter: reject 554 5.7.9 refused by the local filter; \
         acted on for 1 of 3 recipients with option xfltr-on"
    ));
    assert_eq!(ask(&d, "tmp-2@example.org", &["off", "on"]), ar("A", "AG"));
    // nobody with xfltr-on: logged and ignored
    assert_eq!(
        ask(&d, "rej-3@example.org", &["off", "dave"]),
        ar("A", "AA")
    );
    assert!(log_of(&home, "rej-3@example.org").contains("; ignored without option xfltr-on"));
    // failures leave the results alone
    let t0 = Instant::now();
    assert_eq!(ask(&d, "sleep-1@example.org", &["on"]), ar("A", "A"));
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    assert!(log_of(&home, "sleep-1@example.org")
        .contains("external filter: no answer after 1 seconds; verdict kept"));
    assert_eq!(ask(&d, "junk-1@example.org", &["on"]), ar("A", "A"));
    assert!(log_of(&home, "junk-1@example.org")
        .contains("malformed answer \"perhaps tomorrow\": unknown verdict at byte 0"));
    assert_eq!(ask(&d, "crash-1@example.org", &["on"]), ar("A", "A"));
    assert!(log_of(&home, "crash-1@example.org").contains(crash_line));
    assert_eq!(ask(&d, "rej-4@example.org", &["on"]), ar("R", "R"));
    assert!(
        d.stderr().contains("no answer after 1 seconds;"),
        "{}",
        d.stderr()
    );
}

#[test]
fn socket_filter_answers() {
    every_answer(
        "xfltr-socket",
        socket_filter,
        "external filter: closed without answering; verdict kept",
    );
}

#[test]
fn program_filter_answers() {
    every_answer(
        "xfltr-program",
        program_filter,
        "external filter: killed by signal 11 without answering; verdict kept",
    );
}

/// The main file's xfltr-on counts for recipients without a word of
/// their own; xfltr-off in a per-user file turns it off again.
#[test]
fn main_file_option() {
    let home = home_with(
        "xfltr-main",
        "option xfltr-on\n",
        &[("off", "option xfltr-off\n")],
    );
    let target = socket_filter(&home);
    let d = start(&home, &target, &[]);
    let ar = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        ask(&d, "rej-1@example.org", &["dave", "off"]),
        ar("A", "RA")
    );
    assert_eq!(ask(&d, "rej-2@example.org", &["dave"]), ar("R", "R"));
    assert_eq!(ask(&d, "rej-3@example.org", &["off"]), ar("A", "A"));
}

/// As an SMTP proxy: 452 for a recipient whose setting differs, the
/// filter's reply for the message, discarding quietly.
#[test]
fn proxy_uses_the_filters_reply() {
    let home = home_with(
        "xfltr-proxy",
        "",
        &[("on", "option xfltr-on\n"), ("on2", "option xfltr-on\n")],
    );
    let target = socket_filter(&home);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = format!("127.0.0.1,{port},127.0.0.1");
    let _d = start(
        &home,
        &target,
        &["-p", &p, "-o", "/dev/null", "-D", "example.net"],
    );
    let t0 = Instant::now();
    let s = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(e) => assert!(t0.elapsed() < Duration::from_secs(5), "connect: {e}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut c = Smtp::new(s);
    assert!(c.reply().starts_with("220"));
    assert!(c.cmd("EHLO front.example").starts_with("250"));
    let msg = |from: &str, c: &mut Smtp, rcpts: &[&str]| -> Vec<String> {
        let mut out = vec![c.cmd(&format!("MAIL FROM:<{from}>"))];
        for r in rcpts {
            out.push(c.cmd(&format!("RCPT TO:<{r}@example.net>")));
        }
        out.push(c.cmd("DATA"));
        out.push(c.cmd(&format!("Subject: {from}\r\n\r\nhello\r\n.")));
        out
    };
    let r = msg("rej-1@example.org", &mut c, &["on", "dave", "on2"]);
    assert!(r[1].starts_with("250"), "{r:?}");
    assert!(
        r[2].starts_with("452 4.5.3 reject temporarily for incompatible whitelists"),
        "{r:?}"
    );
    assert!(r[3].starts_with("250"), "{r:?}");
    assert_eq!(
        r[5].trim_end(),
        "554 5.7.9 refused by the local filter",
        "{r:?}"
    );
    let r = msg("tmp-1@example.org", &mut c, &["on"]);
    assert_eq!(r[3].trim_end(), "451 4.7.1 try again later", "{r:?}");
    let r = msg("dis-1@example.org", &mut c, &["on"]);
    assert!(r[3].starts_with("250 2.0.0 Ok: discarded"), "{r:?}");
    let r = msg("rej-2@example.org", &mut c, &["dave"]);
    assert!(r[3].starts_with("250 dccifd mail ok"), "{r:?}");
}
