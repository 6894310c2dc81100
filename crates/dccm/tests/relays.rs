//! Relays of the main whiteclnt file found in Received: headers when the
//! MTA gives no client address, as the original's dccm treats them:
//! `dccm_envfrom()` without a client sets CMN_FG_PARSE_RCVD, and
//! `dccm_header()` parses each Received: header while that flag holds,
//! calling `check_mx_listing()` for the client it names. That function
//! notes an `mx` or `mxdcc` relay in the log file, keeps the flag (the
//! next header names the client), makes an `mxdcc` relay a query
//! (ASK_ST_QUERY), turns `-a REJECT` into DISCARD (`cwp->action`) and
//! does not report the relay's address; an `ok` or `submit` address ends
//! the search, not reported (`submit` noted). The recipients' switches
//! were set before the header (`get_sws()` at RCPT), so greylisting stays
//! on through such a relay.
//!
//! The DCC server here records the checksums of each request, so that
//! the tests see which IP checksum was reported.

mod common;

use common::milter::{content, macro_pkt, retry_connect, Client, Reply};
use common::{local_args, make_home, start_dccm, Dccm};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tally_testkit::fake_dccd::udp_serve::{op_key, Served};
use tally_testkit::fake_grey::{grey_map_text, FakeGrey};
use tally_testkit::{closed_port, map_text, CLIENT_ID, PASSWD};
use tally_wire::packet::{Answer, CountPair, OkBody, Response};
use tally_wire::{CkType, Op, Request, Tgts};

/// The `mx` (or `mxdcc`) relay that handed the message to our MTA.
const RELAY: &str = "198.51.100.9";
/// The real client behind it.
const SENDER: &str = "203.0.113.99";

/// A query or report the DCC server got: its operation and checksums.
type Asked = (Op, Vec<(CkType, [u8; 16])>);

/// The requests kept, each with its operation numbers.
type Kept = Arc<Mutex<Vec<([u8; 12], Asked)>>>;

/// A DCC server that answers every checksum with a count of 0 and keeps
/// the checksums of each query and report (a retransmission once).
struct Dcc {
    addr: std::net::SocketAddr,
    asked: Kept,
    _served: Served,
}

impl Dcc {
    fn start() -> Dcc {
        let asked: Kept = Arc::default();
        let kept = asked.clone();
        let served =
            Served::start(
                1200,
                &format!("{CLIENT_ID} {PASSWD}\n"),
                move |req, _| match &req.body {
                    Request::Nop => Some(Response::Ok(OkBody::new(
                        req.pkt_vers.min(12),
                        0,
                        "rlybrand",
                    ))),
                    Request::Query(r) | Request::Report(r) => {
                        let cks = r.cks.iter().map(|c| (c.ty, c.sum.0)).collect();
                        let key = op_key(&req.op_nums);
                        let mut kept = kept.lock().unwrap();
                        if kept.iter().all(|(k, _)| *k != key) {
                            kept.push((key, (req.body.op(), cks)));
                        }
                        let pairs = r
                            .cks
                            .iter()
                            .map(|_| CountPair {
                                c: Tgts(0),
                                p: Tgts::INVALID,
                            })
                            .collect();
                        Some(Response::Answer(Answer::Pairs(pairs)))
                    }
                    _ => None,
                },
            )
            .expect("serve");
        Dcc {
            addr: served.addr,
            asked,
            _served: served,
        }
    }

    /// The queries and reports so far.
    fn asked(&self) -> Vec<Asked> {
        let kept = self.asked.lock().unwrap();
        kept.iter().map(|(_, a)| a.clone()).collect()
    }
}

