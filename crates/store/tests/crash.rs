//! Crash test: a child process adds reports and prints each acknowledged
//! one; it is killed with SIGKILL at a random moment, the database is
//! reopened, and every acknowledged report must be there. The child is this
//! test binary itself, started with an environment variable naming the
//! directory and the implementation.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{ck, report, TempDir};
use tally_ck::CkType;
use tally_store::{Pos, Store};

const ENV_DIR: &str = "TALLY_STORE_CRASH_DIR";
const ENV_IMPL: &str = "TALLY_STORE_CRASH_IMPL";
/// The child stops by itself after this many reports (it is killed long
/// before in practice).
const CHILD_MAX: u32 = 5_000_000;

fn open(kind: &str, dir: &Path) -> Box<dyn Store> {
    match kind {
        #[cfg(feature = "redb")]
        "redb" => Box::new(tally_store::RedbStore::open(dir).unwrap()),
        #[cfg(feature = "fjall")]
        "fjall" => Box::new(tally_store::FjallStore::open(dir).unwrap()),
        _ => Box::new(tally_store::LogStore::open(dir).unwrap()),
    }
}

/// The child's work; does nothing in a normal test run.
#[test]
fn crash_child() {
    let (Ok(dir), Ok(kind)) = (std::env::var(ENV_DIR), std::env::var(ENV_IMPL)) else {
        return;
    };
    let mut s = open(&kind, Path::new(&dir));
    let out = std::io::stdout();
    let start = s.next_pos().0 as u32;
    for i in start..start + CHILD_MAX {
        let r = report(
            1_800_000_000,
            1,
            vec![ck(CkType::Body, i), ck(CkType::Fuz1, i % 100)],
        );
        let a = s.add(&r).unwrap();
        let mut o = out.lock();
        writeln!(o, "ack {} {i}", a.pos.0).unwrap();
        o.flush().unwrap();
    }
}

/// A pseudo-random number from the clock.
fn random(below: u64) -> u64 {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    u64::from(n.wrapping_mul(2_654_435_761)) % below
}

fn crash_rounds(kind: &str) {
    let d = TempDir::new(&format!("crash-{kind}"));
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<(u64, u32)> = Vec::new();
    for _round in 0..3 {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(ENV_DIR, d.path())
            .env(ENV_IMPL, kind)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (first_tx, first_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut w = line.split_whitespace();
                if w.next() == Some("ack") {
                    let pos = w.next().and_then(|v| v.parse().ok()).unwrap();
                    let i = w.next().and_then(|v| v.parse().ok()).unwrap();
                    if got.is_empty() {
                        let _ = first_tx.send(());
                    }
                    got.push((pos, i));
                }
            }
            got
        });
        // Kill at a random moment once the child is under way.
        let started = first_rx.recv_timeout(Duration::from_secs(30)).is_ok();
        std::thread::sleep(Duration::from_millis(random(300)));
        child.kill().unwrap();
        child.wait().unwrap();
        let got = reader.join().unwrap();
        assert!(started && !got.is_empty(), "the child acknowledged nothing");
        acked.extend(got);

        let s = open(kind, d.path());
        for &(pos, i) in &acked {
            let e = s.read_log(Pos(pos - 1), 1).unwrap();
            assert_eq!(
                e.first().map(|e| e.pos),
                Some(Pos(pos)),
                "acknowledged report {i} lost"
            );
            assert_eq!(e[0].report.cks[0], ck(CkType::Body, i));
            assert_eq!(s.total(&ck(CkType::Body, i)).unwrap(), 1);
        }
        assert!(s.next_pos().0 > acked.last().map_or(0, |a| a.0));
    }
    assert!(
        acked.len() > 10,
        "only {} reports acknowledged",
        acked.len()
    );
    eprintln!(
        "{kind}: {} acknowledged reports survived 3 kills",
        acked.len()
    );
}

#[test]
fn kill_9_loses_no_acknowledged_report() {
    if std::env::var(ENV_DIR).is_ok() {
        return;
    }
    crash_rounds("log");
}

#[cfg(feature = "redb")]
#[test]
fn kill_9_loses_no_acknowledged_report_redb() {
    if std::env::var(ENV_DIR).is_ok() {
        return;
    }
    crash_rounds("redb");
}

#[cfg(feature = "fjall")]
#[test]
fn kill_9_loses_no_acknowledged_report_fjall() {
    if std::env::var(ENV_DIR).is_ok() {
        return;
    }
    crash_rounds("fjall");
}
