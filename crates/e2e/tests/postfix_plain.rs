//! The harness itself against Postfix without our daemons: delivery into
//! the Maildirs works, unknown users and foreign domains are refused, and
//! a milter socket that nobody serves does not stop mail when
//! `milter_default_action = accept`.

use std::time::Duration;
use tally_e2e::postfix::{Config, Postfix};
use tally_e2e::smtp::{send, Envelope};
use tally_e2e::{msg, require};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn delivers_into_maildir() {
    let pf = require!(Postfix::start(&Config::default()));
    let m = msg::message("a@sender.example", "bob@lab.test", "plain", "plain");
    let env = Envelope::new(
        "a@sender.example",
        &["bob@lab.test", "nobody@lab.test", "x@far.example"],
    );
    let out = send(pf.smtp, &env, &m, LIMIT).expect("smtp");
    let codes: Vec<u16> = out.rcpt_replies.iter().map(|r| r.code).collect();
    assert_eq!(codes[0], 250, "{out:?}");
    assert!(codes[1] >= 500 && codes[2] >= 500, "{out:?}");
    assert_eq!(out.last.code, 250, "{out:?}\n{}", pf.log());
    let qid = out.queue_id().expect("queue id");
    assert!(pf.wait_done(&qid, LIMIT), "not delivered\n{}", pf.log());
    let got = pf.delivered("bob@lab.test");
    assert_eq!(got.len(), 1, "{}", pf.log());
    assert!(got[0].contains("Marker plain"), "{}", got[0]);
}

#[test]
fn dead_milter_is_accepted() {
    let dir = tally_e2e::tmp::TempDir::new("dead-milter").expect("tmp");
    let cfg = Config {
        milter: Some(format!("unix:{}/nothing.sock", dir.path().display())),
        ..Config::default()
    };
    let pf = require!(Postfix::start(&cfg));
    let m = msg::message("a@sender.example", "carol@example.test", "dead", "dead");
    let env = Envelope::new("a@sender.example", &["carol@example.test"])
        .client("192.0.2.7", "relay.example.net");
    let out = send(pf.smtp, &env, &m, LIMIT).expect("smtp");
    assert_eq!(out.last.code, 250, "{out:?}\n{}", pf.log());
    let qid = out.queue_id().expect("queue id");
    assert!(pf.wait_done(&qid, LIMIT), "not delivered\n{}", pf.log());
    assert_eq!(pf.delivered("carol@example.test").len(), 1);
}

#[test]
fn proxy_filter_instance_takes_mail_back() {
    // the half of the before-queue set-up that does not need the filter:
    // the second smtpd takes the filtered mail back and delivers it
    let back = tally_e2e::dccd::free_tcp_port().expect("port");
    let cfg = Config {
        proxy_filter: Some(("127.0.0.1:9".into(), back)),
        ..Config::default()
    };
    let pf = require!(Postfix::start(&cfg));
    assert!(
        tally_e2e::proc::wait_until(LIMIT, || tally_e2e::postfix::tcp_listening(back)),
        "{}",
        pf.log()
    );
    let m = msg::message("a@sender.example", "dave@lab.test", "back", "back");
    let env = Envelope::new("a@sender.example", &["dave@lab.test"]);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], back));
    let out = send(addr, &env, &m, LIMIT).expect("smtp");
    assert_eq!(out.last.code, 250, "{out:?}\n{}", pf.log());
    let qid = out.queue_id().expect("queue id");
    assert!(pf.wait_done(&qid, LIMIT), "not delivered\n{}", pf.log());
    assert_eq!(pf.delivered("dave@lab.test").len(), 1);
}
