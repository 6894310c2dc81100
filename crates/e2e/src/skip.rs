//! Deciding whether an end-to-end scene can run on this machine.
//!
//! On a developer machine without Postfix, sendmail or SpamAssassin, or
//! without root (the mail systems must be started as root), the tests print
//! why and pass instead of failing. CI installs the software with
//! `scripts/e2e-deps.sh`.

use std::path::{Path, PathBuf};

/// Why a test cannot run here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Skip the rest of a test (printing the reason) when `$e` is an `Err(Skip)`.
#[macro_export]
macro_rules! require {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(skip) => {
                eprintln!(
                    "SKIPPED {}: {}",
                    std::thread::current().name().unwrap_or(module_path!()),
                    skip
                );
                return;
            }
        }
    };
}

/// The effective user is root (read from /proc, no system call needed).
pub fn is_root() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .is_some_and(|euid| euid == "0")
}

/// Fails with a Skip unless running as root.
pub fn root() -> Result<(), Skip> {
    if is_root() {
        Ok(())
    } else {
        Err(Skip(
            "not running as root (the mail systems need root)".into(),
        ))
    }
}

/// The path of an installed program, looked up in PATH and the sbin
/// directories (which a non-login root shell may lack).
pub fn program(name: &str) -> Result<PathBuf, Skip> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin"];
    std::env::split_paths(&path)
        .chain(extra.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
        .ok_or_else(|| {
            Skip(format!(
                "`{name}` is not installed (scripts/e2e-deps.sh installs it)"
            ))
        })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
