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
//!   threshold` cannot raise the global one for a mixed message).

use crate::ask::{Listing, WhiteVerdict};
use crate::tgts::{Tgts, THOLD_UNSET};
use crate::tholds::NUM_TYPES;

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
