#![no_main]
//! The statistics crate's parsers on arbitrary input: `-M [addr,]port`
//! (each line), the Prometheus text read back (the whole input), and a
//! registry whose help text and label value come from the input rendered
//! and read back to the same value: never a panic, and the round trip holds.
use libfuzzer_sys::fuzz_target;
use tally_stats::text::{parse, render};
use tally_stats::{parse_listen, Registry};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines().take(64) {
        if let Ok(a) = parse_listen(line) {
            assert!(a.ip().is_loopback(), "{line:?} gave {a}");
        }
    }
    let _ = parse(&text);
    let mid = (0..=text.len() / 2)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let (help, label) = text.split_at(mid);
    let r = Registry::new();
    let c = r
        .counter_with("tally_fuzz_total", help, &["l"], &[label])
        .unwrap();
    c.add(data.len() as u64);
    let samples = parse(&render(&r.snapshot())).unwrap();
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].labels, vec![("l".to_string(), label.to_string())]);
    assert_eq!(samples[0].value, data.len() as f64);
});
