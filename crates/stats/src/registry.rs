//! The registry: families of counters and gauges, each a set of series
//! told apart by their labels.
//!
//! A series is an [`AtomicU64`] shared between the registry and whoever
//! counts: incrementing it is one relaxed atomic addition, with no lock
//! and no allocation. Registering a series (once, at start-up, or when a
//! new label value appears, such as a new flooding peer) takes the
//! registry's lock. A `static` [`AtomicU64`] can also be registered as a
//! series ([`Registry::counter_static`]), for counts kept by code that has
//! no registry at hand.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Whether a family only grows (counter) or goes up and down (gauge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Monotonic; its name ends in `_total`; graphed as a rate.
    Counter,
    /// A value that may go down; graphed as is.
    Gauge,
}

impl Kind {
    /// The word of the `# TYPE` line.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

/// A counter: a handle on one series, cheap to clone and to increment.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Add one.
    #[inline]
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Add `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The value now.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A gauge: a handle on one series holding a signed value.
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<AtomicU64>);

impl Gauge {
    /// Set the value.
    #[inline]
    pub fn set(&self, v: i64) {
        self.0.store(v as u64, Ordering::Relaxed);
    }

    /// Add `d` (which may be negative).
    #[inline]
    pub fn add(&self, d: i64) {
        self.0.fetch_add(d as u64, Ordering::Relaxed);
    }

    /// The value now.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed) as i64
    }
}

/// Where a series' value lives.
#[derive(Debug, Clone)]
enum Cell {
    /// Made by the registry, shared with handles.
    Owned(Arc<AtomicU64>),
    /// A `static` of the daemon.
    Static(&'static AtomicU64),
}

impl Cell {
    fn load(&self) -> u64 {
        match self {
            Cell::Owned(a) => a.load(Ordering::Relaxed),
            Cell::Static(a) => a.load(Ordering::Relaxed),
        }
    }
}

/// One series of a family: its label values (in the order of the family's
/// label names) and its cell.
#[derive(Debug, Clone)]
pub struct Series {
    /// Label values, one per label name of the family.
    pub labels: Vec<String>,
    cell: Cell,
}

/// A family of series sharing a name, a help text, a kind and label names.
#[derive(Debug, Clone)]
pub struct Family {
    /// The metric name, e.g. `tally_dccd_requests_total`.
    pub name: String,
    /// The `# HELP` text.
    pub help: String,
    /// Counter or gauge.
    pub kind: Kind,
    /// Label names (empty for a family of one series).
    pub label_names: Vec<String>,
    /// The series, in the order they were registered.
    pub series: Vec<Series>,
}

/// One value read from the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// Index of the family in [`Snapshot::families`].
    pub family: usize,
    /// Label values.
    pub labels: Vec<String>,
    /// The value (gauges may be negative).
    pub value: f64,
}

/// The families (without cells) and every series' value at one time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// `(name, help, kind, label names)` of each family.
    pub families: Vec<FamilyInfo>,
    /// The values, grouped by family in registration order.
    pub values: Vec<Value>,
}

/// What a snapshot keeps of a family.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyInfo {
    /// Name.
    pub name: String,
    /// Help text.
    pub help: String,
    /// Kind.
    pub kind: Kind,
    /// Label names.
    pub label_names: Vec<String>,
}

/// A name is valid for Prometheus: `[a-zA-Z_:][a-zA-Z0-9_:]*` (labels
/// without the colon).
pub fn valid_name(name: &str, colon: bool) -> bool {
    let ok = |c: char, first: bool| {
        c.is_ascii_alphabetic() || c == '_' || (colon && c == ':') || (!first && c.is_ascii_digit())
    };
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if ok(c, true) => chars.all(|c| ok(c, false)),
        _ => false,
    }
}

/// The families of a daemon. Shared as `Arc<Registry>`.
#[derive(Debug, Default)]
pub struct Registry {
    families: RwLock<Vec<Family>>,
}

/// A mistake in registering: a bad name, a kind or label names that differ
/// from the family's registered before, or a wrong number of label values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterError(pub String);

