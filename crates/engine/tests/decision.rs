//! The per-message decision with a scripted DCC server: thresholds, server
//! whitelisting, whiteclnt verdicts and the X-DCC header they produce.

use tally_ck::{CkType, Sum};
use tally_engine::ask::{Decision, Listing, WhiteVerdict};
use tally_engine::cks::MsgCks;
use tally_engine::server::{Answer, AskError, ClientInfo, Count, DccServer, Op, Request};
use tally_engine::state::*;
use tally_engine::tgts::{OK, SPAM, TOO_MANY};
use tally_engine::tholds::Thresholds;

/// A server answering every checksum with a count chosen by type.
struct Scripted {
    count: fn(CkType) -> u32,
    fail: bool,
    seen: Vec<Request>,
}

impl DccServer for Scripted {
    fn start(&mut self) -> Result<ClientInfo, String> {
        Ok(client())
    }

    fn ask(&mut self, req: &Request) -> Result<Answer, AskError> {
        self.seen.push(req.clone());
        if self.fail {
            return Err(AskError {
                msg: "no answer".into(),
                srvr_id: 0,
            });
        }
        let counts = req
            .cks
            .iter()
            .map(|(t, _)| {
                let c = (self.count)(*t);
                Count {
                    prev: c.saturating_sub(1),
                    cur: c,
                }
            })
            .collect();
        Ok(Answer {
            srvr_id: 1200,
            counts,
        })
    }
}

impl Scripted {
    /// A server answering with `count` (previous count one less).
    fn answering(count: fn(CkType) -> u32) -> Scripted {
        Scripted {
            count,
            fail: false,
            seen: vec![],
        }
    }

    /// A server that never answers.
    fn failing() -> Scripted {
        Scripted {
            count: |_| 0,
            fail: true,
            seen: vec![],
        }
    }
}

/// The X-DCC header of a decision, empty when there is none.
fn header_text(d: &Decision) -> String {
    d.header
        .as_ref()
        .map(|h| h.as_str().to_string())
        .unwrap_or_default()
}

fn client() -> ClientInfo {
    ClientInfo {
        hostname: "vm".into(),
        brand: "behbrand".into(),
    }
}

fn cks() -> MsgCks {
    let mut c = MsgCks::new();
    let s = |n: u8| Sum([n; 16]);
    c.set_ip(s(1));
    c.set(CkType::EnvFrom, s(2), true);
    c.set(CkType::From, s(3), true);
    c.set(CkType::MessageId, s(5), true);
    c.set(CkType::Body, s(7), true);
    c.set(CkType::Fuz1, s(8), true);
    c.set(CkType::Fuz2, s(9), true);
    c
}

fn decide(
    tholds: &Thresholds,
    srv: &mut Scripted,
    white: Option<&WhiteVerdict>,
) -> (Decision, MsgCks) {
    let mut c = cks();
    let mut d = Decision::new(false);
    d.ask_white(tholds, white.map(Ok));
    d.ask_dcc(tholds, false, srv, &client(), &mut c, false, 1);
    (d, c)
}

#[test]
fn counts_below_thresholds() {
    let mut t = Thresholds::default();
    assert!(t.parse("-c ", "CMN,25,50").errors.is_empty());
    let mut srv = Scripted::answering(|t| if t.is_body() { 3 } else { 1 });
    let (d, c) = decide(&t, &mut srv, None);
    assert_eq!(
        d.header.as_ref().map(|h| h.as_str().to_string()).as_deref(),
        Some("X-DCC-behbrand-Metrics: vm 1200; IP=1 env_From=1 From=1 Message-ID=1 Body=3\n\tFuz1=3 Fuz2=3\n")
    );
    assert!(!d.is_spam());
    assert_eq!(d.st & ST_LOGIT, 0);
    // a report of 1 target with the checksums in slot order, reputations included
    let req = &srv.seen[0];
    assert_eq!(req.op, Op::Report);
    assert_eq!(req.tgts, 1);
    let types: Vec<u8> = req.cks.iter().map(|(t, _)| t.number()).collect();
    assert_eq!(types, [1, 2, 3, 5, 7, 8, 9, 10, 11]);
    // the server's previous counts are kept for the table
    assert_eq!(c.of_type(CkType::Body).map(|s| s.srvr_prev), Some(2));
}

#[test]
fn bulk_over_threshold() {
    let mut t = Thresholds::default();
    assert!(t.parse("-c ", "CMN,25,50").errors.is_empty());
    let mut srv = Scripted::answering(|t| if t.is_body() { TOO_MANY } else { 0 });
    let (d, _) = decide(&t, &mut srv, None);
    let h = header_text(&d);
    assert_eq!(
        h,
        "X-DCC-behbrand-Metrics: vm 1200; bulk Body=many Fuz1=many Fuz2=many\n"
    );
    assert!(d.is_spam());
    assert_ne!(d.st & ST_SRVR_ISSPAM, 0);
    assert_ne!(d.st & ST_LOGIT, 0);
    assert_eq!(d.log_st_line("dccproc"), "DCC-->spam  dccproc  \n\n");
}

#[test]
fn server_whitelist_is_honored() {
    let mut t = Thresholds::default();
    assert!(t.parse("-c ", "CMN,5").errors.is_empty());
    let mut srv = Scripted::answering(|t| match t {
        CkType::EnvFrom => OK,
        t if t.is_body() => 100,
        _ => 0,
    });
    let (d, _) = decide(&t, &mut srv, None);
    assert!(!d.is_spam());
    assert_ne!(d.st & ST_SRVR_NOTSPAM, 0);
    let h = header_text(&d);
    assert_eq!(
        h,
        "X-DCC-behbrand-Metrics: vm 1200; env_From=ok Body=100 Fuz1=100 Fuz2=100\n"
    );
    // -g not-env_From: the server's ok is not believed
    assert_eq!(t.parse_honor("not-env_From"), None);
    let (d, _) = decide(&t, &mut srv, None);
    assert!(d.is_spam());
}

