//! The counters the mail filters (dccm, dccifd) share: what the DCC and
//! greylist servers answered, greylist embargoes, whitelisted messages,
//! DNS list hits. They are `static` atomics of each program, counted where
//! the event happens whether or not `-M` is given (one relaxed addition),
//! and registered under the program's prefix when it is.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::registry::{RegisterError, Registry};

/// The shared counts of a mail filter.
#[derive(Debug)]
pub struct FilterCounts {
    /// DCC server answers received.
    pub dcc_answered: AtomicU64,
    /// DCC server requests that failed (no server answered in time).
    pub dcc_failed: AtomicU64,
    /// Greylist server answers received.
    pub grey_answered: AtomicU64,
    /// Greylist requests that failed.
    pub grey_failed: AtomicU64,
    /// Messages kept under a greylist embargo (temporary rejection).
    pub embargoed: AtomicU64,
    /// Messages whitelisted (no DCC verdict needed).
    pub whitelisted: AtomicU64,
    /// Messages a DNS blacklist listed (in any group).
    pub dnsbl_black: AtomicU64,
    /// Messages a DNS whitelist listed.
    pub dnsbl_white: AtomicU64,
}

impl Default for FilterCounts {
    fn default() -> Self {
        Self::new()
    }
}

impl FilterCounts {
    /// All zero; usable in a `static`.
    pub const fn new() -> Self {
        FilterCounts {
            dcc_answered: AtomicU64::new(0),
            dcc_failed: AtomicU64::new(0),
            grey_answered: AtomicU64::new(0),
            grey_failed: AtomicU64::new(0),
            embargoed: AtomicU64::new(0),
            whitelisted: AtomicU64::new(0),
            dnsbl_black: AtomicU64::new(0),
            dnsbl_white: AtomicU64::new(0),
        }
    }

    /// Count a DCC server request's outcome.
    #[inline]
    pub fn dcc(&self, answered: bool) {
        let c = if answered {
            &self.dcc_answered
        } else {
            &self.dcc_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Count a greylist server request's outcome.
    #[inline]
    pub fn grey(&self, answered: bool) {
        let c = if answered {
            &self.grey_answered
        } else {
            &self.grey_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Count a message's DNS list outcome: listed by a blacklist, by a
    /// whitelist.
    #[inline]
    pub fn dnsbl(&self, black: bool, white: bool) {
        if black {
            self.dnsbl_black.fetch_add(1, Ordering::Relaxed);
        }
        if white {
            self.dnsbl_white.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Add one to `c`.
    #[inline]
    pub fn one(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Register the counts as `<prefix>_dcc_answers_total{result}`,
    /// `<prefix>_greylist_answers_total{result}`,
    /// `<prefix>_greylist_embargoed_total`, `<prefix>_whitelisted_total`
    /// and `<prefix>_dnsbl_hits_total{list}`.
    pub fn register(&'static self, r: &Registry, prefix: &str) -> Result<(), RegisterError> {
        let name = format!("{prefix}_dcc_answers_total");
        let help = "Requests to the DCC servers by result: answered, or failed \
                    (no server answered in time).";
        r.counter_static(&name, help, &["result"], &["answered"], &self.dcc_answered)?;
        r.counter_static(&name, help, &["result"], &["failed"], &self.dcc_failed)?;
        let name = format!("{prefix}_greylist_answers_total");
        let help = "Requests to the greylist servers by result: answered, or failed.";
        r.counter_static(&name, help, &["result"], &["answered"], &self.grey_answered)?;
        r.counter_static(&name, help, &["result"], &["failed"], &self.grey_failed)?;
        r.counter_static(
            &format!("{prefix}_greylist_embargoed_total"),
            "Messages temporarily rejected by a greylist embargo.",
            &[],
            &[],
            &self.embargoed,
        )?;
        r.counter_static(
            &format!("{prefix}_whitelisted_total"),
            "Messages whitelisted by the whiteclnt files for every recipient.",
            &[],
            &[],
            &self.whitelisted,
        )?;
        let name = format!("{prefix}_dnsbl_hits_total");
        let help = "Messages listed by a DNS list (-B): list=black (a blacklist) \
                    or white (a whitelist).";
        r.counter_static(&name, help, &["list"], &["black"], &self.dnsbl_black)?;
        r.counter_static(&name, help, &["list"], &["white"], &self.dnsbl_white)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static COUNTS: FilterCounts = FilterCounts::new();

    #[test]
    fn registered_and_counted() {
        let r = Registry::new();
        COUNTS.register(&r, "tally_t").unwrap();
        COUNTS.dcc(true);
        COUNTS.dcc(false);
        COUNTS.dcc(true);
        COUNTS.dnsbl(true, false);
        FilterCounts::one(&COUNTS.embargoed);
        let t = crate::text::render(&r.snapshot());
        assert!(
            t.contains("tally_t_dcc_answers_total{result=\"answered\"} 2\n"),
            "{t}"
        );
        assert!(
            t.contains("tally_t_dcc_answers_total{result=\"failed\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("tally_t_dnsbl_hits_total{list=\"black\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("tally_t_dnsbl_hits_total{list=\"white\"} 0\n"),
            "{t}"
        );
        assert!(t.contains("tally_t_greylist_embargoed_total 1\n"), "{t}");
    }
}
