//! The same database in a redb B-tree file, kept to compare with
//! [`crate::LogStore`] (feature `redb`).
//!
//! Tables: the log (position -> encoded record), the totals (checksum key ->
//! total), the whitelist, the flooding positions and the next position.
//! Each add is one write transaction; with [`SyncPolicy::Always`] it commits
//! with `Durability::Immediate` (fsync), otherwise with
//! `Durability::Eventual`, which writes the commit without waiting for the
//! disk (safe against the process dying, as the log store's default is).

use std::path::{Path, PathBuf};

use redb::{Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::codec::{decode_payload, encode_payload};
use crate::expiry::{Cleaner, Expiry};
use crate::fsutil;
use crate::types::{tgts, Added, Ck, CleanReport, CountPair, LogEntry, Pos, Report, Stats, Ts};
use crate::{Error, Result, Store, SyncPolicy};

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const TOTALS: TableDefinition<&[u8], u32> = TableDefinition::new("totals");
const WHITE: TableDefinition<&[u8], u32> = TableDefinition::new("white");
const PEERS: TableDefinition<u16, u64> = TableDefinition::new("peers");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT: &str = "next";

fn be(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

/// The redb-backed store.
pub struct RedbStore {
    dir: PathBuf,
    db: Database,
    next: Pos,
    policy: SyncPolicy,
}

impl RedbStore {
    /// Open (or create) the database in directory `dir`.
    pub fn open(dir: &Path) -> Result<RedbStore> {
        RedbStore::open_with(dir, SyncPolicy::default())
    }

    /// Open (or create) with a sync policy.
    pub fn open_with(dir: &Path, policy: SyncPolicy) -> Result<RedbStore> {
        std::fs::create_dir_all(dir)?;
        let db = Database::create(dir.join("tally.redb")).map_err(be)?;
        let w = db.begin_write().map_err(be)?;
        let next = {
            w.open_table(LOG).map_err(be)?;
            w.open_table(TOTALS).map_err(be)?;
            w.open_table(WHITE).map_err(be)?;
            w.open_table(PEERS).map_err(be)?;
            let meta = w.open_table(META).map_err(be)?;
            let n = meta
                .get(NEXT)
                .map_err(be)?
                .map_or(Pos::FIRST.0, |v| v.value());
            Pos(n)
        };
        w.commit().map_err(be)?;
        Ok(RedbStore {
            dir: dir.to_path_buf(),
            db,
            next,
            policy,
        })
    }

    fn begin(&self) -> Result<redb::WriteTransaction> {
        let mut w = self.db.begin_write().map_err(be)?;
        w.set_durability(match self.policy {
            SyncPolicy::Always => Durability::Immediate,
            _ => Durability::Eventual,
        });
        Ok(w)
    }

    fn append(&mut self, reports: &[Report]) -> Result<Vec<Added>> {
        let w = self.begin()?;
        let mut out = Vec::with_capacity(reports.len());
        let mut next = self.next.0;
        {
            let mut log = w.open_table(LOG).map_err(be)?;
            let mut totals = w.open_table(TOTALS).map_err(be)?;
            let white = w.open_table(WHITE).map_err(be)?;
            let mut buf = Vec::with_capacity(256);
            for report in reports {
                let pos = Pos(next);
                next += 1;
                buf.clear();
                encode_payload(pos, report, &mut buf);
                log.insert(pos.0, buf.as_slice()).map_err(be)?;
                let mut counts = Vec::with_capacity(report.cks.len());
                for ck in &report.cks {
                    let k = ck.key();
                    let before = totals
                        .get(k.as_slice())
                        .map_err(be)?
                        .map_or(0, |v| v.value());
                    let after = tgts::add(before, report.tgts);
                    totals.insert(k.as_slice(), after).map_err(be)?;
                    counts.push(match white.get(k.as_slice()).map_err(be)? {
                        Some(w) => CountPair {
                            c: w.value(),
                            p: w.value(),
                        },
                        None => CountPair {
                            c: after,
                            p: before,
                        },
                    });
                }
                out.push(Added { pos, counts });
            }
            w.open_table(META)
                .map_err(be)?
                .insert(NEXT, next)
                .map_err(be)?;
        }
        w.commit().map_err(be)?;
        self.next = Pos(next);
        Ok(out)
    }
}

impl Store for RedbStore {
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
        let r = self.db.begin_read().map_err(be)?;
        let k = ck.key();
        if let Some(w) = r
            .open_table(WHITE)
            .map_err(be)?
            .get(k.as_slice())
            .map_err(be)?
        {
            return Ok(w.value());
        }
        let t = r.open_table(TOTALS).map_err(be)?;
        let v = t.get(k.as_slice()).map_err(be)?.map_or(0, |v| v.value());
        Ok(v)
    }

    fn read_log(&self, after: Pos, max: usize) -> Result<Vec<LogEntry>> {
        let r = self.db.begin_read().map_err(be)?;
        let log = r.open_table(LOG).map_err(be)?;
        let mut out = Vec::new();
        for item in log
            .range(after.0.saturating_add(1)..)
            .map_err(be)?
            .take(max.min(4096))
        {
            let (_, v) = item.map_err(be)?;
            out.push(decode_payload(v.value()).ok_or_else(|| Error::Corrupt("log record".into()))?);
        }
        Ok(out)
    }

    fn next_pos(&self) -> Pos {
        self.next
    }

    fn peer_pos(&self, peer: u16) -> Result<Option<Pos>> {
        let r = self.db.begin_read().map_err(be)?;
        let t = r.open_table(PEERS).map_err(be)?;
        let v = t.get(peer).map_err(be)?.map(|v| Pos(v.value()));
        Ok(v)
    }

    fn set_peer_pos(&mut self, peer: u16, pos: Pos) -> Result<()> {
        let w = self.begin()?;
        w.open_table(PEERS)
            .map_err(be)?
            .insert(peer, pos.0)
            .map_err(be)?;
        w.commit().map_err(be)
    }

    fn delete(&mut self, ck: Ck, srvr_id: u16, ts: Ts) -> Result<Pos> {
        let w = self.begin()?;
        let pos = self.next;
        {
            let report = Report::new(ts, srvr_id, tgts::DEL, vec![ck]);
            let mut buf = Vec::new();
            encode_payload(pos, &report, &mut buf);
            w.open_table(LOG)
                .map_err(be)?
                .insert(pos.0, buf.as_slice())
                .map_err(be)?;
            w.open_table(TOTALS)
                .map_err(be)?
                .remove(ck.key().as_slice())
                .map_err(be)?;
            w.open_table(META)
                .map_err(be)?
                .insert(NEXT, pos.0 + 1)
                .map_err(be)?;
        }
        w.commit().map_err(be)?;
        self.next = Pos(pos.0 + 1);
        Ok(pos)
    }

    fn set_whitelist(&mut self, entries: &[(Ck, u32)]) -> Result<()> {
        let w = self.begin()?;
        w.delete_table(WHITE).map_err(be)?;
        {
            let mut t = w.open_table(WHITE).map_err(be)?;
            for (ck, v) in entries {
                t.insert(ck.key().as_slice(), *v).map_err(be)?;
            }
        }
        w.commit().map_err(be)
    }

    fn whitelist(&self) -> Result<Vec<(Ck, u32)>> {
        let r = self.db.begin_read().map_err(be)?;
        let t = r.open_table(WHITE).map_err(be)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(be)? {
            let (k, v) = item.map_err(be)?;
            let ck =
                Ck::from_key(k.value()).ok_or_else(|| Error::Corrupt("whitelist key".into()))?;
            out.push((ck, v.value()));
        }
        out.sort();
        Ok(out)
    }

    fn clean(&mut self, now: u64, policy: &Expiry) -> Result<CleanReport> {
        let mut cleaner = Cleaner::new();
        self.for_each_log(&mut |e| cleaner.note(&e))?;
        let mut w = self.db.begin_write().map_err(be)?;
        w.set_durability(Durability::Immediate);
        let mut rep = CleanReport::default();
        {
            let mut log = w.open_table(LOG).map_err(be)?;
            let old_totals = w.open_table(TOTALS).map_err(be)?;
            let mut changes: Vec<(u64, Option<Vec<u8>>)> = Vec::new();
            for item in log.iter().map_err(be)? {
                let (_, v) = item.map_err(be)?;
                let e =
                    decode_payload(v.value()).ok_or_else(|| Error::Corrupt("log record".into()))?;
                let (pos, n) = (e.pos.0, e.report.cks.len());
                let total = |ck: &Ck| {
                    old_totals
                        .get(ck.key().as_slice())
                        .ok()
                        .flatten()
                        .map_or(0, |v| v.value())
                };
                match cleaner.filter(e, now, policy, total) {
                    None => {
                        rep.removed += 1;
                        changes.push((pos, None));
                    }
                    Some(k) if k.report.cks.len() == n => rep.kept += 1,
                    Some(k) => {
                        rep.trimmed += 1;
                        let mut buf = Vec::new();
                        encode_payload(k.pos, &k.report, &mut buf);
                        changes.push((pos, Some(buf)));
                    }
                }
            }
            drop(old_totals);
            for (pos, v) in changes {
                match v {
                    None => log.remove(pos).map_err(be)?,
                    Some(b) => log.insert(pos, b.as_slice()).map_err(be)?,
                };
            }
        }
        w.delete_table(TOTALS).map_err(be)?;
        {
            let log = w.open_table(LOG).map_err(be)?;
            let mut totals = w.open_table(TOTALS).map_err(be)?;
            for item in log.iter().map_err(be)? {
                let (_, v) = item.map_err(be)?;
                let e =
                    decode_payload(v.value()).ok_or_else(|| Error::Corrupt("log record".into()))?;
                for ck in &e.report.cks {
                    let k = ck.key();
                    if e.report.is_delete() {
                        totals.remove(k.as_slice()).map_err(be)?;
                    } else {
                        let t = totals
                            .get(k.as_slice())
                            .map_err(be)?
                            .map_or(0, |v| v.value());
                        totals
                            .insert(k.as_slice(), tgts::add(t, e.report.tgts))
                            .map_err(be)?;
                    }
                }
            }
        }
        w.commit().map_err(be)?;
        Ok(rep)
    }

    fn for_each_total(&self, f: &mut dyn FnMut(Ck, u32) -> bool) -> Result<()> {
        let r = self.db.begin_read().map_err(be)?;
        let t = r.open_table(TOTALS).map_err(be)?;
        for item in t.iter().map_err(be)? {
            let (k, v) = item.map_err(be)?;
            let ck = Ck::from_key(k.value()).ok_or_else(|| Error::Corrupt("totals key".into()))?;
            if v.value() != 0 && !f(ck, v.value()) {
                break;
            }
        }
        Ok(())
    }

    fn stats(&self) -> Result<Stats> {
        let r = self.db.begin_read().map_err(be)?;
        let records = r.open_table(LOG).map_err(be)?.len().map_err(be)?;
        let checksums = r.open_table(TOTALS).map_err(be)?.len().map_err(be)?;
        let whitelisted = r.open_table(WHITE).map_err(be)?.len().map_err(be)?;
        Ok(Stats {
            records,
            checksums,
            whitelisted,
            disk_bytes: fsutil::dir_bytes(&self.dir)?,
            next_pos: self.next,
        })
    }

    fn sync(&mut self) -> Result<()> {
        // An empty transaction committed with Immediate durability flushes
        // the earlier Eventual commits.
        let mut w = self.db.begin_write().map_err(be)?;
        w.set_durability(Durability::Immediate);
        w.commit().map_err(be)
    }
}

impl RedbStore {
    fn for_each_log(&self, f: &mut dyn FnMut(LogEntry)) -> Result<()> {
        let r = self.db.begin_read().map_err(be)?;
        let log = r.open_table(LOG).map_err(be)?;
        for item in log.iter().map_err(be)? {
            let (_, v) = item.map_err(be)?;
            f(decode_payload(v.value()).ok_or_else(|| Error::Corrupt("log record".into()))?);
        }
        Ok(())
    }
}
