//! The decision for one request and the text of its answer: the
//! whiteclnt verdicts (global, per recipient, merged), greylisting, the
//! DCC server, each recipient's disposition, the answer letters (`A`, `R`,
//! `G`), the header and checksum table, and what the log files say.

use crate::check::Relays;
use crate::config::Config;
use crate::dispose::{dispose, Disposed, MsgIn, RcptIn};
use crate::grey::{self, Grey, Servers};
use crate::proto::Head;
use crate::white::{self, Lists};
use tally_ck::message::Checksums;
use tally_engine::ask::{Decision, Listing};
use tally_engine::cks::print_cks;
use tally_engine::grey::GreyResult;
use tally_engine::rcpts_if::{merged_verdict, rcpt_accepts, request_tgts};
use tally_engine::server::ClientInfo;
use tally_engine::state::{
    ST_CLNT_ISSPAM, ST_LOGIT, ST_MTA_ISSPAM, ST_QUERY, ST_REP_ISSPAM, ST_RPT_SPAM, ST_SRVR_ISSPAM,
    ST_WLIST_ISSPAM, ST_WLIST_NOTSPAM,
};
use tally_engine::tgts::Tgts;
use tally_engine::white_verdict::msg_slots;

/// The decision and the answer's text.
pub struct Decided {
    /// The answer of the ASCII protocol before any message.
    pub head: Vec<u8>,
    /// The X-DCC header.
    pub header: Option<tally_engine::xhdr::XHeader>,
    /// Complaints of the decision.
    pub(crate) errors: Vec<String>,
    /// The decision, for the log files.
    decision: Decision,
    /// Header and checksum table as logged.
    pub(crate) log_tail: String,
    /// The whiteclnt lines of the logs (`name-->OK`).
    pub(crate) white_line: String,
    /// Bits of the decision line that only the logs show: a recipient's
    /// own file listed the message (`wlist-->OK` / `wlist-->spam`).
    log_st: u32,
    /// The main whiteclnt file whitelists the message's checksums.
    main_listed: bool,
    /// Disposition of each recipient.
    pub results: Vec<bool>,
    /// Every recipient refused (and rejecting allowed).
    pub overall_reject: bool,
    /// Greylisting embargoes the message: the answer is `G` overall and
    /// for every recipient, the proxy defers it with a 4yz reply.
    pub embargo: bool,
    /// `-x` and no DCC server answered: the answer is `T` overall, the
    /// proxy defers the message with a 4yz reply (also set by the `-X`
    /// filter's `tempfail`).
    pub tempfail: bool,
    /// `-x` and no DCC server answered: the message was never decided
    /// for its recipients, so that the log files have no decision, no
    /// greylist lines and no result, and no per-user log is kept.
    pub(crate) dcc_tempfail: bool,
    /// The message is interesting enough for per-user logs.
    pub(crate) logit: bool,
    /// Greylisting.
    pub(crate) grey: Grey,
    /// The DNS list checks' hit lines for the log files.
    pub(crate) dnsbl_lines: Vec<String>,
    /// The DNS list checks' outcome and the groups that count (the proxy's
    /// rejection text).
    pub dnsbl: Option<(tally_engine::dnsbl::Outcome, tally_engine::dnsbl::On)>,
    /// What the `-X` filter's answer did ([`crate::xfltr`]).
    pub xfltr: Option<crate::xfltr::Done>,
    /// The message came through a listed `mx` or `mxdcc` relay (the SMTP
    /// client or found in Received:): spam is discarded as with `-a
    /// DISCARD` (the original's check_mx_listing() sets `cwp->action`).
    pub forced_discard: bool,
    /// The ASCII protocol's result lines of the log files, when the
    /// message was decided for its recipients ([`crate::dispose`]).
    pub(crate) disposed: Option<Disposed>,
}

impl Decided {
    /// The decision's state bits (`ST_*`).
    pub(crate) fn st(&self) -> u32 {
        self.decision.st
    }

    /// The decision line of a log file ending with `prog`; empty after a
    /// `-x` DCC failure, when nothing was decided ([`crate::logs`]).
    pub(crate) fn st_line(&self, prog: &str) -> String {
        if self.dcc_tempfail {
            return String::new();
        }
        let mut d = self.decision.clone();
        if self.main_listed && prog.ends_with("global-log") {
            // as recorded: the main file's whitelisting of the message's
            // checksums is not shown in the main log's decision line
            d.st &= !ST_WLIST_NOTSPAM;
        }
        d.st |= self.log_st;
        d.log_st_line(prog)
    }
}

