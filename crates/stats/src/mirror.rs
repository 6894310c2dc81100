//! Counts kept elsewhere (plain integers that a daemon may clear, like
//! `cdcc "stats clear"` does) brought into monotonic registry counters at
//! each scrape or sample: the registry counter grows by what the count
//! grew since it was last seen, or by the whole count after a clear.

use std::collections::HashMap;

use crate::registry::{RegisterError, Registry};

/// The last value seen of each mirrored count.
#[derive(Debug, Default)]
pub struct Mirror {
    last: HashMap<(String, Vec<String>), (u64, u64)>,
}

/// One family of mirrored counters: name, help and label names.
#[derive(Debug, Clone, Copy)]
pub struct Fam<'a> {
    /// Metric name (ending in `_total`).
    pub name: &'a str,
    /// Help text.
    pub help: &'a str,
    /// Label names.
    pub labels: &'a [&'a str],
}

impl Mirror {
    /// An empty mirror.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bring `fam{labels}` up to `value`, a count that was last cleared at
    /// `epoch` (any number that changes when the count is cleared, such as
    /// the time of the clear; a count that went down is also taken as
    /// cleared).
    pub fn update(
        &mut self,
        reg: &Registry,
        fam: Fam<'_>,
        labels: &[&str],
        value: u64,
        epoch: u64,
    ) -> Result<(), RegisterError> {
        let c = reg.counter_with(fam.name, fam.help, fam.labels, labels)?;
        let key = (
            fam.name.to_string(),
            labels.iter().map(|s| s.to_string()).collect(),
        );
        let grew = match self.last.get(&key) {
            Some(&(e, last)) if e == epoch && value >= last => value - last,
            _ => value,
        };
        c.add(grew);
        self.last.insert(key, (epoch, value));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_across_clears() {
        let r = Registry::new();
        let mut m = Mirror::new();
        let f = Fam {
            name: "tally_m_total",
            help: "M.",
            labels: &["kind"],
        };
        m.update(&r, f, &["a"], 5, 1).unwrap();
        m.update(&r, f, &["a"], 8, 1).unwrap();
        // cleared (new epoch) and counted 2 since
        m.update(&r, f, &["a"], 2, 2).unwrap();
        // went down without a new epoch: cleared too
        m.update(&r, f, &["a"], 1, 2).unwrap();
        m.update(&r, f, &["a"], 1, 2).unwrap();
        let c = r
            .counter_with("tally_m_total", "M.", &["kind"], &["a"])
            .unwrap();
        assert_eq!(c.get(), 8 + 2 + 1);
    }
}
