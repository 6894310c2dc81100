//! The per-message decision shared by the DCC clients: whiteclnt verdict,
//! then the DCC server's counts, then thresholds, giving spam / not spam /
//! whitelisted and the X-DCC header.

use crate::cks::{MsgCks, WhiteTgts, NUM_SLOTS};
use crate::server::{Answer, AskError, ClientInfo, DccServer, Op, Request};
use crate::state::*;
use crate::tgts::{self, Tgts, SPAM, THOLD_UNSET, TOO_MANY};
use crate::tholds::{Thresholds, NUM_TYPES};
use crate::xhdr::XHeader;
use tally_ck::CkType;

/// What the whiteclnt file(s) said about a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Whitelisted (ok, mx, mxdcc, or two ok2).
    Listed,
    /// Not listed.
    Unlisted,
    /// Blacklisted (`many`).
    Black,
}

/// The whiteclnt verdict for a message, however the files were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhiteVerdict {
    /// The answer.
    pub listing: Listing,
    /// Whitelist value per checksum slot (0 = not listed).
    pub wtgts: WhiteTgts,
    /// `option` switches of the file ([`crate::state::white_sw`] bits).
    pub sws: u32,
    /// Rejection thresholds set in the file (unset = [`THOLD_UNSET`]).
    pub tholds_rej: [Tgts; NUM_TYPES],
    /// A complaint about the file (the file was still used).
    pub complaint: Option<String>,
}

impl WhiteVerdict {
    /// A verdict with nothing listed and no options.
    pub fn unlisted() -> WhiteVerdict {
        WhiteVerdict {
            listing: Listing::Unlisted,
            wtgts: [0; NUM_SLOTS],
            sws: 0,
            tholds_rej: [THOLD_UNSET; NUM_TYPES],
            complaint: None,
        }
    }
}

/// The state of the decision for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What is known (`ST_*` bits).
    pub st: AskSt,
    /// Filter switches (`SW_*` bits).
    pub sws: Sws,
    /// Effective rejection thresholds (command line merged with whiteclnt).
    pub tholds_rej: [Tgts; NUM_TYPES],
    /// Whitelist values per slot, for the `wlist` column.
    pub wtgts: WhiteTgts,
    /// The X-DCC header, if one is to be added.
    pub header: Option<XHeader>,
    /// Complaints to print and log.
    pub errors: Vec<String>,
    /// The DNS list checks' parts of the decision line (`DNSBL-->spam`,
    /// `DNSBL1-->spam(off)`, `DNSBL(timeout)`), see
    /// [`Decision::apply_dnsbl`].
    pub dnsbl: Vec<String>,
    /// What was asked of the DCC server, until its answer is applied.
    pending: Option<Pending>,
}

/// The parts of a request to the DCC server that its answer is applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending {
    /// Count put in the header without an answer (the local targets,
    /// or many for spam).
    gross: Tgts,
    /// The targets reported.
    local_tgts: Tgts,
    /// The slots sent, in request order.
    sent: Vec<usize>,
}

impl Decision {
    /// Start: `query` for `-Q` (or an MXDCC relay).
    pub fn new(query: bool) -> Decision {
        Decision {
            st: if query { ST_QUERY } else { 0 },
            sws: 0,
            tholds_rej: [THOLD_UNSET; NUM_TYPES],
            wtgts: [0; NUM_SLOTS],
            header: None,
            errors: Vec::new(),
            dnsbl: Vec::new(),
            pending: None,
        }
    }

