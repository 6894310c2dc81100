//! Postfix with our dccm as its milter (`smtpd_milters = unix:...`,
//! `milter_default_action = accept`), counting against our dccd.
//!
//! Thresholds are `-t CMN,2,3`: a message whose Body, Fuz1 or Fuz2 count
//! reaches 3 is bulk. Counts are preloaded with dccproc `-t 5` from the same
//! client home before the message goes through Postfix.

use tally_e2e::dccd::BRAND;
use tally_e2e::msg::{self, header_starting};
use tally_e2e::require;
use tally_e2e::scene::{MilterScene, Setup};
use tally_e2e::smtp::Envelope;

fn setup(extra: &[&str]) -> Setup {
    let mut opts = vec!["-t".to_string(), "CMN,2,3".to_string()];
    opts.extend(extra.iter().map(|s| s.to_string()));
    Setup {
        dccm_opts: opts,
        ..Setup::default()
    }
}

/// A new message whose checksums are already counted 5 times (bulk), as
/// `dccproc -t 5` from the client home reports it.
fn bulk(s: &MilterScene, from: &str, to: &str, subject: &str) -> Vec<u8> {
    let m = msg::message(from, to, subject, &msg::unique());
    s.preload("5", &m);
    m
}

fn from_relay(from: &str, rcpts: &[&str]) -> Envelope {
    Envelope::new(from, rcpts).client("192.0.2.25", "mail.sender.example")
}

/// bob (who does not want filtering) got the bulk message, alice did not.
fn only_bob_got_it(s: &MilterScene) {
    assert_eq!(s.postfix.delivered("bob@lab.test").len(), 1, "{}", s.logs());
    assert!(
        s.postfix.delivered("alice@lab.test").is_empty(),
        "bulk mail reached the user who wants filtering\n{}",
        s.logs()
    );
}

