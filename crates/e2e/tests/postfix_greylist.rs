//! Greylisting through a real Postfix: our dccm (`-G on`) as the milter of
//! the receiving instance, our greylist server (`dccd -G on,3`: a three
//! second embargo) beside our dccd, and, for the retries, a second Postfix
//! instance that relays to the first by SMTP and retries deferred mail
//! after a second or two, as any sending MTA does (only faster).
//!
//! Thresholds are `-t CMN,2,3`; bulk messages are preloaded with dccproc
//! `-t 5` from the client home.

use std::time::Duration;
use tally_e2e::dccd::BRAND;
use tally_e2e::greylist::{
    assert_embargo_reply, dccm_opts, friend_message, grey_arg, outwait_embargo, FRIEND,
    FRIEND_WHITECLNT,
};
use tally_e2e::msg::{self, header_starting};
use tally_e2e::postfix::{Config, Postfix};
use tally_e2e::proc::wait_until;
use tally_e2e::require;
use tally_e2e::scene::{MilterScene, Setup};
use tally_e2e::smtp::{self, Envelope, Outcome};

/// How long a relayed message may take to get through its embargo.
const RELAY_LIMIT: Duration = Duration::from_secs(90);
/// How often the relay is asked to retry its deferred mail meanwhile.
const NUDGE: Duration = Duration::from_secs(10);

fn setup(whiteclnt: Option<&str>) -> Setup {
    Setup {
        dccm_opts: dccm_opts(whiteclnt.is_some()),
        whiteclnt: whiteclnt.map(String::from),
        grey: Some(grey_arg()),
        ..Setup::default()
    }
}

fn from_relay(from: &str, rcpt: &str) -> Envelope {
    Envelope::new(from, &[rcpt]).client("192.0.2.25", "mail.sender.example")
}

fn metrics(text: &str) -> Option<String> {
    header_starting(text, &format!("X-DCC-{BRAND}-Metrics:"))
}

fn assert_embargoed(out: &Outcome, s: &MilterScene) {
    assert!(
        out.rcpt_replies.iter().all(|r| r.code == 250),
        "the embargo belongs at the end of DATA: {out:?}"
    );
    assert_embargo_reply(out, "greylist", || s.logs());
}

#[test]
fn sender_retry_after_the_embargo_is_delivered() {
    let s = require!(MilterScene::start(setup(None)));
    let relay = require!(Postfix::start(&Config {
        relay_to: Some(s.postfix.smtp.port()),
        ..Config::default()
    }));
    let logs = || format!("--- relay ---\n{}\n{}", relay.log(), s.logs());
    let send = |subject: &str| {
        let m = msg::message("a@sender.example", "bob@lab.test", subject, &msg::unique());
        let env = Envelope::new("a@sender.example", &["bob@lab.test"]);
        let out = smtp::send(relay.smtp, &env, &m, RELAY_LIMIT).expect("smtp to the relay");
        assert_eq!(out.last.code, 250, "{out:?}\n{}", logs());
        out.queue_id().expect("queue id of the relay")
    };

    // the first message: deferred by the receiver, retried by the relay,
    // delivered once the embargo is over
    let first = send("first");
    let delivered = relay.wait_retrying(RELAY_LIMIT, NUDGE, || {
        s.postfix.delivered("bob@lab.test").len() == 1
    });
    assert!(delivered, "not delivered after the embargo\n{}", logs());
    let log = relay.log();
    let deferral = log
        .lines()
        .find(|l| l.contains(&first) && l.contains("status=deferred"));
    let deferral = deferral.unwrap_or_else(|| panic!("no deferral of {first}\n{}", logs()));
    assert!(
        deferral.contains("452 4.2.1") && deferral.contains("temporary greylist embargoed"),
        "{deferral}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains(&first) && l.contains("status=sent")),
        "{}",
        logs()
    );
    let got = s.postfix.delivered("bob@lab.test");
    let h = metrics(&got[0]).unwrap_or_else(|| panic!("no X-DCC header in\n{}", got[0]));
    eprintln!("after its embargo: {deferral}\ndelivered with {h}");

    // the next message of the same triple passes at once
    let second = send("second");
    let delivered = wait_until(RELAY_LIMIT, || {
        s.postfix.delivered("bob@lab.test").len() == 2
    });
    assert!(
        delivered,
        "the familiar triple was not delivered\n{}",
        logs()
    );
    let log = relay.log();
    assert!(
        !log.lines()
            .any(|l| l.contains(&second) && l.contains("status=deferred")),
        "a familiar triple was embargoed\n{}",
        logs()
    );
}

#[test]
fn whitelisted_sender_is_never_embargoed() {
    let s = require!(MilterScene::start(setup(Some(FRIEND_WHITECLNT))));
    let m = friend_message("carol@lab.test");
    let out = s.send_and_settle(&from_relay(FRIEND, "carol@lab.test"), &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    assert_eq!(
        s.postfix.delivered("carol@lab.test").len(),
        1,
        "{}",
        s.logs()
    );
}

#[test]
fn a_spam_triple_is_embargoed_again() {
    let s = require!(MilterScene::start(setup(None)));
    let env = from_relay("b@sender.example", "dave@lab.test");
    let ham =
        |subject: &str| msg::message("b@sender.example", "dave@lab.test", subject, &msg::unique());

    // the triple becomes familiar
    let m = ham("hello");
    assert_embargoed(&s.send(&env, &m), &s);
    outwait_embargo();
    let out = s.send_and_settle(&env, &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    let out = s.send_and_settle(&env, &ham("again"));
    assert_eq!(out.last.code, 250, "familiar triple: {out:?}\n{}", s.logs());

    // bulk mail from it is rejected, not embargoed, and the triple is forgotten
    let bulk = msg::message("b@sender.example", "dave@lab.test", "offer", &msg::unique());
    s.preload("5", &bulk);
    let out = s.send(&env, &bulk);
    assert_eq!(out.last.code, 550, "{out:?}\n{}", s.logs());

    // so the next message of the triple is embargoed again
    assert_embargoed(&s.send(&env, &ham("after the spam")), &s);
    assert_eq!(
        s.postfix.delivered("dave@lab.test").len(),
        2,
        "{}",
        s.logs()
    );
}

#[test]
fn mail_is_delivered_while_the_greylist_server_is_down() {
    let mut s = require!(MilterScene::start(setup(None)));
    if let Some(g) = s.grey.as_mut() {
        g.stop();
    }
    let m = msg::message("c@sender.example", "alice@lab.test", "hi", &msg::unique());
    let out = s.send_and_settle(&from_relay("c@sender.example", "alice@lab.test"), &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    assert_eq!(
        s.postfix.delivered("alice@lab.test").len(),
        1,
        "{}",
        s.logs()
    );
}
