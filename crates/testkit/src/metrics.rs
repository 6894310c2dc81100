//! The `-M` statistics listener of the daemons: where it is bound and the
//! figures it serves.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tally_stats::text::parse;

/// The listener's address, from the daemon's `statistics on http://ADDR/`
/// line in the text `log` returns (asked again until the line is there,
/// at most 10 s).
pub fn listener(log: impl Fn() -> String) -> SocketAddr {
    let t0 = Instant::now();
    loop {
        let text = log();
        if let Some(rest) = text.split("statistics on http://").nth(1) {
            let a = rest.split('/').next().unwrap_or("");
            return a
                .parse()
                .unwrap_or_else(|e| panic!("listener address {a:?}: {e}"));
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no listener: {text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The text of `/metrics` on the listener at `http`.
pub fn scrape(http: SocketAddr) -> String {
    tally_stats::client::get(http, "/metrics").unwrap_or_else(|e| panic!("scrape {http}: {e}"))
}

/// The value of the sample `name` with exactly the labels `labels` in the
/// scraped `text` (0 when there is none).
pub fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    parse(text)
        .unwrap_or_else(|e| panic!("metrics text: {e}\n{text}"))
        .iter()
        .find(|s| {
            s.name == name
                && s.labels.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(a, b)| a == k && b == v))
        })
        .map_or(0.0, |s| s.value)
}
