//! Greylisting (`-G`) of one request, around the engine's decision
//! (`tally_engine::grey`): each recipient's greylist request before the
//! DCC server is asked, then the `GREY_SPAM` requests for recipients the
//! message is spam for and the embargo, and the words of the log files.
//!
//! As in dccifd(8): `grey-off` turns greylisting off for the message,
//! `grey-query` (or `-Q`) only asks the greylist server; both are ignored
//! without `-G`. Mail from a listed MX or SUBMIT client, spam traps and
//! recipients whose whiteclnt files say `option greylist-off` are not
//! greylisted; mail through a relay found in Received: headers (without a
//! client address) is, as in the original.

use crate::check::Relays;
use crate::config::Config;
use crate::dispose::Action;
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
use tally_engine::state::{
    wf_to_sws_grey, AskSt, ST_GREY_OFF, ST_QUERY_GREY, SW_DISCARD_NO, SW_MTA_FIRST, SW_TRAP_DIS,
    SW_TRAP_REJ,
};

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
    /// `-Q`, the `query` option or an `mxdcc` relay: the log files'
    /// greylist heading says `query` (the original's `ASK_ST_QUERY`; as
    /// recorded, not for the `grey-query` option).
    pub query: bool,
    /// The message was spam for some recipient ([`Grey::finish`]): a
    /// recipient that takes it after its embargo ended is logged as
    /// ignoring the verdict, as the original's per-user result does.
    spam_seen: bool,
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

/// Ask the greylist server about each recipient (`relays`: a listed MX
/// or SUBMIT SMTP client is not greylisted; `switches`: each recipient's,
/// from [`rcpt_switches`]). `cks` are the message's checksums, `ip` the
/// SMTP client's address.
#[allow(clippy::too_many_arguments)]
pub fn ask_rcpts(
    cfg: &Config,
    head: &Head,
    global: &WhiteVerdict,
    rcpt_whites: &[RcptWhite],
    cks: &MsgCks,
    ip: Option<IpAddr>,
    relays: &Relays,
    switches: &[u32],
    servers: &mut dyn Servers,
) -> Grey {
    let via_relay = relays.client_relay();
    let st = message_st(cfg, head);
    let mut g = Grey {
        list: Greylist::new(st),
        query: cfg.query || head.opts.query,
        spam_seen: false,
    };
    if !cfg.grey.on {
        return g;
    }
    // -x: a message that cannot be greylisted for want of its IP address
    // or sender is embargoed too, as one whose greylist server is silent
    g.list.try_extra_hard = cfg.try_hard;
    // ASK_ST_MTA_ISSPAM: the `spam` option, unless dropped for `query`,
    // `-Q` or `grey-query`
    let mta_spam = head.opts.spam && !spam_conflict(cfg, head);
    for ((r, w), &sws) in head.rcpts.iter().zip(rcpt_whites).zip(switches) {
        let mut gs = GreyRcptSws::from_sws(sws);
        gs.off |= via_relay;
        let listing = rcpt_listing(global.listing, w);
        let (mut white, mut black) = (listing == Listing::Listed, listing == Listing::Black);
        if mta_spam && (sws & SW_MTA_FIRST == 0 || !white) {
            // ask_white_rcpt(): the `spam` option blacklists the message
            // for the recipient (with `option MTA-first` unless its files
            // whitelist it), so that the greylist server is only queried
            white = false;
            black = true;
        }
        g.list.add_rcpt(&r.addr, gs, white, black);
    }
    for i in 0..g.list.rcpts.len() {
        if let Some(req) = g.list.request(i, &cfg.grey, cks, ip) {
            let answer = servers.grey(&req);
            g.list.apply(i, answer, cfg.try_hard);
        }
    }
    g
}

/// Each recipient's switches as the original sets them when it reads the
/// recipient (`rcpt_sws_env_to()`): from the main and the recipient's
/// whiteclnt files, with discarding allowed or refused as `-a` (turned
/// into `DISCARD` by a listed `mx` or `mxdcc` SMTP client, which comes
/// before the recipients; one found in Received: comes after them), the
/// spam traps and the protocol say.
pub fn rcpt_switches(cfg: &Config, head: &Head, lists: &Lists, relays: &Relays) -> Vec<u32> {
    let global_sws = lists.global.as_ref().map_or(0, |l| l.switches().0);
    let mut action = action(cfg, head);
    if relays.client.via_mx && action == Action::Reject {
        // check_mx_listing() from get_sender(), before the switches
        action = Action::Discard;
    }
    let proxy = cfg.proxy.is_some();
    let init = discard_sws(
        wf_to_sws_grey(initial_sws(action), global_sws, true),
        action,
        proxy,
    );
    (0..head.rcpts.len())
        .map(|i| match lists.users.get(i).and_then(|u| u.as_ref()) {
            Some(u) => discard_sws(wf_to_sws_grey(init, u.switches().0, true), action, proxy),
            None => init,
        })
        .collect()
}

