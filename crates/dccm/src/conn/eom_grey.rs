//! The greylist server's answers at the end of a message (`-G`).

use super::{Conn, EomStep};
use tally_engine::grey::GreyAnswer;
use tally_engine::server::ClientInfo;

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
}
