//! Greylisting checked against the recorded requests and answers of the
//! original (`proto/udp/grey_*` vectors).

use super::*;
use crate::tgts::{OK, OK2, TOO_MANY};

/// A checksum from 32 hex digits.
fn h(s: &str) -> Sum {
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = s
            .get(2 * i..2 * i + 2)
            .and_then(|b| u8::from_str_radix(b, 16).ok())
            .unwrap_or(0);
    }
    Sum(out)
}

/// The checksums of `grey_report_new` (msg1.eml to bob@example.net).
fn msg1() -> MsgCks {
    let mut c = MsgCks::new();
    c.set_ip(h("9c157f0051334373c67a5d5c316d941c"));
    for (ty, s) in [
        (CkType::EnvFrom, "c160f8cc69a4f0bf2b0362752353d060"),
        (CkType::From, "e347582aa46911ffb7dd706915e56dd8"),
        (CkType::Sub, "b051ad5fc434ffbdc10b44e1ea83d91f"),
        (CkType::MessageId, "a5be58ae48d4cf97c6058333d226cc37"),
        (CkType::Received, "e9441a648a3faf7f1eeb699f09825734"),
        (CkType::Body, "e862fc08dfcfff1f411a7ae976704859"),
        (CkType::Fuz1, "9515033c04099f442539fcaec36b4a10"),
        (CkType::Fuz2, "82c3a64bb10e7af6b8cccbea6c0c0b63"),
    ] {
        c.set(ty, h(s), true);
    }
    c
}

const ON: GreyOpt = GreyOpt {
    on: true,
    mask_bits: None,
};

#[test]
fn the_request_is_the_recorded_one() {
    let mut g = Greylist::new(0);
    let i = g.add_rcpt("<bob@example.net>", GreyRcptSws::default(), false, false);
    // dccifd's env_To checksum goes to the DCC server, not the greylist
    let mut cks = msg1();
    cks.set(CkType::EnvTo, h("00112233445566778899aabbccddeeff"), true);
    let req = g.request(i, &ON, &cks, None).expect("a request");
    assert_eq!(req.op, GreyOp::Report);
    let want: Vec<(CkType, Sum)> = [
        (CkType::Ip, "9c157f0051334373c67a5d5c316d941c"),
        (CkType::EnvFrom, "c160f8cc69a4f0bf2b0362752353d060"),
        (CkType::From, "e347582aa46911ffb7dd706915e56dd8"),
        (CkType::Sub, "b051ad5fc434ffbdc10b44e1ea83d91f"),
        (CkType::MessageId, "a5be58ae48d4cf97c6058333d226cc37"),
        (CkType::Received, "e9441a648a3faf7f1eeb699f09825734"),
        (CkType::Body, "e862fc08dfcfff1f411a7ae976704859"),
        (CkType::Fuz1, "9515033c04099f442539fcaec36b4a10"),
        (CkType::Fuz2, "82c3a64bb10e7af6b8cccbea6c0c0b63"),
        (CkType::GreyMsg, "b393fde969b66381cf6185fac173507f"),
        (CkType::GreyTriple, "03f933f3e8429cd47559b9620e6af487"),
    ]
    .iter()
    .map(|&(t, s)| (t, h(s)))
    .collect();
    assert_eq!(req.cks, want);
}

