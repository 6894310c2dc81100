//! Greylisting (`-G`) of one request, around the engine's decision
//! (`tally_engine::grey`): each recipient's greylist request before the
//! DCC server is asked, then the `GREY_SPAM` requests for recipients the
//! message is spam for and the embargo, and the words of the log files.
//!
//! As in dccifd(8): `grey-off` turns greylisting off for the message,
//! `grey-query` (or `-Q`) only asks the greylist server; both are ignored
//! without `-G`. Mail through a listed MX or SUBMIT relay, spam traps and
//! recipients whose whiteclnt files say `option greylist-off` are not
//! greylisted.

use crate::config::Config;
use crate::proto::Head;
use crate::white::Lists;
use std::net::IpAddr;
use tally_engine::ask::{Listing, WhiteVerdict};
use tally_engine::cks::MsgCks;
use tally_engine::grey::{
    GreyAnswer, GreyRcptSws, GreyRequest, GreyResult, GreySpamRequest, Greylist,
};
use tally_engine::rcpts_if::{rcpt_listing, RcptWhite};
use tally_engine::server::{Answer, AskError, ClientInfo, Request};
use tally_engine::state::{wf_to_sws_grey, AskSt, ST_GREY_OFF, ST_QUERY_GREY};

/// The servers a request is checked with.
pub trait Servers {
    /// Ask the DCC server: its answer, and the host name and brand for
    /// the X-DCC header.
    fn dcc(&mut self, req: &Request) -> (Result<Answer, AskError>, ClientInfo);
    /// Send a greylist request; `Err` is the complaint when no greylist
    /// server answered.
    fn grey(&mut self, req: &GreyRequest) -> Result<GreyAnswer, String>;
    /// Send a `GREY_SPAM` request.
    fn grey_spam(&mut self, req: &GreySpamRequest) -> Result<(), String>;
}

/// Greylisting of one message.
#[derive(Debug, Default)]
pub struct Grey {
    /// The engine's state.
    pub list: Greylist,
    /// `-Q`: the log files' greylist heading says `query` (as recorded,
    /// not for the `grey-query` option).
    pub query: bool,
}

/// The message's greylist state from the request options.
fn message_st(cfg: &Config, head: &Head) -> AskSt {
    let mut st = 0;
    if head.opts.grey_off {
        st |= ST_GREY_OFF;
    }
    if head.opts.grey_query || cfg.query {
        st |= ST_QUERY_GREY;
    }
    st
}

/// Whether the options `spam` and `grey-query` meet, which the original
/// refuses (the `spam` is dropped).
pub fn spam_conflict(cfg: &Config, head: &Head) -> bool {
    cfg.grey.on && head.opts.spam && head.opts.grey_query && !head.opts.grey_off
}

/// Ask the greylist server about each recipient (`via_relay`: the mail
/// came through a listed MX or SUBMIT client, not greylisted). `cks` are
/// the message's checksums, `ip` the SMTP client's address.
#[allow(clippy::too_many_arguments)]
pub fn ask_rcpts(
    cfg: &Config,
    head: &Head,
    lists: &Lists,
    global: &WhiteVerdict,
    rcpt_whites: &[RcptWhite],
    cks: &MsgCks,
    ip: Option<IpAddr>,
    via_relay: bool,
    servers: &mut dyn Servers,
) -> Grey {
    let st = message_st(cfg, head);
    let mut g = Grey {
        list: Greylist::new(st),
        query: cfg.query,
    };
    if !cfg.grey.on {
        return g;
    }
    let global_sws = lists.global.as_ref().map_or(0, |l| l.switches().0);
    for (i, (r, w)) in head.rcpts.iter().zip(rcpt_whites).enumerate() {
        let mut sws = wf_to_sws_grey(0, global_sws, true);
        if let Some(u) = lists.users.get(i).and_then(|u| u.as_ref()) {
            sws = wf_to_sws_grey(sws, u.switches().0, true);
        }
        let mut gs = GreyRcptSws::from_sws(sws);
        gs.off |= via_relay;
        let listing = rcpt_listing(global.listing, w);
        g.list.add_rcpt(
            &r.addr,
            gs,
            listing == Listing::Listed,
            listing == Listing::Black,
        );
    }
    for i in 0..g.list.rcpts.len() {
        if let Some(req) = g.list.request(i, &cfg.grey, cks, ip) {
            let answer = servers.grey(&req);
            g.list.apply(i, answer, cfg.try_hard);
        }
    }
    g
}

impl Grey {
    /// After the DCC decision: `spam` says for each recipient whether
    /// the message is spam for it; `ignore` that spam is delivered anyway
    /// (`no-reject`, `-a IGNORE`). Sends the `GREY_SPAM` requests and
    /// says whether the message is embargoed.
    pub fn finish(
        &mut self,
        spam: &[bool],
        ignore: bool,
        cks: &MsgCks,
        servers: &mut dyn Servers,
    ) -> bool {
        for (i, &is_spam) in spam.iter().enumerate() {
            if !is_spam {
                continue;
            }
            if let Some(req) = self.list.spam_request(i, cks, ignore) {
                if let Err(e) = servers.grey_spam(&req) {
                    self.list.errors.push(e);
                }
            }
        }
        self.list.embargo(spam, ignore)
    }

    /// The `greylist recipient` lines of the main log file.
    pub fn log_text(&self) -> String {
        self.list.log_text(self.query)
    }

    /// Recipient `i`'s greylist lines for its per-user log file.
    pub fn rcpt_log_text(&self, i: usize) -> String {
        self.list.rcpt_log_text(i, self.query)
    }

    /// The per-user log's result line for recipient `i`, when
    /// greylisting decides it: the embargo (with its number), or an
    /// accepted message after an embargo or whitelisted by the greylist
    /// server. `delivered` is the recipient's disposition otherwise.
    pub fn rcpt_result(&self, i: usize, embargo: bool, delivered: bool) -> Option<String> {
        if embargo {
            return Some(format!(
                "result: temporary greylist embargo{}\n",
                self.list.embargo_suffix(i)
            ));
        }
        if !delivered {
            return None;
        }
        if self.list.ended {
            return Some("result: accept after greylist embargo\n".to_string());
        }
        match self.list.rcpts.get(i).map(|r| r.result) {
            Some(GreyResult::White) => Some("result: accept;  greylist whitelist\n".to_string()),
            _ => None,
        }
    }

    /// Whether recipient `i` gets a per-user log file because of
    /// greylisting.
    pub fn wants_user_log(&self, i: usize) -> bool {
        self.list.wants_user_log(i)
    }
}
