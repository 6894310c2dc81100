//! The end of a message: the engine's decision turned into the milter's
//! answer, and the log file finished.
//!
//! - Whitelisted for every recipient: the `; whitelist` header (with the
//!   brand of the server in use), accept.
//! - Not spam: the X-DCC header, accept.
//! - Spam: `-a IGNORE` accepts with the header; `-a DISCARD` and mail
//!   relayed by MX/MXDCC clients of the main whiteclnt file are
//!   discarded; `-a REJECT` rejects with the first `-r` message, except
//!   that recipients whitelisted by env_To keep the message and the others
//!   are removed from it silently.
//! - `${dcc_isspam}` asks for discarding (`DISCARD...`) or a rejection
//!   with its own text; it wins over `${dcc_notspam}`, and over the
//!   whiteclnt files unless `option MTA-first` (then recipients the files
//!   whitelist keep the message, the others are removed from it; a relay
//!   text still refuses it).
//! - A DCC failure with `-x`: `451 4.4.0 DCC failure`, whatever the
//!   greylist server or the whiteclnt files said; the log file then ends
//!   with that reply and `result: temporary reject`.

use crate::config::Config;
use crate::conn::{Answer2, Verdict};
use crate::msg::Msg;
use crate::opts::{Action, HdrMode};
use crate::reply::{fixed, from_mta, Reply, DCC_FAILURE};
use tally_dnsbl::reply::is_ws;
use tally_engine::ask::Decision;
use tally_engine::cks::{print_cks, MsgCks};
use tally_engine::rcpts_milter::{spam_disposition, SpamAction, SpamDisposition};
use tally_engine::server::ClientInfo;
use tally_engine::state::{
    white_sw, ST_GREY_EMBARGO, ST_GREY_LOGIT, ST_LOGIT, ST_MTA_ISSPAM, ST_MTA_NOTSPAM, ST_RPT_SPAM,
    ST_WLIST_ISSPAM, ST_WLIST_NOTSPAM, SW_MTA_FIRST, SW_TRAP, SW_TRAP_DIS,
};
use tally_engine::tgts::Tgts;
use tally_engine::xhdr::XHeader;
use tally_white::verdict::MtaOpinion;

/// The verdict when there is no message (an end without MAIL).
pub fn no_message() -> Verdict {
    Verdict {
        del_headers: Vec::new(),
        add_header: None,
        del_rcpts: Vec::new(),
        answer: Answer2::Accept,
        errors: vec!["end of message without a message".to_string()],
        xfltr: None,
        grey_spam: Vec::new(),
    }
}

fn base(cfg: &Config, msg: &Msg) -> Verdict {
    let del_headers = match cfg.hdr {
        HdrMode::Set => msg.xdcc_deletions(),
        _ => Vec::new(),
    };
    Verdict {
        del_headers,
        add_header: None,
        del_rcpts: Vec::new(),
        answer: Answer2::Accept,
        errors: msg.errors.clone(),
        xfltr: None,
        grey_spam: Vec::new(),
    }
}

/// An X-DCC header as milter field name and value; `brand` replaces the
/// empty brand of the whitelist form.
pub fn split_header(h: &XHeader, brand: &str) -> Option<(String, String)> {
    let s = h.as_str().trim_end_matches('\n');
    let i = s.find(':')?;
    let mut name = s.get(..i)?.to_string();
    if name == XHeader::field_name("") && !brand.is_empty() {
        name = XHeader::field_name(brand);
    }
    let value = s.get(i + 1..)?.trim_start_matches(' ').to_string();
    Some((name, value))
}

