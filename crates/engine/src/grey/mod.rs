//! Greylisting in the client, without I/O: which greylist request to
//! send for each recipient, what the greylist server's answer means, how
//! many targets to report to the DCC server, the `GREY_SPAM` requests
//! that put spam back under embargo, and whether the message ends up
//! embargoed (temporarily rejected).
//!
//! A front end (dccm, dccifd) uses it in this order, after the whiteclnt
//! verdict ([`crate::ask::Decision::ask_white`]) and before asking the
//! DCC server:
//!
//! 1. [`Greylist::new`], then [`Greylist::add_rcpt`] for every recipient
//!    with its switches ([`GreyRcptSws`]) and its white- or blacklisting.
//! 2. For each recipient, [`Greylist::request`] gives the request to send
//!    to the greylist server (found through the map's `greylist` entries,
//!    e.g. [`crate::dcc_client::DccClient::grey`]) or `None`; its outcome
//!    goes to [`Greylist::apply`].
//! 3. [`Greylist::dcc_tgts`] gives the targets to report to the DCC
//!    server ([`crate::ask::Decision::dcc_request`]): an embargoed
//!    message is counted only for the recipients new to the greylist, and
//!    a message whose embargo ended is not counted again for them.
//! 4. After the DCC decision, [`Greylist::spam_request`] per recipient for
//!    which the message is spam (send it if `Some`), then
//!    [`Greylist::embargo`] with every recipient's outcome: `true` means
//!    answer with the greylist rejection (`452 4.2.1 ... temporary
//!    greylist embargoed` or the second `-r`) instead of anything else.
//! 5. [`Greylist::log_text`] (main log) and [`Greylist::rcpt_log_text`]
//!    (per-user log) give the `greylist recipient` lines of log files.
//!
//! A greylist server that is down or silent does not stop mail: the
//! recipient's result is [`GreyResult::Fail`] and the message goes on as
//! if not greylisted, unless the program was told to try extra hard
//! (`-x`), when it is embargoed as the original does.

mod end;
mod log;
mod opt;
#[cfg(test)]
mod tests;

pub use opt::GreyOpt;

use crate::cks::MsgCks;
use crate::state::*;
use crate::tgts::{self, Tgts};
use crate::tholds::NUM_TYPES;
use md5::{Digest, Md5};
use std::net::IpAddr;
use tally_ck::{CkType, Sum};

/// The kind of greylist request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreyOp {
    /// Count the message and learn whether it is embargoed (`GREY_REPORT`).
    Report,
    /// Ask without counting (`GREY_QUERY`): `-Q`, `grey-query`, and
    /// blacklisted recipients.
    Query,
    /// A whitelisted recipient (`GREY_WHITE`).
    White,
}

/// A recipient's greylist result (`ASK_GREY_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreyResult {
    /// Not greylisted.
    Off,
    /// The greylist server could not be asked.
    Fail,
    /// Embargoed.
    Embargo,
    /// The embargo ended with this delivery.
    EmbargoEnd,
    /// Not embargoed (the triple is known).
    Pass,
    /// Whitelisted by the greylist server.
    White,
    /// Put back under embargo as spam (`GREY_SPAM` sent).
    Spam,
}

/// A request for the greylist server: the message's checksums (reported
/// ones and the body, no reputation checksums), then the `grey msg` and
/// `grey triple` checksums of the recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreyRequest {
    /// Report, query or white.
    pub op: GreyOp,
    /// The checksums in type order.
    pub cks: Vec<(CkType, Sum)>,
}

/// The greylist server's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreyAnswer {
    /// Non-zero once the server has counted the message for this target.
    pub msg: Tgts,
    /// 0, 1, ...: embargoed (attempt n+1); OK: the embargo ended now;
    /// MANY: passes; OK2: whitelisted by the server.
    pub triple: Tgts,
}

