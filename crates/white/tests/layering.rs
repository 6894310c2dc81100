//! How a per-user file, the global file and the MTA's opinion combine
//! for one recipient.

use tally_ck::simple::str_sum;
use tally_ck::{CkType, Sum};
use tally_white::{
    parse_file, FileKind, Filters, Layered, MtaOpinion, NoIncludes, Resolutions, WhiteList,
};

fn list(text: &str, kind: FileKind) -> WhiteList {
    let b = parse_file("w", text.as_bytes(), kind, &mut NoIncludes).build(&Resolutions::new());
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    b.list
}

fn sums(env_from: &str) -> Vec<(CkType, Sum)> {
    vec![(CkType::EnvFrom, str_sum(None, env_from.as_bytes()))]
}

fn run(
    g: &WhiteList,
    u: Option<&WhiteList>,
    from: &str,
    to: &str,
    mta: MtaOpinion,
) -> (bool, bool) {
    let lay = Layered { global: g, user: u };
    let f = lay.filters(Filters::initial(true, false), false, false);
    let r = lay.recipient(&sums(from), None, to.as_bytes(), None, f, mta);
    (r.white, r.black)
}

#[test]
fn per_user_overrides_global() {
    let g = list(
        "many env_from friend@x\nok env_from boss@x\n",
        FileKind::Global,
    );
    let u = list(
        "ok env_from friend@x\nmany env_from boss@x\n",
        FileKind::PerUser,
    );
    assert_eq!(
        run(&g, Some(&u), "friend@x", "bob", MtaOpinion::None),
        (true, false)
    );
    assert_eq!(
        run(&g, Some(&u), "boss@x", "bob", MtaOpinion::None),
        (false, true)
    );
    assert_eq!(
        run(&g, None, "friend@x", "dave", MtaOpinion::None),
        (false, true)
    );
    // an empty per-user answer leaves the global one
    let empty = list("option log-all\n", FileKind::PerUser);
    assert_eq!(
        run(&g, Some(&empty), "boss@x", "bob", MtaOpinion::None),
        (true, false)
    );
}

#[test]
fn global_env_to_whitelist_beats_global_blacklist() {
    let g = list(
        "many env_from spam@x\nok env_to postmaster\n",
        FileKind::Global,
    );
    assert_eq!(
        run(&g, None, "spam@x", "postmaster", MtaOpinion::None),
        (true, false)
    );
    assert_eq!(
        run(&g, None, "spam@x", "bob", MtaOpinion::None),
        (false, true)
    );
}

#[test]
fn mta_first_or_last() {
    let g = list("ok env_from friend@x\n", FileKind::Global);
    // MTA-last (default): the MTA has the last word
    assert_eq!(
        run(&g, None, "friend@x", "bob", MtaOpinion::Spam),
        (false, true)
    );
    let first = list("ok env_from friend@x\noption MTA-first\n", FileKind::Global);
    assert_eq!(
        run(&first, None, "friend@x", "bob", MtaOpinion::Spam),
        (true, false)
    );
    assert_eq!(
        run(&first, None, "other@x", "bob", MtaOpinion::Spam),
        (false, true)
    );
}

#[test]
fn ok2_env_to_turns_dcc_on() {
    let g = list("option DCC-off\nok2 env_to bob\n", FileKind::Global);
    let lay = Layered {
        global: &g,
        user: None,
    };
    let f = lay.filters(Filters::default(), false, false);
    assert!(f.dcc_off);
    let r = lay.recipient(&sums("a@x"), None, b"bob", None, f, MtaOpinion::None);
    assert!(r.use_dcc && !r.white && !r.black);
}

#[test]
fn mailbox_name_is_looked_up_too() {
    let g = list("ok env_to bob\n", FileKind::Global);
    let lay = Layered {
        global: &g,
        user: None,
    };
    let f = Filters::default();
    let r = lay.recipient(
        &sums("a@x"),
        None,
        b"<robert@example.net>",
        Some(b"bob"),
        f,
        MtaOpinion::None,
    );
    assert!(r.white);
}

#[test]
fn option_only_user_file_gives_no_answers() {
    let g = list("ok env_from friend@x\n", FileKind::Global);
    let trap = list("option spam-trap-discard\n", FileKind::PerUser);
    // whitelisted globally: the trap does not blacklist it
    assert_eq!(
        run(&g, Some(&trap), "friend@x", "trap", MtaOpinion::None),
        (true, false)
    );
    assert_eq!(
        run(&g, Some(&trap), "other@x", "trap", MtaOpinion::None),
        (false, true)
    );
    // a trap file with entries answers for itself
    let trap2 = list(
        "option spam-trap-discard\nok env_from pal@x\n",
        FileKind::PerUser,
    );
    assert_eq!(
        run(&g, Some(&trap2), "friend@x", "trap", MtaOpinion::None),
        (false, true)
    );
    assert_eq!(
        run(&g, Some(&trap2), "pal@x", "trap", MtaOpinion::None),
        (true, false)
    );
}
