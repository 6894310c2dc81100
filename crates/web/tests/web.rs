//! dcc-web through HTTP on loopback: sign-in, sessions, CSRF, the
//! listing, a message, one-click whiteclnt edits and the options form.

mod common;

use common::*;
use tally_web::client::{enc, Client};

const BOB_WHITE: &str = "# bob's list\nok env_from friend@example.com\n\
some line tally does not know\noption greylist-off\n";

fn setup(tag: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let h = home(tag);
    let bob = add_user(&h, "bob", BOB_WHITE);
    add_user(&h, "carol", "# carol\n");
    htpasswd(&h, &["bob", "carol"], "");
    add_log(
        &bob,
        "msg.AAAAAA",
        1_000,
        &log_text(
            "01/01/26 10:00:00 UTC",
            "old@example.org",
            "oldest",
            "x",
            "accept",
        ),
    );
    add_log(
        &bob,
        "msg.CCCCCC",
        3_000,
        &log_text(
            "01/03/26 10:00:00 UTC",
            "spammer@bulk.example",
            "newest",
            "buy",
            "reject",
        ),
    );
    add_log(
        &bob,
        "msg.BBBBBB",
        2_000,
        &log_text(
            "01/02/26 10:00:00 UTC",
            "mid@example.com",
            "middle",
            "y",
            "accept",
        ),
    );
    (h, bob)
}