    /// Apply the whiteclnt verdict (`None`: no whiteclnt file given;
    /// `Some(Err)`: the file could not be used at all).
    pub fn ask_white(&mut self, tholds: &Thresholds, white: Option<Result<&WhiteVerdict, String>>) {
        self.sws |= SW_DNSBL_M;
        self.tholds_rej = tholds.rej;
        let v = match white {
            None => return,
            Some(Err(e)) => {
                self.errors.push(e);
                self.st |= ST_WLIST_NOTSPAM | ST_LOGIT;
                return;
            }
            Some(Ok(v)) => v,
        };
        self.sws = wf_to_sws(self.sws, v.sws);
        for (out, &w) in self.tholds_rej.iter_mut().zip(v.tholds_rej.iter()) {
            if w != THOLD_UNSET {
                *out = w;
            }
        }
        if let Some(c) = &v.complaint {
            self.errors.push(c.clone());
            self.st |= ST_LOGIT;
        }
        self.wtgts = v.wtgts;
        match v.listing {
            Listing::Listed => self.st |= ST_WLIST_NOTSPAM,
            Listing::Unlisted => {
                if self.sws & SW_TRAP != 0 {
                    self.st |= ST_CLNT_ISSPAM | ST_WLIST_ISSPAM | ST_LOGIT;
                }
            }
            Listing::Black => self.st |= ST_WLIST_ISSPAM | ST_CLNT_ISSPAM | ST_LOGIT,
        }
        if self.sws & SW_LOG_ALL != 0 {
            self.st |= ST_LOGIT;
        }
    }

    /// Reject and log thresholds for one server count.
    fn honor_cnt(&mut self, tholds: &Thresholds, ty: CkType, t: Tgts) {
        let rej = self.tholds_rej[usize::from(ty.number())];
        if rej <= TOO_MANY && rej <= t && t <= TOO_MANY {
            self.st |= ST_SRVR_ISSPAM | ST_LOGIT;
            return;
        }
        let log = tholds.log(ty);
        if log <= TOO_MANY && log <= t {
            self.st |= ST_LOGIT;
        }
    }

    /// Log thresholds for local counts of whitelisted messages.
    fn honor_log_cnts(&mut self, tholds: &Thresholds, cks: &MsgCks, t: Tgts) {
        if self.st & ST_LOGIT != 0 {
            return;
        }
        if t == TOO_MANY {
            self.st |= ST_LOGIT;
            return;
        }
        let body = tholds.log(CkType::Body);
        if body <= TOO_MANY && body <= t {
            self.st |= ST_LOGIT;
            return;
        }
        for (_, s) in cks.iter() {
            if s.ty == CkType::EnvTo {
                continue;
            }
            let l = tholds.log(s.ty);
            if l <= TOO_MANY && l <= t {
                self.st |= ST_LOGIT;
                return;
            }
        }
    }

    /// Ask the DCC server (when a client context exists) and build the
    /// X-DCC header, as dccproc does after the whiteclnt check: the
    /// blocking form of [`Decision::dcc_request`], [`DccServer::ask`] and
    /// [`Decision::apply_answer`].
    #[allow(clippy::too_many_arguments)]
    pub fn ask_dcc(
        &mut self,
        tholds: &Thresholds,
        body_kludge: bool,
        server: &mut dyn DccServer,
        client: &ClientInfo,
        cks: &mut MsgCks,
        spam: bool,
        local_tgts: Tgts,
    ) {
        let Some(req) = self.dcc_request(tholds, client, cks, spam, local_tgts) else {
            return;
        };
        let answer = server.ask(&req);
        let info = server.current_info().unwrap_or_else(|| client.clone());
        self.apply_answer(tholds, body_kludge, &info, cks, answer);
    }

