//! Unit tests of the `-B` grammar, from the pages and scenario 12 of the recordings.

use super::*;
use crate::addr::to_bits;

fn parse(args: &[&str]) -> (Settings, Vec<String>) {
    let (s, e) = Parser::parse_all(args.iter().copied());
    (s, e.into_iter().map(|e| e.to_string()).collect())
}

fn ip(s: &str) -> u128 {
    to_bits(s.parse().unwrap())
}

#[test]
fn scenario_12_refusals_and_their_messages() {
    let cases: [(&str, &str); 7] = [
        ("dbl.test,name", "invalid DNS blacklist: \"dbl.test,name\""),
        (
            "bl.test,localhost",
            "invalid DNS blacklist: \"bl.test,localhost\"",
        ),
        (
            "bl.test,127.0.0.2,bogus",
            "unknown DNSBL type in \"bl.test,127.0.0.2,bogus\"",
        ),
        ("set:bogus", "unrecognized  \"-B set:bogus\""),
        (
            "set:msg-secs=0",
            "bad number of seconds in \"-B set:msg-secs=0\"",
        ),
        ("set:group=5", "unrecognized  \"-B set:group=5\""),
        (
            "bl.test,127.0.0.2&bogus",
            "invalid mask \"bogus\" in DNS blacklist \"bl.test,127.0.0.2&bogus\"",
        ),
    ];
    for (arg, msg) in cases {
        let (s, e) = parse(&[arg]);
        assert_eq!(e, vec![msg.to_string()], "{arg}");
        assert!(s.lists.is_empty(), "{arg}");
    }
    let (_, e) = parse(&["set:msg-secs=abc"]);
    assert_eq!(e, ["bad number of seconds in \"-B set:msg-secs=abc\""]);
}

#[test]
fn scenario_12_refused_arguments_are_ignored_and_the_rest_goes_on() {
    let (s, e) = parse(&["set:bogus", "bl.test"]);
    assert_eq!(e.len(), 1);
    assert_eq!(s.lists.len(), 1);
    assert_eq!(s.lists[0].domain, "bl.test");
    // msg-secs=0 is refused: the default stays.
    let (s, _) = parse(&["set:msg-secs=0", "bl.test"]);
    assert_eq!(s.msg_secs, 25);
}

#[test]
fn scenario_12_accepted_odd_forms() {
    // An empty address field before the type means 127.0.0.2.
    let (s, e) = parse(&["dbl.test,,name"]);
    assert!(e.is_empty());
    assert_eq!(s.lists[0].ltype, ListType::Name);
    assert!(s.lists[0].matches(ip("127.0.0.2")));
    assert!(!s.lists[0].matches(ip("127.0.0.3")));
    // The synopsis without its comma: a list named bl.testany.
    let (s, _) = parse(&["bl.testany"]);
    assert_eq!(s.lists[0].domain, "bl.testany");
    assert_eq!(s.lists[0].ltype, ListType::Ipv4);
    // Case and a trailing dot are kept.
    let (s, _) = parse(&["BL.Test."]);
    assert_eq!(s.lists[0].domain, "BL.Test.");
    // Obsolete envelope and body.
    let (s, e) = parse(&["set:no-envelope", "set:no-body", "bl.test"]);
    assert!(e.is_empty());
    assert_eq!(s.lists[0].targets, 0);
    // IPv6 list.
    let (s, _) = parse(&["bl6.test,127.0.0.2,IPv6"]);
    assert_eq!(s.lists[0].ltype, ListType::Ipv6);
    assert_eq!(s.lists[0].family, Family::V4);
    assert!(s.have_ipv6 && !s.have_ipv4);
}

#[test]
fn a_refused_type_still_notes_an_ipv4_list_as_the_original() {
    let (s, _) = parse(&["dbl.test,name"]);
    assert!(s.have_ipv4);
    assert!(!s.enabled());
}

#[test]
fn address_forms() {
    let (s, e) = parse(&[
        "a.test,127.0.0.2-127.0.0.5",
        "b.test,127.0.0.0/24,IPv4",
        "c.test,any",
        "d.test,127.0.0.2&255.255.255.0",
        "e.test,::2,name",
        "f.test,127.0.0.2/8",
    ]);
    assert_eq!(
        e,
        ["invalid DNS blacklist: 127.0.0.2 does not start on a 8-bit CIDR boundary: \"f.test,127.0.0.2/8\""]
    );
    let l = &s.lists;
    assert!(l[0].matches(ip("127.0.0.4")) && !l[0].matches(ip("127.0.0.10")));
    assert!(l[1].matches(ip("127.0.0.200")));
    assert_eq!(l[2].family, Family::Any);
    assert!(l[2].matches(ip("2001:db8::1")) && l[2].matches(ip("10.1.2.3")));
    // The range itself is not masked, as the original: 127.0.0.2 & 255.255.255.0
    // can never be 127.0.0.2.
    assert!(!l[3].matches(ip("127.0.0.2")));
    assert_eq!(l[4].family, Family::V6);
    assert!(l[4].matches(ip("::2")));
}

#[test]
fn mask_applies_to_answers() {
    let (s, _) = parse(&["d.test,127.0.0.0&255.255.255.0"]);
    assert!(s.lists[0].matches(ip("127.0.0.99")));
    assert!(!s.lists[0].matches(ip("127.0.1.0")));
}

