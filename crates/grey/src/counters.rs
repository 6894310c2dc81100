//! Counters of greylist answers for `cdcc stats`.

use tally_ck::CkType;

use crate::{Change, Decision, Outcome};

/// Counters of greylist answers for `cdcc stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Answers with an embargo number.
    pub embargoed: u64,
    /// Answers ending an embargo.
    pub released: u64,
    /// Answers without embargo (familiar triples, whitelisted IPs).
    pub passed: u64,
    /// Whitelisted requests (GREY_WHITE or the greylist whitelist).
    pub whitelisted: u64,
    /// Triples forgotten by GREY_SPAM.
    pub forgotten: u64,
    /// Records removed by expiry.
    pub expired: u64,
}

impl Counters {
    /// Count one decision.
    pub fn note(&mut self, d: &Decision) {
        match d.outcome {
            Outcome::Embargoed => self.embargoed += 1,
            Outcome::Released => self.released += 1,
            Outcome::Passed => self.passed += 1,
            Outcome::Whitelisted => self.whitelisted += 1,
        }
    }

    /// Count the deletions of a GREY_SPAM.
    pub fn note_spam(&mut self, changes: &[Change]) {
        if changes
            .iter()
            .any(|c| matches!(c, Change::Delete { ck, .. } if ck.ty == CkType::GreyTriple))
        {
            self.forgotten += 1;
        }
    }
}