#[test]
fn whitelisted_blacklisted_and_query_recipients() {
    let cks = msg1();
    let mut g = Greylist::new(0);
    let w = g.add_rcpt("w@example.net", GreyRcptSws::default(), true, false);
    let b = g.add_rcpt("b@example.net", GreyRcptSws::default(), false, true);
    let off = g.add_rcpt(
        "o@example.net",
        GreyRcptSws {
            off: true,
            ..GreyRcptSws::default()
        },
        false,
        false,
    );
    assert_eq!(
        g.request(w, &ON, &cks, None).map(|r| r.op),
        Some(GreyOp::White)
    );
    assert_eq!(
        g.request(b, &ON, &cks, None).map(|r| r.op),
        Some(GreyOp::Query)
    );
    assert!(g.request(off, &ON, &cks, None).is_none());
    // a blacklisted first attempt revokes nothing and embargoes nothing
    g.apply(b, Ok(GreyAnswer { msg: 0, triple: 0 }), false);
    assert_eq!(g.rcpts[b].result, GreyResult::Off);
    assert_eq!(g.st & ST_GREY_EMBARGO, 0);
    // -G off, -Q, grey-off
    assert!(g.request(w, &GreyOpt::default(), &cks, None).is_none());
    let mut r = Greylist::new(ST_QUERY);
    let i = r.add_rcpt("x@example.net", GreyRcptSws::default(), false, false);
    assert_eq!(
        r.request(i, &ON, &cks, None).map(|r| r.op),
        Some(GreyOp::Report)
    );
    let mut q = Greylist::new(ST_QUERY_GREY);
    let i = q.add_rcpt("x@example.net", GreyRcptSws::default(), true, false);
    assert_eq!(
        q.request(i, &ON, &cks, None).map(|r| r.op),
        Some(GreyOp::Query)
    );
    let mut o = Greylist::new(ST_GREY_OFF);
    let i = o.add_rcpt("x@example.net", GreyRcptSws::default(), false, false);
    assert!(o.request(i, &ON, &cks, None).is_none());
}

#[test]
fn missing_ip_or_sender_fails() {
    let mut cks = msg1();
    cks.remove(CkType::Ip);
    let mut g = Greylist::new(0);
    let i = g.add_rcpt("bob@example.net", GreyRcptSws::default(), false, false);
    assert!(g.request(i, &ON, &cks, None).is_none());
    assert_eq!(g.rcpts[i].result, GreyResult::Fail);
    assert_eq!(g.errors, ["IP address not available for greylisting"]);
    let mut cks = msg1();
    cks.remove(CkType::EnvFrom);
    assert!(g.request(i, &ON, &cks, None).is_none());
    assert_eq!(g.errors[1], "env_From not available for greylisting");
    assert_eq!(g.st & ST_GREY_EMBARGO, 0);
    // -x: a message that cannot be greylisted is embargoed
    let mut g = Greylist::new(0);
    g.try_extra_hard = true;
    let i = g.add_rcpt("bob@example.net", GreyRcptSws::default(), false, false);
    assert!(g.request(i, &ON, &cks, None).is_none());
    assert!(g.embargo(&[false], false));
}

#[test]
fn answers_as_recorded() {
    let cks = msg1();
    let mut g = Greylist::new(0);
    // a recipient whose greylist request got (msg, triple): its result
    // and embargo number
    let answer = |g: &mut Greylist, msg: u32, triple: u32| {
        let i = g.add_rcpt("bob@example.net", GreyRcptSws::default(), false, false);
        assert!(g.request(i, &ON, &cks, None).is_some());
        g.apply(i, Ok(GreyAnswer { msg, triple }), false);
        (g.rcpts[i].result, g.rcpts[i].embargo_num)
    };
    // grey_report_new: msg=0 triple=0, embargo #1 counted now
    assert_eq!(answer(&mut g, 0, 0), (GreyResult::Embargo, 1));
    assert_eq!(g.early_tgts, 1);
    // grey_report_embargo2: msg=1 triple=1, embargo #2, not counted again
    assert_eq!(answer(&mut g, 1, 1), (GreyResult::Embargo, 2));
    assert_eq!((g.early_tgts, g.max_embargo_num), (1, 2));
    assert_ne!(g.st & ST_GREY_EMBARGO, 0);
    assert_eq!(g.dcc_tgts(0, 2, 0), 1);
    let mut g = Greylist::new(0);
    // grey_report_embargo_end: msg=1 triple=OK
    assert_eq!(answer(&mut g, 1, OK).0, GreyResult::EmbargoEnd);
    // grey_report_pass: msg=0 triple=many
    assert_eq!(answer(&mut g, 0, TOO_MANY).0, GreyResult::Pass);
    assert_eq!(answer(&mut g, 0, OK2).0, GreyResult::White);
    assert!(g.ended);
    assert_eq!(g.st & ST_GREY_EMBARGO, 0);
    // the ended recipient was counted at its first attempt
    assert_eq!(g.dcc_tgts(0, 3, 0), 2);
    assert_eq!(g.dcc_tgts(ST_QUERY, 3, 0), 0);
    assert_eq!(g.dcc_tgts(ST_CLNT_ISSPAM, 3, 1), 4);
}

