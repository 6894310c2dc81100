//! The history the graphs page draws: every sample interval each series'
//! value is appended to a bounded ring, and counters' rates per second are
//! derived from consecutive samples.
//!
//! Memory: a ring holds at most [`History::capacity`] samples (8640 by
//! default: 24 hours at the default 10 s), 8 bytes per series and sample
//! plus 8 for the time, so about 69 KB per series when full (dccd exports
//! about 40 series, under 3 MB).

use std::collections::{HashMap, VecDeque};

use serde_json::{json, Value as Json};

use crate::registry::{FamilyInfo, Kind, Snapshot};

/// The default sample interval in seconds.
pub const DEFAULT_INTERVAL_SECS: u64 = 10;
/// The default number of samples kept: 24 hours at 10 s.
pub const DEFAULT_CAPACITY: usize = 8640;

#[derive(Debug)]
struct Ring {
    family: String,
    labels: Vec<String>,
    values: VecDeque<f64>,
}

/// Samples over time, bounded.
#[derive(Debug)]
pub struct History {
    interval_secs: u64,
    capacity: usize,
    times: VecDeque<u64>,
    families: Vec<FamilyInfo>,
    rings: Vec<Ring>,
    index: HashMap<(String, Vec<String>), usize>,
}

impl History {
    /// An empty history sampled every `interval_secs`, keeping at most
    /// `capacity` samples (at least 2).
    pub fn new(interval_secs: u64, capacity: usize) -> Self {
        History {
            interval_secs,
            capacity: capacity.max(2),
            times: VecDeque::new(),
            families: Vec::new(),
            rings: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The most samples kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The samples kept now.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// No sample yet.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Append a sample taken at `now` (seconds since the epoch). A series
    /// that appears later has no value (NaN) before; one that vanished
    /// has NaN from then on.
    pub fn push(&mut self, now: u64, snap: &Snapshot) {
        for f in &snap.families {
            match self.families.iter_mut().find(|g| g.name == f.name) {
                Some(g) => *g = f.clone(),
                None => self.families.push(f.clone()),
            }
        }
        let n = self.times.len();
        for v in &snap.values {
            let Some(f) = snap.families.get(v.family) else {
                continue;
            };
            let key = (f.name.clone(), v.labels.clone());
            let i = match self.index.get(&key) {
                Some(&i) => i,
                None => {
                    self.rings.push(Ring {
                        family: f.name.clone(),
                        labels: v.labels.clone(),
                        values: std::iter::repeat_n(f64::NAN, n).collect(),
                    });
                    self.index.insert(key, self.rings.len() - 1);
                    self.rings.len() - 1
                }
            };
            if self.rings[i].values.len() == n {
                self.rings[i].values.push_back(v.value);
            }
        }
        self.times.push_back(now);
        for r in &mut self.rings {
            if r.values.len() == n {
                r.values.push_back(f64::NAN);
            }
        }
        if self.times.len() > self.capacity {
            self.times.pop_front();
            for r in &mut self.rings {
                r.values.pop_front();
            }
        }
    }

    /// The last `points` samples (all when `None`) as JSON: the interval,
    /// the sample times, and per family its series with their values and,
    /// for counters, the rates per second (`null` for the first sample and
    /// where a value is missing; a counter that went down, as after a
    /// restart of its count, is taken as counting from zero). With `max`,
    /// at most that many of them: every k-th sample, the last one kept, so
    /// that the rates are averages over k intervals.
    pub fn to_json(&self, points: Option<usize>, max: Option<usize>) -> Json {
        let n = self.times.len();
        let skip = n - points.unwrap_or(n).min(n);
        let stride = match max {
            Some(m) if m > 0 && n - skip > m => (n - skip).div_ceil(m),
            _ => 1,
        };
        let kept: Vec<usize> = (skip..n)
            .filter(|i| (n - 1 - i).is_multiple_of(stride))
            .collect();
        let times: Vec<u64> = kept.iter().map(|&i| self.times[i]).collect();
        let fams: Vec<Json> = self
            .families
            .iter()
            .map(|f| {
                let series: Vec<Json> = self
                    .rings
                    .iter()
                    .filter(|r| r.family == f.name)
                    .map(|r| {
                        let vals: Vec<f64> = kept.iter().map(|&i| r.values[i]).collect();
                        let labels: serde_json::Map<String, Json> = f
                            .label_names
                            .iter()
                            .cloned()
                            .zip(r.labels.iter().map(|l| Json::from(l.as_str())))
                            .collect();
                        let mut s = json!({ "labels": labels, "values": nums(&vals) });
                        if f.kind == Kind::Counter {
                            s["rates"] = nums(&rates(&times, &vals));
                        }
                        s
                    })
                    .collect();
                json!({
                    "name": f.name,
                    "help": f.help,
                    "type": f.kind.word(),
                    "series": series,
                })
            })
            .collect();
        json!({
            "interval": self.interval_secs,
            "times": times,
            "families": fams,
        })
    }
}

/// Numbers with NaN as `null`.
fn nums(v: &[f64]) -> Json {
    Json::Array(
        v.iter()
            .map(|x| {
                serde_json::Number::from_f64(*x)
                    .map(Json::Number)
                    .unwrap_or(Json::Null)
            })
            .collect(),
    )
}

/// Rates per second between consecutive samples (NaN where unknown).
pub fn rates(times: &[u64], vals: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(vals.len());
    for i in 0..vals.len() {
        if i == 0 || i >= times.len() {
            out.push(f64::NAN);
            continue;
        }
        let dt = times[i].saturating_sub(times[i - 1]) as f64;
        let (a, b) = (vals[i - 1], vals[i]);
        let d = if b >= a { b - a } else { b };
        out.push(if dt > 0.0 { d / dt } else { f64::NAN });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn ring_rates_and_late_series() {
        let r = Registry::new();
        let c = r.counter("tally_q_total", "Q.").unwrap();
        let mut h = History::new(10, 3);
        c.add(10);
        h.push(100, &r.snapshot());
        c.add(50);
        h.push(110, &r.snapshot());
        let g = r.gauge("tally_g", "G.").unwrap();
        g.set(4);
        c.add(20);
        h.push(120, &r.snapshot());
        c.add(5);
        h.push(130, &r.snapshot());
        assert_eq!(h.len(), 3);
        let j = h.to_json(None, None);
        assert_eq!(j["times"], json!([110, 120, 130]));
        let q = &j["families"][0]["series"][0];
        assert_eq!(q["values"], json!([60.0, 80.0, 85.0]));
        assert_eq!(q["rates"], json!([null, 2.0, 0.5]));
        let gs = &j["families"][1]["series"][0];
        assert_eq!(gs["values"], json!([null, 4.0, 4.0]));
        assert!(gs.get("rates").is_none());
        let j = h.to_json(Some(2), None);
        assert_eq!(j["times"], json!([120, 130]));
    }

    #[test]
    fn at_most_max_points() {
        let r = Registry::new();
        let c = r.counter("tally_q_total", "Q.").unwrap();
        let mut h = History::new(10, 100);
        for t in 0..10u64 {
            c.add(10);
            h.push(t * 10, &r.snapshot());
        }
        let j = h.to_json(None, Some(3));
        // every fourth sample, the last one kept
        assert_eq!(j["times"], json!([10, 50, 90]));
        let q = &j["families"][0]["series"][0];
        assert_eq!(q["values"], json!([20.0, 60.0, 100.0]));
        assert_eq!(q["rates"], json!([null, 1.0, 1.0]));
        assert_eq!(
            h.to_json(Some(4), Some(10))["times"],
            json!([60, 70, 80, 90])
        );
        assert_eq!(
            h.to_json(None, Some(0))["times"].as_array().unwrap().len(),
            10
        );
    }

    #[test]
    fn counter_reset_counts_from_zero() {
        assert_eq!(rates(&[0, 10, 20], &[100.0, 5.0, 25.0])[1..], [0.5, 2.0]);
    }
}
