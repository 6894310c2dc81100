//! What sendmail says about a message through `${dcc_isspam}` and
//! `${dcc_notspam}`, as the original's `ask_sm` reads it: at each
//! recipient it accepts and at the end of the message, a non-empty
//! `${dcc_isspam}` replacing the earlier one until a relay text fixes the
//! answer, `${dcc_notspam}` counting only while no `${dcc_isspam}` was
//! seen. The log file gets `sendmail.cf-->{dcc_isspam}: "text"` for the
//! first `${dcc_isspam}` text and again for a relay text, and
//! `sendmail.cf-->{dcc_notspam}: "text"` once; the text is the value
//! after its codes, without quotes ([`crate::reply::mta_log_text`]).
//! These lines are written after the body, before the DNS list lines and
//! the recipients' whitelist lines, with the other remarks about the
//! transaction, in the order they arose.
//!
//! With the whiteclnt files (dcc(8) `option MTA-first`/`MTA-last`), for
//! each recipient: by default (`MTA-last`) sendmail's opinion wins over
//! the files' answers; with `MTA-first` the files' answers (white- or
//! blacklisting by the main or the recipient's own file, a spam trap)
//! win, and sendmail decides only where they have none.

use super::Msg;
use crate::conn::{mac, Macros};
use tally_engine::ask::{Listing, WhiteVerdict};
use tally_engine::cks::MsgCks;
use tally_engine::state::white_sw;
use tally_white::verdict::MtaOpinion;

/// Sendmail's opinion after the whiteclnt files, for the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MtaEffect {
    /// Every recipient ends up whitelisted.
    pub all_white: bool,
    /// `${dcc_isspam}` makes the message spam for some recipient (it is
    /// reported to the DCC server as spam).
    pub spam: bool,
}

/// One recipient's (white, black) after sendmail's opinion `op`, from the
/// files' (white, black); `first`: `option MTA-first`.
fn combine(op: MtaOpinion, first: bool, white: bool, black: bool) -> (bool, bool) {
    let files = white || black;
    match op {
        MtaOpinion::None => (white, black),
        _ if first && files => (white, black),
        MtaOpinion::NotSpam => (true, false),
        MtaOpinion::Spam => (false, true),
    }
}

impl Msg {
    /// Read `${dcc_isspam}` and `${dcc_notspam}` (at an accepted
    /// recipient, at the end of the message).
    pub fn note_mta(&mut self, m: Macros) {
        if self.bad_relay {
            return;
        }
        if let Some(s) = mac(m, "{dcc_isspam}").filter(|s| !s.is_empty()) {
            let cip = self
                .env
                .client_ip
                .map(|i| i.to_string())
                .unwrap_or_default();
            let relay = crate::reply::relay_denied(&s, &self.id, &cip);
            if self.mta_isspam.is_none() || relay {
                self.mta_line("{dcc_isspam}", &s);
            }
            self.bad_relay = relay;
            self.mta_isspam = Some(s);
        } else if self.mta_isspam.is_none() && !self.mta_notspam {
            if let Some(s) = mac(m, "{dcc_notspam}").filter(|s| !s.is_empty()) {
                self.mta_notspam = true;
                self.mta_line("{dcc_notspam}", &s);
            }
        }
    }

    fn mta_line(&mut self, name: &str, value: &str) {
        if let Some(l) = self.log.as_mut() {
            l.sendmail_cf(&format!(
                "sendmail.cf-->{name}: \"{}\"",
                crate::reply::mta_log_text(value)
            ));
        }
    }

    /// Sendmail's opinion of the message.
    pub fn mta_opinion(&self) -> MtaOpinion {
        if self.mta_isspam.is_some() {
            MtaOpinion::Spam
        } else if self.mta_notspam {
            MtaOpinion::NotSpam
        } else {
            MtaOpinion::None
        }
    }

    /// Some recipient (or, without recipients, the main file) has
    /// `option MTA-first`.
    pub fn mta_first(&self) -> bool {
        let g = self.global.as_deref();
        if self.rcpts.is_empty() {
            return self.setup.filters(g, None).mta_first;
        }
        self.rcpts
            .iter()
            .any(|r| self.setup.filters(g, r.user.as_deref()).mta_first)
    }

    /// Sendmail's opinion combined with the whiteclnt files' answers
    /// (`global`: the main file's verdict), recipient by recipient;
    /// `None` when sendmail said nothing. Marks each recipient's
    /// [`super::Rcpt::mta_white`], and [`super::Rcpt::mta_shown`] where
    /// `option MTA-first` let sendmail decide (its log line shows that).
    /// Call after [`Msg::user_verdict`].
    pub fn mta_effect(&mut self, cks: &MsgCks, global: Option<&WhiteVerdict>) -> Option<MtaEffect> {
        let op = self.mta_opinion();
        if op == MtaOpinion::None {
            return None;
        }
        let g_listing = global.map_or(Listing::Unlisted, |g| g.listing);
        let g_white_all =
            global.is_some_and(|g| g.listing == Listing::Listed && g.sws & white_sw::DCC_OFF == 0);
        let gl = self.global.clone();
        if self.rcpts.is_empty() {
            let f = self.setup.filters(gl.as_deref(), None);
            let white = g_listing == Listing::Listed;
            let black = !white && (g_listing == Listing::Black || f.trap);
            let (w, b) = combine(op, f.mta_first, white, black);
            return Some(MtaEffect {
                all_white: w,
                spam: b && op == MtaOpinion::Spam,
            });
        }
        let mut e = MtaEffect {
            all_white: true,
            spam: false,
        };
        for i in 0..self.rcpts.len() {
            let r = &self.rcpts[i];
            let f = self.setup.filters(gl.as_deref(), r.user.as_deref());
            let listing = self.files_listing(r, cks, g_listing);
            let white = g_white_all || listing == Listing::Listed;
            let black = !white && (listing == Listing::Black || f.trap);
            let (w, b) = combine(op, f.mta_first, white, black);
            e.all_white &= w;
            e.spam |= b && op == MtaOpinion::Spam;
            let r = &mut self.rcpts[i];
            r.mta_white = w;
            if f.mta_first && !white && !black {
                r.mta_shown = Some(if w { Listing::Listed } else { Listing::Black });
            }
        }
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order() {
        use MtaOpinion::*;
        // MTA-last: sendmail wins
        assert_eq!(combine(Spam, false, true, false), (false, true));
        assert_eq!(combine(NotSpam, false, false, true), (true, false));
        // MTA-first: the files win where they answer
        assert_eq!(combine(Spam, true, true, false), (true, false));
        assert_eq!(combine(NotSpam, true, false, true), (false, true));
        assert_eq!(combine(Spam, true, false, false), (false, true));
        assert_eq!(combine(NotSpam, true, false, false), (true, false));
        assert_eq!(combine(None, true, false, false), (false, false));
    }
}
