//! Start dccd with `-M 127.0.0.1,0`, learn the listener's address from its
//! standard error, scrape and read the metrics.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A dccd with its statistics listener.
pub struct Served {
    pub child: Child,
    /// The UDP address of the server.
    pub udp: SocketAddr,
    /// The statistics listener.
    pub http: SocketAddr,
    pub home: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// Start dccd -i 1100 on `port` with `-M 127.0.0.1,0`, `extra` options and
/// `env`; wait (at most 10 s) for the line naming the listener.
pub fn start(home: &Path, port: u16, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dccd"))
        .args(["-b", "-i", "1100", "-n", "vecbrand", "-h"])
        .arg(home)
        .args(["-a", &format!("127.0.0.1,{port}"), "-M", "127.0.0.1,0"])
        .args(extra)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    let http = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(rest) = line.split("statistics on http://").nth(1) {
                    break rest.trim_end_matches('/').parse().unwrap();
                }
                seen.push(line);
            }
            Err(_) => panic!("no statistics line from dccd in 10 s: {seen:?}"),
        }
    };
    Served {
        child,
        udp: format!("127.0.0.1:{port}").parse().unwrap(),
        http,
        home: home.to_path_buf(),
    }
}

/// The value of `name{label=value}` in a scrape (0 when absent).
pub fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let samples = tally_stats::text::parse(text).unwrap();
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels.len() == s.labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(a, b)| a == k && b == v))
        })
        .map_or(0.0, |s| s.value)
}

/// Scrape `/metrics`.
pub fn scrape(http: SocketAddr) -> String {
    tally_stats::client::get(http, "/metrics").unwrap()
}
