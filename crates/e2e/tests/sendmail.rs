//! sendmail (Debian's packages, unpacked by scripts/e2e-deps.sh) with our
//! dccm as its milter (`INPUT_MAIL_FILTER` with `F=T` and the `dcc_*`
//! macros of docs/sendmail.md), counting against our dccd; every message
//! sendmail relays goes to the test's SMTP sink.
//!
//! Thresholds are `-t CMN,2,3`: a message whose Body, Fuz1 or Fuz2 count
//! reaches 3 is bulk. Counts are preloaded with dccproc `-t 5` from the
//! same client home. The SMTP client is 127.0.0.1 (`localhost`): sendmail
//! has nothing like Postfix's XCLIENT.

use tally_e2e::dccd::BRAND;
use tally_e2e::msg::{self, header_starting};
use tally_e2e::require;
use tally_e2e::sendmail::scene::{SendmailScene, Setup};
use tally_e2e::smtp::Envelope;

/// Rule sets that set dccm's macros for chosen addresses: a sender
/// `isspam@...` sets `{dcc_isspam}` to a rejection text, a recipient
/// `notspam@...` sets `{dcc_notspam}`, a recipient `boxed@...` sets
/// `{dcc_userdir}` to `shared/box`. (sendmail joins unquoted words of a
/// macro value with its blank substitute `.`, so a text with blanks is
/// one quoted string; the quotes stay in the value.)
const RULES: &str = "\
SLocal_check_mail
R$* isspam @ $*\t$: $1 isspam @ $2 $(macro {dcc_isspam} $@ \"refused by a local rule\" $)
SLocal_check_rcpt
R$* notspam @ $*\t$: $1 notspam @ $2 $(macro {dcc_notspam} $@ yes $)
R$* boxed @ $*\t$: $1 boxed @ $2 $(macro {dcc_userdir} $@ shared/box $)
";

fn setup(extra: &[&str]) -> Setup {
    let mut opts = vec!["-t".to_string(), "CMN,2,3".to_string()];
    opts.extend(extra.iter().map(|s| s.to_string()));
    Setup {
        dccm_opts: opts,
        rules: RULES.into(),
        ..Setup::default()
    }
}

/// A new message whose checksums are already counted 5 times (bulk).
fn bulk(s: &SendmailScene, from: &str, to: &str, subject: &str) -> Vec<u8> {
    let m = msg::message(from, to, subject, &msg::unique());
    s.preload("5", &m);
    m
}

fn metrics(text: &str) -> Option<String> {
    header_starting(text, &format!("X-DCC-{BRAND}-Metrics:"))
}

#[test]
fn normal_message_is_relayed_with_x_dcc_header() {
    let s = require!(SendmailScene::start(setup(&[])));
    let m = msg::message("a@sender.example", "bob@lab.test", "hello", &msg::unique());
    let out = s.send(&Envelope::new("a@sender.example", &["bob@lab.test"]), &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    let got = s.wait_delivered("bob@lab.test", 1);
    let h = metrics(&got[0]);
    let h = h.unwrap_or_else(|| panic!("no X-DCC header in\n{}\n{}", got[0], s.logs()));
    assert!(h.contains("Body=1"), "{h}");
    eprintln!("relayed with {h}");
}

#[test]
fn bulk_message_is_rejected_at_end_of_data() {
    let s = require!(SendmailScene::start(setup(&[])));
    let m = bulk(&s, "bulk@sender.example", "bob@lab.test", "offer");
    let out = s.send(&Envelope::new("bulk@sender.example", &["bob@lab.test"]), &m);
    assert!(out.rcpt_replies.iter().all(|r| r.code == 250), "{out:?}");
    assert_eq!(out.last.code, 550, "{out:?}\n{}", s.logs());
    assert!(out.last.text.contains("rejected by DCC"), "{out:?}");
    eprintln!("end of data answered {}", out.last);
    assert!(s.sendmail.sink.messages().is_empty(), "{}", s.logs());
}

#[test]
fn blacklisted_sender_is_rejected() {
    let mut st = setup(&["-w", "whiteclnt"]);
    st.whiteclnt = Some("many env_From spammer@sender.example\n".into());
    let s = require!(SendmailScene::start(st));
    let m = msg::message(
        "spammer@sender.example",
        "bob@lab.test",
        "x",
        &msg::unique(),
    );
    let out = s.send(
        &Envelope::new("spammer@sender.example", &["bob@lab.test"]),
        &m,
    );
    assert_eq!(out.last.code, 550, "{out:?}\n{}", s.logs());
}

#[test]
fn dcc_isspam_from_a_rule_rejects_with_its_text() {
    let s = require!(SendmailScene::start(setup(&[])));
    let m = msg::message("isspam@sender.example", "bob@lab.test", "x", &msg::unique());
    let out = s.send(
        &Envelope::new("isspam@sender.example", &["bob@lab.test"]),
        &m,
    );
    assert_eq!(out.last.code, 550, "{out:?}\n{}", s.logs());
    assert_eq!(out.last.text, "5.7.1 refused by a local rule", "{out:?}");
    eprintln!("{{dcc_isspam}} gave {}", out.last);
    assert!(s.sendmail.sink.messages().is_empty(), "{}", s.logs());
}

#[test]
fn dcc_notspam_from_a_rule_lets_bulk_mail_through_as_whitelisted() {
    // the original adds its whitelist header here although dccm(8) says
    // no header
    let s = require!(SendmailScene::start(setup(&[])));
    let m = bulk(&s, "bulk@sender.example", "notspam@lab.test", "offer");
    let env = Envelope::new("bulk@sender.example", &["notspam@lab.test"]);
    let out = s.send(&env, &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    let got = s.wait_delivered("notspam@lab.test", 1);
    let h = metrics(&got[0]).unwrap_or_default();
    assert!(h.ends_with("; whitelist"), "{}", got[0]);
}

#[test]
fn dcc_userdir_from_a_rule_picks_the_per_user_whitelist() {
    let mut st = setup(&["-U", "userdirs"]);
    st.files.push((
        "userdirs/shared/box/whiteclnt".into(),
        "ok env_From list@sender.example\n".into(),
    ));
    let s = require!(SendmailScene::start(st));
    let m = bulk(&s, "list@sender.example", "boxed@lab.test", "digest");
    let out = s.send(
        &Envelope::new("list@sender.example", &["boxed@lab.test"]),
        &m,
    );
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    s.wait_delivered("boxed@lab.test", 1);
    // without the macro the same bulk message is refused
    let m = bulk(&s, "list@sender.example", "carol@lab.test", "digest");
    let out = s.send(
        &Envelope::new("list@sender.example", &["carol@lab.test"]),
        &m,
    );
    assert_eq!(out.last.code, 550, "{out:?}\n{}", s.logs());
}

#[test]
fn mail_waits_while_dccm_is_down() {
    // F=T: without its milter sendmail refuses mail for now, so the
    // sender keeps it and retries
    let mut s = require!(SendmailScene::start(setup(&[])));
    s.dccm.stop();
    let m = msg::message("a@sender.example", "bob@lab.test", "x", &msg::unique());
    let env = Envelope::new("a@sender.example", &["bob@lab.test"]);
    let out = s.send(&env, &m);
    assert_eq!(out.last.code, 451, "{out:?}\n{}", s.logs());
    eprintln!("with dccm down, MAIL FROM answered {}", out.last);
    assert!(s.sendmail.sink.messages().is_empty());
}
