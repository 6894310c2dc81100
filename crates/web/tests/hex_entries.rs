//! A logged message's body checksum whitelisted with one click: dccm (the
//! real binary, `-U userdirs`, a fake DCC server that counts the message
//! as bulk) rejects a message and logs it for bob; through dcc-web bob
//! whitelists its body checksum, which becomes an `ok hex Body` line with
//! the checksum as the log file shows it; the same message then passes.

mod common;

use common::mail::{send, start_dccm, until_accepted};
use common::*;
use tally_testkit::FakeDccd;
use tally_web::client::enc;

#[test]
fn whitelisting_a_body_checksum_lets_the_message_pass() {
    let dccm_bin = match tally_e2e::bins::binary("dccm") {
        Ok(b) => b,
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "CI: no dccm: {e}");
            eprintln!("SKIPPED: dccm: {e}");
            return;
        }
    };
    let h = home("hex");
    let bob = add_user(&h, "bob", "# bob's own whitelist\n");
    htpasswd(&h, &["bob"], "");
    let srv = FakeDccd::start(1200, "hextest");
    let (_dccm, sock) = start_dccm(&dccm_bin, &h, &srv);
    let (code, reply) = send(&sock, 1);
    assert!(code == b'y' || code == b'r', "not rejected: {reply}");
    let id = std::fs::read_dir(bob.join("log"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
        .expect("a log file for bob");
    let logged = std::fs::read_to_string(bob.join("log").join(&id)).unwrap();
    let body_row = logged
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("Body: "))
        .expect("a Body row in the log file");
    let sum: String = body_row
        .split_whitespace()
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");

    let web = start(&h, &["-S"]);
    let (mut c, csrf) = signed_in(web.addr, "bob");
    let page = c.get(&format!("/msg?id={id}")).unwrap();
    assert_eq!(page.status, 200);
    for button in ["add-ok-body", "add-many-body", "add-ok-fuz1", "add-ok-fuz2"] {
        assert!(page.body.contains(button), "no {button} button");
    }
    assert!(page.body.contains(&sum), "the checksum is shown");
    let a = c
        .post(
            "/white",
            &format!(
                "csrf={}&op=add&list=ok&kind=body&msg={}",
                enc(&csrf),
                enc(&id)
            ),
        )
        .unwrap();
    assert_eq!(a.status, 303, "{}", a.body);
    let white = std::fs::read_to_string(bob.join("whiteclnt")).unwrap();
    assert_eq!(
        white,
        format!("# bob's own whitelist\nok\thex Body\t{sum}\n")
    );
    let page = c.get(&format!("/msg?id={id}")).unwrap();
    assert!(page.body.contains("whitelisted"), "the page says so");

    let took = until_accepted(&sock, 2).expect("still rejected after 30 s");
    eprintln!("passed after {:.1} s", took.as_secs_f64());

    // and off again with the remove button
    let a = c
        .post(
            "/white",
            &format!("csrf={}&op=remove&kind=body&msg={}", enc(&csrf), enc(&id)),
        )
        .unwrap();
    assert_eq!(a.status, 303);
    assert_eq!(
        std::fs::read_to_string(bob.join("whiteclnt")).unwrap(),
        "# bob's own whitelist\n"
    );
}
