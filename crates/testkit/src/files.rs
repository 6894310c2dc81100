//! Scratch directories and DCC client configuration files for tests.

pub use crate::fake_dccd::map_text;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A fresh, empty directory `<prefix>-<name>-<pid>` under the system
/// temporary directory, used as a DCC home directory. Whatever an earlier
/// run left there is removed first.
pub fn scratch(prefix: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("{prefix}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch directory");
    d
}

/// Write `home/map` pointing at the server at `addr`; returns its path.
pub fn write_map(home: &Path, addr: SocketAddr) -> PathBuf {
    let p = home.join("map");
    std::fs::write(&p, map_text(addr)).expect("write map file");
    p
}

/// The text of the log file in `dir` of the message with the subject
/// `subject`, waiting for it to appear (at most about 2 s).
pub fn log_with_subject(dir: &Path, subject: &str) -> String {
    let needle = format!("Subject: {subject}\n");
    for _ in 0..100 {
        let found = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .filter(|e| e.path().is_file())
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .find(|t| t.contains(&needle));
        if let Some(t) = found {
            return t;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("no log file for {subject}");
}

/// The texts of the files directly in `dir` (bytes that are not UTF-8
/// shown as U+FFFD), sorted; none when `dir` cannot be read.
pub fn texts(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_file())
                .filter_map(|e| std::fs::read(e.path()).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
