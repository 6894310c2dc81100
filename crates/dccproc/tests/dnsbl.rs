//! dccproc -B against the loopback test DNS server serving the recordings'
//! zone: the recorded runs of the original (scenarios 10c and 12, in
//! tests/data/dnsbl) replayed: standard output (X-DCC header, -C table, the
//! message), exit status, the refused -B arguments on standard error, and
//! the log file of run h.

mod common;

use std::path::{Path, PathBuf};

use common::{code, host, run_env, scratch, stderr, stdout};
use tally_dnsbl::testserver::TestServer;
use tally_testkit::{closed_port, write_map};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/dnsbl")
        .join(name)
}

/// (name, input file, arguments) of every run of a scenario.
fn runs(scenario: &str) -> Vec<(String, String, Vec<String>)> {
    let setup = std::fs::read_to_string(data(scenario).join("setup.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&setup).unwrap();
    v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["input"].as_str().unwrap().to_string(),
                r["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

/// The recorded exit status and standard error of a run.
fn recorded(scenario: &str, name: &str) -> (i32, String) {
    let t = std::fs::read_to_string(data(scenario).join("transcript.txt")).unwrap();
    let start = t.find(&format!("# run {name}:")).unwrap();
    let part = &t[start..];
    let part = &part[..part[1..].find("\n# run ").map_or(part.len(), |i| i + 1)];
    let status = part
        .split("# exit status ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    let err = part.split("## stderr\n").nth(1).unwrap_or("").to_string();
    (status, err)
}

/// The lines of standard error about -B arguments (not the traces of
/// `set:debug`, which start with a blank and which we do not write: see
/// docs/compatibility.md).
fn b_lines(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| !l.starts_with(' '))
        .filter(|l| l.contains("DNSBL") || l.contains("DNS blacklist") || l.contains("-B "))
        .map(str::to_string)
        .collect()
}

fn replay(scenario: &str) -> Vec<String> {
    let (_rt, server) = TestServer::start_blocking(&data("zone.txt")).unwrap();
    let env = [("TALLY_DNSBL_SERVERS", server.addr.to_string())];
    let host = host();
    let mut diffs = Vec::new();
    for (name, input, args) in runs(scenario) {
        let h = scratch(&format!("dnsbl-{scenario}-{name}"));
        write_map(&h, closed_port());
        if data(scenario).join("whiteclnt").exists() {
            std::fs::copy(data(scenario).join("whiteclnt"), h.join("whiteclnt")).unwrap();
        }
        std::fs::create_dir_all(h.join("log")).unwrap();
        let hs = h.display().to_string();
        let mut a: Vec<&str> = vec!["-h", &hs];
        a.extend(args.iter().map(String::as_str));
        let msg = std::fs::read(data(scenario).join(&input)).unwrap();
        let out = run_env(&a, &msg, &env);
        let (want_code, want_err) = recorded(scenario, &name);
        if code(&out) != want_code {
            diffs.push(format!("{name}: exit {} want {want_code}", code(&out)));
        }
        let want =
            std::fs::read_to_string(data(scenario).join(format!("stdout-{name}.txt"))).unwrap();
        let got = stdout(&out).replace(&format!(": {host} "), ": vm ");
        if got != want {
            diffs.push(format!("{name}: stdout\n{got}\nwant\n{want}"));
        }
        if b_lines(&stderr(&out)) != b_lines(&want_err) {
            diffs.push(format!(
                "{name}: stderr {:?} want {:?}",
                b_lines(&stderr(&out)),
                b_lines(&want_err)
            ));
        }
        if name == "h-logdir-E" {
            let want = std::fs::read_to_string(data(scenario).join("log-h.txt")).unwrap();
            let mut got = String::new();
            for e in std::fs::read_dir(h.join("log")).unwrap() {
                let t = std::fs::read_to_string(e.unwrap().path()).unwrap();
                for l in t.lines() {
                    if l.contains("DNSBL") || l.starts_with("result") {
                        got.push_str(l);
                        got.push('\n');
                    }
                }
            }
            if got != want {
                diffs.push(format!("{name}: log\n{got}\nwant\n{want}"));
            }
        }
        let _ = std::fs::remove_dir_all(&h);
    }
    diffs
}

#[test]
fn recorded_10c_runs() {
    let d = replay("10c-dccproc");
    assert!(d.is_empty(), "{}", d.join("\n"));
}

#[test]
fn recorded_12_option_syntax() {
    let d = replay("12-option-syntax");
    assert!(d.is_empty(), "{}", d.join("\n"));
}
