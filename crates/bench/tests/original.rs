//! The comparison with the original DCC, checked without it: tally's own
//! `dccproc` stands in for the original's, so the bench starts tally's
//! `dccd`, makes both homes with tally's `cdcc` and times both programs
//! on the same files. The ratio must then come out near 1; timings on a
//! shared machine vary, so the test only asks for a positive finite
//! ratio between 0.2 and 5, and for both figures on every line.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use tally_e2e::bins::binary;
use tally_testkit::child::{output_within, success_stdout};

/// The workspace program `name`, built into this test's target
/// directory next to `tally-bench` if needed.
fn bin(name: &str) -> PathBuf {
    binary(name).unwrap_or_else(|s| panic!("{name}: {s}"))
}

/// The numbers of a line after its label, up to the first word that is
/// not a number.
fn numbers(line: &str, label: &str) -> Vec<f64> {
    line.strip_prefix(label)
        .unwrap_or_else(|| panic!("no {label:?} in {line:?}"))
        .split_whitespace()
        .map_while(|w| w.parse().ok())
        .collect()
}

fn ratio_ok(r: f64) -> bool {
    r.is_finite() && (0.2..=5.0).contains(&r)
}

/// `tally-bench` with tally's `dccproc` as the original, bounded by a
/// timeout.
fn bench(args: &[&str], env: &[(&str, &PathBuf)]) -> String {
    for p in ["dccd", "cdcc"] {
        bin(p);
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tally-bench"));
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k, v.as_os_str())));
    // at most two minutes (it takes seconds)
    let out = output_within(&mut cmd, Duration::from_secs(120), "tally-bench");
    success_stdout(&out, "tally-bench")
}

#[test]
fn tally_dccproc_as_the_original_gives_a_ratio_near_one() {
    let dccproc = bin("dccproc");
    let d = dccproc.to_string_lossy().into_owned();
    let out = bench(
        &[
            "--mb",
            "1",
            "--runs",
            "1",
            "--rounds",
            "1",
            "--original",
            &d,
        ],
        &[],
    );
    assert!(out.starts_with("tally benchmark"), "{out}");
    assert!(out.contains("machine: CPU "), "{out}");
    assert!(out.contains("kernel "), "{out}");
    assert!(
        out.contains(&format!("original DCC: {d} (measured in this run)")),
        "{out}"
    );
    assert!(!out.contains("recorded, not measured"), "{out}");
    for label in ["1 MB plain-text message", "1 MB HTML message"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line:\n{out}"));
        let f = numbers(line, label);
        assert_eq!(f.len(), 4, "{line}");
        assert!(f[..3].iter().all(|&x| x > 0.0 && x.is_finite()), "{line}");
        assert!(ratio_ok(f[3]), "{line}");
        // the ratio is of the two dccproc figures
        assert!((f[1] / f[2] - f[3]).abs() < 0.02 * f[3] + 0.01, "{line}");
    }
    let corpus = out
        .lines()
        .find(|l| l.starts_with("corpus, first 200 messages, one dccproc process per message"))
        .unwrap_or_else(|| panic!("no corpus comparison:\n{out}"));
    let r: f64 = corpus
        .split("tally/original ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no ratio in {corpus}"));
    assert!(ratio_ok(r), "{corpus}");
}

#[test]
fn the_environment_names_the_original_too_and_without_it_the_recorded_figures_show() {
    let dccproc = bin("dccproc");
    let out = bench(
        &["--mb", "1", "--runs", "1", "--only", "plain"],
        &[("TALLY_BENCH_ORIGINAL", &dccproc)],
    );
    let line = out
        .lines()
        .find(|l| l.starts_with("1 MB plain-text message"))
        .unwrap_or_else(|| panic!("no plain line:\n{out}"));
    assert!(
        ratio_ok(numbers(line, "1 MB plain-text message")[3]),
        "{line}"
    );
    assert!(!out.contains("HTML"), "{out}");

    let out = bench(&["--mb", "1", "--runs", "1", "--only", "plain"], &[]);
    assert!(out.contains("machine: CPU "), "{out}");
    assert!(
        out.contains("original DCC not given")
            && out.contains("recorded, not measured in this run")
            && out.contains("73 MB/s plain text and 92 MB/s HTML"),
        "{out}"
    );
    let line = out
        .lines()
        .find(|l| l.starts_with("1 MB plain-text message"))
        .unwrap_or_else(|| panic!("no plain line:\n{out}"));
    assert_eq!(numbers(line, "1 MB plain-text message").len(), 1, "{line}");
}

#[test]
fn a_missing_original_is_an_error_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_tally-bench"))
        .args(["--mb", "1", "--runs", "1", "--only", "plain"])
        .args(["--original", "/nonexistent/dccproc"])
        .output()
        .expect("run tally-bench");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/dccproc"), "{err}");
}

#[test]
fn an_original_without_its_cdcc_is_an_error_and_the_server_is_stopped() {
    // /bin/sh exists, but no cdcc next to it makes its map file
    for p in ["dccd", "dccproc", "cdcc"] {
        bin(p);
    }
    let child = Command::new(env!("CARGO_BIN_EXE_tally-bench"))
        .args(["--mb", "1", "--runs", "1", "--only", "plain"])
        .args(["--original", "/bin/sh"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run tally-bench");
    let pid = child.id();
    let out = child.wait_with_output().expect("tally-bench output");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no cdcc next to /bin/sh"), "{err}");
    // the dccd it had started is stopped and its home removed
    let home = std::env::temp_dir().join(format!("tally-bench-dccd-{pid}"));
    assert!(!home.exists(), "{} left behind", home.display());
}
