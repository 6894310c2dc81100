//! Each attack is refused with a clear message and nothing is written:
//! path traversal, another user's directory, oversized requests,
//! malformed whiteclnt lines, markup in logged messages (escaped), CSRF,
//! and guessing passwords (rate limited).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use tally_web::client::{enc, Client};

struct Site {
    home: PathBuf,
    bob: PathBuf,
    carol: PathBuf,
}

fn setup(tag: &str) -> Site {
    let home = home(tag);
    let bob = add_user(&home, "bob", "# bob\nok env_from friend@example.com\n");
    let carol = add_user(&home, "carol", "# carol's own\n");
    add_log(
        &bob,
        "msg.BOB001",
        1_000,
        &log_text(
            "01/01/26 10:00:00 UTC",
            "a@example.com",
            "hello",
            "hi",
            "accept",
        ),
    );
    add_log(
        &carol,
        "msg.CAR001",
        1_000,
        &log_text(
            "01/01/26 10:00:00 UTC",
            "secret@example.com",
            "carol's secret",
            "private",
            "accept",
        ),
    );
    Site { home, bob, carol }
}

/// Both users' whiteclnt files, to compare before and after.
fn files(s: &Site) -> (Vec<u8>, Vec<u8>) {
    (
        std::fs::read(s.bob.join("whiteclnt")).unwrap(),
        std::fs::read(s.carol.join("whiteclnt")).unwrap(),
    )
}

fn no_temp_files(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        assert!(
            !n.starts_with(".whiteclnt"),
            "a temporary file was left: {n}"
        );
    }
}