/// What is done with spam for the message at its end: `-a`, or the
/// `no-reject` option, with a listed `mx` or `mxdcc` relay (the SMTP
/// client or found in Received:) turning `REJECT` into `DISCARD`.
pub(crate) fn final_action(cfg: &Config, head: &Head, relays: &Relays) -> Action {
    match action(cfg, head) {
        Action::Reject if relays.via_mx() => Action::Discard,
        a => a,
    }
}

/// What is done with spam for the message: `-a`, or the `no-reject`
/// option.
fn action(cfg: &Config, head: &Head) -> Action {
    if cfg.ignore || head.opts.no_reject {
        Action::Ignore
    } else if cfg.discard {
        Action::Discard
    } else {
        Action::Reject
    }
}

/// The switches before any whiteclnt file: rejecting spam means that a
/// recipient does not want it discarded in the others' place.
fn initial_sws(action: Action) -> u32 {
    if action == Action::Reject {
        SW_DISCARD_NO
    } else {
        0
    }
}

/// The original's adjustment after each whiteclnt file: a discarding
/// spam trap may always have spam discarded; the SMTP proxy (`-o`), which
/// cannot discard for one recipient, never unless it ignores spam; `-a
/// DISCARD` always.
fn discard_sws(mut sws: u32, action: Action, proxy: bool) -> u32 {
    if sws & SW_TRAP_DIS != 0 {
        sws &= !SW_DISCARD_NO;
    } else if proxy && (action != Action::Ignore || sws & SW_TRAP_REJ != 0) {
        sws |= SW_DISCARD_NO;
    } else if action == Action::Discard {
        sws &= !SW_DISCARD_NO;
    }
    sws
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
        self.spam_seen = spam.contains(&true);
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
        if self.spam_seen {
            // spam for another recipient: the original says so before
            // naming the greylist (and a greylist whitelisting is then
            // not named at all)
            return self
                .list
                .ended
                .then(|| "result: ignore and accept after greylist embargo\n".to_string());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Servers that are never asked (the greylist answers are given).
    struct Unasked;

    impl Servers for Unasked {
        fn dcc(&mut self, _: &Request) -> (Result<Answer, AskError>, ClientInfo) {
            panic!("the DCC server is not asked here")
        }
        fn grey(&mut self, _: &GreyRequest) -> Result<GreyAnswer, String> {
            Err("not asked".to_string())
        }
        fn grey_spam(&mut self, _: &GreySpamRequest) -> Result<(), String> {
            Ok(())
        }
    }

    fn ended_for_two() -> Grey {
        let mut g = Grey::default();
        for (i, to) in ["alice@example.net", "bob@example.net"].iter().enumerate() {
            g.list.add_rcpt(to, GreyRcptSws::default(), false, false);
            let end = GreyAnswer {
                msg: 1,
                triple: tally_engine::tgts::OK,
            };
            g.list.apply(i, Ok(end), false);
        }
        g
    }

    #[test]
    fn accepted_after_the_embargo_while_spam_for_another() {
        // the original's per-user result checks the message's spam
        // verdict before the end of the embargo
        let mut g = ended_for_two();
        assert!(!g.finish(&[false, true], false, &MsgCks::new(), &mut Unasked));
        assert_eq!(
            g.rcpt_result(0, false, true).as_deref(),
            Some("result: ignore and accept after greylist embargo\n")
        );
        assert_eq!(g.rcpt_result(1, false, false), None);
        // not spam for anyone: the plain words
        let mut g = ended_for_two();
        assert!(!g.finish(&[false, false], false, &MsgCks::new(), &mut Unasked));
        assert_eq!(
            g.rcpt_result(0, false, true).as_deref(),
            Some("result: accept after greylist embargo\n")
        );
    }

    #[test]
    fn discarding_for_one_recipient() {
        // -a REJECT (the default) lets the others' delivery win through
        // forced discarding, unless a whiteclnt option says otherwise;
        // the proxy cannot discard for one recipient
        let sws = discard_sws(initial_sws(Action::Reject), Action::Reject, false);
        assert_ne!(sws & SW_DISCARD_NO, 0);
        let sws = discard_sws(initial_sws(Action::Discard), Action::Discard, false);
        assert_eq!(sws & SW_DISCARD_NO, 0);
        let sws = discard_sws(initial_sws(Action::Discard), Action::Discard, true);
        assert_ne!(sws & SW_DISCARD_NO, 0);
        let sws = discard_sws(initial_sws(Action::Ignore), Action::Ignore, true);
        assert_eq!(sws & SW_DISCARD_NO, 0);
        let trap = initial_sws(Action::Reject) | SW_TRAP_DIS;
        assert_eq!(discard_sws(trap, Action::Reject, true) & SW_DISCARD_NO, 0);
    }
}
