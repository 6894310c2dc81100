//! Greylisting through sendmail (Debian's packages, unpacked by
//! scripts/e2e-deps.sh): our dccm `-G on` as its milter, our greylist
//! server `dccd -G on,3` (a three second embargo) beside our dccd. The
//! test's SMTP client plays the sending MTA and retries by itself; the
//! client address is 127.0.0.1, sendmail having nothing like XCLIENT.

use tally_e2e::dccd::BRAND;
use tally_e2e::greylist::{
    assert_embargo_reply, dccm_opts, friend_message, grey_arg, outwait_embargo, FRIEND,
    FRIEND_WHITECLNT,
};
use tally_e2e::msg::{self, header_starting};
use tally_e2e::require;
use tally_e2e::sendmail::scene::{SendmailScene, Setup};
use tally_e2e::smtp::{Envelope, Outcome};

fn setup(whiteclnt: Option<&str>) -> Setup {
    Setup {
        dccm_opts: dccm_opts(whiteclnt.is_some()),
        whiteclnt: whiteclnt.map(String::from),
        grey: Some(grey_arg()),
        ..Setup::default()
    }
}

fn assert_embargoed(out: &Outcome, s: &SendmailScene) {
    assert_embargo_reply(out, "temporary greylist embargoed", || s.logs());
}

#[test]
fn first_attempt_is_deferred_and_the_retry_delivered() {
    let s = require!(SendmailScene::start(setup(None)));
    let env = Envelope::new("a@sender.example", &["bob@lab.test"]);
    let m = msg::message("a@sender.example", "bob@lab.test", "hello", &msg::unique());
    let out = s.send(&env, &m);
    assert_embargoed(&out, &s);
    eprintln!("first attempt: {}", out.last);
    // a retry within the embargo is still deferred
    assert_embargoed(&s.send(&env, &m), &s);
    outwait_embargo();
    let out = s.send(&env, &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    let got = s.wait_delivered("bob@lab.test", 1);
    let h = header_starting(&got[0], &format!("X-DCC-{BRAND}-Metrics:"));
    let h = h.unwrap_or_else(|| panic!("no X-DCC header in\n{}\n{}", got[0], s.logs()));
    eprintln!("after the embargo: delivered with {h}");
    // the next message of the now familiar triple passes at once
    let m2 = msg::message("a@sender.example", "bob@lab.test", "again", &msg::unique());
    let out = s.send(&env, &m2);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    s.wait_delivered("bob@lab.test", 2);
}

#[test]
fn whitelisted_sender_is_never_embargoed() {
    let s = require!(SendmailScene::start(setup(Some(FRIEND_WHITECLNT))));
    let m = friend_message("carol@lab.test");
    let env = Envelope::new(FRIEND, &["carol@lab.test"]);
    let out = s.send(&env, &m);
    assert_eq!(out.last.code, 250, "{out:?}\n{}", s.logs());
    s.wait_delivered("carol@lab.test", 1);
}