#[test]
fn normal_message_gets_x_dcc_header() {
    let s = require!(MilterScene::start(setup(&[])));
    let m = msg::message("a@sender.example", "bob@lab.test", "hello", &msg::unique());
    let out = s.send_and_settle(&from_relay("a@sender.example", &["bob@lab.test"]), &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    let got = s.postfix.delivered("bob@lab.test");
    assert_eq!(got.len(), 1, "{}", s.logs());
    let h = header_starting(&got[0], &format!("X-DCC-{BRAND}-Metrics:"));
    let h = h.unwrap_or_else(|| panic!("no X-DCC header in\n{}\n{}", got[0], s.logs()));
    assert!(h.contains("Body=1"), "{h}");
}

#[test]
fn bulk_message_is_rejected_at_end_of_data() {
    let s = require!(MilterScene::start(setup(&[])));
    let m = bulk(&s, "bulk@sender.example", "bob@lab.test", "offer");
    let out = s.send(&from_relay("bulk@sender.example", &["bob@lab.test"]), &m);
    assert_eq!(out.last.code, 550, "{out:?}\n{}", s.logs());
    assert!(out.rcpt_replies.iter().all(|r| r.code == 250), "{out:?}");
    assert!(s.postfix.delivered("bob@lab.test").is_empty());
}

#[test]
fn bulk_message_is_discarded_with_a_discard() {
    let s = require!(MilterScene::start(setup(&["-a", "DISCARD"])));
    let m = bulk(&s, "bulk@sender.example", "carol@lab.test", "offer");
    let out = s.send_and_settle(&from_relay("bulk@sender.example", &["carol@lab.test"]), &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    assert!(
        s.postfix.delivered("carol@lab.test").is_empty(),
        "discarded mail was delivered\n{}",
        s.logs()
    );
}

#[test]
fn whitelisted_sender_passes() {
    let mut st = setup(&["-w", "whiteclnt"]);
    st.whiteclnt = Some("ok env_From friend@sender.example\n".into());
    let s = require!(MilterScene::start(st));
    let m = bulk(&s, "friend@sender.example", "dave@lab.test", "news");
    let out = s.send_and_settle(&from_relay("friend@sender.example", &["dave@lab.test"]), &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    assert_eq!(
        s.postfix.delivered("dave@lab.test").len(),
        1,
        "{}",
        s.logs()
    );
}

#[test]
fn per_user_whitelist_by_rcpt_mailer_and_addr() {
    // dccm looks for userdirs/${rcpt_mailer}/${rcpt_addr}/whiteclnt; Postfix
    // sends {rcpt_mailer}=virtual and {rcpt_addr}=bob@lab.test. Recipients
    // with different whitelist files cannot share one decision at the end
    // of DATA: the later one is refused for now (452 4.5.3) and gets the
    // message when the sender retries it alone.
    let mut st = setup(&["-U", "userdirs"]);
    st.files.push((
        "userdirs/virtual/bob@lab.test/whiteclnt".into(),
        "ok env_From list@sender.example\n".into(),
    ));
    let s = require!(MilterScene::start(st));
    let m = bulk(&s, "list@sender.example", "alice@lab.test", "digest");
    let env = from_relay("list@sender.example", &["alice@lab.test", "bob@lab.test"]);
    let out = s.send_and_settle(&env, &m);
    let codes: Vec<u16> = out.rcpt_replies.iter().map(|r| r.code).collect();
    assert_eq!(codes, [250, 452], "{out:?}\n{}", s.logs());
    assert!(out.rcpt_replies[1].text.contains("4.5.3"), "{out:?}");
    assert_eq!(out.last.code, 550, "{out:?}\n{}", s.logs());
    // the sender's retry for the deferred recipient
    let retry = from_relay("list@sender.example", &["bob@lab.test"]);
    let out = s.send_and_settle(&retry, &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    only_bob_got_it(&s);
}

#[test]
fn env_to_whitelist_delivers_only_to_whitelisted_recipient() {
    // One whitelist file for both recipients: bob's address is whitelisted
    // there, alice's is not. The bulk message is accepted, delivered to bob
    // and silently dropped for alice.
    let mut st = setup(&["-w", "whiteclnt"]);
    st.whiteclnt = Some("ok env_To bob@lab.test\n".into());
    let s = require!(MilterScene::start(st));
    let m = bulk(&s, "list@sender.example", "alice@lab.test", "digest");
    let env = from_relay("list@sender.example", &["alice@lab.test", "bob@lab.test"]);
    let out = s.send_and_settle(&env, &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    only_bob_got_it(&s);
}

#[test]
fn per_user_whitelist_by_dcc_userdir_macro() {
    // {dcc_userdir} set for every recipient with milter_macro_defaults.
    let mut st = setup(&["-U", "userdirs"]);
    st.postfix.macro_defaults = "{dcc_userdir}=shared/box".into();
    st.files.push((
        "userdirs/shared/box/whiteclnt".into(),
        "ok env_From list@sender.example\n".into(),
    ));
    let s = require!(MilterScene::start(st));
    let m = bulk(&s, "list@sender.example", "carol@example.test", "digest");
    let env = from_relay("list@sender.example", &["carol@example.test"]);
    let out = s.send_and_settle(&env, &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    assert_eq!(
        s.postfix.delivered("carol@example.test").len(),
        1,
        "{}",
        s.logs()
    );
}

#[test]
fn mail_is_delivered_while_dccd_is_down() {
    let mut s = require!(MilterScene::start(setup(&[])));
    s.dccd.stop();
    let m = msg::message(
        "a@sender.example",
        "bob@lab.test",
        "no server",
        &msg::unique(),
    );
    let out = s.send_and_settle(&from_relay("a@sender.example", &["bob@lab.test"]), &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    assert_eq!(s.postfix.delivered("bob@lab.test").len(), 1, "{}", s.logs());
}

#[test]
fn mail_is_delivered_while_dccd_does_not_answer() {
    // the server's port stays bound but nothing answers: dccm must give up
    // on it well within Postfix's milter timeouts (10 s connect, 30 s
    // command, 60 s content here)
    let mut s = require!(MilterScene::start(setup(&[])));
    s.dccd.freeze();
    let m = msg::message(
        "a@sender.example",
        "bob@lab.test",
        "hung server",
        &msg::unique(),
    );
    let t0 = std::time::Instant::now();
    let out = s.send_and_settle(&from_relay("a@sender.example", &["bob@lab.test"]), &m);
    let took = t0.elapsed();
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    let got = s.postfix.delivered("bob@lab.test");
    assert_eq!(got.len(), 1, "{}", s.logs());
    assert!(
        !s.postfix.log().contains("milter timeout"),
        "Postfix timed out on dccm after {took:?}\n{}",
        s.logs()
    );
    eprintln!("delivered after {took:?} with an unresponsive DCC server");
}
