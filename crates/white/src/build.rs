//! From parsed lines to a [`WhiteList`], as the original fills its hash
//! table: a first pass adds entries (the first value of a duplicate wins,
//! limits are enforced); when the file had no problem at all, a second pass
//! reports conflicting duplicates (and IP addresses inside blocks listed
//! with another value) and settles each on the stronger value
//! ([`crate::tgts::combine`]), and checks each `option` line against the
//! settings of the whole file (conflicts that only go one way).

use crate::addr::{to_v6, IpRange};
use crate::error::{Loc, WhiteError};
use crate::list::{Entry, RangeEntry, WhiteList};
use crate::parse::{ItemValue, ParsedFile, Source};
use crate::tgts::{combine, Tgts};
use crate::{MAX_WHITE_ENTRIES, MIN_IP_RANGE_SIZE, WHITE_IP_RANGES_MAX};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use tally_ck::simple::ip_sum;
use tally_ck::{CkType, Sum};

/// Addresses of the host names of `ip` lines, as the caller resolved them:
/// the addresses, or the resolver's error text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolutions {
    map: HashMap<String, Result<Vec<IpAddr>, String>>,
}

impl Resolutions {
    /// No names resolved.
    pub fn new() -> Resolutions {
        Resolutions::default()
    }

    /// Record the result for a host name.
    pub fn insert(&mut self, host: &str, result: Result<Vec<IpAddr>, String>) {
        self.map.insert(host.to_string(), result);
    }

    /// The result for a host name, if any.
    pub fn get(&self, host: &str) -> Option<&Result<Vec<IpAddr>, String>> {
        self.map.get(host)
    }
}

/// A built list and every problem found while parsing and building it.
#[derive(Clone, Debug)]
pub struct Built {
    pub list: WhiteList,
    /// Parse errors followed by build errors. The list is still usable
    /// (bad lines are left out), as the original uses it.
    pub errors: Vec<WhiteError>,
}

impl Built {
    /// Whether the file was free of problems.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

fn v6_sum(a: Ipv6Addr) -> Sum {
    ip_sum(IpAddr::V6(a))
}

struct Builder<'a> {
    list: WhiteList,
    errors: Vec<WhiteError>,
    res: &'a Resolutions,
    /// The file of the line being worked (the original's `fno`).
    source: Source,
}

impl ParsedFile {
    /// Build the table, with the host names resolved as in `res` (a name
    /// missing from `res` is reported as unresolved).
    pub fn build(&self, res: &Resolutions) -> Built {
        let mut list = WhiteList::empty(self.kind, &self.name);
        list.switches = self.switches;
        list.thresholds = self.thresholds;
        list.includes = self.includes.iter().map(|i| i.name.clone()).collect();
        list.has_host_names = self
            .items
            .iter()
            .any(|i| matches!(i.value, ItemValue::Host(_)));
        let mut b = Builder {
            list,
            errors: Vec::new(),
            res,
            source: 0,
        };
        for it in &self.items {
            b.source = it.source;
            b.add_item(it.tgts, &it.value, &it.loc);
        }
        if self.errors.is_empty() && b.errors.is_empty() {
            let mut opts = self.options.iter().peekable();
            for (i, it) in self.items.iter().enumerate() {
                while let Some(o) = opts.next_if(|o| o.items_before <= i) {
                    b.errors.extend(o.recheck(self.switches));
                }
                b.source = it.source;
                b.check_item(it.tgts, &it.value, &it.loc);
            }
            for o in opts {
                b.errors.extend(o.recheck(self.switches));
            }
        }
        let mut errors = self.errors.clone();
        errors.append(&mut b.errors);
        Built {
            list: b.list,
            errors,
        }
    }
}

