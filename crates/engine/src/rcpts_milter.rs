//! Several recipients sharing one SMTP transaction, as a milter (dccm)
//! or dccifd as an SMTP proxy sees them: recipients arrive one by one
//! before the message, and at the end the MTA can only accept, reject or
//! discard the whole message, or (a milter) remove some recipients.
//!
//! Whether a recipient may join is the rule of
//! [`tally_white::compat`]; this module gives it what the program knows:
//! the filter switches and thresholds each recipient starts from
//! ([`RcptSetup`]), and converts thresholds between the engine's arrays
//! and the whiteclnt crate's form. The transaction's merged thresholds
//! (the lowest of its recipients') are those of the decision at the end
//! of the message.
//!
//! The recorded behaviour of the original this follows:
//! - a recipient whose per-user whiteclnt file differs from an earlier
//!   recipient's (one has a file and the other not, or their contents
//!   differ) cannot join the transaction: it gets
//!   `452 4.5.3 reject temporarily for incompatible whitelists` and the
//!   MTA tries it again later in a transaction of its own;
//! - spam is delivered to recipients that whitelist it; with the
//!   rejecting action the others are removed from the message silently
//!   (recipient deletion), with the discarding action the whole message
//!   is discarded; mail relayed by MX/MXDCC clients of the main file is
//!   always discarded, never rejected (no bounces from the relay).

use crate::tgts::{Tgts, THOLD_UNSET};
use crate::tholds::NUM_TYPES;
use tally_white::compat::{env_to_decides, RcptProfile};
use tally_white::{FileKind, Filters, Layered, WhiteList};

/// What a program knows about every recipient of a transaction before
/// looking at whiteclnt files (`init_sws`, `get_sws`, `tholds_base`).
#[derive(Debug, Clone)]
pub struct RcptSetup {
    /// `-a`, already turned from reject into discard for mail through an
    /// MX or MXDCC relay of the main whiteclnt file.
    pub action: tally_white::SpamAction,
    /// `-W`: DCC filtering off unless a whiteclnt file turns it on.
    pub to_white_only: bool,
    /// The SMTP client is an MX, MXDCC or SUBMIT client of the main file.
    pub via_relay: bool,
    /// Spam can be discarded for one recipient alone (dccm: yes; dccifd
    /// as a proxy: no).
    pub can_discard_one: bool,
    /// The program's rejection thresholds (`-t`).
    pub base: tally_white::Thresholds,
    /// DNS blacklists are configured (`-B`): the files' `DNSBLx-on`
    /// options count, and recipients whose groups differ cannot share a
    /// transaction.
    pub have_dnsbls: bool,
}

impl RcptSetup {
    /// The recipient's filter switches: the program's defaults, the main
    /// file's settings and adjustments, then the per-user file's.
    pub fn filters(&self, global: Option<&WhiteList>, user: Option<&WhiteList>) -> Filters {
        self.filters_grey(global, user, false)
    }

    /// [`RcptSetup::filters`] of a program that greylists (`grey_on`:
    /// `-G` turned greylisting on): the files' `greylist-*` options count.
    pub fn filters_grey(
        &self,
        global: Option<&WhiteList>,
        user: Option<&WhiteList>,
        grey_on: bool,
    ) -> Filters {
        let reject = self.action == tally_white::SpamAction::Reject;
        let mut f = Filters::initial(reject, self.to_white_only);
        if !grey_on {
            f.grey_off = true;
        }
        for l in global.into_iter().chain(user) {
            f = f.apply(l.switches(), grey_on, self.have_dnsbls).finish(
                self.via_relay,
                self.can_discard_one,
                self.action,
            );
        }
        f.finish(self.via_relay, self.can_discard_one, self.action)
    }

    /// The recipient's profile for the joining rule, and whether its own
    /// env_To (or mailbox) listing decides the message for it.
    pub fn profile(
        &self,
        global: Option<&WhiteList>,
        user: Option<&WhiteList>,
        env_to: &[u8],
        mailbox: Option<&[u8]>,
    ) -> (RcptProfile, bool) {
        self.profile_grey(global, user, env_to, mailbox, false)
    }

    /// [`RcptSetup::profile`] of a program that greylists (`grey_on`):
    /// recipients whose greylisting differs are incompatible where
    /// differing switches matter, as in the original.
    pub fn profile_grey(
        &self,
        global: Option<&WhiteList>,
        user: Option<&WhiteList>,
        env_to: &[u8],
        mailbox: Option<&[u8]>,
        grey_on: bool,
    ) -> (RcptProfile, bool) {
        let empty;
        let global = match global {
            Some(g) => g,
            None => {
                empty = WhiteList::empty(FileKind::Global, "");
                &empty
            }
        };
        let lay = Layered { global, user };
        let filters = self.filters_grey(Some(global), user, grey_on);
        let profile = RcptProfile::new(user, filters, lay.thresholds(&self.base));
        let decided = env_to_decides(&lay, env_to, mailbox, &filters);
        (profile, decided)
    }
}

