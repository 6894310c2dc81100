//! Recipients that cannot share one SMTP transaction, through the milter
//! protocol: the original's `cmn_compat_whitelist` answers a recipient
//! whose thresholds are lower than the transaction's with
//! `452 4.5.3 reject temporarily for DCC threshold conflict`, one whose
//! per-user file differs with `... incompatible whitelists`, and lets a
//! recipient whose own env_To listing decides for it join anyway; the
//! message is then decided with the lowest thresholds of its recipients.

mod common;

use common::milter::{connect, envelope, macro_pkt, Client, Reply};
use common::{make_home, preload_bulk, start_dccm};
use std::path::Path;
use tally_testkit::{write_map, FakeDccd};

const THOLD_452: &str = "452 4.5.3 reject temporarily for DCC threshold conflict";
const WLIST_452: &str = "452 4.5.3 reject temporarily for incompatible whitelists";

/// The bulk message (its checksums are preloaded in the fake server):
/// the replies to the end of the message.
fn bulk(c: &mut Client) -> Vec<Reply> {
    let eml = std::fs::read_to_string(common::data().join("msgs/bulk1.eml")).unwrap();
    let (fields, body) = common::milter::eml_parts(&eml);
    common::milter::content(c, &fields, body.as_bytes())
}

/// The one log file in `home/logs`.
fn the_log(home: &Path) -> String {
    let logs: Vec<String> = std::fs::read_dir(home.join("logs"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    logs[0].clone()
}

fn code(r: &[Reply]) -> String {
    match r {
        [Reply::Code(s)] => s.clone(),
        other => format!("{other:?}"),
    }
}

#[test]
fn incompatible_recipients_get_452() {
    let home = make_home("compat");
    let users = home.join("userdirs/local");
    for (u, text) in [
        // identical but for their thresholds (no entries: both count as
        // no file for the comparison of files)
        ("hi", "option threshold CMN,many\n"),
        ("lo", "option threshold CMN,2\n"),
        // a file with entries other than bob's
        ("other", "ok env_from someone@example.com\n"),
    ] {
        std::fs::create_dir_all(users.join(u)).unwrap();
        std::fs::write(users.join(u).join("whiteclnt"), text).unwrap();
    }
    std::fs::write(home.join("whiteclnt-compat"), "ok env_to wl@example.net\n").unwrap();
    let srv = FakeDccd::start(1200, "behbrand");
    preload_bulk(&srv);
    write_map(&home, srv.addr);
    let args = common::local_args(
        &home,
        &[
            "-t",
            "CMN,2,3",
            "-a",
            "REJECT",
            "-U",
            "userdirs",
            "-w",
            "whiteclnt-compat",
        ],
    );
    let d = start_dccm(&home, &args);

    // a lower threshold than the transaction's: the thresholds reply;
    // the message goes on for the first recipient (CMN,many: not spam)
    let mut c = connect(&d.sock, "203.0.113.1");
    let r = envelope(&mut c, "C0000001", &["hi", "lo"]);
    assert_eq!(r[0], vec![Reply::Final('c')]);
    assert!(code(&r[1]).starts_with(THOLD_452), "{:?}", r[1]);
    let end = bulk(&mut c);
    assert!(end.contains(&Reply::Final('a')), "{end:?}");
    assert!(
        !end.iter().any(|x| matches!(x, Reply::DelRcpt(_))),
        "{end:?}"
    );

    // a higher threshold does not lower the transaction's: both join, and
    // the lowest threshold (CMN,2) makes the bulk message spam for both
    let mut c = connect(&d.sock, "203.0.113.2");
    let r = envelope(&mut c, "C0000002", &["lo", "hi"]);
    assert_eq!(r, vec![vec![Reply::Final('c')], vec![Reply::Final('c')]]);
    let end = bulk(&mut c);
    assert!(code(&end).starts_with("550 5.7.1"), "{end:?}");

    // a recipient without a file and with the program's threshold (CMN,3)
    let mut c = connect(&d.sock, "203.0.113.3");
    let r = envelope(&mut c, "C0000003", &["hi", "dave"]);
    assert!(code(&r[1]).starts_with(THOLD_452), "{:?}", r[1]);

    // per-user files with different entries: the whitelists reply
    let mut c = connect(&d.sock, "203.0.113.4");
    let r = envelope(&mut c, "C0000004", &["bob", "other"]);
    assert_eq!(r[0], vec![Reply::Final('c')]);
    assert!(code(&r[1]).starts_with(WLIST_452), "{:?}", r[1]);
    let mut c = connect(&d.sock, "203.0.113.6");
    let r = envelope(&mut c, "C0000005", &["other", "hi"]);
    assert!(code(&r[1]).starts_with(WLIST_452), "{:?}", r[1]);

    // whitelisted by env_To in the main file: its own listing decides for
    // it, so its lower threshold does not matter and it joins; the
    // transaction's threshold is now CMN,3, which makes the bulk message
    // spam for hi: hi is removed and wl keeps the message
    let mut c = connect(&d.sock, "203.0.113.5");
    let r = envelope(&mut c, "C0000006", &["hi", "wl"]);
    assert_eq!(r, vec![vec![Reply::Final('c')], vec![Reply::Final('c')]]);
    let end = bulk(&mut c);
    assert!(
        end.contains(&Reply::DelRcpt("<hi@example.net>".to_string())),
        "{end:?}"
    );
    assert!(end.contains(&Reply::Final('a')), "{end:?}");

    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

/// As recorded in scenario g: a recipient refused at RCPT time is listed
/// among the envelope's recipients of the log file, and its refusal
/// follows the checksums.
#[test]
fn refused_recipients_are_logged() {
    let home = make_home("compatlog");
    let users = home.join("userdirs/local");
    std::fs::create_dir_all(users.join("other")).unwrap();
    std::fs::write(
        users.join("other/whiteclnt"),
        "ok env_from someone@example.com\n",
    )
    .unwrap();
    let srv = FakeDccd::start(1200, "behbrand");
    preload_bulk(&srv);
    write_map(&home, srv.addr);
    let args = common::local_args(
        &home,
        &[
            "-t", "CMN,2,3", "-U", "userdirs", "-l", "logs", "-t", "CMN,1",
        ],
    );
    let d = start_dccm(&home, &args);
    let mut c = connect(&d.sock, "203.0.113.7");
    let r = envelope(&mut c, "C0000007", &["bob", "other"]);
    assert!(code(&r[1]).starts_with(WLIST_452), "{:?}", r[1]);
    bulk(&mut c);
    drop(c);
    drop(d);
    let logs = the_log(&home);
    let log = &logs;
    assert!(
        log.contains("env_To: <bob@example.net>  addr=bob  dir=userdirs/local/bob\n"),
        "{log}"
    );
    assert!(
        log.contains("env_To: <other@example.net>  addr=other  dir=userdirs/local/other\n"),
        "{log}"
    );
    assert!(
        log.contains(&format!("\n\nRcpt To:<other@example.net>: {WLIST_452}\n")),
        "{log}"
    );
    // each per-user copy tells only of its own recipient, as recorded in g
    let copy = |u: &str| -> String {
        let dir = home.join("userdirs/local").join(u).join("log");
        let files: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(files.len(), 1, "{}: {files:?}", dir.display());
        files[0].clone()
    };
    let bob = copy("bob");
    assert!(bob.contains("env_To: <bob@example.net>"), "{bob}");
    assert!(!bob.contains("other@example.net"), "{bob}");
    assert!(bob.contains("  dccm  per-user-log  \n"), "{bob}");
    let other = copy("other");
    assert!(!other.contains("env_To: <bob@example.net>"), "{other}");
    assert!(
        other.contains(&format!("Rcpt To:<other@example.net>: {WLIST_452}")),
        "{other}"
    );
    assert!(other.ends_with("result: reject temporarily\n"), "{other}");
    let _ = std::fs::remove_dir_all(&home);
}

/// The env_To listing is looked up for the envelope address and for the
/// mailbox after aliases (`{rcpt_addr}`), as the original does.
#[test]
fn mailbox_after_aliases_is_whitelisted_too() {
    let home = make_home("mailbox");
    std::fs::write(home.join("whiteclnt-mbox"), "ok env_to wl@example.net\n").unwrap();
    let srv = FakeDccd::start(1200, "behbrand");
    preload_bulk(&srv);
    write_map(&home, srv.addr);
    let args = common::local_args(&home, &["-t", "CMN,2,3", "-w", "whiteclnt-mbox"]);
    let d = start_dccm(&home, &args);
    for (mailbox, want_accept) in [("wl@example.net", true), ("nobody@example.net", false)] {
        let mut c = connect(&d.sock, "203.0.113.9");
        c.send(b'D', &macro_pkt(b'M', &[("i", "C0000009")]))
            .unwrap();
        c.send(b'M', b"<alice@example.com>\0").unwrap();
        assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
        let m = [("{rcpt_mailer}", "local"), ("{rcpt_addr}", mailbox)];
        c.send(b'D', &macro_pkt(b'R', &m)).unwrap();
        c.send(b'R', b"<alias@example.net>\0").unwrap();
        assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
        let end = bulk(&mut c);
        if want_accept {
            assert!(end.contains(&Reply::Final('a')), "{mailbox}: {end:?}");
        } else {
            assert!(code(&end).starts_with("550 5.7.1"), "{mailbox}: {end:?}");
        }
    }
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

/// Mail from a SUBMIT client of the main file cannot be refused recipient
/// by recipient: an incompatible recipient joins, and the log file says
/// `incompatible whitelists` after the body, after the note about the
/// client (check_mx_listing() from dccm_envfrom()), as the original.
#[test]
fn submit_client_recipients_join_and_are_noted() {
    let home = make_home("submit");
    let users = home.join("userdirs/local/other");
    std::fs::create_dir_all(&users).unwrap();
    std::fs::write(users.join("whiteclnt"), "ok env_from someone@example.com\n").unwrap();
    std::fs::write(home.join("whiteclnt-submit"), "submit ip 203.0.113.50\n").unwrap();
    let srv = FakeDccd::start(1200, "behbrand");
    write_map(&home, srv.addr);
    let args = common::local_args(
        &home,
        &[
            "-U",
            "userdirs",
            "-w",
            "whiteclnt-submit",
            "-l",
            "logs",
            "-t",
            "ALL,1,NEVER",
        ],
    );
    let d = start_dccm(&home, &args);
    let mut c = connect(&d.sock, "203.0.113.50");
    let r = envelope(&mut c, "C0000050", &["bob", "other"]);
    assert_eq!(r, vec![vec![Reply::Final('c')], vec![Reply::Final('c')]]);
    bulk(&mut c);
    drop(c);
    drop(d);
    let logs = the_log(&home);
    assert!(
        logs.contains(
            "########\n203.0.113.50 is a listed 'submit' client\nincompatible whitelists\n"
        ),
        "{logs}"
    );
    let _ = std::fs::remove_dir_all(&home);
}