impl Builder<'_> {
    fn host_addrs(&mut self, host: &str, loc: &Loc, complain: bool) -> Vec<Ipv6Addr> {
        match self.res.get(host) {
            Some(Ok(v)) => v.iter().map(|&a| to_v6(a)).collect(),
            Some(Err(e)) => {
                if complain {
                    let e = WhiteError::at(loc, &format!("host name \"{host}\": {e}"));
                    self.errors.push(e);
                }
                Vec::new()
            }
            None => {
                if complain {
                    let e = WhiteError::at(loc, &format!("host name \"{host}\": not resolved"));
                    self.errors.push(e);
                }
                Vec::new()
            }
        }
    }

    fn add_item(&mut self, tgts: Tgts, value: &ItemValue, loc: &Loc) {
        match value {
            ItemValue::Sum(t, s) => self.add(*t, *s, tgts, loc),
            ItemValue::Host(h) => {
                for a in self.host_addrs(h, loc, true) {
                    self.add(CkType::Ip, v6_sum(a), tgts, loc);
                }
            }
            ItemValue::Range(r) => self.add_range(*r, tgts, loc),
        }
    }

    fn add(&mut self, t: CkType, s: Sum, tgts: Tgts, loc: &Loc) {
        if self.list.entries.contains_key(&(t, s)) {
            return;
        }
        if self.list.order.len() >= MAX_WHITE_ENTRIES {
            let n = self.list.order.len();
            self.errors.push(WhiteError::at(
                loc,
                &format!("more than maximum {n} entries"),
            ));
            return;
        }
        self.list.entries.insert(
            (t, s),
            Entry {
                tgts,
                loc: loc.clone(),
                source: self.source,
            },
        );
        self.list.order.push((t, s));
    }

    fn add_range(&mut self, r: IpRange, tgts: Tgts, loc: &Loc) {
        let len = r.len();
        if len < MIN_IP_RANGE_SIZE {
            for a in r.addrs() {
                self.add(CkType::Ip, v6_sum(a), tgts, loc);
            }
            return;
        }
        if self.list.ranges.iter().any(|e| e.range == r) {
            return;
        }
        if self.list.ranges.len() >= WHITE_IP_RANGES_MAX {
            self.errors
                .push(WhiteError::at(loc, "too many IP address blocks"));
            return;
        }
        self.list.ranges.push(RangeEntry {
            range: r,
            tgts,
            len,
            loc: loc.clone(),
            source: self.source,
        });
    }

    /// `"new" in line N [of FILE] conflicts with "old" in line M of FILE`:
    /// the first file is named when the two lines are in different files,
    /// counting each `include` line as its own file (as the original
    /// compares its file slots), even when one file is included twice.
    fn conflict(&mut self, loc: &Loc, tgts: Tgts, old_loc: &Loc, old: Tgts, old_source: Source) {
        let other_file = if old_source != self.source {
            format!(" of {}", loc.file)
        } else {
            String::new()
        };
        let text = format!(
            "\"{tgts}\" in line {}{other_file} conflicts with \"{old}\" in line {} of {}",
            loc.line, old_loc.line, old_loc.file
        );
        self.errors.push(WhiteError::plain(loc, text));
    }

    /// Second pass for one checksum: false when it conflicts.
    fn check(&mut self, t: CkType, s: Sum, tgts: Tgts, loc: &Loc, complain: bool) -> bool {
        let Some(e) = self.list.entries.get(&(t, s)) else {
            return true;
        };
        if e.tgts == tgts {
            return true;
        }
        let (old, old_loc, old_source) = (e.tgts, e.loc.clone(), e.source);
        if complain {
            self.conflict(loc, tgts, &old_loc, old, old_source);
        }
        if old != combine(tgts, old) {
            let source = self.source;
            if let Some(e) = self.list.entries.get_mut(&(t, s)) {
                e.tgts = tgts;
                e.loc = loc.clone();
                e.source = source;
            }
        }
        false
    }

    fn check_item(&mut self, tgts: Tgts, value: &ItemValue, loc: &Loc) {
        match value {
            ItemValue::Sum(t, s) => {
                self.check(*t, *s, tgts, loc, true);
            }
            ItemValue::Host(h) => {
                for a in self.host_addrs(h, loc, false) {
                    self.check(CkType::Ip, v6_sum(a), tgts, loc, true);
                }
            }
            ItemValue::Range(r) => self.check_range(*r, tgts, loc),
        }
    }

    fn check_range(&mut self, r: IpRange, tgts: Tgts, loc: &Loc) {
        let mut ok = true;
        let lo = IpAddr::V6(r.lo);
        let hi = IpAddr::V6(r.hi);
        for i in 0..self.list.ranges.len() {
            let e = &self.list.ranges[i];
            if !(e.range.contains(lo) || e.range.contains(hi)) || e.tgts == tgts {
                continue;
            }
            let (old, old_loc, old_source, same) = (e.tgts, e.loc.clone(), e.source, e.range == r);
            self.conflict(loc, tgts, &old_loc, old, old_source);
            ok = false;
            if same && old != combine(tgts, old) {
                let source = self.source;
                let e = &mut self.list.ranges[i];
                e.tgts = tgts;
                e.loc = loc.clone();
                e.source = source;
            }
        }
        if r.len() < MIN_IP_RANGE_SIZE {
            for a in r.addrs() {
                if !self.check(CkType::Ip, v6_sum(a), tgts, loc, ok) {
                    ok = false;
                }
            }
        }
    }
}
