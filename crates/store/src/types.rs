//! The values the database keeps: checksums, reports, timestamps, log
//! positions and target counts.

/// Target counts as the database keeps them: 24 bits, with the values just
/// below 2^24 reserved for special meanings (the same numbers as on the wire).
pub mod tgts {
    /// `many`: a total at or above this is bulk for certain; sums saturate here.
    pub const MANY: u32 = 0x00ff_fff0;
    /// A whitelisted checksum ("OK").
    pub const OK: u32 = 0x00ff_fff1;
    /// Half whitelisted ("OK2").
    pub const OK2: u32 = 0x00ff_fff2;
    /// The target count of a deletion record in the log (and in floods).
    pub const DEL: u32 = 0x00ff_fff3;
    /// The largest value a whitelist entry may carry.
    pub const SPECIAL_MAX: u32 = 0x00ff_ffff;
    /// Totals at or above this are "bulk" for expiry: their reports are kept
    /// for the long (`-E`) time instead of the short (`-e`) one.
    pub const BULK_THRESHOLD: u32 = 10;

    /// Add a report's count to a total, saturating at [`MANY`].
    pub fn add(total: u32, n: u32) -> u32 {
        total.saturating_add(n).min(MANY)
    }
}

/// The most checksums one report can carry (as in a flooded record).
pub const MAX_CKS: usize = 14;
/// The longest flooding path kept with a report.
pub const MAX_PATH: usize = 8;

pub use tally_ck::Ck;

/// A DCC timestamp: 48 bits, seconds shifted left by 17 with the
/// microseconds divided by 8 below (the form of flooded records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Ts(pub u64);

impl Ts {
    /// The timestamp of a time given in seconds and microseconds.
    pub fn new(secs: u64, micros: u32) -> Ts {
        let us = u64::from(micros.min(999_999)) / 8;
        Ts(((secs << 17) | us) & 0xffff_ffff_ffff)
    }

    /// Whole seconds since the epoch.
    pub fn secs(self) -> u64 {
        self.0 >> 17
    }

    /// The current time.
    pub fn now() -> Ts {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ts::new(d.as_secs(), d.subsec_micros())
    }
}

/// A position in the report log: each record gets the next number, starting
/// at [`Pos::FIRST`]. Positions never go back, survive restarts and
/// cleaning, and are never reused, so a flooding peer's position stays
/// meaningful. (On the wire a position must be at least 10; ours are.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Pos(pub u64);

impl Pos {
    /// The position of the first record ever added.
    pub const FIRST: Pos = Pos(10);
    /// "Before everything": reading after it yields the whole log.
    pub const START: Pos = Pos(0);
}

/// One report as the log keeps it: what a client or a flooding peer said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// When the originating server received it.
    pub ts: Ts,
    /// The server-ID of the server that received the original report.
    pub srvr_id: u16,
    /// The target count (1 ..= [`tgts::MANY`]); [`tgts::DEL`] marks a deletion.
    pub tgts: u32,
    /// Server-IDs the report was flooded through, nearest first.
    pub path: Vec<u16>,
    /// The checksums reported.
    pub cks: Vec<Ck>,
}

impl Report {
    /// A report with no flooding path.
    pub fn new(ts: Ts, srvr_id: u16, tgts: u32, cks: Vec<Ck>) -> Report {
        Report {
            ts,
            srvr_id,
            tgts,
            path: Vec::new(),
            cks,
        }
    }

    /// This record is a deletion (`cdcc delck`), not a report of mail.
    pub fn is_delete(&self) -> bool {
        self.tgts == tgts::DEL
    }

    /// Check the limits a report to be added must respect.
    pub fn validate(&self) -> Result<(), crate::Error> {
        if self.cks.is_empty() || self.cks.len() > MAX_CKS {
            return Err(crate::Error::Invalid("report needs 1 to 14 checksums"));
        }
        for (i, ck) in self.cks.iter().enumerate() {
            if self
                .cks
                .get(..i)
                .is_some_and(|earlier| earlier.contains(ck))
            {
                return Err(crate::Error::Invalid("checksum repeated in a report"));
            }
        }
        if self.path.len() > MAX_PATH {
            return Err(crate::Error::Invalid("flooding path longer than 8"));
        }
        if self.tgts == 0 || self.tgts > tgts::MANY {
            return Err(crate::Error::Invalid("target count out of range"));
        }
        if self.ts.0 > 0xffff_ffff_ffff {
            return Err(crate::Error::Invalid("timestamp wider than 48 bits"));
        }
        Ok(())
    }
}

/// One record read back from the log, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Where it is in the log.
    pub pos: Pos,
    /// What it says.
    pub report: Report,
}

/// The counts of one checksum in an answer: the total now and the total
/// before the request (equal for a query; for a report, the total before
/// the report was added), as dccd answers version 6 and later clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CountPair {
    /// Total including this request.
    pub c: u32,
    /// Total before this request.
    pub p: u32,
}

/// What adding a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The report's position in the log.
    pub pos: Pos,
    /// The counts of each checksum of the report, in the report's order.
    pub counts: Vec<CountPair>,
}

/// Figures about a database, for `cdcc stats` and `dblist`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Records in the log (reports and deletions).
    pub records: u64,
    /// Distinct checksums with a non-zero total.
    pub checksums: u64,
    /// Whitelist entries.
    pub whitelisted: u64,
    /// Bytes of the database's files on disk.
    pub disk_bytes: u64,
    /// The position the next record will get.
    pub next_pos: Pos,
}

/// What a cleaning did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CleanReport {
    /// Records kept whole.
    pub kept: u64,
    /// Records kept with some checksums removed ("trimmed" in dblist).
    pub trimmed: u64,
    /// Records removed.
    pub removed: u64,
}
