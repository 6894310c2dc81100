//! A small file system for the tests of a full log directory: a tmpfs
//! mounted on a fresh directory under the system temporary directory,
//! filled up and freed again on demand, unmounted and removed when
//! dropped (also when the test fails).
//!
//! Mounting needs root: elsewhere [`SmallFs::mount`] says why not, and
//! the test prints `SKIPPED` and passes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The effective user is root (read from /proc).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|rest| rest.split_whitespace().nth(1))
            .is_some_and(|euid| euid == "0")
    })
}

/// A mounted tmpfs.
#[derive(Debug)]
pub struct SmallFs {
    dir: PathBuf,
}

/// The file that fills the file system.
const FILLER: &str = "filler";

impl SmallFs {
    /// Mount a tmpfs of `kib` KiB on `<tmp>/tally-smallfs-<tag>-<pid>`;
    /// `Err` says why that cannot be done here.
    pub fn mount(tag: &str, kib: u32) -> Result<SmallFs, String> {
        if !is_root() {
            return Err("not running as root (mounting a tmpfs needs root)".into());
        }
        let dir = std::env::temp_dir().join(format!("tally-smallfs-{tag}-{}", std::process::id()));
        let _ = Command::new("umount")
            .arg(&dir)
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={kib}k,mode=0755"),
                "tmpfs",
            ])
            .arg(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(SmallFs { dir }),
            Ok(o) => {
                let _ = std::fs::remove_dir(&dir);
                Err(format!(
                    "mount -t tmpfs on {}: {}",
                    dir.display(),
                    String::from_utf8_lossy(&o.stderr).trim()
                ))
            }
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(format!("cannot run mount: {e}"))
            }
        }
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Fill the file system until a write fails for want of space;
    /// returns the bytes written.
    pub fn fill(&self) -> u64 {
        let p = self.dir.join(FILLER);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .unwrap_or_else(|e| panic!("open {}: {e}", p.display()));
        let block = [b'x'; 4096];
        let mut n = 0u64;
        // bounded: the file system is small
        for _ in 0..1_000_000 {
            match f.write(&block) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k as u64,
            }
        }
        // and the last partial page
        for _ in 0..4096 {
            match f.write(b"x") {
                Ok(1) => n += 1,
                _ => break,
            }
        }
        n
    }

    /// Whether a byte can be written in a new file now.
    pub fn has_room(&self) -> bool {
        let p = self.dir.join("probe");
        let ok = std::fs::write(&p, b"x").is_ok();
        let _ = std::fs::remove_file(&p);
        ok
    }

    /// Free the space taken by [`SmallFs::fill`].
    pub fn free(&self) {
        let p = self.dir.join(FILLER);
        std::fs::remove_file(&p).unwrap_or_else(|e| panic!("unlink {}: {e}", p.display()));
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // still busy: detach it now, the kernel frees it when unused
            let _ = Command::new("umount")
                .arg("-l")
                .arg(&self.dir)
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}
