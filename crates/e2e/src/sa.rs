//! SpamAssassin with its DCC plugin pointed at our dccifd.
//!
//! A private site configuration directory (used with `--siteconfigpath`)
//! starts as a copy of the system's `.pre` and `.cf` files, with the plugins
//! that would use the network (DNS lists, Razor, Pyzor, SPF, DKIM, ...)
//! commented out, and adds: `loadplugin ...::DCC`, `use_dcc 1`,
//! `dcc_dccifd_path <socket>`, `dns_available no`. Local-only mode (`-L`)
//! is not used because the DCC plugin counts as a network test and would
//! switch itself off.

use crate::proc::{self, Output};
use crate::tmp::TempDir;
use crate::{skip, Skip};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Plugins whose `loadplugin` lines are disabled in the private copy.
const NET_PLUGINS: &[&str] = &[
    "URIDNSBL",
    "SPF",
    "Pyzor",
    "Razor2",
    "SpamCop",
    "DKIM",
    "DNSEval",
    "AskDNS",
    "HashBL",
    "DMARC",
    "DecodeShortURLs",
    "TxRep",
];

/// The system's site configuration directory.
const SYSTEM_SITE: &str = "/etc/spamassassin";

/// A private SpamAssassin configuration.
#[derive(Debug)]
pub struct SpamAssassin {
    dir: TempDir,
    exe: PathBuf,
}

fn io(e: std::io::Error) -> Skip {
    Skip(format!("set-up failed: {e}"))
}

impl SpamAssassin {
    /// Write the configuration for the dccifd socket `dccifd`; skips when
    /// SpamAssassin is not installed.
    pub fn new(dccifd: &Path) -> Result<SpamAssassin, Skip> {
        let exe = skip::program("spamassassin")?;
        let dir = TempDir::new("sa").map_err(io)?;
        let site = dir.subdir("site").map_err(io)?;
        dir.subdir("home").map_err(io)?;
        let entries = std::fs::read_dir(SYSTEM_SITE).map_err(io)?;
        for e in entries.flatten() {
            let path = e.path();
            let ext = path.extension().and_then(|x| x.to_str()).unwrap_or("");
            if ext != "pre" && ext != "cf" {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let name = e.file_name();
            std::fs::write(site.join(&name), disable_net_plugins(&text)).map_err(io)?;
        }
        std::fs::write(
            site.join("zz-tally-dcc.pre"),
            "loadplugin Mail::SpamAssassin::Plugin::DCC\n",
        )
        .map_err(io)?;
        std::fs::write(
            site.join("zz-tally-dcc.cf"),
            format!(
                "dns_available no\n\
                 dns_server 127.0.0.1\n\
                 skip_rbl_checks 1\n\
                 use_bayes 0\n\
                 bayes_auto_learn 0\n\
                 use_dcc 1\n\
                 dcc_dccifd_path {}\n\
                 dcc_timeout 10\n",
                dccifd.display()
            ),
        )
        .map_err(io)?;
        std::fs::write(dir.path().join("user_prefs"), b"").map_err(io)?;
        Ok(SpamAssassin { dir, exe })
    }

    /// `spamassassin -t -D dcc` on `message` (at most 120 s): the report on
    /// standard output, the DCC plugin's debug lines on standard error.
    pub fn check(&self, message: &[u8]) -> Output {
        let mut cmd = Command::new(&self.exe);
        cmd.arg(format!(
            "--siteconfigpath={}",
            self.dir.path().join("site").display()
        ))
        .arg("-p")
        .arg(self.dir.path().join("user_prefs"))
        .args(["-x", "-t", "-D", "dcc"])
        .env("HOME", self.dir.path().join("home"));
        match proc::run(cmd, message, Duration::from_secs(120)) {
            Ok(o) => o,
            Err(e) => panic!("cannot run spamassassin: {e}"),
        }
    }
}

/// Comment out the `loadplugin` lines of the network plugins.
pub fn disable_net_plugins(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let is_net = words.next() == Some("loadplugin")
            && words.next().is_some_and(|p| {
                NET_PLUGINS
                    .iter()
                    .any(|n| p == format!("Mail::SpamAssassin::Plugin::{n}"))
            });
        if is_net {
            out.push_str("# disabled for the tests (network): ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The names of the rules that hit, from the `-t` report's table
/// (lines like ` 1.1 DCC_CHECK   Detected as bulk mail by DCC`).
pub fn rules_hit(report: &str) -> Vec<String> {
    report
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let score = w.next()?;
            let name = w.next()?;
            let numeric = score.parse::<f64>().is_ok();
            let rule_like = name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            (numeric && rule_like && !name.is_empty()).then(|| name.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_plugins_are_commented_out() {
        let t = disable_net_plugins(
            "loadplugin Mail::SpamAssassin::Plugin::SPF\n\
             loadplugin Mail::SpamAssassin::Plugin::Check\n\
             #loadplugin Mail::SpamAssassin::Plugin::DCC\n",
        );
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("# disabled"));
        assert_eq!(lines[1], "loadplugin Mail::SpamAssassin::Plugin::Check");
        assert_eq!(lines[2], "#loadplugin Mail::SpamAssassin::Plugin::DCC");
    }

    #[test]
    fn rule_names_from_report() {
        let report = "Content analysis details:   (2.1 points, 5.0 required)\n\n \
                      pts rule name              description\n\
                      ---- ---------------------- ----------\n \
                      1.1 DCC_CHECK              Detected as bulk mail by DCC\n \
                      1.0 RCVD_ILLEGAL_IP        Received: contains illegal IP\n";
        assert_eq!(rules_hit(report), ["DCC_CHECK", "RCVD_ILLEGAL_IP"]);
    }
}