/// The answer sendmail asked for with `${dcc_isspam}`, read in the
/// original's order: double quotes removed and the codes taken first
/// ([`from_mta`]), then a text starting with `DISCARD` asks for
/// discarding and a leading `REJECT` is dropped from the reply, each with
/// the blanks and colons after it. Returns whether to discard, and the
/// reply (a relay text refuses even a message it would discard, when the
/// message is delivered to some recipient).
fn mta_reply(msg: &Msg, cip: &str, text: &str) -> (bool, Reply) {
    let r = Reply::of(&from_mta(text), &msg.id, cip);
    let word = |w: &str| {
        r.text
            .get(..w.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(w))
    };
    let discard = word("DISCARD");
    let skip = if discard {
        7
    } else if word("REJECT") {
        6
    } else {
        return (false, r);
    };
    let rest = r.text[skip..].trim_start_matches(|c: char| c == ':' || is_ws(c));
    let text = rest.to_string();
    (discard, Reply { text, ..r })
}

/// The answer for `${dcc_isspam}` when the message is spam for every
/// recipient.
fn mta_answer(msg: &Msg, cip: &str, text: &str) -> Answer2 {
    match mta_reply(msg, cip, text) {
        (true, _) => Answer2::Discard,
        (false, r) => Answer2::Reply(r),
    }
}

/// Whitelisted for every recipient (with `option MTA-first`, also despite
/// `${dcc_isspam}`, except a relay text, which refuses the message).
pub fn white(cfg: &Config, msg: &Msg, cip: &str, client: &ClientInfo) -> Verdict {
    tally_stats::filter::FilterCounts::one(&crate::stats::COUNTS.whitelisted);
    let mut v = base(cfg, msg);
    if cfg.hdr != HdrMode::None {
        v.add_header = split_header(&XHeader::whitelist(&client.hostname), &client.brand);
    }
    if let Some(t) = msg.mta_isspam.as_ref().filter(|_| msg.bad_relay) {
        v.answer = Answer2::Reply(mta_reply(msg, cip, t).1);
        v.add_header = None;
    }
    v
}

/// The verdict after the engine's decision.
pub fn decide(cfg: &Config, msg: &Msg, cip: &str, d: &Decision, failed: bool) -> Verdict {
    let mut v = base(cfg, msg);
    if failed && cfg.try_extra_hard {
        v.del_headers.clear();
        v.answer = Answer2::Reply(fixed(DCC_FAILURE));
        return v;
    }
    if cfg.hdr != HdrMode::None {
        if let Some(h) = d.header.as_ref() {
            v.add_header = split_header(h, "");
        }
    }
    if let Some(t) = &msg.mta_isspam {
        // with option MTA-first, recipients whitelisted by their files
        // keep the message
        let some_white = msg.rcpts.iter().any(|r| r.mta_white);
        v.answer = if !some_white {
            mta_answer(msg, cip, t)
        } else if msg.bad_relay {
            // a relay attack is refused even then
            Answer2::Reply(mta_reply(msg, cip, t).1)
        } else {
            // delivered to them only, as spam to differing recipients
            v.del_rcpts = msg
                .rcpts
                .iter()
                .filter(|r| !r.mta_white)
                .map(|r| r.env_to.clone())
                .collect();
            Answer2::Accept
        };
        if v.answer != Answer2::Accept {
            v.add_header = None;
        }
        return v;
    }
    if d.st & ST_WLIST_ISSPAM != 0 && d.sws & SW_TRAP_DIS != 0 {
        // a discarding spam trap
        v.answer = Answer2::Discard;
        v.add_header = None;
        return v;
    }
    if !d.is_spam() {
        return v;
    }
    let (dnsbl_reply, dnsbl_ignored) = dnsbl_rejection(cfg, msg, cip, d);
    if dnsbl_ignored {
        // spam only by the groups of recipients refused at RCPT time: the
        // header says bulk, the message goes on (recorded, 11a)
        return v;
    }
    let action = match cfg.action {
        Action::Ignore => SpamAction::Ignore,
        Action::Reject => SpamAction::Reject,
        Action::Discard => SpamAction::Discard,
    };
    // whitelisted by env_To, or with option MTA-first by ${dcc_notspam}
    let white = |r: &&crate::msg::Rcpt| r.white || r.mta_white;
    let some_white = msg.rcpts.iter().any(|r| white(&r));
    match spam_disposition(action, msg.forced_discard, some_white) {
        SpamDisposition::Accept => {}
        SpamDisposition::Discard => {
            v.answer = Answer2::Discard;
            v.add_header = None;
        }
        SpamDisposition::RemoveOthers => {
            // silent non-delivery to the others
            v.del_rcpts = msg
                .rcpts
                .iter()
                .filter(|r| !white(r))
                .map(|r| r.env_to.clone())
                .collect();
        }
        SpamDisposition::Reject => {
            v.answer = Answer2::Reply(
                dnsbl_reply.unwrap_or_else(|| Reply::of(&cfg.rej.reject, &msg.id, cip)),
            );
            v.add_header = None;
        }
    }
    v
}

