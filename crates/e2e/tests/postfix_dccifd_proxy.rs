//! Postfix with our dccifd as a before-queue SMTP proxy filter
//! (`smtpd_proxy_filter = 127.0.0.1:P`, dccifd `-p 127.0.0.1,P,127.0.0.1/32
//! -o 127.0.0.1,R`, Postfix's second smtpd on 127.0.0.1:R takes the mail
//! back). Skipped while dccifd refuses `-o`.

use std::time::Duration;
use tally_e2e::daemons::Client;
use tally_e2e::dccd::{self, free_tcp_port, DccServer, BRAND};
use tally_e2e::msg::{self, header_starting};
use tally_e2e::postfix::{tcp_listening, Config, Postfix};
use tally_e2e::proc::wait_until;
use tally_e2e::smtp::{send, Envelope};
use tally_e2e::tmp::TempDir;
use tally_e2e::{require, skip, Skip};

const LIMIT: Duration = Duration::from_secs(90);

struct Scene {
    postfix: Postfix,
    dccifd: Client,
    _grey: Option<DccServer>,
    _dccd: DccServer,
    home: std::path::PathBuf,
    _dir: TempDir,
}

fn start() -> Result<Scene, Skip> {
    start_with(&[], None)
}

/// A scene whose dccifd has the `extra` options, with a greylist server
/// `dccd -G grey` named in the map when `grey` is given.
fn start_with(extra: &[&str], grey: Option<&str>) -> Result<Scene, Skip> {
    skip::root()?;
    skip::program("postfix")?;
    let dir = TempDir::new("proxy").map_err(|e| Skip(e.to_string()))?;
    let dccd = DccServer::start(&dir.path().join("dccd"))?;
    let grey = match grey {
        Some(g) => Some(DccServer::start_grey(&dir.path().join("grey"), g)?),
        None => None,
    };
    let home = dccd
        .client_home_with(&dir.path().join("home"), None, grey.as_ref())
        .map_err(|e| Skip(e.to_string()))?;
    let filter = free_tcp_port().map_err(|e| Skip(e.to_string()))?;
    let back = free_tcp_port().map_err(|e| Skip(e.to_string()))?;
    let listen = format!("127.0.0.1,{filter},127.0.0.1/32");
    let out = format!("127.0.0.1,{back}");
    let mut opts = vec!["-o", &out, "-t", "CMN,2,3"];
    opts.extend_from_slice(extra);
    let mut dccifd = Client::dccifd_at(&home, &listen, &opts)?;
    let mut exited = None;
    let up = wait_until(Duration::from_secs(15), || {
        exited = dccifd.exited();
        exited.is_some() || tcp_listening(filter)
    });
    if exited.is_some() {
        let log = dccifd.log_text();
        let refused = [
            "not supported",
            "not implemented",
            "refused",
            "illegal option",
        ];
        if log.contains("-o") && refused.iter().any(|w| log.contains(w)) {
            let why = log.lines().last().unwrap_or("").trim().to_string();
            return Err(Skip(format!("dccifd -o not implemented ({why})")));
        }
        panic!("dccifd exited at start\n{log}");
    }
    assert!(
        up,
        "dccifd does not listen on {filter}\n{}",
        dccifd.log_text()
    );
    let cfg = Config {
        proxy_filter: Some((format!("127.0.0.1:{filter}"), back)),
        ..Config::default()
    };
    let postfix = Postfix::start(&cfg)?;
    Ok(Scene {
        postfix,
        dccifd,
        _grey: grey,
        _dccd: dccd,
        home,
        _dir: dir,
    })
}

impl Scene {
    fn logs(&self) -> String {
        format!("{}\n{}", self.postfix.log(), self.dccifd.log_text())
    }
}

fn env(rcpt: &str) -> Envelope {
    Envelope::new("a@sender.example", &[rcpt]).client("192.0.2.25", "mail.sender.example")
}

#[test]
fn proxy_adds_header_to_normal_mail() {
    let s = require!(start());
    let m = msg::message("a@sender.example", "bob@lab.test", "hello", &msg::unique());
    let out = send(s.postfix.smtp, &env("bob@lab.test"), &m, LIMIT).expect("smtp");
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    let qid = out.queue_id().expect("queue id");
    assert!(s.postfix.wait_done(&qid, LIMIT), "{}", s.logs());
    let got = s.postfix.delivered("bob@lab.test");
    assert_eq!(got.len(), 1, "{}", s.logs());
    let h = header_starting(&got[0], &format!("X-DCC-{BRAND}-Metrics:"));
    assert!(h.is_some(), "no X-DCC header\n{}", got[0]);
}

#[test]
fn proxy_rejects_bulk_mail() {
    let s = require!(start());
    let m = msg::message(
        "a@sender.example",
        "carol@lab.test",
        "offer",
        &msg::unique(),
    );
    dccd::report(&s.home, "5", &m);
    let out = send(s.postfix.smtp, &env("carol@lab.test"), &m, LIMIT).expect("smtp");
    assert_eq!(out.last.code, 550, "{out:?}\n{}", s.logs());
    assert!(s.postfix.delivered("carol@lab.test").is_empty());
}

#[test]
fn proxy_embargoes_a_new_triple_and_takes_the_retry() {
    // greylist server with a three second embargo, dccifd -G on
    let s = require!(start_with(&["-G", "on"], Some("on,3")));
    let m = msg::message("g@sender.example", "dave@lab.test", "hi", &msg::unique());
    let env = Envelope::new("g@sender.example", &["dave@lab.test"])
        .client("192.0.2.26", "mail.sender.example");
    let out = send(s.postfix.smtp, &env, &m, LIMIT).expect("smtp");
    assert_eq!(out.last.code / 100, 4, "{out:?}\n{}", s.logs());
    assert!(out.last.text.contains("greylist"), "{out:?}");
    eprintln!("first attempt: {}", out.last);
    std::thread::sleep(Duration::from_millis(4500));
    let out = send(s.postfix.smtp, &env, &m, LIMIT).expect("smtp");
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    let qid = out.queue_id().expect("queue id");
    assert!(s.postfix.wait_done(&qid, LIMIT), "{}", s.logs());
    let got = s.postfix.delivered("dave@lab.test");
    assert_eq!(got.len(), 1, "{}", s.logs());
    let h = header_starting(&got[0], &format!("X-DCC-{BRAND}-Metrics:"));
    assert!(h.is_some(), "no X-DCC header\n{}", got[0]);
}
