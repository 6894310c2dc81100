//! Properties of the client's greylisting: `-G` arguments of any text
//! and greylist answers of any value never panic, and the decision stays
//! within its bounds.

use proptest::prelude::*;
use tally_ck::{CkType, Sum};
use tally_engine::cks::MsgCks;
use tally_engine::grey::{GreyAnswer, GreyOpt, GreyRcptSws, GreyResult, Greylist};
use tally_engine::state::{ST_CLNT_ISSPAM, ST_GREY_EMBARGO};

fn msg(ip: bool) -> MsgCks {
    let mut c = MsgCks::new();
    if ip {
        c.set_ip(Sum([1; 16]));
    }
    c.set(CkType::EnvFrom, Sum([2; 16]), true);
    c.set(CkType::Body, Sum([3; 16]), true);
    c
}

proptest! {
    #[test]
    fn any_g_argument(arg in "[a-zA-Z0-9/,]{0,24}", before in any::<bool>()) {
        let mut o = GreyOpt { on: before, mask_bits: None };
        let old = o;
        let res = o.parse(&arg);
        if let Some(b) = o.mask_bits {
            prop_assert!(b < 128);
        }
        match res {
            Ok(()) => {}
            Err(e) => {
                prop_assert!(e.contains(&arg));
                // words before the bad one stay applied, as in the
                // original; a bad first word changes nothing
                let first = arg.split(',').next().unwrap_or("");
                let mut probe = old;
                if probe.parse(first).is_err() || first.is_empty() {
                    prop_assert_eq!(o, old);
                }
            }
        }
    }

    #[test]
    fn any_answers(
        rcpts in proptest::collection::vec(
            (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(),
             proptest::option::of((0u32..4, prop_oneof![0u32..5, Just(0x00ff_fff0u32),
                 Just(0x00ff_fff1u32), Just(0x00ff_fff2u32), any::<u32>()])),
             any::<bool>()),
            1..6),
        ip in any::<bool>(),
        hard in any::<bool>(),
        ignore in any::<bool>(),
        st in prop_oneof![Just(0u32), Just(ST_CLNT_ISSPAM)],
    ) {
        let on = GreyOpt { on: true, mask_bits: Some(120) };
        let cks = msg(ip);
        let mut g = Greylist::new(0);
        g.try_extra_hard = hard;
        let mut spam = Vec::new();
        for (n, (white, black, off, ign, answer, is_spam)) in rcpts.iter().enumerate() {
            let sws = GreyRcptSws { off: *off, ignore_spam: *ign, ..GreyRcptSws::default() };
            let i = g.add_rcpt(&format!("r{n}@example.net"), sws, *white, *black);
            let req = g.request(i, &on, &cks, "192.0.2.1".parse().ok());
            prop_assert_eq!(req.is_some(), ip && !off);
            if req.is_some() {
                let a = match answer {
                    Some((msg, triple)) => Ok(GreyAnswer { msg: *msg, triple: *triple }),
                    None => Err("no answer".to_string()),
                };
                g.apply(i, a, hard);
            }
            spam.push(*is_spam);
        }
        let n = rcpts.len() as u32;
        prop_assert!(g.dcc_tgts(st, n, 1) <= n + 1);
        let any_embargo = g.rcpts.iter().any(|r| r.result == GreyResult::Embargo);
        let any_fail = g.rcpts.iter().any(|r| r.result == GreyResult::Fail);
        prop_assert_eq!(g.st & ST_GREY_EMBARGO != 0, any_embargo || (hard && any_fail));
        for (i, &is_spam) in spam.iter().enumerate() {
            if is_spam {
                let _ = g.spam_request(i, &cks, ignore);
            }
        }
        let embargoed = g.embargo(&spam, ignore);
        prop_assert!(!embargoed || any_embargo || (hard && any_fail));
        let shown = g.rcpts.iter().filter(|r| r.result != GreyResult::Off).count();
        let log = g.log_text(false);
        prop_assert_eq!(log.lines().count(), if shown == 0 { 0 } else { 2 + 2 * shown });
    }
}
