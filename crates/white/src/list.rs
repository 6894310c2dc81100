//! A built whiteclnt table: checksum entries, IP address blocks, option
//! settings, and the lookups on them.

use crate::addr::IpRange;
use crate::error::Loc;
use crate::options::{Switches, Thresholds};
use crate::parse::{FileKind, Source};
use crate::tgts::Tgts;
use md5::{Digest, Md5};
use std::collections::HashMap;
use std::net::IpAddr;
use tally_ck::{CkType, Sum};

/// One checksum entry: its value and the line that set it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub tgts: Tgts,
    pub loc: Loc,
    /// The file of that line: 0 the main file, n the n-th `include`.
    pub source: Source,
}

/// One block of 256 or more addresses.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RangeEntry {
    pub range: IpRange,
    pub tgts: Tgts,
    /// Size as the original counts it ([`IpRange::len`]).
    pub len: u32,
    pub loc: Loc,
    /// The file of that line: 0 the main file, n the n-th `include`.
    pub source: Source,
}

/// A whiteclnt file (with its included files) ready for lookups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhiteList {
    pub(crate) kind: FileKind,
    pub(crate) name: String,
    pub(crate) includes: Vec<String>,
    pub(crate) entries: HashMap<(CkType, Sum), Entry>,
    /// Entries in the order they were added.
    pub(crate) order: Vec<(CkType, Sum)>,
    pub(crate) ranges: Vec<RangeEntry>,
    pub(crate) switches: Switches,
    pub(crate) thresholds: Thresholds,
    pub(crate) has_host_names: bool,
}

impl WhiteList {
    /// A list with nothing in it (what a missing file amounts to).
    pub fn empty(kind: FileKind, name: &str) -> WhiteList {
        WhiteList {
            kind,
            name: name.to_string(),
            includes: Vec::new(),
            entries: HashMap::new(),
            order: Vec::new(),
            ranges: Vec::new(),
            switches: Switches::default(),
            thresholds: Thresholds::default(),
            has_host_names: false,
        }
    }

    /// Global or per-user.
    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// The main file's name as used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Names of the included files, in order.
    pub fn includes(&self) -> &[String] {
        &self.includes
    }

    /// The `option` settings of the file.
    pub fn switches(&self) -> Switches {
        self.switches
    }

    /// The `option threshold` settings of the file.
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// Whether `ip` lines named hosts (the file is then parsed again from
    /// time to time to follow DNS changes).
    pub fn has_host_names(&self) -> bool {
        self.has_host_names
    }

    /// Number of checksum entries.
    pub fn entry_count(&self) -> usize {
        self.order.len()
    }

    /// The checksum entries, in the order they were added.
    pub fn entries(&self) -> impl Iterator<Item = (CkType, Sum, &Entry)> {
        self.order
            .iter()
            .filter_map(|k| self.entries.get(k).map(|e| (k.0, k.1, e)))
    }

    /// The address blocks, in file order.
    pub fn ranges(&self) -> &[RangeEntry] {
        &self.ranges
    }

    /// The entry for a checksum.
    pub fn get(&self, t: CkType, sum: &Sum) -> Option<&Entry> {
        self.entries.get(&(t, *sum))
    }

    /// The value listed for a checksum (for IP, see [`WhiteList::lookup_ip`]).
    pub fn lookup(&self, t: CkType, sum: &Sum) -> Option<Tgts> {
        self.get(t, sum).map(|e| e.tgts)
    }

    /// The value for the SMTP client: its checksum entry, or else the
    /// largest block holding `ip` (the last such block in the file when
    /// several are equally large).
    pub fn lookup_ip(&self, sum: &Sum, ip: Option<IpAddr>) -> Option<Tgts> {
        if let Some(t) = self.lookup(CkType::Ip, sum) {
            return Some(t);
        }
        let ip = ip?;
        let mut best: Option<(u32, Tgts)> = None;
        for r in self.ranges.iter().rev() {
            if best.is_some_and(|(len, _)| r.len <= len) {
                continue;
            }
            if r.range.contains(ip) {
                best = Some((r.len, r.tgts));
            }
        }
        best.map(|(_, t)| t)
    }

    /// Whether the file, for telling recipients' files apart, counts as
    /// empty: the original treats a file that has settings but no
    /// entries and no blocks as "no whiteclnt file".
    pub fn is_null_for_compat(&self) -> bool {
        self.order.is_empty()
            && self.ranges.is_empty()
            && (self.switches.any() || self.thresholds.any())
    }

    /// A digest of the entries' checksums and of the blocks, used to tell
    /// whether two recipients' files differ. As in the original, the
    /// values of entries are not part of it, but a block's value, line
    /// number and file are (the original digests its table of blocks
    /// whole): the same block on another line makes another digest.
    pub fn fingerprint(&self) -> Sum {
        let mut md5 = Md5::new();
        md5.update((self.ranges.len() as u32).to_be_bytes());
        for r in &self.ranges {
            md5.update(r.range.lo.octets());
            md5.update(r.range.hi.octets());
            md5.update(r.tgts.0.to_be_bytes());
            md5.update(r.len.to_be_bytes());
            // the original keeps line numbers in 16 bits
            md5.update((r.loc.line as u16).to_be_bytes());
            md5.update([r.source]);
        }
        for (t, s) in self.order.iter().rev() {
            md5.update([t.number()]);
            md5.update(s.0);
        }
        Sum(md5.finalize().into())
    }
}
