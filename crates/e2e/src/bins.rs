//! Finding the workspace's own programs (dccd, dccproc, dccm, dccifd).
//!
//! Cargo only exposes `CARGO_BIN_EXE_*` for binaries of the crate under test,
//! so the harness looks next to its own test executable instead:
//! `target/<profile>/deps/<test>` -> `target/<profile>/<binary>`. Each binary
//! is (re)built once per test process with `cargo build --bin`, into the
//! same target directory and profile, unless it is already newer than every
//! source file of the workspace; a binary that does not build (e.g. a
//! daemon not written yet) is a skip.

use crate::Skip;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

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

/// The newest modification time of the workspace's sources (every file
/// below `crates/*/src`, the manifests and the lock file).
fn newest_source() -> Option<SystemTime> {
    let root = workspace_root();
    let mut newest = None;
    let mut stack: Vec<PathBuf> = vec![root.join("Cargo.toml"), root.join("Cargo.lock")];
    for krate in std::fs::read_dir(root.join("crates")).ok()?.flatten() {
        stack.push(krate.path().join("src"));
        stack.push(krate.path().join("Cargo.toml"));
    }
    let mut seen = 0usize;
    while let Some(p) = stack.pop() {
        seen += 1;
        if seen > 100_000 {
            return None;
        }
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        } else if let Ok(m) = meta.modified() {
            newest = newest.max(Some(m));
        }
    }
    newest
}

/// An existing binary newer than every source file can be used as it is
/// (e.g. after `cargo test --workspace` built everything), which avoids a
/// second build with other feature unification.
fn up_to_date(exe: &Path) -> bool {
    let Ok(built) = std::fs::metadata(exe).and_then(|m| m.modified()) else {
        return false;
    };
    newest_source().is_some_and(|src| built >= src)
}

fn build(name: &str) -> Result<PathBuf, Skip> {
    let dir = profile_dir().ok_or_else(|| Skip("cannot find the target directory".into()))?;
    let exe = dir.join(name);
    if up_to_date(&exe) {
        return Ok(exe);
    }
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

/// Run the workspace program `name` (built if needed) with `args` and
/// `input` on its standard input, for at most a minute; panics when it
/// cannot be built or run.
pub fn run(name: &str, args: &[&str], input: &[u8]) -> crate::proc::Output {
    let exe = binary(name).unwrap_or_else(|s| panic!("{name}: {s}"));
    let mut cmd = std::process::Command::new(exe);
    cmd.args(args);
    match crate::proc::run(cmd, input, std::time::Duration::from_secs(60)) {
        Ok(o) => o,
        Err(e) => panic!("{name} did not run: {e}"),
    }
}
