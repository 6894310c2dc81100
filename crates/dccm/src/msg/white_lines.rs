//! The whitelist lines of dccm's log files: after the body, one line for
//! each recipient that a whiteclnt file lists the message for, as the
//! original announces them: the mailbox (`{rcpt_addr}`, else the envelope
//! address), then `-->OK`, `-->spam`, `-->spam-trap-discard` or
//! `-->spam-trap-reject` (recorded in scenarios g and g2: `bob-->OK`,
//! `trap-->spam-trap-discard`).

use super::Msg;
use crate::white;
use tally_engine::ask::Listing;
use tally_engine::cks::MsgCks;
use tally_engine::state::white_sw;

impl Msg {
    /// The lines for the accepted recipients, each ending in a newline.
    pub fn rcpt_white_lines(&self, cks: &MsgCks) -> String {
        let ip = self.env.client_ip;
        let global = self
            .global
            .as_deref()
            .map_or(Listing::Unlisted, |g| white::verdict(g, cks, ip).listing);
        let mut out = String::new();
        for r in &self.rcpts {
            let sws = r.user.as_ref().map_or(0, |u| u.switches().0);
            let listing = match r.mta_shown {
                Some(l) => l,
                None => self.files_listing(r, cks, global),
            };
            let tag = match listing {
                Listing::Listed => "-->OK",
                _ if sws & white_sw::TRAP_DIS != 0 => "-->spam-trap-discard",
                _ if sws & white_sw::TRAP_REJ != 0 => "-->spam-trap-reject",
                Listing::Black => "-->spam",
                Listing::Unlisted => continue,
            };
            out.push_str(r.mailbox.as_deref().unwrap_or(&r.env_to));
            out.push_str(tag);
            out.push('\n');
        }
        out
    }

    /// What the whiteclnt files say for recipient `r`: its env_To
    /// listings first, then its own file, then the main file (`global`).
    pub(super) fn files_listing(&self, r: &super::Rcpt, cks: &MsgCks, global: Listing) -> Listing {
        if r.white {
            return Listing::Listed;
        }
        let own = r.user.as_ref().map_or(Listing::Unlisted, |u| {
            white::verdict(u, cks, self.env.client_ip).listing
        });
        if own != Listing::Unlisted {
            own
        } else {
            global
        }
    }

    /// Some accepted recipient's own whiteclnt file whitelists the
    /// message (its checksums or the recipient's env_To): the decision
    /// line then says `wlist-->OK`; a listing by the main file alone
    /// shows only in the recipients' lines (recorded in g and h2).
    pub fn own_file_whitelists(&self, cks: &MsgCks) -> bool {
        let ip = self.env.client_ip;
        self.rcpts.iter().any(|r| {
            r.user.as_ref().is_some_and(|u| {
                white::verdict(u, cks, ip).listing == Listing::Listed
                    || white::env_to(u, &r.env_to).is_some_and(crate::conn::white_value)
            })
        })
    }

    /// What the main whiteclnt file says about the message's checksums,
    /// for the `wlist` column of the main log's table.
    pub fn global_wtgts(&self, cks: &MsgCks) -> Option<tally_engine::cks::WhiteTgts> {
        let g = self.global.as_deref()?;
        Some(white::verdict(g, cks, self.env.client_ip).wtgts)
    }
}
