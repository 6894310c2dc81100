//! Whether a new recipient's whitelist setup is compatible with the
//! recipients already accepted for the message (dccm and dccifd as SMTP
//! proxies answer an incompatible one with
//! `452 4.5.3 reject temporarily for incompatible whitelists`).
//!
//! At the end of DATA a message can only be accepted or rejected for all
//! recipients (or, when discarding is allowed, delivered to some and
//! discarded for the others). So recipients whose files could give
//! different answers cannot share one transaction:
//! - differing thresholds conflict unless env_To whitelisting or
//!   blacklisting already decided the matter;
//! - when some recipient refuses forced discarding, recipients conflict if
//!   their filter switches differ in a way that matters
//!   ([`Filters::conflicts_with`]), if one has a per-user file and the
//!   other not, or if their files differ.

use crate::filters::Filters;
use crate::list::WhiteList;
use crate::options::Thresholds;
use tally_ck::Sum;

/// What matters about one recipient's whitelist setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RcptProfile {
    /// The recipient's filter switches ([`crate::Layered::filters`]).
    pub filters: Filters,
    /// The recipient's thresholds ([`crate::Layered::thresholds`]).
    pub thresholds: Thresholds,
    /// No per-user file, or one that counts as empty
    /// ([`WhiteList::is_null_for_compat`]).
    pub null: bool,
    /// [`WhiteList::fingerprint`] of the per-user file when not null.
    pub fingerprint: Option<Sum>,
}

impl RcptProfile {
    /// The profile of a recipient with per-user file `user`.
    pub fn new(user: Option<&WhiteList>, filters: Filters, thresholds: Thresholds) -> RcptProfile {
        let real = user.filter(|u| !u.is_null_for_compat());
        RcptProfile {
            filters,
            thresholds,
            null: real.is_none(),
            fingerprint: real.map(WhiteList::fingerprint),
        }
    }
}

/// The answer for a new recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compat {
    /// It can join the transaction.
    Ok,
    /// Its whitelist files or switches differ from an earlier recipient's.
    IncompatibleWhitelists,
    /// Its thresholds differ from the earlier recipients'.
    ThresholdConflict,
}

/// The thresholds of a transaction: for each type the lowest threshold
/// of its recipients.
pub fn merge_min(a: &Thresholds, b: &Thresholds) -> Thresholds {
    let mut out = *a;
    for (o, x) in out.0.iter_mut().zip(b.0.iter()) {
        *o = match (*o, *x) {
            (Some(p), Some(q)) => Some(p.min(q)),
            (p, q) => p.or(q),
        };
    }
    out
}

/// `cmn_compat_whitelist`: `earlier` are the recipients accepted so far
/// (not rejected ones; discarding spam traps may be included), `merged`
/// the transaction's thresholds so far ([`merge_min`]), `decided`
/// whether env_To white- or blacklisting has already decided the message
/// for some recipient.
pub fn compat(
    earlier: &[RcptProfile],
    merged: &Thresholds,
    new: &RcptProfile,
    decided: bool,
) -> Compat {
    // all earlier recipients are discarding spam traps: nothing to fear
    let Some(first) = earlier.iter().position(|p| !p.filters.trap_discard) else {
        return Compat::Ok;
    };
    if !decided && merge_min(merged, &new.thresholds) != *merged {
        return Compat::ThresholdConflict;
    }
    let any_discard_no = new.filters.discard_no || earlier.iter().any(|p| p.filters.discard_no);
    if !any_discard_no {
        return Compat::Ok;
    }
    for old in &earlier[first..] {
        if old.filters.conflicts_with(&new.filters)
            || old.null != new.null
            || (!old.null && old.fingerprint != new.fingerprint)
        {
            return Compat::IncompatibleWhitelists;
        }
    }
    Compat::Ok
}
