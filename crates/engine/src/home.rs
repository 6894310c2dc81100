//! Where a command-line client works: the DCC home directory (`-h`), paths
//! relative to it, and this host's name for X-DCC headers.

use crate::errno_str;
use std::path::{Path, PathBuf};

/// The compiled-in DCC home directory.
pub const DCC_HOMEDIR: &str = "/var/dcc";

/// This host's name for X-DCC headers.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// `p` made absolute against `base`.
pub fn absolute(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The DCC home directory: `-h homedir` (relative to `cwd`) when it is a
/// directory, else the compiled-in one, else `cwd`; each directory that
/// cannot be used is complained about as the original does.
pub fn home_dir(homedir: Option<&str>, cwd: &Path, complain: &mut dyn FnMut(&str)) -> PathBuf {
    let try_dir = |d: &Path, complain: &mut dyn FnMut(&str)| -> bool {
        match std::fs::metadata(d) {
            Ok(m) if m.is_dir() => true,
            Ok(_) => {
                complain(&format!("chdir({}): Not a directory", d.display()));
                false
            }
            Err(e) => {
                complain(&format!("chdir({}): {}", d.display(), errno_str(&e)));
                false
            }
        }
    };
    if let Some(h) = homedir {
        if h.is_empty() {
            complain("invalid null DCC home directory");
        } else {
            let d = absolute(cwd, h);
            if try_dir(&d, complain) {
                return d;
            }
        }
    }
    let default = PathBuf::from(DCC_HOMEDIR);
    if try_dir(&default, complain) {
        default
    } else {
        cwd.to_path_buf()
    }
}
