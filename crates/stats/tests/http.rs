//! The listener over real loopback TCP: the three pages, the refusals,
//! the history growing with the samples.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tally_stats::client::{get, request};
use tally_stats::{http, text, Exporter, Registry};

#[test]
fn pages_and_refusals() {
    let reg = Arc::new(Registry::new());
    let c = reg.counter("tally_test_things_total", "Things.").unwrap();
    let seen = reg.gauge("tally_test_collects", "Collect calls.").unwrap();
    let exp = Exporter::new(reg.clone(), Duration::from_secs(1)).with_collect(move |_| seen.add(1));
    let addr = http::start(Arc::new(exp), "127.0.0.1:0".parse().unwrap()).unwrap();
    c.add(3);
    let m = get(addr, "/metrics").unwrap();
    assert!(
        m.contains("# TYPE tally_test_things_total counter\n"),
        "{m}"
    );
    let s = text::parse(&m).unwrap();
    let things = s.iter().find(|s| s.name == "tally_test_things_total");
    assert_eq!(things.map(|s| s.value), Some(3.0));
    let page = get(addr, "/").unwrap();
    assert!(page.contains("<svg") || page.contains("createElementNS"));
    // nothing fetched from elsewhere
    assert!(!page.contains(" src=") && !page.contains("href=\"http"));
    assert_eq!(request(addr, "POST", "/metrics").unwrap().0, 405);
    assert_eq!(request(addr, "GET", "/nothing").unwrap().0, 404);
    // samples every second: wait for at least three
    let t0 = Instant::now();
    let mut samples = 0;
    while t0.elapsed() < Duration::from_secs(10) {
        let h: serde_json::Value =
            serde_json::from_str(&get(addr, "/history.json").unwrap()).unwrap();
        samples = h["times"].as_array().map_or(0, |t| t.len());
        if samples >= 3 {
            assert_eq!(h["interval"], 1);
            let f = &h["families"][0];
            assert_eq!(f["name"], "tally_test_things_total");
            assert_eq!(f["series"][0]["values"].as_array().unwrap().len(), samples);
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(samples >= 3, "only {samples} samples in 10 s");
    let h: serde_json::Value =
        serde_json::from_str(&get(addr, "/history.json?points=2").unwrap()).unwrap();
    assert_eq!(h["times"].as_array().unwrap().len(), 2);
}

#[test]
fn non_loopback_refused() {
    let exp = Arc::new(Exporter::new(
        Arc::new(Registry::new()),
        Duration::from_secs(1),
    ));
    let e = http::start(exp, "192.0.2.1:80".parse().unwrap()).unwrap_err();
    assert!(e.contains("not a loopback address"), "{e}");
}