    /// The first half of asking the DCC server, without I/O: what to send,
    /// or `None` when nothing is sent (whitelisted by a whiteclnt file, or
    /// no checksum for the server). With `None` the decision is complete
    /// (header included); otherwise give the outcome of the request to
    /// [`Decision::apply_answer`].
    pub fn dcc_request(
        &mut self,
        tholds: &Thresholds,
        client: &ClientInfo,
        cks: &MsgCks,
        mut spam: bool,
        mut local_tgts: Tgts,
    ) -> Option<Request> {
        self.pending = None;
        if self.st & ST_QUERY != 0 {
            spam = false;
            local_tgts = 0;
        }
        if local_tgts != 0 && self.st & ST_CLNT_ISSPAM != 0 {
            spam = true;
        }
        if self.st & ST_WLIST_NOTSPAM != 0 {
            if spam {
                self.st |= ST_CLNT_ISSPAM | ST_LOGIT;
                let mut h = XHeader::new(&client.brand, &client.hostname, 0);
                h.add_ck(CkType::Body, TOO_MANY);
                self.header = Some(h);
            } else {
                self.header = Some(XHeader::whitelist(&client.hostname));
            }
            self.honor_log_cnts(tholds, cks, local_tgts);
            return None;
        }
        let (op, gross, rpt_tgts) = if local_tgts == 0 && !spam {
            (Op::Query, 0, 0)
        } else {
            if local_tgts == TOO_MANY || local_tgts == 0 {
                spam = true;
                local_tgts = 1;
            }
            if spam {
                self.st |= ST_CLNT_ISSPAM | ST_LOGIT | ST_RPT_SPAM;
                (Op::Report, TOO_MANY, local_tgts | SPAM)
            } else {
                (Op::Report, local_tgts, local_tgts)
            }
        };
        // only the slots of the types themselves go to the server
        let sent: Vec<usize> = cks
            .iter()
            .filter(|(i, s)| *i < NUM_TYPES && s.rpt2srvr)
            .map(|(i, _)| i)
            .collect();
        if sent.is_empty() {
            let mut h = XHeader::new(&client.brand, &client.hostname, 0);
            h.add_ck(CkType::Body, gross);
            self.header = Some(h);
            self.honor_cnt(tholds, CkType::Body, local_tgts);
            return None;
        }
        let req = Request {
            op,
            tgts: rpt_tgts,
            cks: sent
                .iter()
                .filter_map(|&i| cks.get(i).map(|s| (s.ty, s.sum)))
                .collect(),
        };
        self.pending = Some(Pending {
            gross,
            local_tgts,
            sent,
        });
        Some(req)
    }

    /// The second half of asking the DCC server, without I/O: take the
    /// server's answer (or the failure to get one) to the request from
    /// [`Decision::dcc_request`], apply the thresholds and build the
    /// X-DCC header. `client` names this host and the brand of the server
    /// that answered. Without a pending request nothing happens.
    pub fn apply_answer(
        &mut self,
        tholds: &Thresholds,
        body_kludge: bool,
        client: &ClientInfo,
        cks: &mut MsgCks,
        answer: Result<Answer, AskError>,
    ) {
        let Some(Pending {
            gross,
            local_tgts,
            sent,
        }) = self.pending.take()
        else {
            return;
        };
        let body_i = usize::from(CkType::Body.number());
        let (answer, srvr_id) = match answer {
            Ok(a) if a.counts.len() == sent.len() => {
                let id = a.srvr_id;
                (Some(a.counts), id)
            }
            Ok(a) => {
                self.errors.push(format!(
                    "DCC server: answered with {} instead of {} counts",
                    a.counts.len(),
                    sent.len()
                ));
                self.st |= ST_LOGIT;
                (None, a.srvr_id)
            }
            Err(e) => {
                self.errors.push(e.msg);
                self.st |= ST_LOGIT;
                (None, e.srvr_id)
            }
        };

        let mut hdr_tgts = [0 as Tgts; NUM_TYPES];
        let mut rep_total: Tgts = 0;
        if !cks.of_type(CkType::Body).is_some_and(|s| s.rpt2srvr) {
            self.honor_cnt(tholds, CkType::Body, local_tgts);
        }
        for (n, &i) in sent.iter().enumerate() {
            let Some(s) = cks.get_mut(i) else { continue };
            let ty = s.ty;
            let c = match &answer {
                None => {
                    if ty.is_body() {
                        gross
                    } else {
                        0
                    }
                }
                Some(counts) => {
                    let cnt = counts
                        .get(n)
                        .copied()
                        .unwrap_or(crate::server::Count { prev: 0, cur: 0 });
                    s.srvr_prev = cnt.prev;
                    cnt.cur
                }
            };
            let ti = usize::from(ty.number());
            if ty == CkType::GreyMsg {
                let log = tholds.log(ty);
                if c >= log {
                    self.st |= ST_LOGIT;
                }
                if c >= self.tholds_rej[ti] {
                    rep_total = c;
                }
                continue;
            }
            if ty == CkType::GreyTriple {
                if rep_total != 0 {
                    let rep = tgts::reputation(c, rep_total);
                    hdr_tgts[ti] = rep + 1;
                    if self.tholds_rej[ti] <= rep && self.st & ST_SRVR_NOTSPAM == 0 {
                        self.st |= ST_REP_ISSPAM | ST_LOGIT;
                    }
                    if tholds.log(ty) <= rep {
                        self.st |= ST_LOGIT;
                    }
                }
                continue;
            }
            hdr_tgts[ti] = c;
            if tholds.honor.get(ti).copied().unwrap_or(false) {
                if c == tgts::OK {
                    self.st |= ST_SRVR_NOTSPAM;
                } else if c == tgts::OK2 {
                    if self.st & ST_SRVR_OK2 != 0 {
                        self.st |= ST_SRVR_NOTSPAM;
                    } else {
                        self.st |= ST_SRVR_OK2;
                    }
                }
            }
            self.honor_cnt(tholds, ty, c);
        }
        if self.st & ST_SRVR_NOTSPAM != 0 {
            self.st &= !ST_SRVR_ISSPAM;
        }

        let mut h = XHeader::new(&client.brand, &client.hostname, srvr_id);
        if self.st & ST_SRVR_ISSPAM != 0 {
            h.add_str("bulk");
        } else if self.st & ST_CLNT_ISSPAM != 0 {
            h.add_str("bulk");
            if body_kludge {
                hdr_tgts[body_i] = TOO_MANY;
            }
        } else if self.st & ST_REP_ISSPAM != 0 {
            h.add_str("bulk rep");
            if body_kludge {
                hdr_tgts[body_i] = TOO_MANY;
            }
        }
        for ty in CkType::ALL {
            let ti = usize::from(ty.number());
            let sent_ty = cks.get(ti).is_some_and(|s| s.rpt2srvr);
            if !sent_ty {
                if ty == CkType::Body {
                    h.add_ck(CkType::Body, hdr_tgts[body_i]);
                }
                continue;
            }
            if ty.is_body() || hdr_tgts[ti] != 0 {
                h.add_ck(ty, hdr_tgts[ti]);
            }
        }
        self.header = Some(h);
    }