/// Decide about a message with checksums `sums` (`relays`: the listed
/// relays found in its Received headers).
pub(crate) fn decide(
    cfg: &Config,
    lists: &Lists,
    head: &Head,
    sums: &Checksums,
    relays: Relays,
    ask: &mut dyn Servers,
    dnsbl: Option<&tally_engine::dnsbl::Outcome>,
) -> Decided {
    let mut errors = Vec::new();
    let mut cks = msg_slots(sums);
    let nrcpts = head.rcpts.len();
    // the original's ASK_ST_QUERY: -Q, the `query` option, an `mxdcc`
    // relay (the SMTP client or found in Received:)
    let query = cfg.query || head.opts.query || relays.query();
    // no greylisting through a listed MX or SUBMIT client; a relay found
    // in Received: headers comes too late for that: check_mx_listing()
    // from get_hdrs() runs after the recipients' switches were set, so
    // that greylisting stays on (the address of the checksums is not
    // reported when it is a relay's, [`crate::check`]; see grey::ask_rcpts)
    let global = white::verdict(lists.global.as_deref(), &cks, sums.client_ip);
    let rcpt_whites: Vec<_> = head
        .rcpts
        .iter()
        .enumerate()
        .map(|(i, r)| white::rcpt_white(lists, i, r, &cks, sums.client_ip))
        .collect();
    let merged = merged_verdict(&global, &rcpt_whites, &cfg.tholds.rej);
    let tholds = cfg.tholds.clone();
    let mut d = Decision::new(query);
    d.ask_white(
        &tholds,
        if lists.global.is_some() || !rcpt_whites.is_empty() {
            Some(Ok(&merged))
        } else {
            None
        },
    );
    let mut dnsbl_lines = Vec::new();
    let mut dnsbl_on = None;
    if let (Some(o), Some(c)) = (dnsbl, cfg.dnsbl.as_ref()) {
        let on = crate::dnsbl::groups_on(cfg, lists, head);
        d.apply_dnsbl(o, on);
        dnsbl_lines = o.log_lines(c.settings.debug > 0, "");
        dnsbl_on = Some((o.clone(), on));
    }
    let req_tgts = request_tgts(nrcpts, &d, head.opts.spam);
    if req_tgts == 0 {
        d.st |= ST_QUERY;
    }
    // each recipient's switches (rcpt_sws), for greylisting and the
    // consensus at the end
    let switches = grey::rcpt_switches(cfg, head, lists, &relays);
    let mut gl = grey::ask_rcpts(
        cfg,
        head,
        &global,
        &rcpt_whites,
        &cks,
        sums.client_ip,
        &relays,
        &switches,
        ask,
    );
    // print_grey(): the greylist lines say `query` for ASK_ST_QUERY
    gl.query = query;
    let local_tgts: Tgts = gl.list.dcc_tgts(d.st, req_tgts, 0);
    let conflict = grey::spam_conflict(cfg, head);
    if conflict && d.st & ST_QUERY == 0 {
        errors.push("spam and grey-query are incompatible".to_string());
    }
    let spam = head.opts.spam && d.st & ST_QUERY == 0 && !conflict;
    if spam {
        // the MTA's own verdict, shown as such in the log files
        d.st |= ST_MTA_ISSPAM;
    }
    let mut header = None;
    // the log's "reported" count: nothing when the server is not asked
    let mut reported = 0;
    let mut dcc_failed = false;
    if req_tgts > 0 {
        let placeholder = ClientInfo {
            hostname: cfg.hostname.clone(),
            brand: String::new(),
        };
        if let Some(req) = d.dcc_request(&tholds, &placeholder, &cks, spam, local_tgts) {
            reported = local_tgts;
            let (answer, info) = ask.dcc(&req);
            dcc_failed = answer.is_err();
            d.apply_answer(&tholds, !cfg.no_body_kludge, &info, &mut cks, answer);
        }
        header = d.header.clone();
    }
    errors.extend(d.errors.drain(..).filter(|e| !e.is_empty()));
    let is_spam = d.is_spam();
    let results: Vec<bool> = rcpt_whites
        .iter()
        .map(|r| rcpt_accepts(global.listing, r, is_spam))
        .collect();
    let rcpt_line: String = results.iter().map(|&a| if a { 'A' } else { 'R' }).collect();
    let all_reject = !results.is_empty() && !results.contains(&true);
    // -x: "tell the MTA to answer the DATA command with a 4yz temporary
    // failure" when the DCC server could not be reached (dccifd(8)). As
    // the original's get_body() returns before users_process(), this
    // answer comes before anything is decided for the recipients: no
    // `GREY_SPAM`, no embargo, no rejection
    let tempfail = dcc_failed && cfg.try_hard;
    let spam_for: Vec<bool> = results.iter().map(|&a| !a).collect();
    let ignore = head.opts.no_reject || cfg.ignore;
    let embargo = !tempfail && gl.finish(&spam_for, ignore, &cks, ask);
    errors.extend(gl.list.errors.drain(..).filter(|e| !e.is_empty()));
    let mut overall_reject =
        all_reject && !head.opts.no_reject && !cfg.ignore && !embargo && !tempfail;
    // the ASCII protocol: the original's users_process(),
    // user_log_result() and ascii_done() ([`crate::dispose`])
    let disposed = (cfg.proxy.is_none() && !embargo && !tempfail && nrcpts > 0).then(|| {
        let rcpts: Vec<RcptIn> = head
            .rcpts
            .iter()
            .enumerate()
            .map(|(i, r)| RcptIn {
                addr: r.addr.clone(),
                spam: !results.get(i).copied().unwrap_or(true),
                sws: switches.get(i).copied().unwrap_or(0),
                grey_white: gl
                    .list
                    .rcpts
                    .get(i)
                    .is_some_and(|g| g.result == GreyResult::White),
            })
            .collect();
        let msg = MsgIn {
            spam_seen: d.st & (ST_CLNT_ISSPAM | ST_SRVR_ISSPAM | ST_REP_ISSPAM | ST_MTA_ISSPAM)
                != 0
                || spam_for.contains(&true),
            grey_end: gl.list.ended,
        };
        dispose(&rcpts, msg, grey::final_action(cfg, head, &relays))
    });
    let rcpt_line = match &disposed {
        Some(dp) => {
            overall_reject = dp.reject;
            dp.accept
                .iter()
                .map(|&a| if a { 'A' } else { 'R' })
                .collect()
        }
        None => rcpt_line,
    };
    if tempfail && cfg.proxy.is_none() {
        // ascii_done() without a reply made for the message
        errors.push("rejection reason undecided".to_string());
    }
    let overall = if embargo {
        'G'
    } else if tempfail {
        'T'
    } else if overall_reject {
        'R'
    } else {
        'A'
    };
    // the original answers `T` before it has decided for any recipient,
    // so that every recipient's letter is then `R`
    let rcpt_line: String = if embargo {
        "G".repeat(results.len())
    } else if tempfail {
        "R".repeat(results.len())
    } else {
        rcpt_line
    };
    let table = print_cks(
        d.st & ST_RPT_SPAM != 0,
        reported,
        &cks,
        Some(&d.tholds_rej),
        Some(&d.wtgts),
    );
    let hdr_text = header.as_ref().map_or("", |h| h.as_str()).to_string();
    let mut text = format!("{overall}\n{rcpt_line}\n").into_bytes();
    // with `body` the message (carrying the header) follows instead: the
    // original answers `header` and `cksums` only without `body`
    if (head.opts.header || head.opts.cksums) && !head.opts.body {
        text.extend_from_slice(hdr_text.as_bytes());
        // the table even without recipients (the server not asked), as
        // the original's ascii_done() prints it
        if head.opts.cksums {
            text.extend_from_slice(table.as_bytes());
        }
        text.push(b'\n');
    }
    let white_name = head
        .rcpts
        .iter()
        .find(|r| !r.user.is_empty())
        .map(|r| r.user.clone())
        .or_else(|| cfg.white_name.clone())
        .unwrap_or_default();
    // as recorded: one line for each recipient whose own file lists the
    // message, and the decision line then says the whitelist spoke even
    // when other recipients' files did not
    let mut log_st = 0;
    let mut user_lines = String::new();
    for (r, w) in head.rcpts.iter().zip(&rcpt_whites) {
        match w.user.as_ref().map(|u| u.listing) {
            Some(Listing::Listed) => {
                user_lines.push_str(&format!("{}-->OK\n", r.user));
                log_st |= ST_WLIST_NOTSPAM;
            }
            Some(Listing::Black) => {
                user_lines.push_str(&format!("{}-->spam\n", r.user));
                log_st |= ST_WLIST_ISSPAM;
            }
            _ => {}
        }
    }
    let white_line = if !user_lines.is_empty() {
        user_lines
    } else {
        match merged.listing {
            Listing::Listed => format!("{white_name}-->OK\n"),
            Listing::Black => format!("{white_name}-->spam\n"),
            Listing::Unlisted => String::new(),
        }
    };
    let incompat =
        white::incompatible_rcpts(cfg, lists, &head.rcpts, head.client_ip, head.opts.no_reject);
    let white_line = format!(
        "{}{white_line}",
        "incompatible whitelists\n".repeat(incompat)
    );
    Decided {
        head: text,
        header,
        errors,
        logit: d.st & ST_LOGIT != 0,
        decision: d,
        log_tail: if tempfail {
            String::new()
        } else {
            format!("{hdr_text}{table}")
        },
        white_line,
        log_st,
        main_listed: global.listing == Listing::Listed,
        results,
        overall_reject,
        embargo,
        tempfail,
        dcc_tempfail: tempfail,
        grey: gl,
        dnsbl_lines,
        dnsbl: dnsbl_on,
        xfltr: None,
        forced_discard: relays.via_mx(),
        disposed,
    }
}
