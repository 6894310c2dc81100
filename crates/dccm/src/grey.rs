//! `-G`: dccm's side of greylisting. The decision is the engine's
//! ([`tally_engine::grey`]); here the message's recipients are handed to
//! it with their switches and white- or blacklisting, and its outcome
//! becomes the milter's answer: an embargoed message is refused at the
//! end of the message with the greylist reply (`452 4.2.1 mail %ID from
//! %CIP temporary greylist embargoed` or the second `-r`).

use crate::config::Config;
use crate::conn::{Answer2, Verdict};
use crate::msg::Msg;
use crate::opts::Action;
use std::net::IpAddr;
use tally_engine::ask::{Decision, Listing};
use tally_engine::cks::MsgCks;
use tally_engine::grey::{GreyRcptSws, GreyRequest, Greylist};
use tally_engine::state::{AskSt, ST_QUERY, ST_QUERY_GREY};
use tally_white::verdict::MtaOpinion;

/// Start greylisting a message: its recipients and the requests to send
/// (recipient index and request), or `None` without `-G`. `all_white`:
/// the message is whitelisted for every recipient.
pub fn start(
    cfg: &Config,
    msg: &Msg,
    cks: &MsgCks,
    ip: Option<IpAddr>,
    st: AskSt,
    all_white: bool,
) -> Option<(Greylist, Vec<(usize, GreyRequest)>)> {
    if !cfg.grey.on {
        return None;
    }
    // -Q only asks the greylist server; an MXDCC relay is a query for the
    // DCC server alone (the original's ASK_ST_QUERY without
    // ASK_ST_QUERY_GREY), and turns greylisting off anyway
    let mut g = Greylist::new(st | if cfg.query { ST_QUERY_GREY } else { 0 });
    g.try_extra_hard = cfg.try_extra_hard;
    let global = msg.global_list();
    let global_listing = global.map(|l| crate::white::verdict(l, cks, ip).listing);
    let global_black = global_listing == Some(Listing::Black);
    let mta = msg.mta_opinion() != MtaOpinion::None;
    let global_white = global_listing == Some(Listing::Listed);
    for r in &msg.rcpts {
        let f = msg
            .setup()
            .filters_grey(global.map(|l| &**l), r.user.as_deref(), true);
        let own = r
            .user
            .as_ref()
            .map(|u| crate::white::verdict(u, cks, ip).listing);
        // the recipient's own file has the last word, then the main file
        let (white, black) = match own {
            Some(Listing::Listed) => (true, false),
            Some(Listing::Black) => (r.white, true),
            _ => (r.white || global_white, global_black),
        };
        let (white, black) = if mta {
            // sendmail's opinion combined with the files' answers
            // (Msg::mta_effect): by default it wins, even over a
            // whitelisting, so that spam by its word is only asked about
            (r.mta_white, !r.mta_white)
        } else {
            (white || all_white, black)
        };
        g.add_rcpt(&r.env_to, GreyRcptSws::from_filters(&f), white, black);
    }
    let reqs = (0..g.rcpts.len())
        .filter_map(|i| g.request(i, &cfg.grey, cks, ip).map(|q| (i, q)))
        .collect();
    Some((g, reqs))
}

/// The end: `GREY_SPAM` for the recipients the message is spam for, and
/// the greylist reply instead of the verdict's answer when the message
/// stays embargoed. Nothing changes after a DCC failure under `-x`
/// (its temporary failure wins, as in the original).
#[allow(clippy::too_many_arguments)]
pub fn finish(
    cfg: &Config,
    msg: &Msg,
    cip: &str,
    d: Option<&Decision>,
    cks: &MsgCks,
    failed: bool,
    g: &mut Greylist,
    v: &mut Verdict,
) {
    v.errors.append(&mut g.errors);
    if failed && cfg.try_extra_hard {
        return;
    }
    let ignore = cfg.action == Action::Ignore;
    let msg_spam = d.is_some_and(|d| d.is_spam()) || msg.mta_isspam.is_some();
    let mta = msg.mta_opinion() != MtaOpinion::None;
    let spam: Vec<bool> = msg
        .rcpts
        .iter()
        .map(|r| msg_spam && !if mta { r.mta_white } else { r.white })
        .collect();
    for (i, &s) in spam.iter().enumerate() {
        if s {
            if let Some(req) = g.spam_request(i, cks, ignore) {
                v.grey_spam.push(req);
            }
        }
    }
    v.errors.append(&mut g.errors);
    if g.embargo(&spam, ignore) {
        tally_stats::filter::FilterCounts::one(&crate::stats::COUNTS.embargoed);
        v.answer = Answer2::Reply(crate::reply::Reply::of(&cfg.rej.grey, &msg.id, cip));
        v.add_header = None;
        v.del_rcpts.clear();
    }
}

/// Whether the log file's heading of greylist lines says `query`.
pub fn log_query(cfg: &Config, d: Option<&Decision>) -> bool {
    cfg.query || d.is_some_and(|d| d.st & ST_QUERY != 0)
}