#[test]
fn unreachable_server_uses_local_counts() {
    let t = Thresholds::default();
    let mut srv = Scripted::failing();
    let (d, c) = decide(&t, &mut srv, None);
    let h = header_text(&d);
    assert_eq!(h, "X-DCC--Metrics: vm 0; Body=1 Fuz1=1 Fuz2=1\n");
    assert_eq!(d.errors, ["no answer"]);
    assert_ne!(d.st & ST_LOGIT, 0);
    assert_eq!(
        c.of_type(CkType::Body).map(|s| s.srvr_prev),
        Some(tally_engine::tgts::INVALID)
    );
}

#[test]
fn whiteclnt_black_and_white() {
    let t = Thresholds::default();
    let mut black = WhiteVerdict::unlisted();
    black.listing = Listing::Black;
    let mut srv = Scripted::failing();
    let (d, _) = decide(&t, &mut srv, Some(&black));
    assert!(d.is_spam());
    // reported as spam: many targets for the body checksums
    assert_eq!(srv.seen[0].tgts, 1 | SPAM);
    let h = header_text(&d);
    assert_eq!(
        h,
        "X-DCC--Metrics: vm 0; bulk Body=many Fuz1=many Fuz2=many\n"
    );

    let mut white = WhiteVerdict::unlisted();
    white.listing = Listing::Listed;
    let mut srv = Scripted::answering(|_| 0);
    let (d, _) = decide(&t, &mut srv, Some(&white));
    assert!(srv.seen.is_empty(), "whitelisted checksums are not sent");
    assert!(!d.is_spam());
    let h = header_text(&d);
    assert_eq!(h, "X-DCC--Metrics: vm; whitelist\n");
}

#[test]
fn spam_trap_discard_is_not_spam_for_the_exit_code() {
    let t = Thresholds::default();
    let mut trap = WhiteVerdict::unlisted();
    trap.sws = white_sw::TRAP_DIS;
    let mut srv = Scripted::answering(|_| 0);
    let (d, _) = decide(&t, &mut srv, Some(&trap));
    assert_ne!(d.st & ST_CLNT_ISSPAM, 0);
    assert!(!d.is_spam());
}

#[test]
fn query_only() {
    let t = Thresholds::default();
    let mut srv = Scripted::answering(|_| 0);
    let mut c = cks();
    let mut d = Decision::new(true);
    d.ask_white(&t, None);
    d.ask_dcc(&t, false, &mut srv, &client(), &mut c, false, 1);
    assert_eq!(srv.seen[0].op, Op::Query);
    assert_eq!(d.log_st_line("dccproc"), "query  dccproc  \n\n");
}

#[test]
fn bulk_header_forces_body_many_unless_p() {
    // dccproc(8)/dccm(8) -P: a header that says "bulk" because of the
    // client's own verdict also says Body=many, unless -P turns that off.
    // Query only, so the server's counts stay 0.
    let t = Thresholds::default();
    let mut black = WhiteVerdict::unlisted();
    black.listing = Listing::Black;
    for (kludge, want) in [
        (
            true,
            "X-DCC-behbrand-Metrics: vm 1200; bulk Body=many Fuz1=0 Fuz2=0\n",
        ),
        (
            false,
            "X-DCC-behbrand-Metrics: vm 1200; bulk Body=0 Fuz1=0 Fuz2=0\n",
        ),
    ] {
        let mut srv = Scripted::answering(|_| 0);
        let mut c = cks();
        let mut d = Decision::new(true);
        d.ask_white(&t, Some(Ok(&black)));
        d.ask_dcc(&t, kludge, &mut srv, &client(), &mut c, false, 1);
        let h = d.header.as_ref().map(|h| h.as_str().to_string());
        assert_eq!(h.as_deref(), Some(want), "kludge {kludge}");
    }
}

#[test]
fn request_and_answer_without_io() {
    // the two halves give what the blocking ask_dcc gives
    let mut t = Thresholds::default();
    assert!(t.parse("-c ", "CMN,25,50").errors.is_empty());
    let mut c = cks();
    let mut d = Decision::new(false);
    d.ask_white(&t, None);
    let req = d
        .dcc_request(&t, &client(), &c, false, 1)
        .expect("a request");
    assert_eq!(req.op, Op::Report);
    assert_eq!(req.tgts, 1);
    // nothing is decided before the answer
    assert!(d.header.is_none());
    let mut srv = Scripted::answering(|t| if t.is_body() { 3 } else { 1 });
    let answer = srv.ask(&req);
    d.apply_answer(&t, false, &client(), &mut c, answer);
    let (blocking, _) = decide(&t, &mut srv, None);
    assert_eq!(d.header, blocking.header);
    assert_eq!(d.st, blocking.st);
    // a second answer without a request changes nothing
    let before = d.clone();
    d.apply_answer(
        &t,
        false,
        &client(),
        &mut c,
        Err(AskError {
            msg: "late".into(),
            srvr_id: 0,
        }),
    );
    assert_eq!(d, before);

    // whitelisted: nothing to ask, the decision is complete
    let mut white = WhiteVerdict::unlisted();
    white.listing = Listing::Listed;
    let mut d = Decision::new(false);
    d.ask_white(&t, Some(Ok(&white)));
    assert_eq!(d.dcc_request(&t, &client(), &c, false, 1), None);
    assert_eq!(
        d.header.as_ref().map(|h| h.as_str().to_string()).as_deref(),
        Some("X-DCC--Metrics: vm; whitelist\n")
    );
}