/// The rejection a DNS blacklist hit asks for (its `set:rej-msg`, the
/// first `-r` or the default), and whether the message is spam only by
/// the hit of a group no accepted recipient turned on.
fn dnsbl_rejection(cfg: &Config, msg: &Msg, cip: &str, d: &Decision) -> (Option<Reply>, bool) {
    let (Some(c), Some(o)) = (cfg.dnsbl.as_ref(), msg.dnsbl_outcome.as_ref()) else {
        return (None, false);
    };
    let (on, on_any) = msg.dnsbl_on();
    if let Some((rcode, xcode, text)) = c.rejection(o, on, &msg.id, cip) {
        return (Some(Reply { rcode, xcode, text }), false);
    }
    if o.deciding(on_any).is_none() || d.st & ST_WLIST_ISSPAM != 0 {
        return (None, false);
    }
    let mut without = d.clone();
    without.st &= !tally_engine::state::ST_CLNT_ISSPAM;
    (None, !without.is_spam())
}

/// The decision as dccm's log line shows it: a message blacklisted by a
/// whiteclnt file is announced by its recipients' `-->spam` lines, and
/// the decision line says `wlist-->spam` only for spam traps (recorded in
/// scenarios f6 and g2).
fn shown_st(d: &Decision) -> Decision {
    let mut shown = d.clone();
    if d.sws & SW_TRAP == 0 {
        shown.st &= !ST_WLIST_ISSPAM;
    }
    shown
}

