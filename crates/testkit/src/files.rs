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
