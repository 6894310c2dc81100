//! `webuser-notify` as the cron job runs it: user names on its standard
//! input, mail handed to a mailer with sendmail's interface (a script here
//! that keeps each message), at most one mail a week per user who turned
//! notifications on.

mod common;

use common::*;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use tally_e2e::mailer::Outbox;

fn run(home: &Path, names: &str) -> (bool, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_webuser-notify"))
        .args(["-d", &home.join("userdirs").display().to_string()])
        .args(["-u", "https://dcc.example.com"])
        .args(["-m", &home.join("sendmail").display().to_string()])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(names.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn users_who_asked_get_one_mail() {
    let h = home("notify");
    let outbox = Outbox::new(&h).unwrap();
    let bob = add_user(
        &h,
        "bob",
        "#webuser mail-notify=on mailbox=\nok ip 192.0.2.1\n",
    );
    let carol = add_user(&h, "carol", "# carol\n#webuser mail-notify=off mailbox=\n");
    let dave = add_user(&h, "dave", "#webuser mail-notify=on mailbox=postmaster\n");
    for d in [&bob, &carol, &dave] {
        add_log(
            d,
            "msg.AAAAAA",
            1_000,
            &log_text("01/01/26 10:00:00 UTC", "a@example.com", "s", "b", "reject"),
        );
    }
    let (ok, said) = run(&h, "local/bob\nlocal/carol\nlocal/dave\n");
    assert!(ok, "{said}");
    let m = outbox.mails();
    assert_eq!(m.len(), 2, "{m:?}");
    let bob_mail = m
        .iter()
        .find(|m| m.starts_with("ARGS: -i -- bob\n"))
        .expect("bob's mail");
    assert!(bob_mail.contains("To: bob\nSubject: bulk mail notification for bob\n"));
    assert!(bob_mail.contains("\nhttps://dcc.example.com/log\n"));
    assert!(m.iter().any(|m| m.starts_with("ARGS: -i -- postmaster\n")));
    assert!(said.contains("local/bob: mail sent to bob"), "{said}");
    assert!(bob.join("notify.block").exists() && !carol.join("notify.block").exists());

    // the next day: nothing new, no mail
    let (ok, _) = run(&h, "local/bob\nlocal/dave\n");
    assert!(ok);
    assert_eq!(outbox.mails().len(), 2);
    // a new log file within the week: pending, no mail yet
    add_log(&bob, "msg.BBBBBB", 4_000_000_000, "new");
    let (ok, _) = run(&h, "local/bob\n");
    assert!(ok);
    assert_eq!(outbox.mails().len(), 2);
    assert!(bob.join("notify.pending").exists());

    // names that could leave userdirs are refused, the rest go on
    let (ok, said) = run(&h, "../etc\nlocal/nobody\n");
    assert!(!ok);
    assert!(said.contains("\"../etc\": not a user name"), "{said}");
    // no mailer: said, and the user is tried again next time
    std::fs::remove_file(h.join("sendmail")).unwrap();
    std::fs::remove_file(dave.join("notify.block")).unwrap();
    add_log(&dave, "msg.CCCCCC", 2_000_000_000, "new");
    let (ok, said) = run(&h, "local/dave\n");
    assert!(!ok);
    assert!(
        said.contains("local/dave:") && said.contains("sendmail"),
        "{said}"
    );
    assert!(!dave.join("notify.block").exists());
    assert!(dave.join("notify.pending").exists());
    // with the mailer back, the next run sends it
    Outbox::new(&h).unwrap();
    let (ok, said) = run(&h, "local/dave\n");
    assert!(ok, "{said}");
    assert_eq!(outbox.mails().len(), 3);
    let _ = std::fs::remove_dir_all(&h);
}
