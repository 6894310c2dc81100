//! The recorded greylist scenarios of the original dccm (`-G`, l1 to l5)
//! replayed against ours with a fake greylist server (5-second embargo,
//! clock moved on by the recorded time between connections), and the
//! greylist requests our dccm sent checked.

mod common;

use tally_testkit::fake_grey::GreySeen;
use tally_wire::{CkType, Op, Sum};

fn check(name: &str) -> Vec<GreySeen> {
    check_dcc(name).0
}

/// The requests the greylist server received and, in order, the DCC
/// server's queries (`None`) and reports (their targets).
fn check_dcc(name: &str) -> (Vec<GreySeen>, Vec<Option<u32>>) {
    let (d, grey, srv) = common::run_grey_scenario(name);
    assert!(d.is_empty(), "{}", d.join("\n"));
    let seen = grey.seen();
    assert!(seen.iter().all(|s| s.authenticated), "{seen:?}");
    let dcc = srv
        .seen()
        .iter()
        .filter_map(|s| match s.op {
            Op::Query => Some(None),
            Op::Report => Some(Some(s.tgts)),
            _ => None,
        })
        .collect();
    (seen, dcc)
}

fn md5(parts: &[&Sum]) -> Sum {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    for p in parts {
        h.update(p.0);
    }
    Sum(h.finalize().into())
}

fn ck(s: &GreySeen, ty: CkType) -> Option<Sum> {
    s.cks.iter().find(|(t, _)| *t == ty).map(|(_, s)| *s)
}

/// The grey msg and triple checksums of a request are made of its Body,
/// env_From and IP checksums and the recipient's, as the original's.
fn check_sums(s: &GreySeen, ip: Option<Sum>, rcpt: &str) {
    let env_to = tally_ck::simple::str_sum(None, rcpt.as_bytes());
    let body = ck(s, CkType::Body).expect("Body");
    let from = ck(s, CkType::EnvFrom).expect("env_From");
    let ip = ip.unwrap_or_else(|| ck(s, CkType::Ip).expect("IP"));
    assert_eq!(ck(s, CkType::GreyMsg), Some(md5(&[&body, &from, &env_to])));
    assert_eq!(ck(s, CkType::GreyTriple), Some(md5(&[&ip, &from, &env_to])));
    // the types in order, no reputation checksums, no env_To
    let types: Vec<u8> = s.cks.iter().map(|(t, _)| t.number()).collect();
    assert!(types.windows(2).all(|w| w[0] < w[1]), "{types:?}");
    assert_eq!(
        s.cks.iter().filter(|(t, _)| *t == CkType::GreyMsg).count(),
        1
    );
    assert!(ck(s, CkType::EnvTo).is_none());
}

#[test]
fn l1_greylist() {
    let (seen, dcc) = check_dcc("l1-greylist");
    // the DCC server counts an embargoed message's recipients only the
    // first time, and not again when the embargo ends (l1.3); l1.6 counts
    // only dave, new to the greylist
    assert_eq!(
        dcc,
        [Some(1), None, None, Some(1), Some(1), Some(1)],
        "{:?}",
        seen
    );
    let reports: Vec<&GreySeen> = seen.iter().filter(|s| s.op == Op::GreyReport).collect();
    // six messages, l1.6 with two recipients
    assert_eq!(reports.len(), 7, "{seen:?}");
    check_sums(reports[0], None, "bob@example.net");
    check_sums(reports[4], None, "carol@example.net");
    // the first answer is embargo #1, the third the end of the embargo
    assert_eq!(reports[0].answer, Some((0, 0)));
    assert_eq!(reports[2].answer.map(|a| a.1), Some(tally_engine::tgts::OK));
}

#[test]
fn l2_greylist_noip() {
    let seen = check("l2-greylist-noIP");
    let zero = tally_ck::simple::ip_sum("::".parse().expect("address"));
    for s in seen.iter().filter(|s| s.op == Op::GreyReport) {
        check_sums(s, Some(zero), "bob@example.net");
    }
}

#[test]
fn l3_greylist_ipmask24() {
    let seen = check("l3-greylist-IPmask24");
    let net = tally_ck::simple::ip_sum("::ffff:198.51.100.0".parse().expect("address"));
    let first = seen
        .iter()
        .find(|s| s.op == Op::GreyReport)
        .expect("a report");
    check_sums(first, Some(net), "bob@example.net");
}

#[test]
fn l4_greylist_custom_msg() {
    check("l4-greylist-custom-msg");
}

#[test]
fn l5_greylist_bulk() {
    let seen = check("l5-greylist-bulk");
    // the bulk message's new embargo is restored as spam
    let spam: Vec<&GreySeen> = seen.iter().filter(|s| s.op == Op::GreySpam).collect();
    assert_eq!(spam.len(), 1, "{seen:?}");
    let first = seen
        .iter()
        .find(|s| s.op == Op::GreyReport)
        .expect("a report");
    assert_eq!(spam[0].cks[1].1, ck(first, CkType::GreyMsg).expect("msg"));
    assert_eq!(
        spam[0].cks[2].1,
        ck(first, CkType::GreyTriple).expect("triple")
    );
}
