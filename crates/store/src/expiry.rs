//! The rules `dbclean` applies when it expires old reports.
//!
//! A checksum in a report older than the short limit (`dbclean -e`, one day
//! by default) is dropped when the checksum's total is below 10 targets; it
//! is dropped whatever its total once older than the long limit (`-E`, 30
//! days by default). The types a server keeps longer (fuzzy body checksums
//! and reputations: [`CkType::is_long_term`]) have their own, longer pair of
//! limits. A report left without checksums disappears. Checksums removed by
//! a deletion (`cdcc delck`) leave every earlier report; the deletion record
//! itself stays for the short limit so it can still be flooded.

use std::collections::HashMap;

use tally_ck::CkType;

use crate::types::{tgts, Ck, LogEntry, Pos};

const HOUR: u64 = 60 * 60;
const DAY: u64 = 24 * HOUR;

/// Ages in seconds after which reports expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// Short limit for totals below 10 (`-e`).
    pub small: u64,
    /// Long limit for any total (`-E`).
    pub bulk: u64,
    /// Short limit for the long-term types.
    pub long_term_small: u64,
    /// Long limit for the long-term types.
    pub long_term_bulk: u64,
}

impl Default for Expiry {
    /// One day and 30 days as `dbclean` documents; the long-term types keep
    /// small totals for a week and bulk ones for 90 days.
    fn default() -> Self {
        Expiry {
            small: DAY,
            bulk: 30 * DAY,
            long_term_small: 7 * DAY,
            long_term_bulk: 90 * DAY,
        }
    }
}

impl Expiry {
    /// `dbclean -e SECS -E SPAMSECS`: the short limit is at least an hour
    /// and the long limit at least the short one; long-term types keep
    /// their longer limits when those are longer.
    pub fn from_args(small: u64, bulk: u64) -> Expiry {
        let small = small.max(HOUR);
        let bulk = bulk.max(small);
        let d = Expiry::default();
        Expiry {
            small,
            bulk,
            long_term_small: d.long_term_small.max(small),
            long_term_bulk: d.long_term_bulk.max(bulk),
        }
    }

    /// The ages of a greylist database (`dccd -G`): embargo records go after
    /// the `window`, the records of accepted messages after the `white`
    /// time, whatever their type.
    pub fn greylist(window: u64, white: u64) -> Expiry {
        Expiry {
            small: window,
            bulk: white,
            long_term_small: window,
            long_term_bulk: white,
        }
    }

    /// Whether a checksum of type `ty` with current total `total`, in a
    /// report `age` seconds old, is kept.
    pub fn keeps(&self, ty: CkType, total: u32, age: u64) -> bool {
        let (small, bulk) = if ty.is_long_term() {
            (self.long_term_small, self.long_term_bulk)
        } else {
            (self.small, self.bulk)
        };
        if age > bulk {
            return false;
        }
        age <= small || (total >= tgts::BULK_THRESHOLD && total != tgts::DEL)
    }
}

/// A cleaning pass over the log: first told every deletion, then given each
/// record in log order, it says what is left of it.
#[derive(Debug, Default)]
pub struct Cleaner {
    /// For each deleted checksum, the position of its last deletion.
    deleted: HashMap<Ck, Pos>,
}

impl Cleaner {
    /// A pass with no deletions known yet.
    pub fn new() -> Cleaner {
        Cleaner::default()
    }

    /// Note a record during the first pass (only deletions matter).
    pub fn note(&mut self, entry: &LogEntry) {
        if entry.report.is_delete() {
            for ck in &entry.report.cks {
                let slot = self.deleted.entry(*ck).or_insert(entry.pos);
                *slot = (*slot).max(entry.pos);
            }
        }
    }

    /// What is left of `entry` at time `now` (seconds), given the current
    /// total of each checksum; `None` when nothing is.
    pub fn filter(
        &self,
        mut entry: LogEntry,
        now: u64,
        policy: &Expiry,
        total: impl Fn(&Ck) -> u32,
    ) -> Option<LogEntry> {
        let age = now.saturating_sub(entry.report.ts.secs());
        if entry.report.is_delete() {
            return (age <= policy.small).then_some(entry);
        }
        entry.report.cks.retain(|ck| {
            let later_delete = self.deleted.get(ck).is_some_and(|&d| d > entry.pos);
            !later_delete && policy.keeps(ck.ty, total(ck), age)
        });
        (!entry.report.cks.is_empty()).then_some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_limits() {
        let e = Expiry::default();
        assert!(e.keeps(CkType::Body, 1, DAY));
        assert!(!e.keeps(CkType::Body, 9, DAY + 1));
        assert!(e.keeps(CkType::Body, 10, 30 * DAY));
        assert!(!e.keeps(CkType::Body, tgts::MANY, 30 * DAY + 1));
        assert!(e.keeps(CkType::Fuz1, 1, 7 * DAY));
        assert!(!e.keeps(CkType::Fuz1, 1, 7 * DAY + 1));
        assert!(e.keeps(CkType::GreyTriple, 10, 90 * DAY));
        assert!(!e.keeps(CkType::Ip, 3, 2 * DAY));
    }

    #[test]
    fn dbclean_arguments() {
        let e = Expiry::from_args(60, 0);
        assert_eq!((e.small, e.bulk), (HOUR, HOUR));
        let e = Expiry::from_args(2 * DAY, 60 * DAY);
        assert_eq!((e.small, e.bulk), (2 * DAY, 60 * DAY));
        assert_eq!((e.long_term_small, e.long_term_bulk), (7 * DAY, 90 * DAY));
        let e = Expiry::from_args(10 * DAY, 100 * DAY);
        assert_eq!((e.long_term_small, e.long_term_bulk), (10 * DAY, 100 * DAY));
    }
}