#[test]
fn sign_in_good_and_bad() {
    let (h, _) = setup("signin");
    let w = start(&h, &["-S"]);
    let mut c = Client::new(w.addr);
    assert_eq!(
        c.get("/log").unwrap().status,
        303,
        "no session: to the sign-in page"
    );
    let a = sign_in(&mut c, "bob", "wrong");
    assert_eq!(a.status, 401);
    assert!(a.body.contains("wrong user name or password"));
    let a = sign_in(&mut c, "nobody", PASSWORD);
    assert_eq!(a.status, 401);
    let a = sign_in(&mut c, "bob", PASSWORD);
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location"), Some("/log"));
    let ck = a
        .headers
        .iter()
        .find(|(n, v)| n == "set-cookie" && v.starts_with("dccweb="))
        .unwrap();
    assert!(ck.1.contains("HttpOnly") && ck.1.contains("SameSite=Strict"));
    assert!(!ck.1.contains("Secure"), "-S: plain HTTP testing");
    let p = c.get("/log").unwrap();
    assert_eq!(p.status, 200);
    assert!(p.body.contains("3 messages"));
    assert_eq!(p.header("x-frame-options"), Some("DENY"));
    assert!(p
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'none'"));

    // a sign-in form without its token is refused
    let mut c2 = Client::new(w.addr);
    let a = c2
        .post(
            "/signin",
            &format!("csrf=x&user=bob&password={}", enc(PASSWORD)),
        )
        .unwrap();
    assert_eq!(a.status, 403);
    assert!(a.body.contains("CSRF"));

    // sign out ends the session; the old cookie no longer works
    let csrf = p.csrf().unwrap();
    let old = c.cookies.clone();
    assert_eq!(
        c.post("/signout", &format!("csrf={csrf}")).unwrap().status,
        303
    );
    let mut c3 = Client::new(w.addr);
    c3.cookies = old;
    assert_eq!(c3.get("/log").unwrap().status, 303);
}

#[test]
fn secure_cookies_by_default() {
    let (h, _) = setup("secure");
    let w = start(&h, &[]);
    let mut c = Client::new(w.addr);
    let a = sign_in(&mut c, "bob", PASSWORD);
    assert_eq!(a.status, 303);
    let ck = a
        .headers
        .iter()
        .find(|(n, v)| n == "set-cookie" && v.starts_with("dccweb="))
        .unwrap();
    assert!(ck.1.contains("; Secure"), "{}", ck.1);
}

#[test]
fn listing_and_message() {
    let (h, _) = setup("list");
    let w = start(&h, &["-S"]);
    let (mut c, _) = signed_in(w.addr, "bob");
    let p = c.get("/log").unwrap().body;
    let at = |s: &str| p.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(
        at("newest") < at("middle") && at("middle") < at("oldest"),
        "newest first"
    );
    assert!(p.contains("spammer@bulk.example") && p.contains("01/03/26 10:00:00 UTC"));
    assert!(p.contains("<td>reject</td>") && p.contains("<td>accept</td>"));
    let m = c.get("/msg?id=msg.CCCCCC").unwrap();
    assert_eq!(m.status, 200);
    assert!(
        m.body.contains("5c525331 d559d9bb c626b5ed cf330c15"),
        "checksum table"
    );
    assert!(m.body.contains("203.0.113.80") && m.body.contains("bulk.example"));
    assert!(m.body.contains("id=\"add-ok-env_from\""));
    // the body checksum of the table can be listed too
    assert!(m.body.contains("id=\"add-ok-body\"") && m.body.contains("body checksum"));
    // the log file as it is
    assert!(m.body.contains("href=\"/raw?id=msg.CCCCCC\""));
    let r = c.get("/raw?id=msg.CCCCCC").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let file = std::fs::read_to_string(h.join("userdirs/local/bob/log/msg.CCCCCC")).unwrap();
    assert_eq!(r.body, file);
}

/// A sender's domain entry (`substitute mail_host`) is only offered, and
/// only taken, for a message whose log shows that checksum: without
/// `-S mail_host` dccm and dccifd would never look the entry up.
#[test]
fn domain_entry_needs_mail_host_checksum() {
    let (h, bob) = setup("nodomain");
    let text = log_text(
        "01/04/26 10:00:00 UTC",
        "other@plain.example",
        "no substitute",
        "z",
        "accept",
    )
    .replace(
        "substitute mail_host: 38ed1912 6579adab f1ccb212 3de2d732\n",
        "",
    );
    assert!(!text.contains("substitute mail_host"));
    add_log(&bob, "msg.DDDDDD", 4_000, &text);
    let w = start(&h, &["-S"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");
    let m = c.get("/msg?id=msg.DDDDDD").unwrap();
    assert_eq!(m.status, 200);
    assert!(m.body.contains("id=\"add-ok-env_from\""));
    assert!(!m.body.contains("add-ok-domain"), "no domain button");
    let with = c.get("/msg?id=msg.CCCCCC").unwrap();
    assert!(with.body.contains("add-ok-domain"), "domain button");
    let f = bob.join("whiteclnt");
    let before = std::fs::read(&f).unwrap();
    let a = c
        .post(
            "/white",
            &format!("csrf={csrf}&op=add&list=ok&kind=domain&msg=msg.DDDDDD"),
        )
        .unwrap();
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("-S mail_host"), "{}", a.body);
    assert_eq!(std::fs::read(&f).unwrap(), before, "nothing written");
    // the HELO name likewise: only with a `substitute HELO` row (-S HELO)
    assert!(!with.body.contains("add-ok-helo"), "no HELO button");
    let helo = log_text(
        "01/05/26 10:00:00 UTC",
        "h@example.com",
        "helo",
        "z",
        "reject",
    )
    .replace(
        "\nBody: ",
        "\nsubstitute HELO: 0f1e2d3c 4b5a6978 8796a5b4 c3d2e1f0\nBody: ",
    );
    add_log(&bob, "msg.EEEEEE", 5_000, &helo);
    let m = c.get("/msg?id=msg.EEEEEE").unwrap();
    assert!(
        m.body.contains("add-ok-helo") && m.body.contains("HELO name"),
        "HELO button"
    );
    let a = c
        .post(
            "/white",
            &format!("csrf={csrf}&op=add&list=ok&kind=helo&msg=msg.EEEEEE"),
        )
        .unwrap();
    assert_eq!(a.status, 303, "{}", a.body);
    let now = std::fs::read_to_string(&f).unwrap();
    assert!(
        now.ends_with("ok\tsubstitute HELO\tmail.example.com\n"),
        "{now}"
    );
}

#[test]
fn whitelist_round_trip() {
    let (h, bob) = setup("white");
    let w = start(&h, &["-S"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");
    let f = bob.join("whiteclnt");
    let post =
        |c: &mut Client, form: &str| c.post("/white", &format!("csrf={csrf}&{form}")).unwrap();
    let a = post(&mut c, "op=add&list=ok&kind=env_from&msg=msg.BBBBBB");
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.header("location"), Some("/msg?id=msg.BBBBBB&done=add-ok"));
    let a = post(&mut c, "op=add&list=many&kind=domain&msg=msg.CCCCCC");
    assert_eq!(a.status, 303, "{}", a.body);
    let a = post(&mut c, "op=add&list=many&kind=ip&msg=msg.CCCCCC");
    assert_eq!(a.status, 303, "{}", a.body);
    let text = std::fs::read_to_string(&f).unwrap();
    assert_eq!(
        text,
        format!("{BOB_WHITE}ok\tenv_From\tmid@example.com\nmany\tsubstitute mail_host\tbulk.example\nmany\tIP\t203.0.113.80\n")
    );
    let parsed = tally_white::parse_file(
        "whiteclnt",
        text.as_bytes(),
        tally_white::FileKind::PerUser,
        &mut tally_white::NoIncludes,
    );
    assert_eq!(parsed.items.len(), 4, "{:?}", parsed.errors);
    let page = c.get("/msg?id=msg.BBBBBB&done=add-ok").unwrap().body;
    assert!(page.contains("whitelisted") && page.contains("Whitelisted."));
    let list = c.get("/whiteclnt").unwrap().body;
    assert!(list.contains("bulk.example") && list.contains("some line tally does not know"));
    // remove them again: the file is as it was
    for form in [
        "op=remove&kind=env_from&msg=msg.BBBBBB",
        "op=remove&kind=domain&value=bulk.example",
        "op=remove&kind=ip&value=203.0.113.80",
    ] {
        assert_eq!(post(&mut c, form).status, 303);
    }
    assert_eq!(std::fs::read_to_string(&f).unwrap(), BOB_WHITE);
}

#[test]
fn options_form() {
    let (h, bob) = setup("options");
    let w = start(&h, &["-S"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");
    let p = c.get("/options").unwrap().body;
    assert!(
        p.contains("<option value=\"off\" selected>greylist-off</option>"),
        "current setting shown"
    );
    // the settings the original's edit-whiteclnt offered
    for word in [
        "log-subdirectory-hour",
        "DNSBL1-on",
        "DNSBL4-off",
        "MTA-first",
        "forced-discard-ok",
        "no-forced-discard",
        "greylist-log-off",
    ] {
        assert!(p.contains(&format!(">{word}</option>")), "{word}");
    }
    let a = c
        .post("/options", &format!("csrf={csrf}&dcc=off&greylist=default&log=all&spamtrap=default&thold_CMN=&thold_Body=20&thold_Fuz1=never&thold_Fuz2="))
        .unwrap();
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(
        std::fs::read_to_string(bob.join("whiteclnt")).unwrap(),
        "# bob's list\nok env_from friend@example.com\nsome line tally does not know\n\
option DCC-off\noption log-all\noption threshold Body,20\noption threshold Fuz1,never\n"
    );
    let before = std::fs::read(bob.join("whiteclnt")).unwrap();
    // mail notifications: unchanged, the file is left alone; on, a line
    // at the top as the original's edit-whiteclnt wrote it
    let a = c
        .post("/options", &format!("csrf={csrf}&notify=off&notifybox="))
        .unwrap();
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(std::fs::read(bob.join("whiteclnt")).unwrap(), before);
    let a = c
        .post(
            "/options",
            &format!("csrf={csrf}&notify=on&notifybox=bob-home"),
        )
        .unwrap();
    assert_eq!(a.status, 303, "{}", a.body);
    let now = std::fs::read_to_string(bob.join("whiteclnt")).unwrap();
    assert_eq!(
        now,
        format!(
            "#webuser mail-notify=on mailbox=bob-home\n{}",
            String::from_utf8_lossy(&before)
        )
    );
    let p = c.get("/options").unwrap().body;
    assert!(p.contains("<option value=\"on\" selected>") && p.contains("value=\"bob-home\""));
    let before = now.into_bytes();
    for bad in [
        "mta=sometimes",
        "rep=on",
        "logsubdir=second",
        "dnsbl5=on",
        "thold_Body=-1",
        "dcc=perhaps",
        "thold_IP=5",
        "notify=maybe",
        "notify=on&notifybox=a%40b",
    ] {
        let a = c.post("/options", &format!("csrf={csrf}&{bad}")).unwrap();
        assert_eq!(a.status, 400, "{bad}");
        assert!(a.body.contains("refused"), "{bad}: {}", a.body);
    }
    assert_eq!(
        std::fs::read(bob.join("whiteclnt")).unwrap(),
        before,
        "nothing written"
    );
}

/// The log subdirectory, DNS blacklist, MTA order, forced discard and
/// greylist logging settings: written as the option lines of dcc(8),
/// read back by the form, checked by the white crate (settings it finds
/// in conflict are refused), and removed again by "site default".
#[test]
fn site_settings_round_trip() {
    let (h, bob) = setup("siteopts");
    let w = start(&h, &["-S"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");
    let f = bob.join("whiteclnt");
    std::fs::write(&f, "# bob\noption DNSBL-off\noption forced-discard-nok\n").unwrap();
    let p = c.get("/options").unwrap().body;
    assert!(p.contains("<option value=\"off\" selected>DNSBL1-off</option>"));
    assert!(p.contains("<option value=\"no\" selected>no-forced-discard</option>"));
    let a = c
        .post(
            "/options",
            &format!(
                "csrf={csrf}&logsubdir=hour&dnsbl1=on&dnsbl2=off&dnsbl3=default&dnsbl4=on\
&mta=first&discard=ok&greylog=off"
            ),
        )
        .unwrap();
    assert_eq!(a.status, 303, "{}", a.body);
    let text = std::fs::read_to_string(&f).unwrap();
    assert_eq!(
        text,
        "# bob\noption DNSBL1-on\noption forced-discard-ok\noption greylist-log-off\n\
option log-subdirectory-hour\noption DNSBL2-off\noption DNSBL4-on\noption MTA-first\n"
    );
    let parsed = tally_white::parse_file(
        "whiteclnt",
        text.as_bytes(),
        tally_white::FileKind::PerUser,
        &mut tally_white::NoIncludes,
    );
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    use tally_white::Switches as S;
    for bit in [
        S::LOG_H,
        S::DNSBL_ON,
        S::DNSBL_OFF << 1,
        S::DNSBL_ON << 3,
        S::MTA_FIRST,
        S::DISCARD_OK,
        S::GREY_LOG_OFF,
    ] {
        assert!(
            parsed.switches.has(bit),
            "{bit:#x} in {:?}",
            parsed.switches
        );
    }
    let p = c.get("/options?done=options").unwrap().body;
    for (v, word) in [
        ("hour", "log-subdirectory-hour"),
        ("on", "DNSBL1-on"),
        ("off", "DNSBL2-off"),
        ("on", "DNSBL4-on"),
        ("first", "MTA-first"),
        ("ok", "forced-discard-ok"),
        ("off", "greylist-log-off"),
    ] {
        assert!(
            p.contains(&format!("<option value=\"{v}\" selected>{word}</option>")),
            "{word} shown as set"
        );
    }
    assert!(p.contains("Options saved."));
    // a spam trap that rejects conflicts with DNS blacklist checks on
    let before = std::fs::read(&f).unwrap();
    let a = c
        .post("/options", &format!("csrf={csrf}&spamtrap=reject"))
        .unwrap();
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("refused"), "{}", a.body);
    assert_eq!(std::fs::read(&f).unwrap(), before, "nothing written");
    // "site default" removes them again
    let a = c
        .post(
            "/options",
            &format!(
                "csrf={csrf}&logsubdir=default&dnsbl1=default&dnsbl2=default&dnsbl4=default\
&mta=default&discard=default&greylog=default"
            ),
        )
        .unwrap();
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "# bob\n");
}

/// One click whitelists or blacklists one envelope recipient of a logged
/// message: an `env_To` line for the address of its `env_To:` line.
#[test]
fn recipient_one_click() {
    let (h, bob) = setup("envto");
    let text = log_text(
        "01/06/26 10:00:00 UTC",
        "list@lists.example",
        "to two",
        "z",
        "reject",
    )
    .replace(
        "dir=userdirs/local/bob\n",
        "dir=userdirs/local/bob\nenv_To: <Team@Example.org>  addr=team  dir=userdirs/local/bob\n",
    );
    add_log(&bob, "msg.FFFFFF", 6_000, &text);
    let w = start(&h, &["-S"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");
    let m = c.get("/msg?id=msg.FFFFFF").unwrap();
    assert_eq!(m.status, 200);
    assert!(
        m.body.contains("id=\"add-ok-env_to-0\"") && m.body.contains("id=\"add-many-env_to-1\"")
    );
    assert!(m.body.contains("whitelist recipient"));
    assert!(m.body.contains("value=\"Team@Example.org\""));
    let f = bob.join("whiteclnt");
    let a = c
        .post(
            "/white",
            &format!(
                "csrf={csrf}&op=add&list=ok&kind=env_to&msg=msg.FFFFFF&value=Team%40Example.org"
            ),
        )
        .unwrap();
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.header("location"), Some("/msg?id=msg.FFFFFF&done=add-ok"));
    let text = std::fs::read_to_string(&f).unwrap();
    assert_eq!(text, format!("{BOB_WHITE}ok\tenv_To\tTeam@Example.org\n"));
    let parsed = tally_white::parse_file(
        "whiteclnt",
        text.as_bytes(),
        tally_white::FileKind::PerUser,
        &mut tally_white::NoIncludes,
    );
    // only the line it did not know before
    assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
    assert_eq!(parsed.items.len(), 2);
    let m = c.get("/msg?id=msg.FFFFFF&done=add-ok").unwrap().body;
    assert!(m.contains("id=\"remove--env_to-1\"") && !m.contains("id=\"add-ok-env_to-1\""));
    assert!(
        !m.contains("id=\"remove--env_to-0\""),
        "the other recipient is not listed"
    );
    // the other recipient, blacklisted; the form names it in any case
    let a = c
        .post(
            "/white",
            &format!(
                "csrf={csrf}&op=add&list=many&kind=env_to&msg=msg.FFFFFF&value=BOB%40example.net"
            ),
        )
        .unwrap();
    assert_eq!(a.status, 303, "{}", a.body);
    let now = std::fs::read_to_string(&f).unwrap();
    assert!(
        now.ends_with("ok\tenv_To\tTeam@Example.org\nmany\tenv_To\tbob@example.net\n"),
        "{now}"
    );
    // a recipient the message does not have is refused
    let before = std::fs::read(&f).unwrap();
    let a = c
        .post(
            "/white",
            &format!(
                "csrf={csrf}&op=add&list=ok&kind=env_to&msg=msg.FFFFFF&value=eve%40example.com"
            ),
        )
        .unwrap();
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("no recipient"), "{}", a.body);
    assert_eq!(std::fs::read(&f).unwrap(), before, "nothing written");
    // the whitelist page lists them with remove buttons
    let list = c.get("/whiteclnt").unwrap().body;
    assert!(
        list.contains("<td>recipient</td><td>Team@Example.org</td>"),
        "{list}"
    );
    for form in [
        "op=remove&kind=env_to&value=team%40example.org",
        "op=remove&kind=env_to&msg=msg.FFFFFF&value=bob%40example.net",
    ] {
        let a = c.post("/white", &format!("csrf={csrf}&{form}")).unwrap();
        assert_eq!(a.status, 303, "{form}: {}", a.body);
    }
    assert_eq!(std::fs::read_to_string(&f).unwrap(), BOB_WHITE);
}