impl std::fmt::Display for RegisterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RegisterError {}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cell of the series `name{label_names=labels}`, created (with
    /// its family) if new.
    fn cell(
        &self,
        name: &str,
        help: &str,
        kind: Kind,
        label_names: &[&str],
        labels: &[&str],
    ) -> Result<Arc<AtomicU64>, RegisterError> {
        let cell = Arc::new(AtomicU64::new(0));
        match self.series(name, help, kind, label_names, labels, Cell::Owned(cell))? {
            Cell::Owned(c) => Ok(c),
            Cell::Static(_) => Err(RegisterError(format!(
                "{name}: registered before as a static"
            ))),
        }
    }

    /// The cell of the series `name{label_names=labels}`: the one there,
    /// or `new` (with its family) if none.
    fn series(
        &self,
        name: &str,
        help: &str,
        kind: Kind,
        label_names: &[&str],
        labels: &[&str],
        new: Cell,
    ) -> Result<Cell, RegisterError> {
        if !valid_name(name, true) {
            return Err(RegisterError(format!("invalid metric name {name:?}")));
        }
        if let Some(l) = label_names.iter().find(|l| !valid_name(l, false)) {
            return Err(RegisterError(format!("{name}: invalid label name {l:?}")));
        }
        if label_names.len() != labels.len() {
            return Err(RegisterError(format!(
                "{name}: {} label names, {} values",
                label_names.len(),
                labels.len()
            )));
        }
        // the common case, a series already there, under the read lock
        if let Ok(fams) = self.families.read() {
            if let Some(f) = fams.iter().find(|f| f.name == name) {
                if let Some(s) = f.series.iter().find(|s| s.labels == labels) {
                    if f.kind == kind {
                        return Ok(s.cell.clone());
                    }
                }
            }
        }
        let mut fams = self.families.write().unwrap_or_else(|e| e.into_inner());
        let idx = match fams.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                fams.push(Family {
                    name: name.to_string(),
                    help: help.to_string(),
                    kind,
                    label_names: label_names.iter().map(|s| s.to_string()).collect(),
                    series: Vec::new(),
                });
                fams.len() - 1
            }
        };
        let f = &mut fams[idx];
        if f.kind != kind || f.label_names != label_names {
            return Err(RegisterError(format!(
                "{name}: registered before as a {} with labels {:?}",
                f.kind.word(),
                f.label_names
            )));
        }
        if let Some(s) = f.series.iter().find(|s| s.labels == labels) {
            return Ok(s.cell.clone());
        }
        f.series.push(Series {
            labels: labels.iter().map(|s| s.to_string()).collect(),
            cell: new.clone(),
        });
        Ok(new)
    }

    /// Register `cell` as the series `name{label_names=labels}` of a
    /// counter family (an error if that series exists already).
    pub fn counter_static(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
        labels: &[&str],
        cell: &'static AtomicU64,
    ) -> Result<(), RegisterError> {
        match self.series(
            name,
            help,
            Kind::Counter,
            label_names,
            labels,
            Cell::Static(cell),
        )? {
            Cell::Static(c) if std::ptr::eq(c, cell) => Ok(()),
            _ => Err(RegisterError(format!(
                "{name} {labels:?}: registered before"
            ))),
        }
    }

    /// A counter without labels.
    pub fn counter(&self, name: &str, help: &str) -> Result<Counter, RegisterError> {
        self.cell(name, help, Kind::Counter, &[], &[]).map(Counter)
    }

    /// The series of a counter family with labels.
    pub fn counter_with(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
        labels: &[&str],
    ) -> Result<Counter, RegisterError> {
        self.cell(name, help, Kind::Counter, label_names, labels)
            .map(Counter)
    }

    /// A gauge without labels.
    pub fn gauge(&self, name: &str, help: &str) -> Result<Gauge, RegisterError> {
        self.cell(name, help, Kind::Gauge, &[], &[]).map(Gauge)
    }

    /// The series of a gauge family with labels.
    pub fn gauge_with(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
        labels: &[&str],
    ) -> Result<Gauge, RegisterError> {
        self.cell(name, help, Kind::Gauge, label_names, labels)
            .map(Gauge)
    }

    /// Every family and series' value now.
    pub fn snapshot(&self) -> Snapshot {
        let fams = self.families.read().unwrap_or_else(|e| e.into_inner());
        let mut snap = Snapshot::default();
        for (i, f) in fams.iter().enumerate() {
            snap.families.push(FamilyInfo {
                name: f.name.clone(),
                help: f.help.clone(),
                kind: f.kind,
                label_names: f.label_names.clone(),
            });
            for s in &f.series {
                let raw = s.cell.load();
                let value = match f.kind {
                    Kind::Counter => raw as f64,
                    Kind::Gauge => raw as i64 as f64,
                };
                snap.values.push(Value {
                    family: i,
                    labels: s.labels.clone(),
                    value,
                });
            }
        }
        snap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_count_and_read() {
        let r = Registry::new();
        let c = r.counter("tally_x_total", "X.").unwrap();
        c.inc();
        c.add(4);
        assert_eq!(r.counter("tally_x_total", "X.").unwrap().get(), 5);
        let g = r.gauge("tally_g", "G.").unwrap();
        g.set(3);
        g.add(-5);
        assert_eq!(g.get(), -2);
        let a = r
            .counter_with("tally_p_total", "P.", &["peer"], &["101"])
            .unwrap();
        let b = r
            .counter_with("tally_p_total", "P.", &["peer"], &["102"])
            .unwrap();
        a.inc();
        b.add(2);
        let s = r.snapshot();
        assert_eq!(s.families.len(), 3);
        let vals: Vec<f64> = s.values.iter().map(|v| v.value).collect();
        assert_eq!(vals, vec![5.0, -2.0, 1.0, 2.0]);
    }

    #[test]
    fn static_cells() {
        static HITS: AtomicU64 = AtomicU64::new(0);
        let r = Registry::new();
        r.counter_static("tally_s_total", "S.", &["l"], &["a"], &HITS)
            .unwrap();
        HITS.fetch_add(3, Ordering::Relaxed);
        assert_eq!(r.snapshot().values[0].value, 3.0);
        assert!(r
            .counter_with("tally_s_total", "S.", &["l"], &["a"])
            .is_err());
        static OTHER: AtomicU64 = AtomicU64::new(0);
        assert!(r
            .counter_static("tally_s_total", "S.", &["l"], &["a"], &OTHER)
            .is_err());
    }

    #[test]
    fn mistakes_are_refused() {
        let r = Registry::new();
        assert!(r.counter("9bad", "").is_err());
        assert!(r.counter("bad-name", "").is_err());
        assert!(r.counter_with("ok_total", "", &["a:b"], &["x"]).is_err());
        assert!(r.counter_with("ok_total", "", &["a"], &[]).is_err());
        r.counter("same", "").unwrap();
        assert!(r.gauge("same", "").is_err());
        assert!(r.counter_with("same", "", &["l"], &["v"]).is_err());
    }
}