/// A `GREY_SPAM` request: restore the embargo of a triple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreySpamRequest {
    /// The IP checksum.
    pub ip: Sum,
    /// The recipient's `grey msg` checksum.
    pub msg: Sum,
    /// The recipient's `grey triple` checksum.
    pub triple: Sum,
}

/// The greylist switches of one recipient, from the program's settings
/// and the main and per-user whiteclnt files (`SW_GREY_*` of
/// [`crate::state`], e.g. from [`tally_white::filters::Filters`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GreyRcptSws {
    /// Greylisting off for this recipient (`-G off`, `greylist-off`, a
    /// spam trap, mail through a listed MX or SUBMIT client).
    pub off: bool,
    /// Greylist even spam (`greylist-ignore-spam-on`).
    pub ignore_spam: bool,
    /// No per-user log for greylist results (`greylist-log-off`).
    pub log_off: bool,
    /// A spam trap (its spam never restores an embargo).
    pub trap: bool,
    /// A discarding spam trap.
    pub trap_discard: bool,
    /// Spam for this recipient must be rejected, never discarded.
    pub discard_no: bool,
}

impl GreyRcptSws {
    /// From a recipient's filter switches (e.g.
    /// [`crate::rcpts_milter::RcptSetup::filters_grey`]).
    pub fn from_filters(f: &tally_white::filters::Filters) -> GreyRcptSws {
        GreyRcptSws {
            off: f.grey_off,
            ignore_spam: f.grey_ignore_spam,
            log_off: f.grey_log_off,
            trap: f.trap,
            trap_discard: f.trap_discard,
            discard_no: f.discard_no,
        }
    }

    /// From the engine's switch word (`SW_*`).
    pub fn from_sws(sws: Sws) -> GreyRcptSws {
        GreyRcptSws {
            off: sws & SW_GREY_OFF != 0,
            ignore_spam: sws & SW_GREY_IGN_SPAM != 0,
            log_off: sws & SW_GREY_LOG_OFF != 0,
            trap: sws & SW_TRAP != 0,
            trap_discard: sws & SW_TRAP_DIS != 0,
            discard_no: sws & SW_DISCARD_NO != 0,
        }
    }
}

/// One recipient's greylisting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreyRcpt {
    /// The envelope recipient as given.
    pub env_to: String,
    /// Its checksum (the `env_To` of the triple).
    pub env_to_sum: Sum,
    /// Its switches.
    pub sws: GreyRcptSws,
    /// Whitelisted for this recipient.
    pub white: bool,
    /// Blacklisted for this recipient.
    pub black: bool,
    /// Refused earlier (at RCPT time or by the MTA): never greylisted.
    pub rejected: bool,
    /// The result.
    pub result: GreyResult,
    /// Embargo number (1 for the first attempt), 0 when not embargoed.
    pub embargo_num: u32,
    /// The `grey msg` checksum sent.
    pub msg_sum: Sum,
    /// The `grey triple` checksum sent.
    pub triple_sum: Sum,
}

/// The greylisting of one message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Greylist {
    /// The recipients, in the order added.
    pub rcpts: Vec<GreyRcpt>,
    /// `ST_GREY_EMBARGO`, `ST_GREY_LOGIT` and `ST_LOGIT` as learnt.
    pub st: AskSt,
    /// Some recipient's embargo ended with this delivery.
    pub ended: bool,
    /// Recipients new to the greylist: counted by the DCC server even
    /// though embargoed.
    pub early_tgts: Tgts,
    /// Recipients whose embargo ended now and that were counted before.
    pub late_tgts: Tgts,
    /// The highest embargo number.
    pub max_embargo_num: u32,
    /// Complaints (for the system log and the log file).
    pub errors: Vec<String>,
    /// `-x`: a recipient that cannot be greylisted because the message
    /// lacks the IP address or env_From embargoes the message, as a
    /// failed request does with `try_extra_hard` of [`Greylist::apply`].
    pub try_extra_hard: bool,
    query: bool,
    off: bool,
}

