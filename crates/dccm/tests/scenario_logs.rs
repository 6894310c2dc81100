//! The log files of the recorded scenarios with log files (per-user files
//! g, spam traps g2, log directories h1 and h2, substitutes f6), against
//! the original's: the envelope's recipients; after the body, the
//! recipients' whitelist lines (`bob-->OK`, `trap-->spam-trap-discard`)
//! and the decision line; the X-DCC header and the checksum table
//! without their counts (they depend on the server's history); the
//! result. Files are matched by their `IP:` and `env_From:` lines.

mod common;

use std::collections::HashMap;
use std::path::Path;
use tally_testkit::files::texts;

const SEP: &str = "### end of message body ########################";

/// The files of a directory (not recursive), as text.
/// Files by their envelope: the `IP:`, `env_From:` and `env_To:` lines
/// (two messages of a scenario may share sender and client and differ in
/// their recipients). A second file with the same envelope is an error,
/// not a silent pick of one of them.
fn by_ip(logs: Vec<String>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for t in logs {
        let Some(ip) = t.lines().find(|l| l.starts_with("IP: ")) else {
            continue;
        };
        let Some(from) = t.lines().find(|l| l.starts_with("env_From: ")) else {
            continue;
        };
        let key = format!("{} {from} {}", ip.trim_end(), env_to_lines(&t).join(" "));
        assert!(
            !out.contains_key(&key),
            "two log files with the envelope {key}"
        );
        out.insert(key, t);
    }
    out
}

/// The X-DCC header and the checksum table after the decision line,
/// without the counts (they depend on the server's history): each
/// line's words, numbers replaced by `N`.
fn table_shape(t: &str) -> Vec<String> {
    let lines: Vec<&str> = t.lines().collect();
    let start = lines.iter().rposition(|l| *l == SEP).map_or(0, |i| i + 1);
    let Some(st) = lines.iter().skip(start).position(|l| l.ends_with("-log  ")) else {
        return Vec::new();
    };
    lines
        .iter()
        .skip(start + st + 1)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .map(|l| {
            l.split(|c: char| c.is_whitespace() || c == ';' || c == '=')
                .filter(|w| !w.is_empty())
                .map(|w| {
                    if w.bytes().all(|b| b.is_ascii_digit()) {
                        "N"
                    } else {
                        w
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The lines after the body up to the decision line.
fn white_block(t: &str) -> Vec<String> {
    let lines: Vec<&str> = t.lines().collect();
    let start = lines.iter().rposition(|l| *l == SEP).map_or(0, |i| i + 1);
    let mut out = Vec::new();
    for l in lines.iter().skip(start) {
        out.push(l.to_string());
        if l.ends_with("-log  ") {
            break;
        }
    }
    out
}

fn env_to_lines(t: &str) -> Vec<String> {
    t.lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("env_To: "))
        .map(str::to_string)
        .collect()
}

fn result_line(t: &str) -> String {
    t.lines()
        .rev()
        .find(|l| l.starts_with("result: "))
        .unwrap_or("")
        .to_string()
}

/// Compare the recorded files of `recorded` with ours in `ours`
/// (`copies`: per-user copies, whose tables are not compared).
fn compare(recorded: &Path, ours: &Path, copies: bool, bad: &mut Vec<String>) {
    let mine = by_ip(texts(ours));
    for (ip, want) in by_ip(texts(recorded)) {
        let Some(got) = mine.get(&ip) else {
            bad.push(format!("{}: no log for {ip}", ours.display()));
            continue;
        };
        if white_block(got) != white_block(&want) {
            bad.push(format!(
                "{ip}: after the body\n  want {:?}\n   got {:?}",
                white_block(&want),
                white_block(got)
            ));
        }
        // the per-user copies are the main log's text (see the
        // compatibility notes), so their tables are the main log's
        if !copies && table_shape(got) != table_shape(&want) {
            bad.push(format!(
                "{ip}: header and table\n  want {:?}\n   got {:?}",
                table_shape(&want),
                table_shape(got)
            ));
        }
        if env_to_lines(got) != env_to_lines(&want) {
            bad.push(format!(
                "{ip}: env_To lines\n  want {:?}\n   got {:?}",
                env_to_lines(&want),
                env_to_lines(got)
            ));
        }
        if result_line(got) != result_line(&want) {
            bad.push(format!(
                "{ip}: want {:?}, got {:?}",
                result_line(&want),
                result_line(got)
            ));
        }
    }
}

#[test]
fn per_user_scenario_logs() {
    let (diffs, home) = common::run_scenario_kept("g-userdirs");
    assert!(diffs.is_empty(), "{diffs:?}");
    let data = common::data().join("dccm/g-userdirs");
    let mut bad = Vec::new();
    compare(&data.join("logs"), &home.join("logs/g"), false, &mut bad);
    compare(
        &data.join("userdirs-bob-log"),
        &home.join("userdirs/local/bob/log"),
        true,
        &mut bad,
    );
    let _ = std::fs::remove_dir_all(&home);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Run scenario `name` and compare its main log files (`-l` of its
/// command line) with the recorded ones: the lines after the body and
/// the result.
fn main_logs(name: &str) {
    // the answers are checked by the scenario tests (they allow for the
    // random log file names in %ID); here only the files matter
    let (replayed, home) = common::run_scenario_kept(name);
    let data = common::data().join("dccm").join(name);
    let cmd = std::fs::read_to_string(data.join("command.txt")).unwrap();
    let logdir = cmd
        .split_whitespace()
        .skip_while(|w| *w != "-l")
        .nth(1)
        .unwrap_or("logs")
        .to_string();
    let mut bad = Vec::new();
    compare(&data.join("logs"), &home.join(logdir), false, &mut bad);
    let _ = std::fs::remove_dir_all(&home);
    assert!(
        bad.is_empty(),
        "{name}:\n{}\n(differences of the replay, for a hint: {})",
        bad.join("\n"),
        replayed.join("\n")
    );
}

#[test]
fn spam_trap_scenario_logs() {
    main_logs("g2-spam-traps");
}

#[test]
fn log_directory_scenario_logs() {
    main_logs("h1-logdir");
    main_logs("h2-logdir-options");
    main_logs("f6-mail-host-helo-with-l");
}
