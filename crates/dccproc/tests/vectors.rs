//! `dccproc -C` on corpus messages prints the checksums the original
//! printed for them (testdata/vectors/checksums.jsonl).

mod common;

use common::{code, run, scratch, testdata};
use std::collections::BTreeMap;

/// Every n-th vector, for about 30 messages.
const STEP: usize = 28;

fn parse_table(out: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for line in out.lines() {
        if line.starts_with("X-DCC-") || line.contains("reported:") {
            continue;
        }
        let Some((label, rest)) = line.split_once(": ") else {
            continue;
        };
        let sum: String = rest
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        m.insert(label.trim().to_string(), sum);
    }
    m
}

/// Run the sample and compare the types `keep` selects; returns the
/// number of messages checked and the differences.
fn compare(keep: fn(&str) -> bool) -> (usize, Vec<String>) {
    let home = scratch("vectors");
    let home_s = home.to_string_lossy().into_owned();
    let text =
        std::fs::read_to_string(testdata().join("vectors/checksums.jsonl")).expect("vectors");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if n % STEP != 0 {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let file = v["file"].as_str().expect("file");
        let msg = std::fs::read(testdata().join("corpus").join(file)).expect("message");
        let mut args: Vec<String> = vec!["-h".into(), home_s.clone(), "-C".into()];
        if let Some(ip) = v["ip"].as_str() {
            args.push("-a".into());
            args.push(ip.into());
        }
        if v["use_received"].as_bool() == Some(true) {
            args.push("-R".into());
        }
        if let Some(f) = v["env_from"].as_str() {
            args.push("-f".into());
            args.push(f.into());
        }
        for s in v["substitutes"].as_array().into_iter().flatten() {
            args.push("-S".into());
            args.push(s.as_str().unwrap_or_default().into());
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&argv, &msg);
        assert_eq!(code(&out), 0, "{file}");
        let mut got = parse_table(&String::from_utf8_lossy(&out.stdout));
        // the reputation checksums repeat the IP checksum; the vectors omit them
        for rep in ["rep-total", "rep"] {
            if let Some(s) = got.remove(rep) {
                assert_eq!(Some(&s), got.get("IP"), "{file}: {rep}");
            }
        }
        got.retain(|k, _| keep(k));
        let want: BTreeMap<String, String> = v["checksums"]
            .as_object()
            .expect("checksums")
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, s)| (k.clone(), s.as_str().unwrap_or_default().to_string()))
            .collect();
        if got != want {
            failures.push(format!("{file}:\n  want {want:?}\n  got  {got:?}"));
        }
        checked += 1;
    }
    (checked, failures)
}

#[test]
fn golden_checksums_of_a_sample() {
    let (checked, failures) = compare(|k| k != "Fuz2");
    assert!(checked >= 29, "only {checked} vectors");
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_fuz2_of_a_sample() {
    let (checked, failures) = compare(|k| k == "Fuz2");
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