/// MD5 of the concatenated checksums.
fn md5_of(parts: &[&Sum]) -> Sum {
    let mut h = Md5::new();
    for p in parts {
        h.update(p.0);
    }
    Sum(h.finalize().into())
}

impl Greylist {
    /// Start: `st` is the message's decision state so far; its
    /// `ST_QUERY_GREY` (`-Q`, dccifd's `grey-query`) makes every request
    /// a query and its `ST_GREY_OFF` turns greylisting off for the
    /// message. `ST_QUERY` alone (dccifd's `query`) does not: the
    /// message is still counted by the greylist server, as in the
    /// original.
    pub fn new(st: AskSt) -> Greylist {
        Greylist {
            query: st & ST_QUERY_GREY != 0,
            off: st & ST_GREY_OFF != 0,
            ..Greylist::default()
        }
    }

    /// Add a recipient; its index for the other calls.
    pub fn add_rcpt(&mut self, env_to: &str, sws: GreyRcptSws, white: bool, black: bool) -> usize {
        self.rcpts.push(GreyRcpt {
            env_to: env_to.to_string(),
            env_to_sum: tally_ck::simple::str_sum(None, env_to.as_bytes()),
            sws,
            white,
            black: black && !white,
            rejected: false,
            result: GreyResult::Off,
            embargo_num: 0,
            msg_sum: Sum::default(),
            triple_sum: Sum::default(),
        });
        self.rcpts.len() - 1
    }

    /// The request for recipient `i`, or `None` when it is not greylisted
    /// or cannot be (its result is then `Off`, or `Fail` with a complaint
    /// when the message lacks the IP address or env_From). `ip` is the
    /// client address the IP checksum was made of (for `noIP`/`IPmask`).
    pub fn request(
        &mut self,
        i: usize,
        opt: &GreyOpt,
        cks: &MsgCks,
        ip: Option<IpAddr>,
    ) -> Option<GreyRequest> {
        let query = self.query;
        let off = self.off || !opt.on;
        let r = self.rcpts.get_mut(i)?;
        r.result = GreyResult::Off;
        if off || r.sws.off || r.rejected {
            return None;
        }
        let ip_ck = cks.of_type(CkType::Ip).map(|s| s.sum);
        let from_ck = cks.of_type(CkType::EnvFrom).map(|s| s.sum);
        let op = if r.black {
            if ip_ck.is_none() || from_ck.is_none() {
                return None;
            }
            GreyOp::Query
        } else if query {
            GreyOp::Query
        } else if r.white {
            GreyOp::White
        } else {
            GreyOp::Report
        };
        let (Some(ip_sum), Some(from_sum)) = (ip_ck, from_ck) else {
            let what = if ip_ck.is_none() {
                "IP address"
            } else {
                "env_From"
            };
            self.errors
                .push(format!("{what} not available for greylisting"));
            r.result = GreyResult::Fail;
            r.msg_sum = Sum::default();
            r.triple_sum = Sum::default();
            self.st |= ST_LOGIT;
            if self.try_extra_hard {
                self.st |= ST_GREY_EMBARGO | ST_GREY_LOGIT;
            }
            return None;
        };
        let body = cks.of_type(CkType::Body).map(|s| s.sum).unwrap_or_default();
        let mut list: Vec<(CkType, Sum)> = Vec::with_capacity(NUM_TYPES);
        for (n, s) in cks.iter() {
            // no reputation checksums; the recipient's env_To is in the
            // greylist checksums, never sent alone (recorded grey_report_new)
            if n >= NUM_TYPES
                || matches!(
                    s.ty,
                    CkType::GreyMsg | CkType::GreyTriple | CkType::SrvrId | CkType::EnvTo
                )
            {
                continue;
            }
            if s.rpt2srvr || s.ty == CkType::Body {
                list.push((s.ty, s.sum));
            }
        }
        if !list.iter().any(|(t, _)| *t == CkType::Body) {
            // greylisting needs a body checksum, even a made-up one
            let at = list
                .iter()
                .position(|(t, _)| t.number() > CkType::Body.number())
                .unwrap_or(list.len());
            list.insert(at, (CkType::Body, body));
        }
        r.msg_sum = md5_of(&[&body, &from_sum, &r.env_to_sum]);
        let ip_part = opt.triple_ip(ip_sum, ip);
        r.triple_sum = md5_of(&[&ip_part, &from_sum, &r.env_to_sum]);
        list.push((CkType::GreyMsg, r.msg_sum));
        list.push((CkType::GreyTriple, r.triple_sum));
        Some(GreyRequest { op, cks: list })
    }

