//! The greylist database in memory: records in arrival order and, for
//! every checksum, its total and the chain of records that carry it since
//! it was last deleted, as the original's database keeps them.
//!
//! The numbers of checksums, embargoed and familiar triples ([`Counts`])
//! are kept as the totals change, so that reading them costs nothing: every
//! change of a total goes through [`Db::retotal`]. They are counts of what
//! is stored, independent of the clock: a triple is embargoed while its
//! total is below `many` (even once its embargo has run out, until its
//! next delivery makes it familiar or its records expire) and familiar
//! when its total is `many`.

use std::collections::HashMap;

use tally_ck::CkType;

use crate::{Change, Ck, Record, MANY};

/// A stored record.
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub ts: u64,
    pub tgts: u32,
    pub cks: Vec<Ck>,
}

/// A checksum's state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry {
    /// The total of its records (saturating at `many`); 0 once deleted.
    pub total: u32,
    /// The records carrying it since its last deletion, oldest first.
    pub chain: Vec<u64>,
}

/// The numbers of checksums with a non-zero total, and of triples by
/// state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Checksums with a non-zero total.
    pub checksums: u64,
    /// Triples with a total from 1 to below `many`.
    pub embargoed: u64,
    /// Triples with the total `many`.
    pub familiar: u64,
}

impl Counts {
    /// Count (`up`) or uncount a checksum with this total.
    fn note(&mut self, ck: &Ck, total: u32, up: bool) {
        if total == 0 {
            return;
        }
        let bump = |n: &mut u64| {
            *n = if up {
                n.saturating_add(1)
            } else {
                n.saturating_sub(1)
            }
        };
        bump(&mut self.checksums);
        if ck.ty == CkType::GreyTriple {
            if total >= MANY {
                bump(&mut self.familiar);
            } else {
                bump(&mut self.embargoed);
            }
        }
    }
}

/// The records and totals.
#[derive(Debug, Clone, Default)]
pub(crate) struct Db {
    pub recs: HashMap<u64, Rec>,
    /// Private: changed only by the methods here, each of which passes a
    /// change of a total through [`Db::retotal`] to keep `counts` in step.
    cks: HashMap<Ck, Entry>,
    pub white: HashMap<Ck, u32>,
    counts: Counts,
    next_id: u64,
}

/// Add a record's count to a total: `many` is sticky.
pub(crate) fn add_tgts(total: u32, n: u32) -> u32 {
    if total >= MANY || n >= MANY {
        MANY
    } else {
        total.saturating_add(n).min(MANY)
    }
}

impl Db {
    /// A checksum's state, if it has one.
    pub fn entry(&self, ck: &Ck) -> Option<&Entry> {
        self.cks.get(ck)
    }

    /// Every checksum and its state (in no order).
    #[cfg(test)]
    pub fn entries(&self) -> impl Iterator<Item = (&Ck, &Entry)> {
        self.cks.iter()
    }

    /// The numbers kept as the totals change.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Account for a checksum's total going from `old` to `new`.
    fn retotal(counts: &mut Counts, ck: &Ck, old: u32, new: u32) {
        if old != new {
            counts.note(ck, old, false);
            counts.note(ck, new, true);
        }
    }

    /// The total of a checksum as a lookup sees it: its whitelist value,
    /// else its total (0: unknown or deleted).
    pub fn total(&self, ck: &Ck) -> u32 {
        if let Some(&v) = self.white.get(ck) {
            return v;
        }
        self.cks.get(ck).map_or(0, |e| e.total)
    }

    /// The total from the records alone.
    pub fn rcd_total(&self, ck: &Ck) -> u32 {
        self.cks.get(ck).map_or(0, |e| e.total)
    }

    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::Add(r) => self.add(r),
            Change::Delete { ck, .. } => {
                if let Some(e) = self.cks.get_mut(ck) {
                    let chain = std::mem::take(&mut e.chain);
                    Self::retotal(&mut self.counts, ck, e.total, 0);
                    e.total = 0;
                    for id in chain {
                        self.unlink(id, ck);
                    }
                    self.cks.remove(ck);
                }
            }
        }
    }

    fn add(&mut self, r: &Record) {
        let id = self.next_id;
        self.next_id += 1;
        let mut cks = Vec::with_capacity(r.cks.len());
        for ck in &r.cks {
            if cks.contains(ck) {
                continue;
            }
            cks.push(*ck);
            let e = self.cks.entry(*ck).or_default();
            let total = add_tgts(e.total, r.tgts);
            Self::retotal(&mut self.counts, ck, e.total, total);
            e.total = total;
            e.chain.push(id);
        }
        self.recs.insert(
            id,
            Rec {
                ts: r.ts,
                tgts: r.tgts,
                cks,
            },
        );
    }

    /// Forget that record `id` carries `ck`; drop the record once it
    /// carries nothing.
    fn unlink(&mut self, id: u64, ck: &Ck) {
        if let Some(rec) = self.recs.get_mut(&id) {
            rec.cks.retain(|c| c != ck);
            if rec.cks.is_empty() {
                self.recs.remove(&id);
            }
        }
    }

    /// Drop the records `gone` says to, then recompute the totals of the
    /// checksums they carried. Returns how many records went.
    pub fn remove_where(&mut self, mut gone: impl FnMut(&Rec) -> bool) -> u64 {
        let ids: Vec<u64> = self
            .recs
            .iter()
            .filter(|(_, r)| gone(r))
            .map(|(&id, _)| id)
            .collect();
        let mut touched = Vec::new();
        for id in &ids {
            if let Some(r) = self.recs.remove(id) {
                touched.extend(r.cks);
            }
        }
        touched.sort();
        touched.dedup();
        for ck in touched {
            let Some(e) = self.cks.get_mut(&ck) else {
                continue;
            };
            e.chain.retain(|id| self.recs.contains_key(id));
            let mut total = 0;
            for id in &e.chain {
                if let Some(r) = self.recs.get(id) {
                    total = add_tgts(total, r.tgts);
                }
            }
            Self::retotal(&mut self.counts, &ck, e.total, total);
            e.total = total;
            if e.chain.is_empty() {
                self.cks.remove(&ck);
            }
        }
        ids.len() as u64
    }
}
