//! Utilities shared by the store tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use tally_ck::{CkType, Sum};
use tally_store::{Ck, Report, Ts};

/// A temporary directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("tally-store-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A checksum of type `ty` whose value is derived from `n`.
pub fn ck(ty: CkType, n: u32) -> Ck {
    let mut s = [0u8; 16];
    s[..4].copy_from_slice(&n.to_be_bytes());
    s[15] = ty.number();
    Ck::new(ty, Sum(s))
}

/// A report at `secs` from server 1100.
pub fn report(secs: u64, tgts: u32, cks: Vec<Ck>) -> Report {
    Report::new(Ts::new(secs, 0), 1100, tgts, cks)
}