#[test]
fn path_traversal_and_other_users() {
    let s = setup("traversal");
    htpasswd(&s.home, &["bob", "carol"], "");
    // a log file of bob's that is a link to carol's
    std::os::unix::fs::symlink(s.carol.join("log/msg.CAR001"), s.bob.join("log/msg.LINKED"))
        .unwrap();
    let w = start(&s.home, &["-S"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");
    let before = files(&s);
    for id in [
        "../whiteclnt",
        "..%2Fwhiteclnt",
        "../../carol/log/msg.CAR001",
        "%2Fetc%2Fpasswd",
        "msg.BOB001%00",
        "123/../../whiteclnt",
    ] {
        for page in ["msg", "raw"] {
            let a = c.get(&format!("/{page}?id={id}")).unwrap();
            assert_eq!(a.status, 403, "{page} {id}");
            assert!(
                a.body.contains("is not the name of a log file"),
                "{id}: {}",
                a.body
            );
        }
        let a = c
            .post(
                "/white",
                &format!("csrf={csrf}&op=add&list=ok&kind=env_from&msg={id}"),
            )
            .unwrap();
        assert_eq!(a.status, 403, "{id}");
    }
    for page in ["msg", "raw"] {
        let a = c.get(&format!("/{page}?id=msg.LINKED")).unwrap();
        assert_eq!(a.status, 403);
        assert!(a.body.contains("outside your log directory"), "{}", a.body);
        assert!(!a.body.contains("secret"));
    }
    let a = c
        .post(
            "/white",
            &format!("csrf={csrf}&op=add&list=ok&kind=env_from&msg=msg.LINKED"),
        )
        .unwrap();
    assert_eq!(a.status, 403);
    let list = c.get("/log").unwrap().body;
    assert!(!list.contains("carol&#39;s secret") && !list.contains("carol's secret"));
    assert_eq!(files(&s), before, "nothing written");
    no_temp_files(&s.bob);
}

#[test]
fn bad_user_names_and_directories() {
    let s = setup("names");
    let outside = s.home.join("outside");
    std::fs::create_dir_all(outside.join("log")).unwrap();
    std::os::unix::fs::symlink(&outside, s.home.join("userdirs/local/eve")).unwrap();
    htpasswd(
        &s.home,
        &[
            "bob",
            "../carol",
            "local/../carol",
            ".carol",
            "eve",
            "nodir",
        ],
        "",
    );
    let w = start(&s.home, &["-S"]);
    for (user, why) in [
        ("../carol", "starts with '.'"),
        ("local/../carol", "more than one '/'"),
        (".carol", "starts with '.'"),
        ("eve", "outside userdirs"),
        ("nodir", "no directory for user"),
    ] {
        let mut c = Client::new(w.addr);
        let a = sign_in(&mut c, user, PASSWORD);
        assert_eq!(a.status, 403, "{user}");
        assert!(a.body.contains(why), "{user}: {}", a.body);
        assert_eq!(c.get("/log").unwrap().status, 303, "{user}: no session");
    }
}

#[test]
fn oversized_requests() {
    let s = setup("size");
    htpasswd(&s.home, &["bob"], "");
    let w = start(&s.home, &["-S"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");
    let before = files(&s);
    let big = "x".repeat(20_000);
    let a = c
        .post(
            "/white",
            &format!("csrf={csrf}&op=add&list=ok&kind=env_from&value={big}"),
        )
        .unwrap();
    assert_eq!(a.status, 413);
    assert!(a.body.contains("larger than 16384 bytes"), "{}", a.body);
    let a = c
        .post("/options", &format!("csrf={csrf}&thold_Body={big}"))
        .unwrap();
    assert_eq!(a.status, 413);
    let mut c2 = Client::new(w.addr);
    let a = c2
        .post("/signin", &format!("user=bob&password={big}"))
        .unwrap();
    assert_eq!(a.status, 413);
    // a value within the body limit but too long for an entry
    let long = "y".repeat(300);
    let a = c
        .post(
            "/white",
            &format!("csrf={csrf}&op=add&list=ok&kind=env_from&value={long}"),
        )
        .unwrap();
    assert_eq!(a.status, 400);
    assert!(a.body.contains("longer than 256 bytes"), "{}", a.body);
    assert_eq!(files(&s), before, "nothing written");
    no_temp_files(&s.bob);
}

#[test]
fn malformed_entries() {
    let s = setup("malformed");
    htpasswd(&s.home, &["bob"], "");
    let w = start(&s.home, &["-S"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");
    let before = files(&s);
    for (form, why) in [
        (
            "op=add&list=ok&kind=ip&value=not-an-address",
            "would not parse",
        ),
        ("op=add&list=ok&kind=ip&value=300.1.2.3", "would not parse"),
        (
            "op=add&list=ok&kind=env_from&value=a%40b.c%0Amany+ip+1.2.3.4",
            "contains the character",
        ),
        (
            "op=add&list=ok&kind=env_from&value=a%40b.c%23x",
            "contains the character",
        ),
        ("op=add&list=ok&kind=env_from&value=", "has no sender"),
        ("op=add&list=ok&kind=hex&value=x", "unknown kind"),
        ("op=add&list=mx&kind=ip&value=192.0.2.1", "unknown list"),
        (
            "op=rename&list=ok&kind=ip&value=192.0.2.1",
            "unknown operation",
        ),
    ] {
        let a = c.post("/white", &format!("csrf={csrf}&{form}")).unwrap();
        assert_eq!(a.status, 400, "{form}: {}", a.body);
        assert!(
            a.body.contains("refused") && a.body.contains(why),
            "{form}: {}",
            a.body
        );
    }
    assert_eq!(files(&s), before, "nothing written");
    no_temp_files(&s.bob);
}

#[test]
fn markup_is_escaped() {
    let s = setup("escape");
    htpasswd(&s.home, &["bob"], "");
    add_log(
        &s.bob,
        "msg.EVIL01",
        2_000,
        &log_text(
            "01/02/26 10:00:00 UTC",
            "x\"><script>alert(1)</script>@evil.example",
            "<script>alert('subject')</script>",
            "<img src=x onerror=alert(2)> & <a href=\"javascript:x\">",
            "<b>reject</b>",
        ),
    );
    std::fs::write(s.bob.join("whiteclnt"), "# <script>alert(3)</script>\n").unwrap();
    let w = start(&s.home, &["-S"]);
    let (mut c, _) = signed_in(w.addr, "bob");
    for path in ["/log", "/msg?id=msg.EVIL01", "/whiteclnt"] {
        let a = c.get(path).unwrap();
        assert_eq!(a.status, 200, "{path}");
        assert!(
            !a.body.contains("<script"),
            "{path}: raw markup:\n{}",
            a.body
        );
        assert!(!a.body.contains("<img"), "{path}");
        assert!(!a.body.contains("<b>reject"), "{path}");
        assert!(a.body.contains("&lt;script&gt;"), "{path}");
    }
    let m = c.get("/msg?id=msg.EVIL01").unwrap().body;
    assert!(m.contains(
        "&lt;img src=x onerror=alert(2)&gt; &amp; &lt;a href=&quot;javascript:x&quot;&gt;"
    ));
}

#[test]
fn csrf_refused() {
    let s = setup("csrf");
    htpasswd(&s.home, &["bob", "carol"], "");
    let w = start(&s.home, &["-S"]);
    let (mut c, _) = signed_in(w.addr, "bob");
    let (_, carol_csrf) = signed_in(w.addr, "carol");
    let before = files(&s);
    for form in [
        "op=add&list=ok&kind=ip&value=192.0.2.1".to_string(),
        "csrf=&op=add&list=ok&kind=ip&value=192.0.2.1".to_string(),
        "csrf=0000&op=add&list=ok&kind=ip&value=192.0.2.1".to_string(),
        format!("csrf={carol_csrf}&op=add&list=ok&kind=ip&value=192.0.2.1"),
    ] {
        let a = c.post("/white", &form).unwrap();
        assert_eq!(a.status, 403, "{form}");
        assert!(
            a.body.contains("CSRF token is missing or wrong"),
            "{}",
            a.body
        );
    }
    let a = c.post("/options", "dcc=off").unwrap();
    assert_eq!(a.status, 403);
    assert_eq!(c.post("/signout", "csrf=x").unwrap().status, 403);
    assert_eq!(c.get("/log").unwrap().status, 200, "still signed in");
    assert_eq!(files(&s), before, "nothing written");
}

#[test]
fn guessing_is_rate_limited() {
    let s = setup("brute");
    htpasswd(&s.home, &["bob", "carol"], "");
    let w = start(&s.home, &["-S"]);
    let mut c = Client::new(w.addr);
    for i in 0..5 {
        let a = sign_in(&mut c, "bob", &format!("guess{i}"));
        assert_eq!(a.status, 401, "guess {i}");
    }
    let a = sign_in(&mut c, "bob", PASSWORD);
    assert_eq!(
        a.status, 429,
        "the right password is refused too once limited"
    );
    assert!(a.body.contains("too many failed sign-ins"), "{}", a.body);
    assert_eq!(c.get("/log").unwrap().status, 303, "no session");
    // another user from the same address is not locked out yet
    let mut c2 = Client::new(w.addr);
    assert_eq!(sign_in(&mut c2, "carol", PASSWORD).status, 303);
    // the address limit: 20 failures from one address, whatever the names
    // (5 so far)
    for i in 0..15 {
        let a = sign_in(&mut c2, &format!("nobody{i}"), "x");
        assert_eq!(a.status, 401, "name {i}");
    }
    let a = sign_in(&mut Client::new(w.addr), "carol", PASSWORD);
    assert_eq!(a.status, 429, "the address is limited");
    let _ = enc("");
}
