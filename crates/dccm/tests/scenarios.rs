//! The recorded behaviour of the original dccm, replayed against ours:
//! each scenario's MTA packets are sent to our dccm (on a unix socket in
//! a temporary DCC home, with a fake DCC server holding the bulk
//! message's counts) and the answers compared with the recording.

mod common;

fn check(name: &str) {
    let d = common::run_scenario(name);
    assert!(d.is_empty(), "{}", d.join("\n"));
}

/// A scenario where we follow the man page instead of the original on
/// purpose (see docs/compatibility.md): each difference must be one of
/// `allowed` (a connection label and a text our answer must contain).
fn check_except(name: &str, allowed: &[(&str, &str)]) {
    let d = common::run_scenario(name);
    let unexpected: Vec<&String> = d
        .iter()
        .filter(|x| {
            !allowed.iter().any(|(conn, ours)| {
                x.contains(&format!("{conn}: after E"))
                    && x.split("got ").nth(1).is_some_and(|g| g.contains(ours))
            })
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{}",
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

macro_rules! scenario {
    ($f:ident, $n:expr) => {
        #[test]
        fn $f() {
            check($n);
        }
    };
}

scenario!(a_defaults, "a-defaults");
scenario!(a2_mta_rejected_rcpt, "a2-mta-rejected-rcpt");
scenario!(b1_reject_default, "b1-reject-default");
scenario!(b2_reject_custom, "b2-reject-custom");
scenario!(b3_reject_nocodes, "b3-reject-nocodes");
scenario!(b4_reject_rcode_first, "b4-reject-rcode-first");
scenario!(b5_reject_4yz, "b5-reject-4yz");
scenario!(c1_discard, "c1-discard");
scenario!(c2_ignore, "c2-ignore");
scenario!(d1_noheader_n, "d1-noheader-N");
scenario!(d2_existing_xdcc_default, "d2-existing-xdcc-default");
scenario!(d3_existing_xdcc_a, "d3-existing-xdcc-A");
scenario!(d4_blacklist_bulk_default, "d4-blacklist-bulk-default");
scenario!(d5_blacklist_bulk_p, "d5-blacklist-bulk-P");
// -P kludge: Body=many in a bulk header without -P, as the man page says
#[test]
fn d6_blacklist_q_default() {
    check_except(
        "d6-blacklist-Q-default",
        &[("connection 1", "bulk Body=many Fuz1=0 Fuz2=0")],
    );
}
scenario!(d7_blacklist_q_p, "d7-blacklist-Q-P");
scenario!(d8_blacklist_reject, "d8-blacklist-reject");
scenario!(e_query_only, "e-query-only");
scenario!(f1_whiteclnt_entries, "f1-whiteclnt-entries");
// forced-discard-ok: discard for the spam recipient, as dcc(8) says
#[test]
fn f2_option_forced_discard_ok() {
    check_except(
        "f2-option-forced-discard-ok",
        &[
            ("connection 1", "DelRcpt(\"<carol@example.net>\")"),
            ("connection 2", "DelRcpt(\"<carol@example.net>\")"),
        ],
    );
}
scenario!(f3_option_dcc_off, "f3-option-dcc-off");
scenario!(f4_multi_rcpt_discard, "f4-multi-rcpt-discard");
scenario!(f5_mx_relay, "f5-mx-relay");
scenario!(f6_mail_host_helo_with_l, "f6-mail-host-helo-with-l");
// -S HELO works without -l, as the man page says
#[test]
fn f7_helo_without_l() {
    check_except(
        "f7-helo-without-l",
        &[(
            "connection 1",
            "550 5.7.1 mail F7000001 from 203.0.113.151 rejected by DCC",
        )],
    );
}
scenario!(g_userdirs, "g-userdirs");
scenario!(g2_spam_traps, "g2-spam-traps");
// without {i} the log file's random name is the ID, different each run
#[test]
fn h1_logdir() {
    let d = common::run_scenario("h1-logdir");
    for x in &d {
        let got = x.split("got ").nth(1).unwrap_or("");
        let id = got
            .split("mail ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap_or("");
        assert!(
            x.contains("connection 1: after E")
                && id.len() == 6
                && got.contains("from 198.51.100.81 rejected by DCC"),
            "{x}"
        );
    }
}
scenario!(h2_logdir_options, "h2-logdir-options");
scenario!(h3_logdir_subdirs, "h3-logdir-subdirs");
scenario!(i1_server_down_default, "i1-server-down-default");
scenario!(i1b_server_silent_default, "i1b-server-silent-default");
scenario!(i2_server_down_x, "i2-server-down-x");
scenario!(i2b_server_silent_x, "i2b-server-silent-x");
scenario!(i3_server_down_blacklist, "i3-server-down-blacklist");
scenario!(
    i3b_server_down_blacklist_reject,
    "i3b-server-down-blacklist-reject"
);
// %ID and %CIP are replaced in ${dcc_isspam} texts too (double quotes go,
// as the original's)
#[test]
fn j1_isspam_notspam() {
    check_except(
        "j1-isspam-notspam",
        &[(
            "connection 5",
            "554 5.7.0 Spam J0000005 from 203.0.113.105 100%",
        )],
    );
}
scenario!(j2_isspam_ignore, "j2-isspam-ignore");
