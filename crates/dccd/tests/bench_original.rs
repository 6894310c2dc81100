//! dccd-bench's comparison with the original DCC, checked without it:
//! tally's own `dccd` stands in for the original's, so every level runs
//! against two of tally's servers started alike and the ratio must come
//! out near 1. Timings on a shared machine vary, so the test only asks
//! for both lines and a positive finite ratio between 0.2 and 5; the
//! memory mode fills both servers and gives tally's store files.

use std::process::{Command, Stdio};
use std::time::Duration;
use tally_testkit::child::{output_within, success_stdout};

/// dccd-bench with `args` (and `original` in the environment when
/// given), bounded by a timeout; its standard output.
fn bench(args: &[&str], original_env: Option<&str>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dccd-bench"));
    cmd.args(args)
        .env_remove("DCCD_BENCH_ORIGINAL")
        .env_remove("DCCD_BENCH_ARGS")
        .env_remove("DCCD_BENCH_PIN");
    if let Some(o) = original_env {
        cmd.env("DCCD_BENCH_ORIGINAL", o);
    }
    // at most two minutes (it takes seconds)
    let out = output_within(&mut cmd, Duration::from_secs(120), "dccd-bench");
    success_stdout(&out, "dccd-bench")
}

fn line<'a>(out: &'a str, start: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in\n{out}"))
}

/// The number after `word` in `line`.
fn after(line: &str, word: &str) -> f64 {
    line.split(word)
        .nth(1)
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no number after {word:?} in {line:?}"))
}

fn header(out: &str) {
    assert!(out.starts_with("dccd-bench\nmachine: CPU "), "{out}");
    assert!(out.contains("this process may run on "), "{out}");
    assert!(out.contains("load average at start "), "{out}");
}

#[test]
fn tally_dccd_as_the_original_gives_a_ratio_near_one() {
    let dccd = env!("CARGO_BIN_EXE_dccd");
    let out = bench(&["1", "0", "q1", "--original", dccd], None);
    header(&out);
    assert!(
        out.contains(&format!("original DCC: {dccd} (measured in this run)")),
        "{out}"
    );
    assert!(!out.contains("recorded, not measured"), "{out}");
    let a = after(line(&out, "tally    QUERY       in flight   1"), "):");
    let b = after(line(&out, "original QUERY       in flight   1"), "):");
    assert!(a > 0.0 && b > 0.0, "{out}");
    let r = after(line(&out, "QUERY       in flight   1: "), "tally/original");
    assert!(r.is_finite() && (0.2..=5.0).contains(&r), "{out}");
    assert!((a / b - r).abs() < 0.01 + 0.01 * r, "{out}");
}

#[test]
fn the_environment_names_the_original_and_the_memory_mode_fills_both() {
    let dccd = env!("CARGO_BIN_EXE_dccd");
    let out = bench(&["1", "0.03", "none"], Some(dccd));
    header(&out);
    let t = line(&out, "tally    memory:  0.03M checksums");
    let o = line(&out, "original memory:  0.03M checksums");
    for l in [t, o] {
        assert!(after(l, "RSS") > 0.0, "{l}");
        assert!(l.contains("bytes per report; files: "), "{l}");
    }
    // tally's store holds the reports; the stand-in has no dcc_db
    let files = t.split("files: ").nth(1).unwrap_or_default();
    assert!(files.contains("tally-db/reports.log"), "{t}");
    assert!(after(files, "MiB =") > 1.0, "{t}");
    assert!(o.contains("files: none"), "{o}");
    // a fill under a million checksums does not wait for the cache
    assert!(!out.contains("cache expired"), "{out}");
}

#[test]
fn without_the_original_the_recorded_figures_are_labelled() {
    let out = bench(&["1", "0", "r1"], None);
    header(&out);
    assert!(
        out.contains("original DCC not given")
            && out.contains("recorded, not measured in this run")
            && out.contains("QUERY 80k/s at 16 in flight and REPORT 65k/s at 64 in flight")
            && out.contains("36-52 bytes per checksum"),
        "{out}"
    );
    assert!(
        after(line(&out, "REPORT      in flight   1"), "):") > 0.0,
        "{out}"
    );
    assert!(!out.contains("tally/original"), "{out}");
}

#[test]
fn a_missing_original_is_an_error_naming_it() {
    for args in [
        &["1", "0", "q1", "--original", "/nonexistent/dccd"][..],
        &["1", "0", "q1", "--original"][..],
    ] {
        let child = Command::new(env!("CARGO_BIN_EXE_dccd-bench"))
            .args(args)
            .env_remove("DCCD_BENCH_ORIGINAL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run dccd-bench");
        let pid = child.id();
        let out = child.wait_with_output().expect("dccd-bench output");
        assert!(!out.status.success(), "{args:?}");
        // tally's server, started first, was stopped and its home removed
        let home = std::env::temp_dir().join(format!("dccd-bench-tally-{pid}"));
        assert!(!home.exists(), "{} left behind", home.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("/nonexistent/dccd: no such file")
                || err.contains("--original needs the path"),
            "{args:?}: {err}"
        );
    }
}
