//! The same database in a fjall LSM tree, kept to compare with
//! [`crate::LogStore`] (feature `fjall`).
//!
//! Partitions: the log (big-endian position -> encoded record), the totals
//! (checksum key -> total), the whitelist, the flooding positions and the
//! next position. Each add is one write batch, which fjall appends to its
//! journal and hands to the operating system before returning (safe
//! against the process dying); with [`SyncPolicy::Always`] the batch is
//! also `fdatasync`ed. Cleaning is done in several batches and is not
//! atomic as a whole.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use fjall::{Batch, Config, Keyspace, PartitionCreateOptions, PartitionHandle, PersistMode};

use crate::codec::{decode_payload, encode_payload};
use crate::expiry::{Cleaner, Expiry};
use crate::fsutil;
use crate::types::{tgts, Added, Ck, CleanReport, CountPair, LogEntry, Pos, Report, Stats, Ts};
use crate::{Error, Result, Store, SyncPolicy};

const NEXT: &[u8] = b"next";
/// Changes per batch while cleaning.
const CLEAN_BATCH: usize = 10_000;

fn be(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

fn u32_of(v: &[u8]) -> u32 {
    v.try_into().map(u32::from_le_bytes).unwrap_or(0)
}

fn u64_of(v: &[u8]) -> u64 {
    v.try_into().map(u64::from_le_bytes).unwrap_or(0)
}

/// The fjall-backed store.
pub struct FjallStore {
    dir: PathBuf,
    ks: Keyspace,
    log: PartitionHandle,
    totals: PartitionHandle,
    white: PartitionHandle,
    peers: PartitionHandle,
    meta: PartitionHandle,
    next: Pos,
    policy: SyncPolicy,
}

impl FjallStore {
    /// Open (or create) the database in directory `dir`.
    pub fn open(dir: &Path) -> Result<FjallStore> {
        FjallStore::open_with(dir, SyncPolicy::default())
    }

    /// Open (or create) with a sync policy.
    pub fn open_with(dir: &Path, policy: SyncPolicy) -> Result<FjallStore> {
        std::fs::create_dir_all(dir)?;
        let ks = Config::new(dir.join("fjall")).open().map_err(be)?;
        let p = |name: &str| {
            ks.open_partition(name, PartitionCreateOptions::default())
                .map_err(be)
        };
        let (log, totals, white, peers, meta) = (
            p("log")?,
            p("totals")?,
            p("white")?,
            p("peers")?,
            p("meta")?,
        );
        let next = meta
            .get(NEXT)
            .map_err(be)?
            .map_or(Pos::FIRST.0, |v| u64_of(&v));
        Ok(FjallStore {
            dir: dir.to_path_buf(),
            ks,
            log,
            totals,
            white,
            peers,
            meta,
            next: Pos(next),
            policy,
        })
    }

    fn batch(&self) -> Batch {
        let b = self.ks.batch();
        match self.policy {
            SyncPolicy::Always => b.durability(Some(PersistMode::SyncData)),
            _ => b,
        }
    }

    fn raw_total(&self, k: &[u8]) -> Result<u32> {
        Ok(self.totals.get(k).map_err(be)?.map_or(0, |v| u32_of(&v)))
    }

    fn append(&mut self, reports: &[Report]) -> Result<Vec<Added>> {
        let mut b = self.batch();
        let mut out = Vec::with_capacity(reports.len());
        let mut overlay: HashMap<[u8; 17], u32> = HashMap::new();
        let mut next = self.next.0;
        for report in reports {
            let pos = Pos(next);
            next += 1;
            let mut buf = Vec::with_capacity(128);
            encode_payload(pos, report, &mut buf);
            b.insert(&self.log, pos.0.to_be_bytes(), buf);
            let mut counts = Vec::with_capacity(report.cks.len());
            for ck in &report.cks {
                let k = ck.key();
                let before = match overlay.get(&k) {
                    Some(&t) => t,
                    None => self.raw_total(&k)?,
                };
                let after = tgts::add(before, report.tgts);
                overlay.insert(k, after);
                b.insert(&self.totals, k, after.to_le_bytes());
                counts.push(match self.white.get(k).map_err(be)? {
                    Some(w) => CountPair {
                        c: u32_of(&w),
                        p: u32_of(&w),
                    },
                    None => CountPair {
                        c: after,
                        p: before,
                    },
                });
            }
            out.push(Added { pos, counts });
        }
        b.insert(&self.meta, NEXT, next.to_le_bytes());
        b.commit().map_err(be)?;
        self.next = Pos(next);
        Ok(out)
    }

    fn entries(&self) -> impl Iterator<Item = Result<LogEntry>> + '_ {
        self.log.iter().map(|kv| {
            let (_, v) = kv.map_err(be)?;
            decode_payload(&v).ok_or_else(|| Error::Corrupt("log record".into()))
        })
    }
}

