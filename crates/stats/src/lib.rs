//! Daemon statistics: counters, Prometheus text, a history of samples and a
//! graphs page, served on the optional loopback HTTP listener of `-M` (see
//! docs/statistics.md).
//!
//! - [`registry`]: counters and gauges (one relaxed atomic addition per
//!   increment, no lock, no allocation), families with labels.
//! - [`text`]: the Prometheus text exposition format 0.0.4 (pure).
//! - [`history`]: the samples over time in a bounded ring, counters' rates.
//! - [`filter`]: the counts dccm and dccifd share (DCC and greylist
//!   answers, embargoes, whitelisted, DNS list hits), as `static`s.
//! - [`mirror`]: counts kept elsewhere (and cleared) as monotonic counters.
//! - [`addr`]: the argument of `-M [addr,]port` (loopback only).
//! - [`http`]: the listener (`/metrics`, `/`, `/history.json`); [`client`]:
//!   a small GET for tests and scripts.
//!
//! A daemon builds an [`Exporter`] on its [`Registry`], optionally with a
//! collect function that brings counters kept elsewhere up to date (called
//! before each scrape and each sample), and starts it with [`http::start`].

pub mod addr;
pub mod client;
pub mod filter;
pub mod history;
pub mod http;
pub mod mirror;
pub mod registry;
pub mod text;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use addr::parse_listen;
pub use history::History;
pub use registry::{Counter, Gauge, Kind, Registry};

/// The environment variable that sets the sample interval in seconds
/// (1-3600; 10 by default). For tests and for looking closely.
pub const INTERVAL_ENV: &str = "TALLY_STATS_INTERVAL";

/// The sample interval: `TALLY_STATS_INTERVAL` seconds if set and valid,
/// else 10 s.
pub fn interval_from_env() -> Duration {
    let secs = std::env::var(INTERVAL_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| (1..=3600).contains(s))
        .unwrap_or(history::DEFAULT_INTERVAL_SECS);
    Duration::from_secs(secs)
}

type Collect = Box<dyn Fn(&Registry) + Send + Sync>;

/// A registry with its history and its collect function: what the
/// listener serves.
pub struct Exporter {
    registry: Arc<Registry>,
    collect: Option<Collect>,
    history: Mutex<History>,
    interval: Duration,
}

impl Exporter {
    /// An exporter of `registry`, sampling every `interval` (at least 1 s)
    /// into a history of [`history::DEFAULT_CAPACITY`] samples.
    pub fn new(registry: Arc<Registry>, interval: Duration) -> Self {
        let interval = interval.max(Duration::from_secs(1));
        Exporter {
            registry,
            collect: None,
            history: Mutex::new(History::new(interval.as_secs(), history::DEFAULT_CAPACITY)),
            interval,
        }
    }

    /// Call `f` before each scrape and sample, to copy counters kept
    /// elsewhere into the registry.
    pub fn with_collect(mut self, f: impl Fn(&Registry) + Send + Sync + 'static) -> Self {
        self.collect = Some(Box::new(f));
        self
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The sample interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    fn refresh(&self) {
        if let Some(c) = &self.collect {
            c(&self.registry);
        }
    }

    /// The Prometheus text now.
    pub fn metrics_text(&self) -> String {
        self.refresh();
        text::render(&self.registry.snapshot())
    }

    /// Take a sample now.
    pub fn sample(&self) {
        self.refresh();
        let snap = self.registry.snapshot();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut h = self.history.lock().unwrap_or_else(|e| e.into_inner());
        h.push(now, &snap);
    }

    /// The last `points` samples (all when `None`), at most `max` of them,
    /// as JSON text (see [`History::to_json`]).
    pub fn history_json(&self, points: Option<usize>, max: Option<usize>) -> String {
        let h = self.history.lock().unwrap_or_else(|e| e.into_inner());
        h.to_json(points, max).to_string()
    }
}
