//! Property tests of the parsers: the htpasswd file (and a password
//! change in it), log files, and the whiteclnt edits.

use proptest::prelude::*;
use tally_web::auth::Htpasswd;
use tally_web::logparse;
use tally_web::password::replace_hash;
use tally_web::whiteedit::{add, check_edit, current, remove, Kind, List};

proptest! {
    #[test]
    fn htpasswd_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let h = Htpasswd::parse("webusers", &data);
        prop_assert!(h.len() <= data.len());
    }

    #[test]
    fn htpasswd_users_found(users in proptest::collection::btree_set("[a-z][a-z0-9._-]{0,12}", 1..8)) {
        let text: String = users.iter().map(|u| format!("{u}:{{SHA}}5cicUp3MubQnFvTZEY1hB5yIPZ4=\n")).collect();
        let h = Htpasswd::parse("webusers", text.as_bytes());
        prop_assert!(h.errors.is_empty());
        prop_assert_eq!(h.len(), users.len());
        for u in &users {
            prop_assert!(h.check(u, "bench"));
            prop_assert!(!h.check(u, "Bench"));
        }
    }

    #[test]
    fn password_change_touches_one_line(
        lines in proptest::collection::vec(
            prop_oneof![
                "[a-c]{1,2}:[!-~]{0,6}(:[ -~]{0,4})?",
                "# [ -~]{0,8}",
                "[ \t]{0,2}",
                "[a-c]{1,2}",
            ],
            0..12,
        ),
        crlf in any::<bool>(),
        last_end in any::<bool>(),
    ) {
        let mut text = lines.join(if crlf { "\r\n" } else { "\n" });
        if last_end {
            text.push('\n');
        }
        let before = Htpasswd::parse("webusers", text.as_bytes());
        for user in before.users() {
            let new = replace_hash(text.as_bytes(), user, "$2y$10$NEW").unwrap();
            let after = Htpasswd::parse("webusers", &new);
            prop_assert_eq!(after.hash_of(user), Some("$2y$10$NEW"));
            for other in before.users().filter(|o| o != &user) {
                prop_assert_eq!(after.hash_of(other), before.hash_of(other));
            }
            // one line differs, the rest are the same bytes
            let (a, b): (Vec<&[u8]>, Vec<&[u8]>) = (
                text.as_bytes().split(|&c| c == b'\n').collect(),
                new.split(|&c| c == b'\n').collect(),
            );
            prop_assert_eq!(a.len(), b.len());
            prop_assert_eq!(a.iter().zip(&b).filter(|(x, y)| x != y).count(), 1);
        }
        if !before.users().any(|u| u == "zz") {
            prop_assert!(replace_hash(text.as_bytes(), "zz", "H").is_err());
        }
    }

    #[test]
    fn log_fields_come_back(
        from in "[a-z]{1,8}@[a-z]{1,8}\\.example",
        subject in "[ -~]{0,60}",
        body in "[ -~\n]{0,200}",
        result in "(accept|reject|discard)",
    ) {
        let host = from.rsplit('@').next().unwrap();
        let text = format!(
            "VERSION: 3\nDATE: 01/02/26 03:04:05 UTC\nIP: h.example ::ffff:192.0.2.7\nHELO: h\n\
env_From: <{from}>  mail_host={host}\nenv_To: <b@example.net>  addr=b  dir=\n\n\
Subject: {}\n\n{body}\n### end of message body ########################\n\
DCC-->spam\n\nX-DCC-x-Metrics: h\n          reported: 0  checksum\n\
       Body: 5c525331 d559d9bb c626b5ed cf330c15\n\nresult: {result}\n", subject.trim());
        let m = logparse::parse(text.as_bytes());
        prop_assert_eq!(&m.env_from, &from);
        prop_assert_eq!(&m.mail_host, host);
        prop_assert_eq!(m.ip(), "192.0.2.7");
        prop_assert_eq!(m.header("subject").unwrap_or(""), subject.trim());
        prop_assert_eq!(&m.result, &result);
        prop_assert_eq!(m.table.len(), 1);
        let s = logparse::parse_summary(text.as_bytes());
        prop_assert_eq!(&s.result, &result);
    }

    #[test]
    fn log_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let _ = logparse::parse(&data);
        let _ = logparse::parse_summary(&data);
    }

    #[test]
    fn add_then_remove_restores(
        lines in proptest::collection::vec("(# [ -~]{0,20}|ok env_from [a-z]{1,5}@x\\.example|option log-all|[a-z ]{0,15})", 0..10),
        addr in "[a-z]{1,8}@[a-z]{1,8}\\.example",
        many in any::<bool>(),
    ) {
        let mut old = lines.join("\n");
        if !old.is_empty() { old.push('\n'); }
        prop_assume!(current(old.as_bytes(), Kind::EnvFrom, &addr).is_none());
        let list = if many { List::Many } else { List::Ok };
        let new = add(old.as_bytes(), list, Kind::EnvFrom, &addr).unwrap();
        prop_assert!(check_edit(old.as_bytes(), &new).is_ok());
        let now = current(&new, Kind::EnvFrom, &addr);
        prop_assert_eq!(now.as_deref(), Some(if many { "many" } else { "ok" }));
        prop_assert_eq!(remove(&new, Kind::EnvFrom, &addr), old.into_bytes());
    }
}
