//! Properties of the Prometheus text: whatever the help texts and label
//! values, each family has one HELP and one TYPE line, every other line is
//! one sample, and reading the text back gives the values and labels put
//! in.

use proptest::prelude::*;
use tally_stats::text::{parse, render};
use tally_stats::Registry;

fn arb_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z\"\\\\\n {}=,#é]{0,12}").unwrap()
}

proptest! {
    #[test]
    fn round_trip(
        helps in proptest::collection::vec(arb_text(), 1..4),
        labels in proptest::collection::vec((0usize..4, arb_text(), 0u64..1_000_000), 0..12),
    ) {
        let r = Registry::new();
        let mut expect: Vec<(String, String, u64)> = Vec::new();
        for (i, h) in helps.iter().enumerate() {
            r.counter(&format!("tally_t{i}_total"), h).unwrap();
        }
        for (f, l, n) in &labels {
            let name = format!("tally_l{f}_total");
            let c = r.counter_with(&name, "with labels", &["peer"], &[l]).unwrap();
            c.add(*n);
            match expect.iter_mut().find(|e| e.0 == name && e.1 == *l) {
                Some(e) => e.2 += n,
                None => expect.push((name, l.clone(), *n)),
            }
        }
        let text = render(&r.snapshot());
        let lines: Vec<&str> = text.lines().collect();
        let families = helps.len() + {
            let mut f: Vec<usize> = labels.iter().map(|l| l.0).collect();
            f.sort();
            f.dedup();
            f.len()
        };
        prop_assert_eq!(lines.iter().filter(|l| l.starts_with("# TYPE ")).count(), families);
        prop_assert_eq!(lines.iter().filter(|l| l.starts_with("# HELP ")).count(), families);
        prop_assert_eq!(lines.len(), 2 * families + helps.len() + expect.len());
        let samples = parse(&text).unwrap();
        for (name, l, n) in &expect {
            let s = samples
                .iter()
                .find(|s| &s.name == name && s.labels == vec![("peer".to_string(), l.clone())]);
            prop_assert!(s.is_some(), "{} {:?} missing in {}", name, l, text);
            prop_assert_eq!(s.map(|s| s.value), Some(*n as f64));
        }
        for i in 0..helps.len() {
            let name = format!("tally_t{i}_total");
            prop_assert!(samples.iter().any(|s| s.name == name && s.value == 0.0));
        }
    }
}