/// The engine's rejection thresholds in the whiteclnt crate's form.
pub fn white_thresholds(rej: &[Tgts; NUM_TYPES]) -> tally_white::Thresholds {
    let mut t = tally_white::Thresholds::default();
    for (o, &v) in t.0.iter_mut().zip(rej.iter()) {
        *o = (v != THOLD_UNSET).then_some(tally_white::Tgts(v));
    }
    t
}

/// Whiteclnt-crate thresholds as the engine's array (unset types
/// [`THOLD_UNSET`]).
pub fn engine_thresholds(t: &tally_white::Thresholds) -> [Tgts; NUM_TYPES] {
    let mut out = [THOLD_UNSET; NUM_TYPES];
    for (o, v) in out.iter_mut().zip(t.0.iter()) {
        if let Some(v) = v {
            *o = v.0;
        }
    }
    out
}

/// The front end's `-a` action for spam.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpamAction {
    /// Accept with the header.
    Ignore,
    /// Refuse.
    Reject,
    /// Accept and throw away.
    Discard,
}

/// What to do with a message found to be spam.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpamDisposition {
    /// Deliver it with its header.
    Accept,
    /// Throw it away.
    Discard,
    /// Refuse it with the rejection message.
    Reject,
    /// Deliver it to the whitelisting recipients only: remove the others.
    RemoveOthers,
}

/// The disposition of spam given the action, whether the client is an
/// MX/MXDCC relay of the main whiteclnt file, and whether some recipient
/// whitelists the message.
pub fn spam_disposition(action: SpamAction, via_relay: bool, some_white: bool) -> SpamDisposition {
    if via_relay {
        return SpamDisposition::Discard;
    }
    match action {
        SpamAction::Ignore => SpamDisposition::Accept,
        SpamAction::Discard => SpamDisposition::Discard,
        SpamAction::Reject if some_white => SpamDisposition::RemoveOthers,
        SpamAction::Reject => SpamDisposition::Reject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_round_trip() {
        let mut rej = [THOLD_UNSET; NUM_TYPES];
        rej[5] = 3;
        rej[13] = 20;
        assert_eq!(engine_thresholds(&white_thresholds(&rej)), rej);
    }

    #[test]
    fn setup_profiles() {
        let parse = |text: &str| {
            let p = tally_white::parse_file(
                "whiteclnt",
                text.as_bytes(),
                FileKind::PerUser,
                &mut tally_white::NoIncludes,
            );
            p.build(&tally_white::Resolutions::new()).list
        };
        let mut rej = [THOLD_UNSET; NUM_TYPES];
        rej[usize::from(tally_ck::CkType::Body.number())] = 3;
        let setup = RcptSetup {
            action: tally_white::SpamAction::Reject,
            to_white_only: false,
            via_relay: false,
            can_discard_one: true,
            base: white_thresholds(&rej),
            have_dnsbls: false,
        };
        let hi = parse("option threshold Body,many\n");
        let trap = parse("option spam-trap-discard\n");
        let (p, decided) = setup.profile(None, Some(&hi), b"<hi@example.net>", None);
        assert!(p.null && !decided && p.filters.discard_no);
        assert_eq!(
            p.thresholds.get(tally_ck::CkType::Body),
            Some(tally_white::Tgts::MANY)
        );
        let (p, decided) = setup.profile(None, Some(&trap), b"<t@example.net>", None);
        assert!(decided && !p.filters.discard_no);
        let global = {
            let p = tally_white::parse_file(
                "whiteclnt",
                b"ok env_to wl@example.net\n",
                FileKind::Global,
                &mut tally_white::NoIncludes,
            );
            p.build(&tally_white::Resolutions::new()).list
        };
        let (_, decided) = setup.profile(Some(&global), None, b"<wl@example.net>", None);
        assert!(decided);
        let (_, decided) = setup.profile(
            Some(&global),
            None,
            b"<x@example.net>",
            Some(b"wl@example.net"),
        );
        assert!(decided);
    }

    #[test]
    fn dispositions() {
        use SpamAction::*;
        use SpamDisposition as D;
        assert_eq!(spam_disposition(Reject, true, false), D::Discard);
        assert_eq!(spam_disposition(Reject, false, true), D::RemoveOthers);
        assert_eq!(spam_disposition(Reject, false, false), D::Reject);
        assert_eq!(spam_disposition(Discard, false, true), D::Discard);
        assert_eq!(spam_disposition(Ignore, false, false), D::Accept);
    }
}
