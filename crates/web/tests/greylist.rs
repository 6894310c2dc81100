//! Ending a logged message's greylist embargo from its page: the triple
//! of the log file's `greylist recipient` lines is whitelisted at our
//! greylist server (`dccd -G`, found through the DCC home's map file), and
//! the sender's next attempt passes. Only embargoed triples of the user's
//! own log files can be named.

mod common;

use common::*;
use tally_e2e::dccd::{grey_map_line, grey_report, grey_triple, DccServer};
use tally_e2e::require;
use tally_web::client::enc;

/// DCC_TGTS_TOO_MANY: the triple passes.
const PASSES: u32 = 0x00ff_fff0;

/// Bob's log file of a message embargoed for him (triple `n` of
/// [`grey_report`]) and passed for a second recipient.
fn grey_log(n: u8) -> String {
    let lines = format!(
        "       greylist recipient\n\
         {:>25}: b393fde9 69b66381 cf6185fa c173507f \n\
         {:>25}  {} Embargo #1\n\
         {:>25}: b393fde9 69b66381 cf6185fa c173507f \n\
         {:>25}  00000001 00000002 00000003 00000004 Pass\n\
         rejection message: 452 4.2.1 mail from 203.0.113.80 temporary greylist embargoed\n\
         result: temporary greylist embargo\n",
        "bob@example.net",
        "",
        grey_triple(n),
        "carol@example.net",
        ""
    );
    log_text(
        "01/04/26 10:00:00 UTC",
        "new@example.org",
        "greylisted",
        "hello",
        "temporary greylist embargo",
    )
    .replace("result: temporary greylist embargo\n", &lines)
}

#[test]
fn embargo_ended_from_the_message_page() {
    let h = home("grey");
    let grey = require!(DccServer::start_grey(&h.join("grey"), "on,300"));
    assert_eq!(grey_report(&grey, 7), 0, "a new embargo");
    std::fs::write(
        h.join("map"),
        format!("IPv6 off   version=3\n\n{}", grey_map_line(grey.addr)),
    )
    .unwrap();
    let bob = add_user(&h, "bob", "# bob\n");
    add_log(&bob, "msg.GGGGGG", 4_000, &grey_log(7));
    htpasswd(&h, &["bob"], "");
    let w = start(&h, &["-S"]);
    let (mut c, csrf) = signed_in(w.addr, "bob");

    let p = c.get("/msg?id=msg.GGGGGG").unwrap();
    assert!(p.body.contains("<h2>Greylisting</h2>"), "{}", p.body);
    assert!(p.body.contains("Embargo #1") && p.body.contains("Pass"));
    // one button: carol's triple passed already
    assert_eq!(p.body.matches("end the embargo").count(), 1);
    let form = |n: &str| format!("csrf={}&msg=msg.GGGGGG&n={n}", enc(&csrf));

    // refused: not embargoed, not there, no CSRF token
    assert_eq!(c.post("/grey", &form("1")).unwrap().status, 400);
    assert_eq!(c.post("/grey", &form("9")).unwrap().status, 400);
    let r = c.post("/grey", "msg=msg.GGGGGG&n=0").unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(grey_report(&grey, 7), 1, "still embargoed");

    let r = c.post("/grey", &form("0")).unwrap();
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.header("location").unwrap().to_string();
    assert_eq!(to, "/msg?id=msg.GGGGGG&done=grey-pass");
    let p = c.get(&to).unwrap();
    assert!(p.body.contains("The greylist embargo ended"), "{}", p.body);
    // the sender's next attempt is not embargoed
    assert_eq!(grey_report(&grey, 7), PASSES);

    // without the map file nothing can be asked
    std::fs::remove_file(h.join("map")).unwrap();
    let r = c.post("/grey", &form("0")).unwrap();
    assert_eq!(r.status, 503);
    assert!(
        r.body.contains("the greylist server could not be asked"),
        "{}",
        r.body
    );
}
