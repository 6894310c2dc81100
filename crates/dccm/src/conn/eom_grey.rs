//! The end of a message between greylisting (`-G`) and the DCC server:
//! the greylist server's answers, then the DCC server's request with the
//! targets greylisting leaves to report.

use super::{Conn, EomStep};
use tally_engine::grey::GreyAnswer;
use tally_engine::server::ClientInfo;
use tally_engine::state::ST_QUERY;

impl Conn {
    /// The outcomes of the requests of [`EomStep::Grey`], in their order
    /// (a complaint for a request that failed); then the DCC server's
    /// request or the verdict, as from [`Conn::eom_prepare`].
    pub fn eom_grey(
        &mut self,
        answers: Vec<Result<GreyAnswer, String>>,
        client: &ClientInfo,
    ) -> EomStep {
        let hard = self.cfg.try_extra_hard;
        if let Some(p) = self.pending.as_mut() {
            if let Some(g) = p.grey.as_mut() {
                let mut answers = answers.into_iter();
                for &i in &p.grey_asked {
                    let a = answers
                        .next()
                        .unwrap_or_else(|| Err("no greylist answer".to_string()));
                    g.apply(i, a, hard);
                }
            }
        }
        self.eom_ask(client)
    }

    /// After greylisting: the DCC server's request, or the verdict.
    pub(super) fn eom_ask(&mut self, client: &ClientInfo) -> EomStep {
        let Some(mut p) = self.pending.take() else {
            return EomStep::Done(crate::eom::no_message());
        };
        if p.all_white {
            return EomStep::Done(self.end(None, p.cks, 0, false, client, p.grey));
        }
        let cfg = self.cfg.clone();
        let (tgts, mta_rej) = match self.msg.as_ref() {
            Some(m) => (m.tgts(), m.mta_rej_tgts),
            None => (1, 0),
        };
        p.local_tgts = match &p.grey {
            Some(g) => g.dcc_tgts(p.d.st, tgts.saturating_sub(mta_rej), mta_rej),
            None if p.d.st & ST_QUERY != 0 => 0,
            None => tgts,
        };
        match p
            .d
            .dcc_request(&cfg.tholds, client, &p.cks, false, p.local_tgts)
        {
            Some(req) => {
                self.pending = Some(p);
                EomStep::Ask(req)
            }
            None => EomStep::Done(self.end(Some(p.d), p.cks, p.local_tgts, false, client, p.grey)),
        }
    }
}