/// Finish the log file, if any: kept when the decision asked for it, the
/// message was refused or discarded, or `option log-all`.
pub fn log(
    cfg: &Config,
    msg: &mut Msg,
    d: Option<&Decision>,
    cks: &MsgCks,
    local_tgts: Tgts,
    grey: Option<&tally_engine::grey::Greylist>,
    v: &mut Verdict,
) {
    let Some(mut l) = msg.log.take() else {
        return;
    };
    if let Answer2::Reply(r) = &v.answer {
        if *r == fixed(DCC_FAILURE) {
            // -x: refused before anything was decided for the recipients
            // (msg_tempfail() before users_process()): no greylist lines,
            // no per-user copies, and dcc_fail_reply's log result
            let reply = format!("{} {} {}", r.rcode, r.xcode, r.text);
            let (_, errs) = l.finish_undecided(&reply, "temporary reject");
            v.errors.extend(errs);
            return;
        }
    }
    if let Some(g) = grey {
        l.grey(&g.log_text(crate::grey::log_query(cfg, d)));
    }
    let grey_embargo = grey.is_some_and(|g| g.st & ST_GREY_EMBARGO != 0);
    let global_log_all = msg
        .global_switches()
        .is_some_and(|s| s & white_sw::LOG_ALL != 0);
    let user_log_all = msg.rcpts.iter().any(|r| {
        r.user
            .as_ref()
            .is_some_and(|u| u.switches().0 & white_sw::LOG_ALL != 0)
    });
    let (st_line, header, table) = match d {
        Some(d) => (
            shown_st(d).log_st_line("dccm  global-log"),
            d.header.as_ref().map(|h| h.as_str().to_string()),
            print_cks(
                d.st & ST_RPT_SPAM != 0,
                local_tgts,
                cks,
                Some(&d.tholds_rej),
                // a spam trap lists no checksum
                (d.sws & SW_TRAP == 0).then_some(&d.wtgts),
            ),
        ),
        None => {
            // whitelisted for every recipient: the header as sent, but
            // without the brand, as the original logs it (h2, g)
            let header = v
                .add_header
                .as_ref()
                .map(|(_, value)| format!("X-DCC--Metrics: {value}\n"));
            let wtgts = msg.global_wtgts(cks);
            let mut shown = Decision::new(false);
            if msg.own_file_whitelists(cks) {
                shown.st |= ST_WLIST_NOTSPAM;
            }
            shown.st |= match msg.mta_opinion() {
                MtaOpinion::Spam => ST_MTA_ISSPAM,
                MtaOpinion::NotSpam => ST_MTA_NOTSPAM,
                MtaOpinion::None => 0,
            };
            if msg.mta_first() {
                shown.sws |= SW_MTA_FIRST;
            }
            (
                shown.log_st_line("dccm  global-log"),
                header,
                print_cks(false, 0, cks, Some(&cfg.tholds.rej), wtgts.as_ref()),
            )
        }
    };
    // the recipients' whitelist lines come before the decision line
    let st_line = format!("{}{st_line}", msg.rcpt_white_lines(cks));
    let (reply, result) = match &v.answer {
        Answer2::Accept if d.is_some_and(|d| d.is_spam()) => (None, "ignore and accept"),
        Answer2::Accept => (None, "accept"),
        Answer2::Discard => (None, "discard"),
        Answer2::Reply(r) => (
            Some(format!("{} {} {}", r.rcode, r.xcode, r.text)),
            if grey_embargo {
                "temporary greylist embargo"
            } else {
                "reject"
            },
        ),
    };
    let keep = d.is_some_and(|d| d.st & ST_LOGIT != 0)
        || grey.is_some_and(|g| g.st & ST_LOGIT != 0)
        || v.answer != Answer2::Accept
        || global_log_all
        || user_log_all
        || msg.mta_isspam.is_some()
        || !v.errors.is_empty();
    let (kept, errs) = l.finish(
        &st_line,
        header.as_deref(),
        &table,
        reply.as_deref(),
        result,
        keep,
    );
    v.errors.extend(errs);
    let (Some(kept), Some(ud)) = (kept, cfg.userdirs.as_deref()) else {
        return;
    };
    let base = {
        let p = std::path::Path::new(ud);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            cfg.home.join(p)
        }
    };
    // recipients refused at RCPT time get their copy too, as recorded
    // kept only for greylisting: not for recipients with greylist-log-off
    let grey_only = grey.is_some_and(|g| g.st & ST_GREY_LOGIT != 0)
        && !d.is_some_and(|d| d.is_spam())
        && !global_log_all;
    for r in msg.rcpts.iter().chain(msg.refused.iter()) {
        let (Some(dir), Some(u)) = (r.dir.as_deref(), r.user.as_ref()) else {
            continue;
        };
        let sw = u.switches().0;
        let user_grey = msg
            .setup()
            .filters_grey(msg.global_list().map(|l| &**l), Some(u), true);
        if grey_only && user_grey.grey_log_off && sw & white_sw::LOG_ALL == 0 {
            continue;
        }
        let mode = if sw & white_sw::LOG_M != 0 {
            tally_engine::logfile::LogMode::Minute
        } else if sw & white_sw::LOG_H != 0 {
            tally_engine::logfile::LogMode::Hour
        } else if sw & white_sw::LOG_D != 0 {
            tally_engine::logfile::LogMode::Day
        } else {
            tally_engine::logfile::LogMode::Flat
        };
        let log_dir = base.join(dir).join("log");
        // a full or broken per-user file system: one line when it starts
        // failing and one when it works again, not one per message
        use tally_engine::logfile::failing;
        let line = match crate::log::copy_to_user(&kept, &log_dir, mode, &r.env_to) {
            Err(e) => failing::failed(&log_dir, &e),
            Ok(()) => failing::worked(&log_dir),
        };
        v.errors.extend(line);
    }
}
