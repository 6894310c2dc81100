//! The password page through HTTP on loopback: a change replaces only the
//! user's line of the htpasswd file, the new password signs in and the old
//! one no longer does, the user's other sessions end; refused changes
//! (wrong current password, copies that differ, too short, no CSRF token,
//! the lock held, `-R`) write nothing.

mod common;

use common::*;
use std::path::Path;
use tally_web::client::{enc, Client};

const EXTRA: &str = "# the postmaster's notes\nann:{SHA}notchecked:extra\n";

fn site(tag: &str) -> std::path::PathBuf {
    let h = home(tag);
    add_user(&h, "bob", "# bob\n");
    add_user(&h, "carol", "# carol\n");
    htpasswd(&h, &["bob", "carol"], EXTRA);
    h
}

fn pw_file(h: &Path) -> Vec<u8> {
    std::fs::read(h.join("userdirs/webusers")).unwrap()
}

fn change(c: &mut Client, csrf: &str, current: &str, new: &str, again: &str) -> (u16, String) {
    let a = c
        .post(
            "/password",
            &format!(
                "csrf={}&current={}&new={}&again={}",
                enc(csrf),
                enc(current),
                enc(new),
                enc(again)
            ),
        )
        .unwrap();
    (a.status, a.body)
}

#[test]
fn a_user_changes_their_password() {
    let h = site("pw-change");
    let w = start(&h, &["-S"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");
    let (mut other, _) = signed_in(w.addr, "bob");
    let (mut carol, _) = signed_in(w.addr, "carol");
    let p = c.get("/password").unwrap();
    assert_eq!(p.status, 200);
    assert!(p.body.contains("id=\"current\"") && p.body.contains("id=\"again\""));
    let before = String::from_utf8(pw_file(&h)).unwrap();

    let (st, _) = change(&mut c, &csrf, PASSWORD, "a new secret", "a new secret");
    assert_eq!(st, 303);
    let after = String::from_utf8(pw_file(&h)).unwrap();
    // only bob's line changed, to a bcrypt hash as htpasswd -B writes
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(b.len(), a.len());
    for (x, y) in b.iter().zip(&a) {
        if x.starts_with("bob:") {
            assert!(y.starts_with("bob:$2y$10$") && x != y, "{y}");
        } else {
            assert_eq!(x, y);
        }
    }
    assert!(after.ends_with(EXTRA));
    let p = c.get("/password?done=password").unwrap();
    assert!(p.body.contains("Password changed."), "{}", p.body);
    assert_eq!(c.get("/log").unwrap().status, 200, "this session goes on");
    assert_eq!(
        other.get("/log").unwrap().status,
        303,
        "bob's other session ended"
    );
    assert_eq!(carol.get("/log").unwrap().status, 200, "carol's did not");
    let mut fresh = Client::new(w.addr);
    assert_eq!(sign_in(&mut fresh, "bob", PASSWORD).status, 401);
    assert_eq!(sign_in(&mut fresh, "bob", "a new secret").status, 303);
    for e in std::fs::read_dir(h.join("userdirs")).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        assert!(
            !n.starts_with(".webusers"),
            "a temporary file was left: {n}"
        );
    }
}

#[test]
fn refused_changes_write_nothing() {
    let h = site("pw-refused");
    let w = start(&h, &["-S"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");
    let before = pw_file(&h);
    for (current, new, again, status, says) in [
        (PASSWORD, "long enough", "long enougH", 400, "differ"),
        (PASSWORD, "short", "short", 400, "at least 8 characters"),
        (
            "wrong",
            "long enough",
            "long enough",
            403,
            "current password is wrong",
        ),
    ] {
        let (st, body) = change(&mut c, &csrf, current, new, again);
        assert_eq!(st, status, "{body}");
        assert!(body.contains(says), "{body}");
        assert!(body.contains("id=\"current\""), "the form again");
    }
    // CSRF
    for token in ["", "0000"] {
        let (st, body) = change(&mut c, token, PASSWORD, "long enough", "long enough");
        assert_eq!(st, 403);
        assert!(body.contains("CSRF token is missing or wrong"), "{body}");
    }
    // another change holds the lock
    let lock = std::fs::File::create(h.join("userdirs/webusers.lock")).unwrap();
    lock.lock().unwrap();
    let (st, body) = change(&mut c, &csrf, PASSWORD, "long enough", "long enough");
    assert_eq!(st, 503, "{body}");
    assert!(body.contains("try again"), "{body}");
    drop(lock);
    assert_eq!(pw_file(&h), before, "nothing written");
    // wrong current passwords count as failed sign-ins: 1 so far
    for i in 0..4 {
        let (st, _) = change(
            &mut c,
            &csrf,
            &format!("guess{i}"),
            "long enough",
            "long enough",
        );
        assert_eq!(st, 403, "guess {i}");
    }
    let (st, body) = change(&mut c, &csrf, PASSWORD, "long enough", "long enough");
    assert_eq!(st, 429, "{body}");
    assert_eq!(pw_file(&h), before, "nothing written");
    assert_eq!(
        sign_in(&mut Client::new(w.addr), "bob", PASSWORD).status,
        429,
        "sign-in is limited too"
    );
}

#[test]
fn minus_r_turns_the_page_off() {
    let h = site("pw-off");
    let w = start(&h, &["-S", "-R"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");
    let before = pw_file(&h);
    let p = c.get("/password").unwrap();
    assert_eq!(p.status, 404);
    assert!(p.body.contains("ask the postmaster"), "{}", p.body);
    let (st, _) = change(&mut c, &csrf, PASSWORD, "long enough", "long enough");
    assert_eq!(st, 404);
    assert_eq!(pw_file(&h), before);
}
