//! Whether a new recipient's whitelist setup is compatible with the
//! recipients already accepted for the message (`cmn_compat_whitelist`).
//! dccm and dccifd as an SMTP proxy answer an incompatible one with a
//! temporary failure (`452 4.5.3 reject temporarily for incompatible
//! whitelists`, or `... for DCC threshold conflict` from dccm when only
//! the thresholds are at odds); dccifd's ASCII protocol cannot refuse a
//! recipient and takes it anyway.
//!
//! At the end of DATA a message can only be accepted or rejected for all
//! recipients (or, when discarding is allowed, delivered to some and
//! discarded for the others). So recipients whose files could give
//! different answers cannot share one transaction:
//! - differing thresholds conflict unless the new recipient's own env_To
//!   white- or blacklisting (or being a spam trap) already decides the
//!   message for it; only a threshold lower than the transaction's counts,
//!   since the transaction uses the lowest of its recipients' thresholds;
//! - when some recipient refuses forced discarding, recipients conflict if
//!   their filter switches differ in a way that matters
//!   ([`Filters::conflicts_with`]), if one has a per-user file and the
//!   other not, or if their files differ;
//! - recipients after discarding spam traps only are always welcome.

use crate::filters::Filters;
use crate::list::WhiteList;
use crate::options::Thresholds;
use crate::verdict::{Layered, Listing};
use tally_ck::simple::str_sum;
use tally_ck::{CkType, Sum};

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

/// Whether the recipient's own answers already decide the message for it,
/// which makes differing thresholds harmless: its env_To address or its
/// mailbox name (after aliases, when it differs) is white- or blacklisted
/// in the global file or in its per-user file, or it is a spam trap.
/// (`ok2` for env_To only turns DCC filtering on and decides nothing.)
pub fn env_to_decides(
    lay: &Layered<'_>,
    env_to: &[u8],
    mailbox: Option<&[u8]>,
    filters: &Filters,
) -> bool {
    if filters.trap {
        return true;
    }
    let mut keys = vec![str_sum(None, env_to)];
    if let Some(m) = mailbox.filter(|m| !m.is_empty() && *m != env_to) {
        keys.push(str_sum(None, m));
    }
    let lists = std::iter::once(lay.global).chain(lay.user);
    lists
        .flat_map(|l| keys.iter().map(move |k| l.check_sum(CkType::EnvTo, k).0))
        .any(|l| matches!(l, Listing::Listed | Listing::Black))
}

/// One recipient that joined the transaction.
#[derive(Clone, Copy, Debug)]
struct Member {
    profile: RcptProfile,
    /// Still compared with newcomers: false once the MTA downstream
    /// refused it (its switches and thresholds stay merged).
    compared: bool,
}

/// `cmn_compat_whitelist`: `earlier` are the recipients accepted so far
/// (not rejected ones; discarding spam traps may be included), `merged`
/// the transaction's thresholds so far ([`merge_min`]), `decided`
/// whether the new recipient's own env_To listing decides the message
/// for it ([`env_to_decides`]).
pub fn compat(
    earlier: &[RcptProfile],
    merged: &Thresholds,
    new: &RcptProfile,
    decided: bool,
) -> Compat {
    let members: Vec<Member> = earlier
        .iter()
        .map(|&profile| Member {
            profile,
            compared: true,
        })
        .collect();
    let any_discard_no = earlier.iter().any(|p| p.filters.discard_no);
    rule(&members, merged, any_discard_no, new, decided)
}

fn rule(
    members: &[Member],
    merged: &Thresholds,
    any_discard_no: bool,
    new: &RcptProfile,
    decided: bool,
) -> Compat {
    let mut compared = members.iter().filter(|m| m.compared).map(|m| &m.profile);
    // all earlier recipients are discarding spam traps: nothing to fear
    if !compared.any(|p| !p.filters.trap_discard) {
        return Compat::Ok;
    }
    if !decided && merge_min(merged, &new.thresholds) != *merged {
        return Compat::ThresholdConflict;
    }
    if !(any_discard_no || new.filters.discard_no) {
        return Compat::Ok;
    }
    let first = members
        .iter()
        .position(|m| m.compared && !m.profile.filters.trap_discard)
        .unwrap_or(members.len());
    for old in members.iter().skip(first).filter(|m| m.compared) {
        let old = &old.profile;
        if old.filters.conflicts_with(&new.filters)
            || old.null != new.null
            || (!old.null && old.fingerprint != new.fingerprint)
        {
            return Compat::IncompatibleWhitelists;
        }
    }
    Compat::Ok
}

/// The recipients of one SMTP transaction as the rule sees them, with the
/// transaction's merged thresholds (the ones the decision at the end of
/// the message uses) and switches. Callers bound the number of
/// recipients (`MAX_RCPTS`).
#[derive(Clone, Debug, Default)]
pub struct Transaction {
    members: Vec<Member>,
    merged: Option<Thresholds>,
    any_discard_no: bool,
    /// Some recipient joined although the rule refused it (a program or
    /// an SMTP client that cannot be told to come back later); the
    /// original logs "incompatible whitelists" once.
    pub forced: bool,
}

