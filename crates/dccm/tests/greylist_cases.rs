//! Greylisting cases beyond the recordings: a greylist server that does
//! not answer (with and without `-x`), whitelisted mail, per-user
//! `greylist-off`, `greylist-ignore-spam-on`, `-Q`, the log file of an
//! embargoed message, a DCC failure with `-x` coming before the embargo,
//! and an MXDCC relay behind an MX relay client.

mod common;

use common::milter::{connect_data, macro_pkt, Client, Reply};
use common::{make_home, start_dccm, Dccm};
use std::path::{Path, PathBuf};
use tally_testkit::fake_grey::{grey_map_text, FakeGrey};
use tally_testkit::{closed_port, map_text, FakeDccd};
use tally_wire::Op;

const EMBARGO: &str = "452 4.2.1 mail ID1 from 198.51.100.9 temporary greylist embargoed";

/// dccm with a counting DCC server and a greylist server (a dead port
/// without one), started with `extra` options after writing `files`
/// (path below the home, text).
fn start(tag: &str, grey: Option<&FakeGrey>, files: &[(&str, &str)], extra: &[&str]) -> Setup {
    let srv = FakeDccd::start(1200, "behbrand");
    common::preload_bulk(&srv);
    start_with(tag, Some(srv), grey, files, extra)
}

