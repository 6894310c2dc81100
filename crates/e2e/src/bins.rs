//! Finding the workspace's own programs (dccd, dccproc, dccm, dccifd).
//!
//! Cargo only exposes `CARGO_BIN_EXE_*` for binaries of the crate under test,
//! so the harness looks next to its own test executable instead:
//! `target/<profile>/deps/<test>` -> `target/<profile>/<binary>`. Each binary
//! is (re)built once per test process with `cargo build --bin`, into the
//! same target directory and profile, so a stale copy is never used; a
//! binary that does not build (e.g. a daemon not written yet) is a skip.

use crate::Skip;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

static BUILT: OnceLock<Mutex<HashMap<String, Result<PathBuf, Skip>>>> = OnceLock::new();

/// `target/<profile>` of the running test executable.
fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    if deps.file_name()? == "deps" {
        Some(deps.parent()?.to_path_buf())
    } else {
        Some(deps.to_path_buf())
    }
}

/// The path of the workspace binary `name`, built if needed.
pub fn binary(name: &str) -> Result<PathBuf, Skip> {
    let map = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut guard = match map.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(r) = guard.get(name) {
        return r.clone();
    }
    let r = build(name);
    guard.insert(name.to_string(), r.clone());
    r
}

/// The workspace root (a virtual manifest: every member is a default
/// member there, so `--bin` finds any workspace binary).
fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .nth(2)
        .map_or_else(|| here.to_path_buf(), Path::to_path_buf)
}

fn build(name: &str) -> Result<PathBuf, Skip> {
    let dir = profile_dir().ok_or_else(|| Skip("cannot find the target directory".into()))?;
    let exe = dir.join(name);
    let target = dir
        .parent()
        .ok_or_else(|| Skip("cannot find the target directory".into()))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-q", "--bin", name, "--target-dir"])
        .arg(target)
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let out = cmd.output();
    let ok = out.as_ref().is_ok_and(|o| o.status.success());
    if ok && exe.exists() {
        return Ok(exe);
    }
    let why = match &out {
        Ok(o) => String::from_utf8_lossy(&o.stderr)
            .lines()
            .find(|l| l.contains("error"))
            .unwrap_or("build failed")
            .to_string(),
        Err(e) => e.to_string(),
    };
    Err(Skip(format!("`{name}` could not be built: {why}")))
}