#[test]
fn rpz_dot_domain() {
    let (s, e) = parse(&[".,224.0.0.0,name"]);
    assert!(e.is_empty());
    assert_eq!(s.lists[0].domain, "");
    assert_eq!(s.lists[0].ltype, ListType::Name);
}

#[test]
fn set_options_shape_the_following_lists() {
    let (s, e) = parse(&[
        "set:no-client",
        "a.test",
        "set:no-MX",
        "set:no-NS",
        "b.test",
        "set:defaults",
        "c.test",
        "set:no-mail_host",
        "set:NS",
        "d.test",
    ]);
    assert!(e.is_empty());
    let t: Vec<u16> = s.lists.iter().map(|l| l.targets).collect();
    assert_eq!(t[0], src::ALL & !src::CLIENT);
    assert_eq!(t[1], src::MHOST | src::URL);
    assert_eq!(t[2], src::ALL);
    assert_eq!(t[3], src::CLIENT | src::URL | src::URL_MX | src::URL_NS);
}

#[test]
fn whitelists_go_first_and_groups_collect_targets() {
    let (s, e) = parse(&[
        "bl.test",
        "set:white",
        "set:group=2",
        "wl.test",
        "set:black",
        "bl2.test",
    ]);
    assert!(e.is_empty());
    let names: Vec<&str> = s.lists.iter().map(|l| l.domain.as_str()).collect();
    assert_eq!(names, ["wl.test", "bl.test", "bl2.test"]);
    assert_eq!(s.lists[0].num, 2);
    assert_eq!(s.lists[0].group, 1);
    assert!(s.have_groups);
    assert_eq!(s.group_white[1], src::ALL);
    assert_eq!(s.group_black[0], src::ALL);
    assert_eq!(s.group_black[1], src::ALL);
}

#[test]
fn numbers_and_misc() {
    let (s, e) = parse(&[
        "set:msg-secs=3",
        "set:URL-secs=2",
        "set:debug",
        "set:debug",
        "set:max_helpers=7",
        "set:progpath=/x/dns-helper",
        "set:max_helpers=1000",
    ]);
    assert_eq!(e, ["unrecognized  \"-B set:max_helpers=1000\""]);
    assert_eq!((s.msg_secs, s.url_secs, s.debug), (3, 2, 2));
    assert_eq!(s.max_helpers, Some(7));
    assert_eq!(s.progpath.as_deref(), Some("/x/dns-helper"));
    let (s, _) = parse(&["set:msg-secs=5", "set:url-secs=9"]);
    assert_eq!(s.effective_url_secs(), 5);
    let (_, e) = parse(&["set:msg-secs=1001", "set:url-secs=", "set:url-secs=2x"]);
    assert_eq!(e.len(), 3);
}

#[test]
fn rej_msg_follows_lists_and_resets() {
    let (s, _) = parse(&[
        "set:rej-msg=5.7.1 550 one %BTYPE",
        "a.test",
        "set:rej-msg=",
        "b.test",
        "set:rej-msg=two",
        "set:defaults",
        "c.test",
    ]);
    assert_eq!(s.lists[0].reply.as_ref().unwrap().rcode, "550");
    assert!(s.lists[1].reply.is_none());
    assert!(s.lists[2].reply.is_none());
}

#[test]
fn duplicates_share_lookups() {
    let (s, _) = parse(&[
        "bl.test",
        "set:group=2",
        "bl.test",
        "bl.test,any",
        "bl.test,,name",
    ]);
    let d: Vec<Option<usize>> = s.lists.iter().map(|l| l.dup_of).collect();
    assert_eq!(d, [None, Some(0), None, None]);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics(args in proptest::collection::vec(".{0,40}", 0..6)) {
            let _ = Parser::parse_all(args.iter().map(String::as_str));
        }

        #[test]
        fn grammar_shaped_never_panics(
            dom in "[.a-zA-Z0-9-]{0,12}",
            ip in "(any|[0-9.:]{0,16})([/-][0-9.:]{0,16})?(&[0-9.:a-z]{0,16})?",
            ty in "(|,name|,all-names|,IPv4|,IPv6|,x)",
        ) {
            let arg = format!("{dom},{ip}{ty}");
            let _ = Parser::parse_all([arg.as_str()]);
        }

        #[test]
        fn ipv4_ranges_round_trip(a in any::<u32>(), b in any::<u32>()) {
            let (lo, hi) = (a.min(b), a.max(b));
            let lo_ip = std::net::Ipv4Addr::from(lo);
            let hi_ip = std::net::Ipv4Addr::from(hi);
            let arg = format!("x.test,{lo_ip}-{hi_ip}");
            let (s, e) = Parser::parse_all([arg.as_str()]);
            prop_assert!(e.is_empty());
            let l = &s.lists[0];
            prop_assert!(l.matches(to_bits(lo_ip.into())));
            prop_assert!(l.matches(to_bits(hi_ip.into())));
            if hi < u32::MAX {
                prop_assert!(!l.matches(to_bits(std::net::Ipv4Addr::from(hi + 1).into())));
            }
        }

        #[test]
        fn seconds_round_trip(n in 1u32..=1000) {
            let arg = format!("set:msg-secs={n}");
            let (s, e) = Parser::parse_all([arg.as_str()]);
            prop_assert!(e.is_empty());
            prop_assert_eq!(s.msg_secs, n);
        }
    }
}