    /// Whether the front end should treat the message as spam (dccproc's
    /// `-x` exit code): blacklisted or `-t many`, over a threshold with DCC
    /// checks on, or a bad reputation with reputations on; never for a
    /// discarding spam trap.
    pub fn is_spam(&self) -> bool {
        (self.st & ST_CLNT_ISSPAM != 0
            || (self.st & ST_SRVR_ISSPAM != 0 && self.sws & SW_DCC_OFF == 0)
            || (self.st & ST_REP_ISSPAM != 0 && self.sws & SW_REP_ON != 0))
            && self.sws & SW_TRAP_DIS == 0
    }

    /// The log-file line that sums up the decision, e.g.
    /// `wlist-->spam  dccproc  ` followed by a blank line.
    pub fn log_st_line(&self, progname: &str) -> String {
        let st = self.st;
        let sws = self.sws;
        let mut items: Vec<String> = Vec::new();
        let mut add = |cond: bool, s: &str, off: bool| {
            if cond {
                items.push(if off {
                    format!("{s}(off)")
                } else {
                    s.to_string()
                });
            }
        };
        add(st & ST_QUERY != 0, "query", false);
        if sws & SW_MTA_FIRST != 0 {
            add(st & ST_MTA_ISSPAM != 0, "MTA-->spam", false);
            add(st & ST_MTA_NOTSPAM != 0, "MTA-->OK", false);
        }
        add(st & ST_WLIST_NOTSPAM != 0, "wlist-->OK", false);
        add(st & ST_WLIST_ISSPAM != 0, "wlist-->spam", false);
        add(
            st & ST_SRVR_ISSPAM != 0,
            "DCC-->spam",
            sws & SW_DCC_OFF != 0,
        );
        add(st & ST_SRVR_NOTSPAM != 0, "DCC-->OK", sws & SW_DCC_OFF != 0);
        add(st & ST_REP_ISSPAM != 0, "Rep-->spam", sws & SW_REP_ON == 0);
        if sws & SW_MTA_FIRST == 0 {
            add(st & ST_MTA_ISSPAM != 0, "MTA-->spam", false);
            add(st & ST_MTA_NOTSPAM != 0, "MTA-->OK", false);
        }
        items.extend(self.dnsbl.iter().cloned());
        items.push(progname.to_string());
        let mut line = String::new();
        for it in items {
            if !line.is_empty() {
                line.push_str("  ");
            }
            line.push_str(&it);
        }
        line.push_str("  \n\n");
        line
    }
}