    /// Take the outcome of recipient `i`'s request: the answer, or the
    /// complaint when the greylist server could not be asked.
    /// `try_extra_hard` (`-x`): a failure embargoes the message.
    pub fn apply(&mut self, i: usize, answer: Result<GreyAnswer, String>, try_extra_hard: bool) {
        let Some(r) = self.rcpts.get_mut(i) else {
            return;
        };
        let a = match answer {
            Ok(a) => a,
            Err(e) => {
                self.errors.push(e);
                r.result = GreyResult::Fail;
                self.st |= ST_LOGIT;
                if try_extra_hard {
                    self.st |= ST_GREY_EMBARGO | ST_GREY_LOGIT | ST_LOGIT;
                }
                return;
            }
        };
        r.embargo_num = 0;
        r.result = match a.triple {
            tgts::OK => {
                // counted by the DCC server at an earlier attempt
                if a.msg != 0 {
                    self.late_tgts = self.late_tgts.saturating_add(1);
                }
                GreyResult::EmbargoEnd
            }
            tgts::TOO_MANY if a.msg != 0 => GreyResult::EmbargoEnd,
            tgts::TOO_MANY => GreyResult::Pass,
            tgts::OK2 => GreyResult::White,
            n => {
                // a new embargo is counted by the DCC server now
                if a.msg == 0 {
                    self.early_tgts = self.early_tgts.saturating_add(1);
                }
                r.embargo_num = n.saturating_add(1);
                GreyResult::Embargo
            }
        };
        match r.result {
            GreyResult::Embargo if r.embargo_num == 1 && r.black => {
                // nothing to revoke for a blacklisted first attempt
                r.result = GreyResult::Off;
            }
            GreyResult::Embargo => {
                self.st |= ST_GREY_EMBARGO | ST_GREY_LOGIT | ST_LOGIT;
                self.max_embargo_num = self.max_embargo_num.max(r.embargo_num);
            }
            GreyResult::EmbargoEnd => {
                self.st |= ST_GREY_LOGIT | ST_LOGIT;
                self.ended = true;
            }
            _ => {}
        }
    }

    /// The targets to report to the DCC server (`local_tgts` of
    /// [`crate::ask::Decision::dcc_request`]) after greylisting: `st` is
    /// the decision's state after the whiteclnt verdict, `tgts` the
    /// recipients and `mta_rej` the recipients the MTA refused. A query
    /// counts nothing; locally blacklisted mail counts everyone; an
    /// embargoed message counts only the recipients new to the
    /// greylist; otherwise recipients counted at an earlier, embargoed
    /// attempt are not counted again.
    pub fn dcc_tgts(&self, st: AskSt, tgts: Tgts, mta_rej: Tgts) -> Tgts {
        if st & ST_QUERY != 0 {
            0
        } else if st & ST_CLNT_ISSPAM != 0 {
            tgts.saturating_add(mta_rej)
        } else if self.st & ST_GREY_EMBARGO != 0 {
            self.early_tgts.saturating_add(mta_rej)
        } else {
            tgts.saturating_sub(self.late_tgts).saturating_add(mta_rej)
        }
    }
}