#[test]
fn a_silent_server_delivers_unless_told_to_try_hard() {
    let cks = msg1();
    for hard in [false, true] {
        let mut g = Greylist::new(0);
        let i = g.add_rcpt("bob@example.net", GreyRcptSws::default(), false, false);
        assert!(g.request(i, &ON, &cks, None).is_some());
        g.apply(i, Err("no working greylist server".into()), hard);
        assert_eq!(g.rcpts[i].result, GreyResult::Fail);
        assert_eq!(g.embargo(&[false], false), hard);
        assert_eq!(g.errors, ["no working greylist server"]);
    }
}

#[test]
fn spam_is_rejected_and_its_embargo_restored() {
    let cks = msg1();
    let mut g = Greylist::new(0);
    let i = g.add_rcpt("bob@example.net", GreyRcptSws::default(), false, false);
    assert!(g.request(i, &ON, &cks, None).is_some());
    g.apply(i, Ok(GreyAnswer { msg: 0, triple: 0 }), false);
    let s = g.spam_request(i, &cks, false).expect("GREY_SPAM");
    assert_eq!(s.ip, h("9c157f0051334373c67a5d5c316d941c"));
    assert_eq!(s.msg, h("b393fde969b66381cf6185fac173507f"));
    assert_eq!(s.triple, h("03f933f3e8429cd47559b9620e6af487"));
    assert_eq!(g.rcpts[i].result, GreyResult::Spam);
    assert!(g.spam_request(i, &cks, false).is_none());
    // scenario l5: bulk mail is rejected, not embargoed
    assert!(!g.embargo(&[true], false));
    // greylist-ignore-spam-on: embargoed even though spam
    let ign = GreyRcptSws {
        ignore_spam: true,
        ..GreyRcptSws::default()
    };
    let mut g = Greylist::new(0);
    let i = g.add_rcpt("bob@example.net", ign, false, false);
    assert!(g.request(i, &ON, &cks, None).is_some());
    g.apply(i, Ok(GreyAnswer { msg: 0, triple: 0 }), false);
    assert!(g.spam_request(i, &cks, false).is_none());
    assert!(g.embargo(&[true], false));
}

#[test]
fn several_recipients_one_embargo() {
    // scenario l1.6: bob passed, dave new: the message is embargoed
    let cks = msg1();
    let mut g = Greylist::new(0);
    let bob = g.add_rcpt("bob@example.net", GreyRcptSws::default(), false, false);
    let dave = g.add_rcpt("dave@example.net", GreyRcptSws::default(), false, false);
    let rb = g.request(bob, &ON, &cks, None).expect("bob");
    let rd = g.request(dave, &ON, &cks, None).expect("dave");
    assert_ne!(rb.cks.last(), rd.cks.last());
    g.apply(
        bob,
        Ok(GreyAnswer {
            msg: 0,
            triple: TOO_MANY,
        }),
        false,
    );
    g.apply(dave, Ok(GreyAnswer { msg: 0, triple: 0 }), false);
    assert_eq!(g.dcc_tgts(0, 2, 0), 1);
    assert!(g.embargo(&[false, false], false));
    let log = g.log_text(false);
    let want = "       greylist recipient\n\
\x20         bob@example.net: ";
    assert!(log.starts_with(want), "{log}");
    assert!(log.contains(" Pass\n"), "{log}");
    assert!(log.ends_with(" Embargo #1\n\n"), "{log}");
    assert_eq!(log.lines().count(), 6);
    let user = g.rcpt_log_text(dave, true);
    assert!(
        user.starts_with("       greylist recipient query\n"),
        "{user}"
    );
    assert!(g.wants_user_log(dave));
}

#[test]
fn the_log_lines_line_up() {
    let cks = msg1();
    let mut g = Greylist::new(0);
    let i = g.add_rcpt("<bob@example.net>", GreyRcptSws::default(), false, false);
    assert!(g.request(i, &ON, &cks, None).is_some());
    g.apply(i, Ok(GreyAnswer { msg: 0, triple: 0 }), false);
    let want = "       greylist recipient\n\
\x20         bob@example.net: b393fde9 69b66381 cf6185fa c173507f \n\
\x20                          03f933f3 e8429cd4 7559b962 0e6af487 Embargo #1\n\n";
    assert_eq!(g.log_text(false), want);
}
