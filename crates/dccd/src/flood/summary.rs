//! Summaries of small reports: a report of fewer than
//! [`FLOD_THRESHOLD`] targets is not flooded
//! by itself, but once the reports of a checksum not yet flooded add up to
//! the threshold, the report that got there is flooded with their sum (as
//! the original floods three `-t 4` reports as one record of 12). Kept per
//! outgoing stream, from the records the stream has passed over.

use std::collections::HashMap;

use tally_ck::CkType;
use tally_store::{tgts, Ck, Report};

use super::proto::FLOD_THRESHOLD;

/// Most checksums waiting for their sum to reach the threshold; past it
/// the oldest sums are forgotten (those reports then stay local).
pub const MAX_PENDING: usize = 1 << 20;

/// The unflooded counts of one stream.
#[derive(Debug, Default)]
pub struct Summaries {
    pending: HashMap<Ck, u32>,
}

fn counted(t: CkType) -> bool {
    matches!(t, CkType::Body | CkType::Fuz1 | CkType::Fuz2)
}

impl Summaries {
    /// Start again (the stream was rewound or skipped).
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// A report of our own below the threshold: `Some(count)` when it is
    /// to be flooded now, with that count.
    pub fn note(&mut self, r: &Report) -> Option<u32> {
        if r.tgts >= FLOD_THRESHOLD || r.is_delete() {
            return None;
        }
        let mut best = 0;
        for c in r.cks.iter().filter(|c| counted(c.ty)) {
            let n = self.pending.entry(*c).or_insert(0);
            *n = tgts::add(*n, r.tgts);
            best = best.max(*n);
        }
        if best < FLOD_THRESHOLD {
            if self.pending.len() > MAX_PENDING {
                self.pending.clear();
            }
            return None;
        }
        for c in &r.cks {
            self.pending.remove(c);
        }
        Some(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_ck::Sum;
    use tally_store::Ts;

    fn rpt(n: u32, b: u8) -> Report {
        Report::new(
            Ts::new(1, 0),
            1100,
            n,
            vec![
                Ck::new(CkType::Body, Sum([b; 16])),
                Ck::new(CkType::Fuz1, Sum([b + 1; 16])),
            ],
        )
    }

    #[test]
    fn small_reports_add_up() {
        let mut s = Summaries::default();
        assert_eq!(s.note(&rpt(4, 1)), None);
        assert_eq!(s.note(&rpt(4, 1)), None);
        assert_eq!(s.note(&rpt(4, 1)), Some(12));
        // flooded: the sum starts again
        assert_eq!(s.note(&rpt(4, 1)), None);
        // other checksums are separate
        assert_eq!(s.note(&rpt(9, 7)), None);
        assert_eq!(s.note(&rpt(1, 7)), Some(10));
        // bulk reports are not summaries
        assert_eq!(s.note(&rpt(20, 9)), None);
    }
}
