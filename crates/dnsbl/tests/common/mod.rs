//! Shared by the tests: the recorded scenarios (tests/data) and their sessions.
#![allow(dead_code)]

use std::net::IpAddr;
use std::path::PathBuf;

use tally_dnsbl::reply::Template;
use tally_dnsbl::{Client, Mode, Parser, Settings, Targets};

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn read(name: &str) -> String {
    std::fs::read_to_string(data(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// One session (dccm, dccifd) or run (dccproc) of a scenario.
#[derive(Clone, Debug)]
pub struct Session {
    pub args: Vec<String>,
    pub targets: Targets,
    pub id: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub mode: Mode,
    pub first_r: Option<String>,
    pub on: [bool; 4],
    /// The program's answers show no SMTP reply (dccproc, dccifd's ASCII protocol).
    pub no_reply: bool,
    pub sessions: Vec<Session>,
}

impl Scenario {
    pub fn settings(&self, s: &Session) -> Settings {
        Parser::parse_all(s.args.iter().map(String::as_str)).0
    }

    pub fn default_reply(&self) -> Template {
        Template::parse_reject(
            self.first_r
                .as_deref()
                .unwrap_or("5.7.1 550 mail %ID from %CIP rejected by DCC"),
        )
    }
}

/// Reads tests/data/sessions.txt.
pub fn scenarios() -> Vec<Scenario> {
    let mut out: Vec<Scenario> = Vec::new();
    let mut args: Vec<String> = Vec::new();
    for line in read("sessions.txt").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push(Scenario {
                name: name.to_string(),
                mode: Mode::Daemon,
                first_r: None,
                on: [false; 4],
                no_reply: false,
                sessions: Vec::new(),
            });
            args.clear();
            continue;
        }
        let sc = out.last_mut().expect("a [scenario] first");
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "mode" => {
                sc.mode = if rest == "direct" {
                    sc.no_reply = true;
                    Mode::Direct
                } else {
                    Mode::Daemon
                }
            }
            "reply" => sc.no_reply = rest == "none",
            "r" => sc.first_r = Some(rest.to_string()),
            "args" => args = rest.split(" | ").map(str::to_string).collect(),
            "on" => {
                for g in rest.split_whitespace() {
                    sc.on[g.parse::<usize>().unwrap() - 1] = true;
                }
            }
            "session" => {
                let mut ip: IpAddr = "192.0.2.10".parse().unwrap();
                let mut name: Option<Option<String>> = None;
                let mut from = Some("clean.example".to_string());
                let mut urls = Vec::new();
                let mut id = None;
                for f in rest.split_whitespace() {
                    let (k, v) = f.split_once('=').unwrap();
                    match k {
                        "ip" => ip = v.parse().unwrap(),
                        "name" => name = Some(Some(v.to_string())),
                        "from" => from = (!v.is_empty()).then(|| v.to_string()),
                        "url" => urls.push(v.to_string()),
                        "id" => id = Some(v.to_string()),
                        _ => panic!("unknown session field {k}"),
                    }
                }
                let name = name.unwrap_or(match sc.mode {
                    Mode::Daemon => Some(format!("[{ip}]")),
                    Mode::Direct => None,
                });
                sc.sessions.push(Session {
                    args: args.clone(),
                    targets: Targets {
                        client: Some(Client { ip, name }),
                        mail_host: from,
                        urls,
                    },
                    id,
                });
            }
            _ => panic!("unknown line {line}"),
        }
    }
    out
}

/// What a scenario's notes say of one session.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    pub heading: String,
    /// `QTYPE name` of each query, retransmissions of dropped ones removed.
    pub queries: Vec<String>,
    /// The same with retransmissions.
    pub raw_queries: Vec<String>,
    /// The first SMTP reply other than continue, if any; a reply the notes cut
    /// short ends with `\u{1}`.
    pub reply: Option<String>,
}

/// Reads tests/data/recorded/<scenario>.md: the sessions and the DNSBL log lines.
pub fn recorded(scenario: &str) -> (Vec<Recorded>, Vec<String>) {
    let (s, l, _) = recorded_all(scenario);
    (s, l)
}

/// The same and the DNSBL parts of the log files' decision lines
/// (`DNSBL1-->spam(off)  DNSBL2-->spam`).
pub fn recorded_all(scenario: &str) -> (Vec<Recorded>, Vec<String>, Vec<String>) {
    let mut decisions = Vec::new();
    let text = read(&format!("recorded/{scenario}.md"));
    let mut sessions: Vec<Recorded> = Vec::new();
    let mut logs = Vec::new();
    let mut in_logs = false;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("## Log files") {
            in_logs = true;
        } else if line.starts_with("## ") && in_logs {
            in_logs = false;
        }
        if in_logs {
            let l = line.trim();
            let is_hit = l.starts_with("DNSBL")
                || l.split_once(' ')
                    .is_some_and(|(_, r)| r.starts_with("DNSBL"));
            if is_hit && !l.contains("-->") && !l.contains("(timeout)") {
                logs.push(l.to_string());
            } else if l.contains("-->") || l.contains("(timeout)") {
                let parts: Vec<&str> = l.split("  ").filter(|p| p.starts_with("DNSBL")).collect();
                if !parts.is_empty() {
                    decisions.push(parts.join("  "));
                }
            }
            continue;
        }
        if let Some(h) = line.strip_prefix("### ") {
            sessions.push(Recorded {
                heading: h.to_string(),
                ..Default::default()
            });
            continue;
        }
        let Some(cur) = sessions.last_mut() else {
            continue;
        };
        if let Some(i) = line.find("REPLYCODE(y) '") {
            if cur.reply.is_none() {
                // Long replies are cut in the notes and end with a backquote.
                let r = &line[i + 14..];
                cur.reply = Some(match r.split_once('\'') {
                    Some((whole, _)) => whole.to_string(),
                    None => format!("{}\u{1}", r.trim_end_matches('`')),
                });
            }
        }
        if line.starts_with("DNS queries in order") {
            lines.next(); // blank line
            lines.next(); // ```
            let mut prev = String::new();
            for q in lines.by_ref() {
                if q.starts_with("```") {
                    break;
                }
                if q == "(none)" {
                    continue;
                }
                cur.raw_queries
                    .push(q.split(" -> ").next().unwrap_or(q).to_string());
                if q.ends_with("DROPPED (no answer)") && q == prev {
                    continue;
                }
                prev = q.to_string();
                let asked = q.split(" -> ").next().unwrap_or(q);
                cur.queries.push(asked.to_string());
            }
        }
    }
    (sessions, logs, decisions)
}
