//! The end of a message after the verdict: its log file is finished once
//! the `-X` filter (if any) has had its say, so that the file shows the
//! final verdict and the filter's line.

use super::{Conn, Verdict};
use crate::msg::Msg;
use tally_engine::ask::Decision;
use tally_engine::cks::MsgCks;
use tally_engine::grey::Greylist;
use tally_engine::tgts::Tgts;
use tally_engine::whitefiles::grey_wanted::complaint_now;

/// What finishing the log file needs.
pub(crate) struct Ending {
    pub(crate) msg: Msg,
    pub(crate) d: Option<Decision>,
    pub(crate) cks: MsgCks,
    pub(crate) local_tgts: Tgts,
    pub(crate) grey: Option<Greylist>,
}

impl Conn {
    /// Finish the log file of the message whose verdict `v` is final;
    /// `xfltr_line` is the `-X` filter's line for it. Complaints about
    /// the log file are added to `v.errors`. Nothing happens when no
    /// message ended.
    pub fn eom_log(&mut self, v: &mut Verdict, xfltr_line: Option<&str>) {
        let Some(mut e) = self.ending.take() else {
            return;
        };
        if let (Some(line), Some(l)) = (xfltr_line, e.msg.log.as_mut()) {
            l.xfltr(line);
        }
        crate::eom::log(
            &self.cfg,
            &mut e.msg,
            e.d.as_ref(),
            &e.cks,
            e.local_tgts,
            e.grey.as_ref(),
            v,
        );
        // a file asking for greylisting without -G: the system log only
        let lists = e
            .msg
            .global_list()
            .map(|l| &**l)
            .into_iter()
            .chain(e.msg.rcpts.iter().filter_map(|r| r.user.as_deref()));
        v.errors
            .extend(complaint_now(lists, self.cfg.grey.on, &self.cfg.home));
    }
}