/// [`start`] with the DCC server `srv` (a dead port without one).
fn start_with(
    tag: &str,
    srv: Option<FakeDccd>,
    grey: Option<&FakeGrey>,
    files: &[(&str, &str)],
    extra: &[&str],
) -> Setup {
    let home = make_home(tag);
    let srv_addr = srv.as_ref().map_or_else(closed_port, |s| s.addr);
    let grey_addr = grey.map_or_else(closed_port, |g| g.addr);
    std::fs::write(
        home.join("map"),
        format!("{}{}", map_text(srv_addr), grey_map_text(grey_addr)),
    )
    .unwrap();
    for (p, text) in files {
        let p = home.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let d = start_dccm(&home, &common::local_args(&home, extra));
    Setup { d, home, srv }
}

struct Setup {
    d: Dccm,
    home: PathBuf,
    srv: Option<FakeDccd>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn connect(sock: &Path) -> Client {
    for _ in 0..200 {
        if let Ok(c) = Client::connect(sock) {
            return c;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("cannot connect to dccm");
}

/// The bulk message's body (its counts are preloaded at 5).
fn bulk_body() -> Vec<u8> {
    let eml = std::fs::read(common::data().join("msgs/bulk1.eml")).unwrap();
    let text = String::from_utf8_lossy(&eml).replace("\r\n", "\n");
    let body = text.split_once("\n\n").map_or("", |(_, b)| b);
    body.replace('\n', "\r\n").into_bytes()
}

/// One message from 198.51.100.9 to local users `rcpts`; the replies at
/// its end.
fn send(s: &Setup, rcpts: &[&str], body: &[u8]) -> Vec<Reply> {
    send_with(s, rcpts, body, &[])
}

/// [`send`] with more macros at each recipient (sendmail's
/// `${dcc_isspam}` and `${dcc_notspam}`).
fn send_with(s: &Setup, rcpts: &[&str], body: &[u8], more: &[(&str, &str)]) -> Vec<Reply> {
    let fields = [("From", "alice@example.com"), ("Subject", "notes")];
    send_fields(s, rcpts, &fields, body, more)
}

/// [`send_with`] with these header fields.
fn send_fields(
    s: &Setup,
    rcpts: &[&str],
    fields: &[(&str, &str)],
    body: &[u8],
    more: &[(&str, &str)],
) -> Vec<Reply> {
    let mut c = connect(&s.d.sock);
    c.send(b'C', &connect_data("mail.example.com", "198.51.100.9"))
        .unwrap();
    c.replies().unwrap();
    c.send(b'D', &macro_pkt(b'M', &[("i", "ID1")])).unwrap();
    c.send(b'M', b"<alice@example.com>\0").unwrap();
    c.replies().unwrap();
    for r in rcpts {
        let mut macros = vec![("{rcpt_mailer}", "local"), ("{rcpt_addr}", *r)];
        macros.extend_from_slice(more);
        c.send(b'D', &macro_pkt(b'R', &macros)).unwrap();
        c.send(b'R', format!("<{r}@example.net>\0").as_bytes())
            .unwrap();
        assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')], "{r}");
    }
    common::milter::content(&mut c, fields, body)
}

const HELLO: &[u8] = b"Hello Bob,\r\nthe notes are attached.\r\n";

fn accepted(r: &[Reply]) -> bool {
    r.last() == Some(&Reply::Final('a'))
        && r.iter()
            .any(|x| matches!(x, Reply::AddHeader(n, _) if n.starts_with("X-DCC")))
}

fn embargoed(r: &[Reply]) -> bool {
    r == [Reply::Code(EMBARGO.to_string())]
}

#[test]
fn a_dead_greylist_server_delivers_unless_told_to_try_hard() {
    let s = start("grey-dead", None, &[], &["-G", "on"]);
    let r = send(&s, &["bob"], HELLO);
    assert!(accepted(&r), "{r:?}");
    let s = start("grey-dead-x", None, &[], &["-G", "on", "-x"]);
    let r = send(&s, &["bob"], HELLO);
    assert!(embargoed(&r), "{r:?}");
}

#[test]
fn off_by_default_and_with_g_off() {
    let g = FakeGrey::start(1202, "grey", "on,5");
    for extra in [&[][..], &["-G", "on,off"][..]] {
        let s = start("grey-off", Some(&g), &[], extra);
        assert!(accepted(&send(&s, &["bob"], HELLO)));
    }
    assert!(g.ops(Op::GreyReport).is_empty());
}

#[test]
fn whitelisted_mail_is_reported_white() {
    let g = FakeGrey::start(1202, "grey", "on,5");
    let files = [("whiteclnt-gw", "ok env_From alice@example.com\n")];
    let s = start(
        "grey-white",
        Some(&g),
        &files,
        &["-G", "on", "-w", "whiteclnt-gw"],
    );
    let r = send(&s, &["bob"], HELLO);
    assert!(accepted(&r), "{r:?}");
    assert_eq!(g.ops(Op::GreyWhite).len(), 1, "{:?}", g.seen());
    assert!(g.ops(Op::GreyReport).is_empty());
}

#[test]
fn per_user_greylist_off() {
    let g = FakeGrey::start(1202, "grey", "on,5");
    let files = [("ud/local/bob/whiteclnt", "option greylist-off\n")];
    let s = start("grey-user", Some(&g), &files, &["-G", "on", "-U", "ud"]);
    assert!(accepted(&send(&s, &["bob"], HELLO)));
    assert!(g.ops(Op::GreyReport).is_empty());
    assert!(embargoed(&send(&s, &["carol"], HELLO)));
    assert_eq!(g.ops(Op::GreyReport).len(), 1);
}

#[test]
fn bulk_mail_is_rejected_unless_greylisting_ignores_spam() {
    let g = FakeGrey::start(1202, "grey", "on,5");
    let args = ["-G", "on", "-t", "CMN,2,3", "-w", "whiteclnt-gs"];
    let s = start("grey-spam", Some(&g), &[("whiteclnt-gs", "\n")], &args);
    let r = send(&s, &["bob"], &bulk_body());
    assert!(
        matches!(r.as_slice(), [Reply::Code(c)] if c.starts_with("550 5.7.1")),
        "{r:?}"
    );
    assert_eq!(g.ops(Op::GreySpam).len(), 1);
    let g = FakeGrey::start(1202, "grey", "on,5");
    let files = [("whiteclnt-gs", "option greylist-ignore-spam-on\n")];
    let s = start("grey-ign", Some(&g), &files, &args);
    let r = send(&s, &["bob"], &bulk_body());
    assert!(embargoed(&r), "{r:?}");
    assert!(g.ops(Op::GreySpam).is_empty());
}

#[test]
fn query_only_asks_without_counting() {
    let g = FakeGrey::start(1202, "grey", "on,5");
    let s = start("grey-q", Some(&g), &[], &["-G", "on", "-Q"]);
    let _ = send(&s, &["bob"], HELLO);
    assert_eq!(g.ops(Op::GreyQuery).len(), 1, "{:?}", g.seen());
    assert!(g.ops(Op::GreyReport).is_empty());
}

#[test]
fn the_log_file_of_an_embargoed_message() {
    let g = FakeGrey::start(1202, "grey", "on,5");
    let s = start("grey-log", Some(&g), &[], &["-G", "on", "-l", "logs"]);
    assert!(embargoed(&send(&s, &["bob"], HELLO)));
    let logs: Vec<PathBuf> = std::fs::read_dir(s.home.join("logs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let text = std::fs::read_to_string(&logs[0]).unwrap();
    let report = &g.ops(Op::GreyReport)[0];
    let triple = report.cks.last().unwrap().1;
    for want in [
        "       greylist recipient\n".to_string(),
        "          bob@example.net: ".to_string(),
        format!("{triple} Embargo #1\n"),
        format!("rejection message: {EMBARGO}\n"),
        "result: temporary greylist embargo\n".to_string(),
        // the header the message would have had
        "X-DCC-behbrand-Metrics: ".to_string(),
        " 1200; Body=".to_string(),
    ] {
        assert!(text.contains(&want), "{want:?} in\n{text}");
    }
}

#[test]
fn recipients_with_differing_greylisting_in_one_transaction() {
    // with -a DISCARD both join; bob is not greylisted, carol is, and the
    // message is embargoed for both
    let g = FakeGrey::start(1202, "grey", "on,5");
    let files = [("ud/local/bob/whiteclnt", "option greylist-off\n")];
    let args = ["-G", "on", "-U", "ud", "-a", "DISCARD"];
    let s = start("grey-two", Some(&g), &files, &args);
    assert!(embargoed(&send(&s, &["bob", "carol"], HELLO)));
    let reports = g.ops(Op::GreyReport);
    assert_eq!(reports.len(), 1, "{:?}", g.seen());
    let carol = tally_ck::simple::str_sum(None, b"carol@example.net");
    let ip = reports[0].cks[0].1;
    let from = reports[0].cks[1].1;
    let mut h = <md5::Md5 as md5::Digest>::new();
    for p in [&ip, &from, &carol] {
        md5::Digest::update(&mut h, p.0);
    }
    let triple = tally_wire::Sum(md5::Digest::finalize(h).into());
    assert_eq!(reports[0].cks.last().map(|c| c.1), Some(triple));
}

#[test]
fn per_user_log_copies_and_greylist_log_off() {
    let g = FakeGrey::start(1202, "grey", "on,5");
    let files = [
        ("ud/local/bob/whiteclnt", "option greylist-log-off\n"),
        ("ud/local/carol/whiteclnt", "option greylist-log-on\n"),
    ];
    let args = ["-G", "on", "-U", "ud", "-l", "logs"];
    let s = start("grey-ulog", Some(&g), &files, &args);
    assert!(embargoed(&send(&s, &["bob"], HELLO)));
    assert!(embargoed(&send(&s, &["carol"], HELLO)));
    let count = |u: &str| {
        std::fs::read_dir(s.home.join(format!("ud/local/{u}/log")))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert_eq!((count("bob"), count("carol")), (0, 1));
    let dir = s.home.join("ud/local/carol/log");
    let copy = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap();
    let text = std::fs::read_to_string(copy.path()).unwrap();
    assert!(text.contains("        carol@example.net: "), "{text}");
    assert!(text.contains(" Embargo #1\n"), "{text}");
    assert!(
        text.ends_with("result: temporary greylist embargo #1\n"),
        "{text}"
    );
}

#[test]
fn main_file_greylist_off_and_a_user_turning_it_on() {
    let g = FakeGrey::start(1202, "grey", "on,5");
    let files = [
        ("whiteclnt-go", "option greylist-off\n"),
        ("ud/local/carol/whiteclnt", "option greylist-on\n"),
    ];
    let args = ["-G", "on", "-w", "whiteclnt-go", "-U", "ud"];
    let s = start("grey-main-off", Some(&g), &files, &args);
    assert!(accepted(&send(&s, &["bob"], HELLO)));
    assert!(g.ops(Op::GreyReport).is_empty());
    assert!(embargoed(&send(&s, &["carol"], HELLO)));
    assert_eq!(g.ops(Op::GreyReport).len(), 1);
}

#[test]
fn sendmail_spam_is_only_asked_about_even_when_whitelisted() {
    // as the original's ask_white_rcpt(): without option MTA-first,
    // ${dcc_isspam} makes the recipient blacklisted after the whiteclnt
    // files, so the greylist server is asked (GREY_QUERY), never told the
    // triple is white
    let g = FakeGrey::start(1202, "grey", "on,5");
    let files = [("whiteclnt-gm", "ok env_From alice@example.com\n")];
    let s = start(
        "grey-mta",
        Some(&g),
        &files,
        &["-G", "on", "-w", "whiteclnt-gm"],
    );
    let r = send_with(&s, &["bob"], HELLO, &[("{dcc_isspam}", "go away")]);
    assert!(
        matches!(r.as_slice(), [Reply::Code(c)] if c.starts_with("550 5.7.1") && c.contains("go away")),
        "{r:?}"
    );
    assert_eq!(g.ops(Op::GreyQuery).len(), 1, "{:?}", g.seen());
    assert!(g.ops(Op::GreyWhite).is_empty(), "{:?}", g.seen());
    // and ${dcc_notspam} whitelists it for greylisting
    let g = FakeGrey::start(1202, "grey", "on,5");
    let s = start("grey-mta-ok", Some(&g), &[], &["-G", "on"]);
    let r = send_with(&s, &["bob"], HELLO, &[("{dcc_notspam}", "ok")]);
    assert!(accepted(&r), "{r:?}");
    assert_eq!(g.ops(Op::GreyWhite).len(), 1, "{:?}", g.seen());
}

#[test]
fn a_dcc_failure_with_x_comes_before_the_embargo() {
    // dccm_eom(): cmn_ask_white() asks the greylist server, then a DCC
    // server that does not answer makes msg_tempfail() refuse the message
    // with dcc_fail_reply before users_process(): no GREY_SPAM, no
    // embargo, and a log file without greylist lines that ends with the
    // reply and its log result, copied to nobody
    let g = FakeGrey::start(1202, "grey", "on,5");
    let files = [("ud/local/bob/whiteclnt", "option log-all\n")];
    let args = ["-G", "on", "-x", "-U", "ud", "-l", "logs"];
    let s = start_with("grey-x-dcc-dead", None, Some(&g), &files, &args);
    let r = send(&s, &["bob"], HELLO);
    assert_eq!(r, vec![Reply::Code("451 4.4.0 DCC failure".into())]);
    let ops: Vec<Op> = g
        .seen()
        .iter()
        .map(|x| x.op)
        .filter(|o| *o != Op::Nop)
        .collect();
    assert_eq!(ops, vec![Op::GreyReport]);
    let logs: Vec<PathBuf> = std::fs::read_dir(s.home.join("logs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let text = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(
        text.ends_with(
            "### end of message body ########################\n\
             rejection message: 451 4.4.0 DCC failure\n\
             result: temporary reject\n"
        ),
        "{text}"
    );
    assert!(!text.contains("greylist recipient"), "{text}");
    let copies = std::fs::read_dir(s.home.join("ud/local/bob/log"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(copies, 0);
}

#[test]
fn an_mxdcc_relay_behind_an_mx_client_is_only_queried() {
    // dccm_header() goes on through the Received headers behind an MX
    // relay client, and check_mx_listing() sets ASK_ST_QUERY for an MXDCC
    // relay found there: the DCC server is only queried (greylisting is
    // off through the MX client either way)
    let g = FakeGrey::start(1202, "grey", "on,5");
    let files = [("whiteclnt", "mx ip 198.51.100.9\nmxdcc ip 192.0.2.10\n")];
    let args = ["-G", "on", "-w", "whiteclnt"];
    let s = start("grey-mx-mxdcc", Some(&g), &files, &args);
    let ours = "from mx2.example.net (mx2.example.net [198.51.100.9]) by mail.example.net";
    for (hop, op) in [("192.0.2.10", Op::Query), ("192.0.2.11", Op::Report)] {
        let hop = format!("from relay.example.org (relay.example.org [{hop}]) by mx2.example.net");
        let sender =
            "from sender.example.org (sender.example.org [203.0.113.99]) by relay.example.org";
        let fields = [
            ("Received", ours),
            ("Received", hop.as_str()),
            ("Received", sender),
            ("From", "alice@example.com"),
            ("Subject", "relayed"),
        ];
        let r = send_fields(&s, &["bob"], &fields, HELLO, &[]);
        assert!(accepted(&r), "{hop}: {r:?}");
        let srv = s.srv.as_ref().expect("DCC server");
        let last = srv.seen().last().map(|x| x.op);
        assert_eq!(last, Some(op), "{hop}");
    }
    assert!(g.seen().iter().all(|x| x.op == Op::Nop), "{:?}", g.seen());
}