impl Store for FjallStore {
    fn add(&mut self, report: &Report) -> Result<Added> {
        report.validate()?;
        self.append(std::slice::from_ref(report))?
            .pop()
            .ok_or(Error::Invalid("empty"))
    }

    fn add_batch(&mut self, reports: &[Report]) -> Result<Vec<Added>> {
        for r in reports {
            r.validate()?;
        }
        self.append(reports)
    }

    fn total(&self, ck: &Ck) -> Result<u32> {
        let k = ck.key();
        match self.white.get(k).map_err(be)? {
            Some(w) => Ok(u32_of(&w)),
            None => self.raw_total(&k),
        }
    }

    fn read_log(&self, after: Pos, max: usize) -> Result<Vec<LogEntry>> {
        let from = after.0.saturating_add(1).to_be_bytes();
        let mut out = Vec::new();
        for kv in self.log.range(from..).take(max.min(4096)) {
            let (_, v) = kv.map_err(be)?;
            out.push(decode_payload(&v).ok_or_else(|| Error::Corrupt("log record".into()))?);
        }
        Ok(out)
    }

    fn next_pos(&self) -> Pos {
        self.next
    }

    fn peer_pos(&self, peer: u16) -> Result<Option<Pos>> {
        Ok(self
            .peers
            .get(peer.to_be_bytes())
            .map_err(be)?
            .map(|v| Pos(u64_of(&v))))
    }

    fn set_peer_pos(&mut self, peer: u16, pos: Pos) -> Result<()> {
        let mut b = self.ks.batch().durability(Some(PersistMode::SyncData));
        b.insert(&self.peers, peer.to_be_bytes(), pos.0.to_le_bytes());
        b.commit().map_err(be)
    }

    fn delete(&mut self, ck: Ck, srvr_id: u16, ts: Ts) -> Result<Pos> {
        let pos = self.next;
        let mut buf = Vec::new();
        encode_payload(
            pos,
            &Report::new(ts, srvr_id, tgts::DEL, vec![ck]),
            &mut buf,
        );
        let mut b = self.batch();
        b.insert(&self.log, pos.0.to_be_bytes(), buf);
        b.remove(&self.totals, ck.key());
        b.insert(&self.meta, NEXT, (pos.0 + 1).to_le_bytes());
        b.commit().map_err(be)?;
        self.next = Pos(pos.0 + 1);
        Ok(pos)
    }

    fn set_whitelist(&mut self, entries: &[(Ck, u32)]) -> Result<()> {
        let mut b = self.ks.batch().durability(Some(PersistMode::SyncData));
        for kv in self.white.iter() {
            b.remove(&self.white, kv.map_err(be)?.0);
        }
        for (ck, v) in entries {
            b.insert(&self.white, ck.key(), v.to_le_bytes());
        }
        b.commit().map_err(be)
    }