/// dccm with the DCC server `dcc`, the greylist server `grey` (a dead
/// port without one), the main whiteclnt file `white` and `-l logs`, then
/// `extra`.
struct Setup {
    d: Dccm,
    home: PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn start(tag: &str, dcc: &Dcc, grey: Option<&FakeGrey>, white: &str, extra: &[&str]) -> Setup {
    let home = make_home(tag);
    let grey_addr = grey.map_or_else(closed_port, |g| g.addr);
    std::fs::write(
        home.join("map"),
        format!("{}{}", map_text(dcc.addr), grey_map_text(grey_addr)),
    )
    .unwrap();
    std::fs::write(home.join("whiteclnt-rly"), white).unwrap();
    let mut args = vec!["-w", "whiteclnt-rly", "-l", "logs"];
    args.extend_from_slice(extra);
    let d = start_dccm(&home, &local_args(&home, &args));
    Setup { d, home }
}

const HELLO: &[u8] = b"Hello Bob,\r\nthe notes are attached.\r\n";

/// A Received: header our MTA (or the hop before) added for a client.
fn received(name: &str, ip: &str, by: &str) -> String {
    format!("from {name} ({name} [{ip}]) by {by}")
}

/// The chain relay then sender, newest first, as our MTA got it.
fn via_relay() -> Vec<String> {
    vec![
        received("mx2.example.net", RELAY, "mail.example.net"),
        received("sender.example.org", SENDER, "mx2.example.net"),
    ]
}

/// A message from alice to bob through a connection whose connect step
/// gives no address (family unknown, no `{client_addr}` or `{_}`), with
/// these Received: headers: the replies at its end.
fn send(s: &Setup, id: &str, rcvd: &[String]) -> Vec<Reply> {
    let mut c: Client = retry_connect(&s.d.sock);
    c.send(b'C', b"unknown.example.net\0U").unwrap();
    assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
    c.send(b'D', &macro_pkt(b'M', &[("i", id)])).unwrap();
    c.send(b'M', b"<alice@example.com>\0").unwrap();
    assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
    let m = [("{rcpt_mailer}", "local"), ("{rcpt_addr}", "bob")];
    c.send(b'D', &macro_pkt(b'R', &m)).unwrap();
    c.send(b'R', b"<bob@example.net>\0").unwrap();
    assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
    let mut fields: Vec<(&str, &str)> = rcvd.iter().map(|r| ("Received", r.as_str())).collect();
    fields.push(("From", "alice@example.com"));
    fields.push(("Subject", "relayed"));
    content(&mut c, &fields, HELLO)
}

/// The log files kept so far.
fn kept_logs(home: &Path) -> Vec<String> {
    tally_testkit::files::texts(&home.join("logs"))
}

fn ip_sum(ip: &str) -> [u8; 16] {
    let ip: IpAddr = ip.parse().unwrap();
    tally_ck::simple::ip_sum(ip).0
}

/// The checksum table's line of the IP checksum of `ip`.
fn ip_line(ip: &str) -> String {
    let ip: IpAddr = ip.parse().unwrap();
    format!("IP: {}", tally_ck::simple::ip_sum(ip))
}

/// The IP checksums of a request.
fn ips(a: &Asked) -> Vec<[u8; 16]> {
    a.1.iter()
        .filter(|(t, _)| *t == CkType::Ip)
        .map(|(_, s)| *s)
        .collect()
}

fn embargoed(r: &[Reply]) -> bool {
    matches!(r, [Reply::Code(c)] if c.starts_with("452 4.2.1 "))
}

fn accepted(r: &[Reply]) -> bool {
    r.last() == Some(&Reply::Final('a'))
}

/// The greylist triple of the IP, env_From and env_To checksums.
fn triple(ip: [u8; 16], from: [u8; 16], to: &str) -> [u8; 16] {
    let to = tally_ck::simple::str_sum(None, to.as_bytes()).0;
    let mut h = <md5::Md5 as md5::Digest>::new();
    for p in [ip, from, to] {
        md5::Digest::update(&mut h, p);
    }
    md5::Digest::finalize(h).into()
}

#[test]
fn an_mx_relay_in_received_gives_way_to_the_sender() {
    // check_mx_listing() from dccm_header(): the relay is noted ("ADDR is
    // a whitelisted MX server") and PARSE_RCVD kept, so the next header's
    // client becomes the message's IP checksum, reported; greylisting
    // stays on (get_sws() ran at RCPT, before CMN_FG_VIA_MX), its triple
    // made of the sender's address
    let dcc = Dcc::start();
    let g = FakeGrey::start(1202, "grey", "on,5");
    let white = format!("option log-all\nmx ip {RELAY}\n");
    let s = start("rly-mx", &dcc, Some(&g), &white, &["-G", "on"]);
    let r = send(&s, "RLY1", &via_relay());
    // make_reply(): %CIP is the MTA's client (clnt_str), here none, not
    // the sender found in Received:
    let embargo = "452 4.2.1 mail RLY1 from  temporary greylist embargoed";
    assert_eq!(r, vec![Reply::Code(embargo.to_string())]);
    let reports = g.ops(Op::GreyReport);
    assert_eq!(reports.len(), 1, "{:?}", g.seen());
    let cks = &reports[0].cks;
    assert_eq!(cks[0].0, CkType::Ip);
    assert_eq!(cks[0].1 .0, ip_sum(SENDER), "{cks:?}");
    let want = triple(ip_sum(SENDER), cks[1].1 .0, "bob@example.net");
    assert_eq!(cks.last().map(|c| c.1 .0), Some(want));
    // the embargoed message is reported with the sender's address; the
    // retry after the embargo is delivered and only queried (it was
    // counted at its first embargo)
    g.advance(6);
    let r = send(&s, "RLY2", &via_relay());
    assert!(accepted(&r), "{r:?}");
    let asked = dcc.asked();
    let ops: Vec<Op> = asked.iter().map(|a| a.0).collect();
    assert_eq!(ops, [Op::Report, Op::Query], "{asked:?}");
    assert!(
        asked.iter().all(|a| ips(a) == [ip_sum(SENDER)]),
        "{asked:?}"
    );
    let logs = kept_logs(&s.home);
    assert_eq!(logs.len(), 2, "{logs:?}");
    for l in &logs {
        assert!(
            l.contains(&format!("\n{RELAY} is a whitelisted MX server\n")),
            "{l}"
        );
        assert!(l.contains(&ip_line(SENDER)), "{l}");
        assert!(!l.contains(&ip_line(RELAY)), "{l}");
        assert!(l.contains("       greylist recipient\n"), "{l}");
    }
}

#[test]
fn an_mxdcc_relay_in_received_makes_a_query_with_greylisting_on() {
    // check_mx_listing(): an `mxdcc` relay sets ASK_ST_QUERY (not
    // ASK_ST_QUERY_GREY): the DCC server is only queried, the greylist
    // server is asked as usual (GREY_REPORT, the switches were set at
    // RCPT) and print_grey() heads the greylist lines `query`
    let dcc = Dcc::start();
    let g = FakeGrey::start(1202, "grey", "on,5");
    let white = format!("option log-all\nmxdcc ip {RELAY}\n");
    let s = start("rly-mxdcc", &dcc, Some(&g), &white, &["-G", "on"]);
    let r = send(&s, "RLY1", &via_relay());
    assert!(embargoed(&r), "{r:?}");
    g.advance(6);
    let r = send(&s, "RLY2", &via_relay());
    assert!(accepted(&r), "{r:?}");
    let reports = g.ops(Op::GreyReport);
    assert_eq!(reports.len(), 2, "{:?}", g.seen());
    assert!(reports.iter().all(|q| q.cks[0].1 .0 == ip_sum(SENDER)));
    assert!(g.ops(Op::GreyQuery).is_empty(), "{:?}", g.seen());
    // where the `mx` relay's embargoed message is reported, this one is
    // a query too
    let asked = dcc.asked();
    let ops: Vec<Op> = asked.iter().map(|a| a.0).collect();
    assert_eq!(ops, [Op::Query, Op::Query], "{asked:?}");
    assert!(
        asked.iter().all(|a| ips(a) == [ip_sum(SENDER)]),
        "{asked:?}"
    );
    let logs = kept_logs(&s.home);
    assert_eq!(logs.len(), 2, "{logs:?}");
    for l in &logs {
        let note = format!("\n{RELAY} is a whitelisted MX server with DCC client\n");
        assert!(l.contains(&note), "{l}");
        assert!(l.contains("       greylist recipient query\n"), "{l}");
    }
}

#[test]
fn spam_through_a_relay_in_received_is_discarded_not_rejected() {
    // check_mx_listing(): `if (cwp->action == CMN_REJECT) cwp->action =
    // CMN_DISCARD` for an `mx` relay, also from dccm_header(); dccm_eom()
    // then discards the spam (here blacklisted by the main file). Without
    // a relay in the chain the same spam is rejected.
    let dcc = Dcc::start();
    let white = format!("mx ip {RELAY}\nmany env_From alice@example.com\n");
    let s = start("rly-spam", &dcc, None, &white, &["-a", "REJECT"]);
    let r = send(&s, "RLY1", &via_relay());
    assert_eq!(r, vec![Reply::Final('d')]);
    let direct = [received("sender.example.org", SENDER, "mail.example.net")];
    let r = send(&s, "RLY2", &direct);
    assert!(
        matches!(r.as_slice(), [Reply::Code(c)] if c.starts_with("550 5.7.1")),
        "{r:?}"
    );
    let logs = kept_logs(&s.home);
    let through: Vec<&String> = logs
        .iter()
        .filter(|l| l.contains(&format!("\n{RELAY} is a whitelisted MX server\n")))
        .collect();
    assert_eq!(through.len(), 1, "{logs:?}");
    assert!(through[0].contains(&ip_line(SENDER)), "{}", through[0]);
}

#[test]
fn submit_and_ok_addresses_in_received_are_not_reported() {
    // check_mx_listing(): a `submit` address ends the search (PARSE_RCVD
    // cleared), is noted ("ADDR is a listed 'submit' client") and
    // no_ip_rpt2srvr() keeps it from the DCC server, while it stays the
    // message's IP checksum (the log file's table)
    let dcc = Dcc::start();
    let laptop = "192.0.2.20";
    let white = format!("option log-all\nsubmit ip {laptop}\n");
    let s = start("rly-submit", &dcc, None, &white, &[]);
    let chain = [
        received("laptop.example.org", laptop, "mail.example.net"),
        received("sender.example.org", SENDER, "laptop.example.org"),
    ];
    let r = send(&s, "RLY1", &chain);
    assert!(accepted(&r), "{r:?}");
    let asked = dcc.asked();
    assert_eq!(asked.last().map(|a| a.0), Some(Op::Report), "{asked:?}");
    assert!(asked.iter().all(|a| ips(a).is_empty()), "{asked:?}");
    let logs = kept_logs(&s.home);
    assert_eq!(logs.len(), 1, "{logs:?}");
    let note = format!("\n{laptop} is a listed 'submit' client\n");
    assert!(logs[0].contains(&note), "{}", logs[0]);
    assert!(logs[0].contains(&ip_line(laptop)), "{}", logs[0]);
    assert!(!logs[0].contains(&ip_line(SENDER)), "{}", logs[0]);
    drop(s);

    // an `ok` address ends the search too, without a note; its IP
    // checksum whitelists the message (wf_cks()), which then goes to no
    // DCC server at all (dccm_eom(): tgts <= white_tgts)
    let dcc = Dcc::start();
    let office = "192.0.2.21";
    let white = format!("option log-all\nok ip {office}\n");
    let s = start("rly-ok", &dcc, None, &white, &[]);
    let chain = [
        received("office.example.org", office, "mail.example.net"),
        received("sender.example.org", SENDER, "office.example.org"),
    ];
    let r = send(&s, "RLY2", &chain);
    assert!(accepted(&r), "{r:?}");
    assert!(
        r.iter()
            .any(|x| matches!(x, Reply::AddHeader(_, v) if v.contains("whitelist"))),
        "{r:?}"
    );
    assert!(dcc.asked().is_empty(), "{:?}", dcc.asked());
    let logs = kept_logs(&s.home);
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(!logs[0].contains(" is a "), "{}", logs[0]);
}

#[test]
fn skipped_received_headers_are_noted() {
    // dccm_header(): a Received header of a known local form without an
    // address is passed over with the note `skip NAME Received: header`
    // and the search goes on to the next one, here past the relay
    let dcc = Dcc::start();
    let white = format!("option log-all\nmx ip {RELAY}\n");
    let s = start("rly-skip", &dcc, None, &white, &[]);
    let qmail = " (qmail 4824 invoked by uid 1000); 8 Nov 2005 10:00:00 -0000".to_string();
    let mut rcvd = vec![qmail.clone()];
    rcvd.extend(via_relay());
    rcvd.insert(2, qmail);
    let r = send(&s, "RLY9", &rcvd);
    assert!(accepted(&r), "{r:?}");
    let logs = kept_logs(&s.home);
    assert_eq!(logs.len(), 1, "{logs:?}");
    let want = format!(
        "\nskip qmail Received: header\n{RELAY} is a whitelisted MX server\n\
         skip qmail Received: header\n"
    );
    assert!(logs[0].contains(&want), "{}", logs[0]);
    assert!(logs[0].contains(&ip_line(SENDER)), "{}", logs[0]);
}