impl Transaction {
    /// A transaction without recipients.
    pub fn new() -> Transaction {
        Transaction::default()
    }

    /// Ask the rule about a new recipient and let it join when the answer
    /// is [`Compat::Ok`], or whatever the answer when `can_refuse` is
    /// false (dccifd's ASCII protocol, SMTP submission clients). The
    /// first recipient always joins and sets the transaction's defaults.
    pub fn admit(&mut self, new: RcptProfile, decided: bool, can_refuse: bool) -> Compat {
        let answer = match &self.merged {
            None => Compat::Ok,
            Some(m) => rule(&self.members, m, self.any_discard_no, &new, decided),
        };
        if answer != Compat::Ok {
            if can_refuse {
                return answer;
            }
            self.forced = true;
        }
        self.merged = Some(match &self.merged {
            None => new.thresholds,
            Some(m) => merge_min(m, &new.thresholds),
        });
        self.any_discard_no |= new.filters.discard_no;
        self.members.push(Member {
            profile: new,
            compared: true,
        });
        answer
    }

    /// The recipient admitted last was then refused by the MTA
    /// downstream: it is no longer compared with newcomers, but its
    /// thresholds and switches stay merged, as in the original.
    pub fn refused_downstream(&mut self) {
        if let Some(m) = self.members.last_mut() {
            m.compared = false;
        }
    }

    /// The transaction's thresholds: for each type the lowest of its
    /// recipients'; `None` before the first recipient.
    pub fn thresholds(&self) -> Option<&Thresholds> {
        self.merged.as_ref()
    }

    /// Recipients that joined.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// No recipient joined yet.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tgts::Tgts;

    fn prof(thold: Option<u32>, fp: Option<u8>, discard_no: bool) -> RcptProfile {
        let mut t = Thresholds::default();
        if let Some(v) = thold {
            t.set(CkType::Body, Tgts(v));
        }
        RcptProfile {
            filters: Filters {
                discard_no,
                ..Filters::default()
            },
            thresholds: t,
            null: fp.is_none(),
            fingerprint: fp.map(|b| Sum([b; 16])),
        }
    }

    #[test]
    fn thresholds_only_lower_conflict() {
        let mut tx = Transaction::new();
        assert_eq!(
            tx.admit(prof(Some(10), None, true), false, true),
            Compat::Ok
        );
        // a higher threshold does not change the transaction's
        assert_eq!(
            tx.admit(prof(Some(20), None, true), false, true),
            Compat::Ok
        );
        assert_eq!(
            tx.admit(prof(Some(5), None, true), false, true),
            Compat::ThresholdConflict
        );
        // decided by its own env_To listing
        assert_eq!(tx.admit(prof(Some(5), None, true), true, true), Compat::Ok);
        assert_eq!(
            tx.thresholds().and_then(|t| t.get(CkType::Body)),
            Some(Tgts(5))
        );
        assert_eq!(tx.len(), 3);
    }

    #[test]
    fn files_matter_only_without_discarding() {
        let mut tx = Transaction::new();
        tx.admit(prof(None, Some(1), false), false, true);
        assert_eq!(
            tx.admit(prof(None, Some(2), false), false, true),
            Compat::Ok
        );
        let mut tx = Transaction::new();
        tx.admit(prof(None, Some(1), true), false, true);
        assert_eq!(
            tx.admit(prof(None, Some(2), true), false, true),
            Compat::IncompatibleWhitelists
        );
        assert_eq!(
            tx.admit(prof(None, None, true), false, true),
            Compat::IncompatibleWhitelists
        );
        assert_eq!(tx.admit(prof(None, Some(1), true), false, true), Compat::Ok);
        assert!(!tx.forced);
        // cannot refuse: joins anyway, thresholds merged
        assert_eq!(
            tx.admit(prof(Some(3), Some(2), true), false, false),
            Compat::ThresholdConflict
        );
        assert!(tx.forced);
        assert_eq!(
            tx.thresholds().and_then(|t| t.get(CkType::Body)),
            Some(Tgts(3))
        );
    }

    #[test]
    fn refused_downstream_is_not_compared() {
        let mut tx = Transaction::new();
        tx.admit(prof(None, Some(1), true), false, true);
        tx.admit(prof(None, Some(1), true), false, true);
        tx.refused_downstream();
        assert_eq!(tx.admit(prof(None, Some(1), true), false, true), Compat::Ok);
        let mut tx = Transaction::new();
        tx.admit(prof(None, Some(1), true), false, true);
        tx.refused_downstream();
        // only refused recipients before: the newcomer is compared with nobody
        assert_eq!(tx.admit(prof(None, Some(2), true), false, true), Compat::Ok);
    }
}
