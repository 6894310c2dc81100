//! The whiteclnt files of the recorded dccm/dccifd scenarios, and the
//! verdicts the original reached with them.

use std::net::IpAddr;
use tally_ck::simple::{ip_sum, str_sum};
use tally_ck::{CkType, Sum};
use tally_white::{
    parse_file, FileKind, Filters, Layered, Listing, MtaOpinion, NoIncludes, Resolutions, WhiteList,
};

fn data(name: &str) -> Vec<u8> {
    let p = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn load(name: &str, kind: FileKind) -> WhiteList {
    let parsed = parse_file(name, &data(name), kind, &mut NoIncludes);
    let built = parsed.build(&Resolutions::new());
    assert!(built.errors.is_empty(), "{name}: {:?}", built.errors);
    built.list
}

fn s(v: &str) -> Sum {
    str_sum(None, v.as_bytes())
}

fn ip(v: &str) -> IpAddr {
    v.parse().unwrap()
}

/// The checksums dccm computes for the scenario messages that matter here.
fn msg(env_from: &str, from: &str, client: &str, extra: &[(CkType, Sum)]) -> Vec<(CkType, Sum)> {
    let mut v = vec![
        (CkType::Ip, ip_sum(ip(client))),
        (CkType::EnvFrom, s(env_from)),
        (CkType::From, s(from)),
    ];
    v.extend_from_slice(extra);
    v.push((CkType::MessageId, s("<F1@example.com>")));
    v.push((CkType::Body, s("body")));
    v
}

#[test]
fn every_golden_file_parses_clean() {
    for f in ["d", "f", "f2", "f3", "f5", "f6", "g", "h2", "if"] {
        load(&format!("whiteclnt-{f}"), FileKind::Global);
    }
    for u in ["bob", "carol", "erin", "frank", "rtrap", "trap"] {
        load(&format!("userdirs/local/{u}/whiteclnt"), FileKind::PerUser);
    }
}

#[test]
fn scenario_f1_entries() {
    let w = load("whiteclnt-f", FileKind::Global);
    let client = "203.0.113.11";
    let check = |sums: &[(CkType, Sum)], c: &str| w.check(sums, Some(ip(c))).listing;
    // f1.1 ok env_from
    assert_eq!(
        check(&msg("<alice-ok@example.com>", "x", client, &[]), client),
        Listing::Listed
    );
    // f1.2 ok ip
    assert_eq!(
        check(&msg("<a@example.com>", "x", "192.0.2.5", &[]), "192.0.2.5"),
        Listing::Listed
    );
    // f1.3: From with a display name does not match "many from"
    let m = msg(
        "<alice@example.com>",
        "Spammer <spammer@example.com>",
        client,
        &[],
    );
    assert_eq!(check(&m, client), Listing::Unlisted);
    // f1.3b: the bare address does
    let m = msg("<alice@example.com>", "<spammer@example.com>", client, &[]);
    assert_eq!(check(&m, client), Listing::Black);
    // f1.4: one ok2 only (From has a display name)
    let m = msg("<half@example.com>", "Half <half@example.com>", client, &[]);
    assert_eq!(check(&m, client), Listing::Unlisted);
    // f1.4b: two ok2
    let m = msg("<half@example.com>", "half@example.com", client, &[]);
    assert_eq!(check(&m, client), Listing::Listed);
    // f1.5: single ok2
    let m = msg("<onlyhalf@example.com>", "x", client, &[]);
    assert_eq!(check(&m, client), Listing::Unlisted);
    // f1.6: substitute List-ID
    let sub = (
        CkType::Sub,
        str_sum(Some(b"list-id"), b"<announce.lists.example.org>"),
    );
    let m = msg("<alice@example.com>", "x", client, &[sub]);
    assert_eq!(check(&m, client), Listing::Listed);
    // f1.7: "many message-id <>" is the checksum of an empty Message-ID
    let mut m = msg("<alice@example.com>", "x", client, &[]);
    m.retain(|(t, _)| *t != CkType::MessageId);
    m.push((CkType::MessageId, s("")));
    assert_eq!(check(&m, client), Listing::Black);
    // f1.8 ok env_to
    assert_eq!(w.check_env_to(b"<wlbob@example.net>"), Listing::Listed);
    assert_eq!(w.check_env_to(b"<carol@example.net>"), Listing::Unlisted);
    assert_eq!(w.check_env_to(b"wlbob@example.net"), Listing::Listed);
}

#[test]
fn scenario_f1_recipients() {
    let w = load("whiteclnt-f", FileKind::Global);
    let lay = Layered {
        global: &w,
        user: None,
    };
    let client = "203.0.113.19";
    let m = msg("<alice@example.com>", "x", client, &[]);
    let f = lay.filters(Filters::default(), false, false);
    let r = |to: &str| {
        lay.recipient(
            &m,
            Some(ip(client)),
            to.as_bytes(),
            None,
            f,
            MtaOpinion::None,
        )
    };
    assert!(r("<wlbob@example.net>").white);
    let carol = r("<carol@example.net>");
    assert!(!carol.white && !carol.black);
}

#[test]
fn scenario_d_blacklist() {
    let w = load("whiteclnt-d", FileKind::Global);
    let c = "198.51.100.48";
    let m = msg("<spammer@example.com>", "x", c, &[]);
    assert!(w.check(&m, Some(ip(c))).is_blacklisted());
    let m = msg("<alice@example.com>", "x", c, &[]);
    assert_eq!(w.check(&m, Some(ip(c))).listing, Listing::Unlisted);
}

#[test]
fn scenario_f5_relays() {
    let w = load("whiteclnt-f5", FileKind::Global);
    let mx = ip("192.0.2.77");
    let mxdcc = ip("192.0.2.78");
    assert_eq!(w.relay(&ip_sum(mx), mx), Some(tally_white::Tgts::MX));
    assert_eq!(
        w.relay(&ip_sum(mxdcc), mxdcc),
        Some(tally_white::Tgts::MXDCC)
    );
    let other = ip("203.0.113.99");
    assert_eq!(w.relay(&ip_sum(other), other), None);
    // mail from the relay itself counts as whitelisted
    let m = msg("<a@example.com>", "x", "192.0.2.77", &[]);
    assert!(w.check(&m, Some(mx)).is_whitelisted());
}

#[test]
fn scenario_f6_substitutes() {
    let w = load("whiteclnt-f6", FileKind::Global);
    let host = (
        CkType::Sub,
        str_sum(Some(b"mail_host"), b"relay-ok.example.com"),
    );
    let helo = (CkType::Sub, str_sum(Some(b"helo"), b"evil.example"));
    assert!(w.check(&[host], None).is_whitelisted());
    assert!(w.check(&[helo], None).is_blacklisted());
    assert!(w.check(&[helo, host], None).is_whitelisted());
}

#[test]
fn options_of_golden_files() {
    use tally_white::Switches;
    let f2 = load("whiteclnt-f2", FileKind::Global);
    assert!(f2.switches().has(Switches::DISCARD_OK));
    let f3 = load("whiteclnt-f3", FileKind::Global);
    assert!(
        Filters::default()
            .apply(f3.switches(), false, false)
            .dcc_off
    );
    let h2 = load("whiteclnt-h2", FileKind::Global);
    let f = Filters::default().apply(h2.switches(), false, false);
    assert!(f.log_all);
    assert_eq!(f.log_subdir(), Some(tally_white::LogSubdir::Day));
    let frank = load("userdirs/local/frank/whiteclnt", FileKind::PerUser);
    let f = Filters::default().apply(frank.switches(), false, false);
    assert_eq!(f.log_subdir(), Some(tally_white::LogSubdir::Minute));
}

#[test]
fn scenario_g_per_user() {
    let main = load("whiteclnt-g", FileKind::Global);
    let bob = load("userdirs/local/bob/whiteclnt", FileKind::PerUser);
    let carol = load("userdirs/local/carol/whiteclnt", FileKind::PerUser);
    let erin = load("userdirs/local/erin/whiteclnt", FileKind::PerUser);
    let c = "203.0.113.72";
    let friend = msg("<friend@example.com>", "x", c, &[]);
    let alice = msg("<alice@example.com>", "x", c, &[]);
    let run = |user: Option<&WhiteList>, m: &[(CkType, Sum)], to: &str| {
        let lay = Layered {
            global: &main,
            user,
        };
        let f = lay.filters(Filters::default(), false, false);
        lay.recipient(m, Some(ip(c)), to.as_bytes(), None, f, MtaOpinion::None)
    };
    // g.2: bob whitelists friend
    assert!(run(Some(&bob), &friend, "<bob@example.net>").white);
    // g.3: not alice
    assert!(!run(Some(&bob), &alice, "<bob@example.net>").white);
    // dave has no file: friend is not whitelisted for him
    assert!(!run(None, &friend, "<dave@example.net>").white);
    // the main file whitelists postmaster for everybody
    assert!(run(None, &alice, "<postmaster@example.net>").white);
    // carol: threshold CMN,MANY
    let lay = Layered {
        global: &main,
        user: Some(&carol),
    };
    let t = lay.thresholds(&Default::default());
    assert_eq!(t.get(CkType::Body), Some(tally_white::Tgts::MANY));
    // erin: dcc-off
    let lay = Layered {
        global: &main,
        user: Some(&erin),
    };
    assert!(lay.filters(Filters::default(), false, false).dcc_off);
    // files differ for compatibility purposes
    assert_ne!(bob.fingerprint(), main.fingerprint());
    assert!(carol.is_null_for_compat());
}

#[test]
fn scenario_g2_traps() {
    let main = WhiteList::empty(FileKind::Global, "whiteclnt");
    let trap = load("userdirs/local/trap/whiteclnt", FileKind::PerUser);
    let rtrap = load("userdirs/local/rtrap/whiteclnt", FileKind::PerUser);
    let c = "203.0.113.131";
    let m = msg("<alice@example.com>", "x", c, &[]);
    for (u, discard) in [(&trap, true), (&rtrap, false)] {
        let lay = Layered {
            global: &main,
            user: Some(u),
        };
        let f = lay.filters(Filters::default(), true, false);
        assert!(f.trap && f.grey_off && !f.dcc_off);
        assert_eq!(f.trap_discard, discard);
        let r = lay.recipient(
            &m,
            Some(ip(c)),
            b"<trap@example.net>",
            None,
            f,
            MtaOpinion::None,
        );
        assert!(r.black && !r.white);
        // unlisted body checksums count as MANY in a trap file
        assert!(u.check(&m, Some(ip(c))).is_blacklisted());
    }
}

#[test]
fn dccifd_16_multi_recipient_userdirs() {
    let main = load("whiteclnt-if", FileKind::Global);
    let bob = load("userdirs-if/bob/whiteclnt", FileKind::PerUser);
    let carol = load("userdirs-if/carol/whiteclnt", FileKind::PerUser);
    let c = "203.0.113.16";
    let run = |user: Option<&WhiteList>, m: &[(CkType, Sum)], to: &str| {
        let lay = Layered {
            global: &main,
            user,
        };
        let f = lay.filters(Filters::initial(true, false), false, false);
        lay.recipient(m, Some(ip(c)), to.as_bytes(), None, f, MtaOpinion::None)
    };
    let friend = msg("<friend@example.com>", "x", c, &[]);
    assert!(run(Some(&bob), &friend, "<bob@example.net>").white);
    assert!(!run(Some(&carol), &friend, "<carol@example.net>").white);
    assert!(!run(None, &friend, "<dave@example.net>").white);
    // 16b: alice is nobody's friend
    let alice = msg("<alice@example.com>", "x", c, &[]);
    assert!(!run(Some(&bob), &alice, "<bob@example.net>").white);
    // 18: alice-ok is whitelisted globally, for everybody
    let ok = msg("<alice-ok@example.com>", "x", c, &[]);
    assert!(run(Some(&bob), &ok, "<bob@example.net>").white);
    assert!(run(None, &ok, "<dave@example.net>").white);
    // the global blacklist holds for a recipient whose file says nothing
    let spam = msg("<spammer@example.com>", "x", c, &[]);
    assert!(run(Some(&carol), &spam, "<carol@example.net>").black);
    // 31: List-ID substitute
    let sub = (
        CkType::Sub,
        str_sum(Some(b"list-id"), b"<announce.lists.example.org>"),
    );
    let m = msg("<alice@example.com>", "x", c, &[sub]);
    assert!(run(None, &m, "<dave@example.net>").white);
}

#[test]
fn scenario_g_incompatible_recipients() {
    use tally_white::{compat, Compat, RcptProfile, Tgts, Thresholds};
    let main = load("whiteclnt-g", FileKind::Global);
    let bob = load("userdirs/local/bob/whiteclnt", FileKind::PerUser);
    let carol = load("userdirs/local/carol/whiteclnt", FileKind::PerUser);
    let trap = load("userdirs/local/trap/whiteclnt", FileKind::PerUser);
    // dccm -t CMN,2,3 -a REJECT
    let mut base = Thresholds::default();
    for t in [CkType::Body, CkType::Fuz1, CkType::Fuz2] {
        base.set(t, Tgts(3));
    }
    let profile = |u: Option<&WhiteList>| {
        let lay = Layered {
            global: &main,
            user: u,
        };
        let f = lay.filters(Filters::initial(true, false), false, false);
        RcptProfile::new(u, f, lay.thresholds(&base))
    };
    let (pb, pc, pd, pt) = (
        profile(Some(&bob)),
        profile(Some(&carol)),
        profile(None),
        profile(Some(&trap)),
    );
    // g.5 / g.12: bob then carol
    assert_eq!(
        compat(&[pb], &pb.thresholds, &pc, false),
        Compat::IncompatibleWhitelists
    );
    // carol then bob: bob's lower thresholds conflict
    assert_eq!(
        compat(&[pc], &pc.thresholds, &pb, false),
        Compat::ThresholdConflict
    );
    // g.6 / g.7: bob and dave (no file)
    assert_eq!(
        compat(&[pb], &pb.thresholds, &pd, false),
        Compat::IncompatibleWhitelists
    );
    assert_eq!(
        compat(&[pd], &pd.thresholds, &pb, false),
        Compat::IncompatibleWhitelists
    );
    // g2.3: bob then trap
    assert_ne!(compat(&[pb], &pb.thresholds, &pt, false), Compat::Ok);
    // after a discarding trap anything goes
    assert_eq!(compat(&[pt], &pt.thresholds, &pb, false), Compat::Ok);
    // two recipients without files (f1.9, f1.11)
    assert_eq!(compat(&[pd], &pd.thresholds, &pd, false), Compat::Ok);
}
