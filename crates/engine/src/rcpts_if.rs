//! Several recipients sharing one decision, as dccifd's ASCII protocol
//! has them: each recipient may have its own whiteclnt file, and the
//! global file may list a recipient's `env_To`; one report covers all
//! recipients, and each recipient then gets its own disposition.
//!
//! The recorded behaviour of the original this follows:
//! - a recipient listed (`ok`) by env_To in the global file, or whose own
//!   file lists the message, is delivered whatever the counts say;
//! - a recipient blacklisted that way is refused;
//! - the others follow the decision for the message;
//! - the message is reported with the count of all recipients unless
//!   every one of them whitelists it;
//! - thresholds are merged, the lowest wins (a per-user `option
//!   threshold` cannot raise the global one for a mixed message);
//! - a request without recipients is a query at most, unless the message
//!   is known to be spam anyway: then it is reported for one recipient
//!   ([`request_tgts`]).

use crate::ask::{Decision, Listing, WhiteVerdict};
use crate::state::{ST_QUERY, ST_WLIST_ISSPAM, SW_TRAP};
use crate::tgts::{Tgts, THOLD_UNSET, TOO_MANY};
use crate::tholds::NUM_TYPES;

/// The target count of a request (`tgts` of the original): the number of
/// its recipients. Without recipients, one when the message is spam
/// anyway: the MTA said so with the `spam` option (`mta_spam`; a query
/// cancels it), the main whiteclnt file blacklists it, or the main file
/// makes a spam trap of the mailbox. The spam is then reported to the DCC
/// server as for one recipient with the spam flag (which the server
/// counts as many), so that SpamAssassin's reports without recipients
/// reach the server. Otherwise none: the server is not asked and no
/// header is made. `d` is the decision after the whiteclnt verdict.
pub fn request_tgts(nrcpts: usize, d: &Decision, mta_spam: bool) -> Tgts {
    if nrcpts > 0 {
        return Tgts::try_from(nrcpts).unwrap_or(TOO_MANY);
    }
    let query = d.st & ST_QUERY != 0;
    let spam = (mta_spam && !query) || d.st & ST_WLIST_ISSPAM != 0 || d.sws & SW_TRAP != 0;
    Tgts::from(spam)
}

/// What the whiteclnt files say about one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcptWhite {
    /// The global file's answer for the recipient's env_To checksum.
    pub env_to: Listing,
    /// The verdict of the recipient's own file about the message
    /// (its checksums and env_To), if it has one.
    pub user: Option<WhiteVerdict>,
}

/// The listing that decides for a recipient, given the global verdict
/// about the message: env_To in the global file first, then the
/// recipient's own file, then the global verdict.
pub fn rcpt_listing(global: Listing, r: &RcptWhite) -> Listing {
    if r.env_to != Listing::Unlisted {
        return r.env_to;
    }
    if let Some(u) = &r.user {
        if u.listing != Listing::Unlisted {
            return u.listing;
        }
    }
    global
}

/// The verdict for the whole message: whitelisted only when every
/// recipient is; blacklisted when some recipient is; otherwise not listed.
/// Switches are merged from the global and per-user files; each
/// recipient's effective rejection thresholds (its own file, else the
/// global file, else `cmdline`) are merged, the lowest winning.
pub fn merged_verdict(
    global: &WhiteVerdict,
    rcpts: &[RcptWhite],
    cmdline: &[Tgts; NUM_TYPES],
) -> WhiteVerdict {
    let mut v = global.clone();
    if rcpts.is_empty() {
        return v;
    }
    let listings: Vec<Listing> = rcpts
        .iter()
        .map(|r| rcpt_listing(global.listing, r))
        .collect();
    v.listing = if listings.iter().all(|&l| l == Listing::Listed) {
        Listing::Listed
    } else if listings.contains(&Listing::Black) {
        Listing::Black
    } else {
        Listing::Unlisted
    };
    let mut base = *cmdline;
    for (b, &g) in base.iter_mut().zip(global.tholds_rej.iter()) {
        if g != THOLD_UNSET {
            *b = g;
        }
    }
    let mut merged = [THOLD_UNSET; NUM_TYPES];
    for r in rcpts {
        let mut eff = base;
        if let Some(u) = &r.user {
            v.sws |= u.sws;
            for (e, &t) in eff.iter_mut().zip(u.tholds_rej.iter()) {
                if t != THOLD_UNSET {
                    *e = t;
                }
            }
            if v.complaint.is_none() {
                v.complaint = u.complaint.clone();
            }
        }
        for (m, &e) in merged.iter_mut().zip(eff.iter()) {
            if e != THOLD_UNSET && (*m == THOLD_UNSET || e < *m) {
                *m = e;
            }
        }
    }
    v.tholds_rej = merged;
    v
}

/// Disposition of one recipient: `true` to deliver. `spam` is the
/// decision for the message ([`crate::ask::Decision::is_spam`]).
pub fn rcpt_accepts(global: Listing, r: &RcptWhite, spam: bool) -> bool {
    match rcpt_listing(global, r) {
        Listing::Listed => true,
        Listing::Black => false,
        Listing::Unlisted => !spam,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(env_to: Listing, user: Option<Listing>) -> RcptWhite {
        RcptWhite {
            env_to,
            user: user.map(|l| {
                let mut v = WhiteVerdict::unlisted();
                v.listing = l;
                v
            }),
        }
    }

    #[test]
    fn mixed() {
        let g = WhiteVerdict::unlisted();
        let rs = [
            rw(Listing::Unlisted, Some(Listing::Listed)),
            rw(Listing::Unlisted, None),
        ];
        assert_eq!(
            merged_verdict(&g, &rs, &[THOLD_UNSET; NUM_TYPES]).listing,
            Listing::Unlisted
        );
        assert!(rcpt_accepts(g.listing, &rs[0], true));
        assert!(!rcpt_accepts(g.listing, &rs[1], true));
        let all = [rw(Listing::Listed, None)];
        assert_eq!(
            merged_verdict(&g, &all, &[THOLD_UNSET; NUM_TYPES]).listing,
            Listing::Listed
        );
    }

    #[test]
    fn targets_without_recipients() {
        let d = Decision::new(false);
        assert_eq!(request_tgts(3, &d, false), 3);
        assert_eq!(request_tgts(0, &d, false), 0);
        assert_eq!(request_tgts(0, &d, true), 1);
        assert_eq!(request_tgts(0, &Decision::new(true), true), 0);
        let mut black = Decision::new(true);
        black.st |= ST_WLIST_ISSPAM;
        assert_eq!(request_tgts(0, &black, false), 1);
    }

    #[test]
    fn lowest_threshold_wins() {
        let mut g = WhiteVerdict::unlisted();
        g.tholds_rej[5] = 3;
        let mut u = WhiteVerdict::unlisted();
        u.tholds_rej[5] = 100;
        let r = RcptWhite {
            env_to: Listing::Unlisted,
            user: Some(u),
        };
        assert_eq!(
            merged_verdict(
                &g,
                &[r, rw(Listing::Unlisted, None)],
                &[THOLD_UNSET; NUM_TYPES]
            )
            .tholds_rej[5],
            3
        );
    }
}