    fn whitelist(&self) -> Result<Vec<(Ck, u32)>> {
        let mut out = Vec::new();
        for kv in self.white.iter() {
            let (k, v) = kv.map_err(be)?;
            let ck = Ck::from_key(&k).ok_or_else(|| Error::Corrupt("whitelist key".into()))?;
            out.push((ck, u32_of(&v)));
        }
        out.sort();
        Ok(out)
    }

    fn clean(&mut self, now: u64, policy: &Expiry) -> Result<CleanReport> {
        let mut cleaner = Cleaner::new();
        for e in self.entries() {
            cleaner.note(&e?);
        }
        let mut rep = CleanReport::default();
        let mut new_totals: HashMap<[u8; 17], u32> = HashMap::new();
        let mut b = self.ks.batch();
        for e in self.entries() {
            let e = e?;
            let (pos, n) = (e.pos.0, e.report.cks.len());
            let kept = cleaner.filter(e, now, policy, |ck| self.raw_total(&ck.key()).unwrap_or(0));
            match &kept {
                None => {
                    rep.removed += 1;
                    b.remove(&self.log, pos.to_be_bytes());
                }
                Some(k) if k.report.cks.len() == n => rep.kept += 1,
                Some(k) => {
                    rep.trimmed += 1;
                    let mut buf = Vec::new();
                    encode_payload(k.pos, &k.report, &mut buf);
                    b.insert(&self.log, pos.to_be_bytes(), buf);
                }
            }
            if let Some(k) = kept {
                for ck in &k.report.cks {
                    if k.report.is_delete() {
                        new_totals.remove(&ck.key());
                    } else {
                        let t = new_totals.entry(ck.key()).or_insert(0);
                        *t = tgts::add(*t, k.report.tgts);
                    }
                }
            }
            if b.len() >= CLEAN_BATCH {
                std::mem::replace(&mut b, self.ks.batch())
                    .commit()
                    .map_err(be)?;
            }
        }
        // Old totals are read during the pass above, so they are replaced only now.
        for kv in self.totals.iter() {
            let (k, _) = kv.map_err(be)?;
            if !k
                .as_ref()
                .try_into()
                .is_ok_and(|k: [u8; 17]| new_totals.contains_key(&k))
            {
                b.remove(&self.totals, k);
            }
            if b.len() >= CLEAN_BATCH {
                std::mem::replace(&mut b, self.ks.batch())
                    .commit()
                    .map_err(be)?;
            }
        }
        for (k, t) in new_totals {
            b.insert(&self.totals, k, t.to_le_bytes());
            if b.len() >= CLEAN_BATCH {
                std::mem::replace(&mut b, self.ks.batch())
                    .commit()
                    .map_err(be)?;
            }
        }
        b.commit().map_err(be)?;
        self.ks.persist(PersistMode::SyncData).map_err(be)?;
        Ok(rep)
    }

    fn for_each_total(&self, f: &mut dyn FnMut(Ck, u32) -> bool) -> Result<()> {
        for kv in self.totals.iter() {
            let (k, v) = kv.map_err(be)?;
            let ck = Ck::from_key(&k).ok_or_else(|| Error::Corrupt("totals key".into()))?;
            let t = u32_of(&v);
            if t != 0 && !f(ck, t) {
                break;
            }
        }
        Ok(())
    }

    fn stats(&self) -> Result<Stats> {
        Ok(Stats {
            records: self.log.len().map_err(be)? as u64,
            checksums: self.totals.len().map_err(be)? as u64,
            whitelisted: self.white.len().map_err(be)? as u64,
            disk_bytes: dir_tree_bytes(&self.dir)?,
            next_pos: self.next,
        })
    }

    fn sync(&mut self) -> Result<()> {
        self.ks.persist(PersistMode::SyncData).map_err(be)
    }
}

/// Bytes of all files under `dir` (fjall keeps a tree of folders).
fn dir_tree_bytes(dir: &Path) -> Result<u64> {
    let mut n = fsutil::dir_bytes(dir)?;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            n += dir_tree_bytes(&e.path())?;
        }
    }
    Ok(n)
}
