//! An SMTP transaction that ends without its message: the MTA aborts it
//! (RSET, a refused DATA) or the connection closes after MAIL.
//!
//! As the original dccm: a transaction that never got as far as the
//! message's header is taken for a likely dictionary attack or address
//! probe. When it had recipients (including ones the MTA refused
//! permanently, which count as targets) and nothing whitelists it, the
//! checksums it has (client IP, env_From, HELO and mail_host substitutes)
//! are reported to the DCC server as spam for those recipients, unless
//! dccm only queries (`-Q`, MXDCC clients). Body checksums are never
//! reported for an aborted message. The log file of an aborted
//! transaction is kept only with `-d` or `option log-all` in the main
//! whiteclnt file, and ends with the original's `result: STMP message
//! aborted`.

use super::Conn;
use crate::config::Config;
use crate::msg::Msg;
use tally_ck::CkType;
use tally_engine::ask::Decision;
use tally_engine::cks::{print_cks, MsgCks};
use tally_engine::server::{ClientInfo, Request};
use tally_engine::state::{white_sw, ST_CLNT_ISSPAM, ST_QUERY, ST_RPT_SPAM, ST_WLIST_NOTSPAM};
use tally_engine::tgts::Tgts;

impl Conn {
    /// The transaction in progress, if any, was aborted: close its log
    /// file and give the report of a likely probe for the DCC server, if
    /// one is due (its answer changes nothing).
    pub fn abort_report(&mut self, client: &ClientInfo) -> Option<Request> {
        self.pending = None;
        let mut msg = self.msg.take()?;
        let cfg = self.cfg.clone();
        let probe = !msg.data_started && (!msg.rcpts.is_empty() || msg.mta_rej_tgts > 0);
        let tgts = msg.tgts();
        let (mut cks, query) = msg.finish_cks();
        for ty in [CkType::Body, CkType::Fuz1, CkType::Fuz2] {
            cks.remove(ty);
        }
        if !msg.data_started {
            // the empty Message-ID is made at the end of the header
            cks.remove(CkType::MessageId);
        }
        let global = msg.global_verdict(&cks);
        let user = msg.user_verdict(&cks);
        let white = tgts <= msg.white_tgts(global.as_ref());
        let mut d = Decision::new(query || cfg.query);
        d.ask_white(&cfg.tholds, user.or(global).as_ref().map(Ok));
        if probe {
            d.st |= ST_CLNT_ISSPAM;
        }
        let report = probe && !white && d.st & (ST_QUERY | ST_WLIST_NOTSPAM) == 0;
        let req = if report {
            d.dcc_request(&cfg.tholds, client, &cks, true, tgts)
        } else {
            None
        };
        let errs = close_log(&cfg, &mut msg, &d, &cks, tgts);
        self.aborted_complaints.extend(errs);
        req
    }

    /// What went wrong while closing aborted transactions (such as a log
    /// directory starting to fail), for the system log.
    pub fn take_aborted_complaints(&mut self) -> Vec<String> {
        std::mem::take(&mut self.aborted_complaints)
    }
}

/// Finish the log file of an aborted transaction: kept with `-d` or
/// `option log-all` in the main whiteclnt file, removed otherwise.
fn close_log(cfg: &Config, msg: &mut Msg, d: &Decision, cks: &MsgCks, tgts: Tgts) -> Vec<String> {
    let Some(l) = msg.log.take() else {
        return Vec::new();
    };
    let log_all = msg
        .global_switches()
        .is_some_and(|s| s & white_sw::LOG_ALL != 0);
    let keep = cfg.debug > 0 || log_all;
    let table = print_cks(
        d.st & ST_RPT_SPAM != 0,
        tgts,
        cks,
        Some(&d.tholds_rej),
        Some(&d.wtgts),
    );
    // a log file that cannot be finished is only lost (the MTA has
    // already ended the transaction), but a failing directory is said
    let (_, errs) = l.finish(
        &d.log_st_line("dccm  global-log"),
        None,
        &table,
        None,
        "STMP message aborted",
        keep,
    );
    errs
}
