//! The `-B` arguments of dccm(8), dccifd(8) and dccproc(8), pure.
//!
//! A list: `domain[,[any|IPaddr[/xx]|IPaddrLO-IPaddrHI][&IPmask][,bltype]]`,
//! bltype one of `name`, `all-names` (or `all_names`), `IPv4`, `IPv6`
//! (any case). The `set:` forms change the lists declared after them.
//!
//! Where the original departs from its pages, this follows the original
//! (recorded in scenario 12): a type needs an address field before it
//! (`dbl.test,name` is refused, `dbl.test,,name` works); `bl.testany` is a
//! list named `bl.testany`; host names are not addresses; `set:group=` takes
//! only 1 to 4. A refused argument is reported and otherwise ignored: the
//! programs go on (the caller logs [`OptionError`] and carries on).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::addr::{self, Range, RangeError};
use crate::reply::Template;

pub use crate::settings::*;
use crate::settings::{MAX_DOMAIN, MAX_SECS};

/// A refused `-B` argument; `Display` is the original's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    /// The argument as given.
    pub arg: String,
    pub message: String,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OptionError {}

/// Reads `-B` arguments one at a time, in command-line order.
#[derive(Clone, Debug)]
pub struct Parser {
    settings: Settings,
    tgts: u16,
    white: bool,
    mx_ok: bool,
    ns_ok: bool,
    reply: Option<Arc<Template>>,
    group: usize,
    declared: usize,
}

impl Default for Parser {
    fn default() -> Self {
        Parser {
            settings: Settings::default(),
            tgts: src::DEFAULT,
            white: false,
            mx_ok: true,
            ns_ok: true,
            reply: None,
            group: 0,
            declared: 0,
        }
    }
}

/// Case-insensitive prefix: the rest of `s` after `prefix`.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// An integer the way `sscanf("%d")` reads one: blanks, a sign, digits, and
/// whatever follows ignored.
fn scan_int(s: &str) -> Option<i64> {
    let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let v: i64 = digits[..n].parse().unwrap_or(i64::MAX);
    Some(if neg { -v } else { v })
}

/// Seconds the way `strtoul` reads them, nothing after the digits.
fn parse_secs(s: &str) -> Option<u32> {
    let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let s = s.strip_prefix('+').unwrap_or(s);
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u64 = if s.is_empty() {
        0
    } else {
        s.parse().unwrap_or(u64::MAX)
    };
    (1..=u64::from(MAX_SECS)).contains(&v).then_some(v as u32)
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Parses every argument; the refused ones are returned with the settings.
    pub fn parse_all<'a>(args: impl IntoIterator<Item = &'a str>) -> (Settings, Vec<OptionError>) {
        let mut p = Parser::new();
        let errors = args.into_iter().filter_map(|a| p.arg(a).err()).collect();
        (p.finish(), errors)
    }

    /// Reads one `-B` argument.
    pub fn arg(&mut self, entry: &str) -> Result<(), OptionError> {
        match strip_prefix_ci(entry, "set:") {
            Some(parm) => self.set(entry, parm),
            None => self.list(entry),
        }
    }

    /// The settings so far.
    pub fn finish(mut self) -> Settings {
        link_duplicates(&mut self.settings.lists);
        self.settings
    }

    fn err(entry: &str, message: String) -> OptionError {
        OptionError {
            arg: entry.to_string(),
            message,
        }
    }

    fn set(&mut self, entry: &str, parm: &str) -> Result<(), OptionError> {
        let s = &mut self.settings;
        let is = |w: &str| parm.eq_ignore_ascii_case(w);
        if is("client") {
            self.tgts |= src::CLIENT;
        } else if is("no-client") {
            self.tgts &= !src::CLIENT;
        } else if is("mail_host") || is("mail-host") {
            self.tgts |= src::MHOST;
        } else if is("no-mail_host") || is("no-mail-host") {
            self.tgts &= !src::MHOST;
        } else if is("url") || is("body") {
            self.tgts |= src::URL;
        } else if is("no-url") || is("no-body") {
            self.tgts &= !src::URL;
        } else if is("envelope") {
            self.tgts |= src::CLIENT | src::MHOST;
        } else if is("no-envelope") {
            self.tgts &= !(src::CLIENT | src::MHOST);
        } else if is("mx") {
            self.mx_ok = true;
        } else if is("no-mx") {
            self.mx_ok = false;
        } else if is("ns") {
            self.ns_ok = true;
        } else if is("no-ns") {
            self.ns_ok = false;
        } else if is("white") {
            self.white = true;
        } else if is("black") {
            self.white = false;
        } else if is("defaults") {
            self.tgts = src::DEFAULT;
            self.white = false;
            self.mx_ok = true;
            self.ns_ok = true;
            self.reply = None;
        } else if let Some(msg) = strip_prefix_ci(parm, "rej-msg=") {
            self.reply = if msg.is_empty() {
                None
            } else {
                Some(Arc::new(Template::parse(msg)))
            };
        } else if let Some(v) = strip_prefix_ci(parm, "msg-secs=") {
            s.msg_secs = parse_secs(v).ok_or_else(|| {
                Self::err(entry, format!("bad number of seconds in \"-B {entry}\""))
            })?;
        } else if let Some(v) = strip_prefix_ci(parm, "url-secs=") {
            s.url_secs = parse_secs(v).ok_or_else(|| {
                Self::err(entry, format!("bad number of seconds in \"-B {entry}\""))
            })?;
        } else if let Some(g) = parm
            .strip_prefix("group=")
            .and_then(scan_int)
            .filter(|g| (1..=GROUPS as i64).contains(g))
        {
            self.group = g as usize - 1;
            s.have_groups = true;
        } else if is("debug") {
            s.debug = s.debug.saturating_add(1);
        } else if let Some(d) = parm.strip_prefix("debug=").and_then(scan_int) {
            s.debug = d.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        } else if is("helpers-debug") {
            // Debugging of the original's helper processes: nothing to do here.
        } else if let Some(p) = strip_prefix_ci(parm, "progpath=") {
            s.progpath = Some(p.to_string());
        } else if let Some(m) = parm
            .strip_prefix("max_helpers=")
            .and_then(scan_int)
            .filter(|m| (1..1000).contains(m))
        {
            s.max_helpers = Some(m as u32);
        } else {
            return Err(Self::err(entry, format!("unrecognized  \"-B {entry}\"")));
        }
        Ok(())
    }

    fn list(&mut self, entry: &str) -> Result<(), OptionError> {
        let (dom, tgt_ip, ltype) = match entry.split_once(',') {
            None => {
                self.settings.have_ipv4 = true;
                (entry, "", ListType::Ipv4)
            }
            Some((dom, rest)) => match rest.split_once(',') {
                None => {
                    self.settings.have_ipv4 = true;
                    (dom, rest, ListType::Ipv4)
                }
                Some((ip, t)) => {
                    let ltype = if t.eq_ignore_ascii_case("name") {
                        self.settings.have_name = true;
                        ListType::Name
                    } else if t.eq_ignore_ascii_case("all-names")
                        || t.eq_ignore_ascii_case("all_names")
                    {
                        self.settings.have_name = true;
                        ListType::AllNames
                    } else if t.eq_ignore_ascii_case("ipv4") {
                        self.settings.have_ipv4 = true;
                        ListType::Ipv4
                    } else if t.eq_ignore_ascii_case("ipv6") {
                        self.settings.have_ipv6 = true;
                        ListType::Ipv6
                    } else {
                        return Err(Self::err(
                            entry,
                            format!("unknown DNSBL type in \"{entry}\""),
                        ));
                    };
                    (dom, ip, ltype)
                }
            },
        };
        let tgt_ip = if tgt_ip.is_empty() {
            "127.0.0.2"
        } else {
            tgt_ip
        };
        // One leading dot goes; the messages then name the argument without it.
        let (entry, dom) = match (entry.strip_prefix('.'), dom.strip_prefix('.')) {
            (Some(e), Some(d)) => (e, d),
            _ => (entry, dom),
        };
        if dom.len() >= MAX_DOMAIN {
            return Err(Self::err(entry, format!("DNSBL name \"{entry}\" too long")));
        }
        let (range_text, mask) = match tgt_ip.split_once('&') {
            None => (tgt_ip, u128::MAX),
            Some((r, m)) => match addr::parse_ip(m) {
                Some(ip) => (r, addr::to_bits(ip)),
                None => {
                    return Err(Self::err(
                        entry,
                        format!("invalid mask \"{m}\" in DNS blacklist \"{entry}\""),
                    ))
                }
            },
        };
        let (range, family) = if range_text.eq_ignore_ascii_case("any") {
            (Range::ANY, Family::Any)
        } else {
            match addr::parse_range(range_text) {
                Ok((r, v6)) => (r, if v6 { Family::V6 } else { Family::V4 }),
                Err(RangeError::NotAddress) => {
                    return Err(Self::err(
                        entry,
                        format!("invalid DNS blacklist: \"{entry}\""),
                    ))
                }
                Err(RangeError::Detail(d)) => {
                    return Err(Self::err(
                        entry,
                        format!("invalid DNS blacklist: {d}: \"{entry}\""),
                    ))
                }
            }
        };
        let mut targets = self.tgts;
        if self.mx_ok {
            if targets & src::MHOST != 0 {
                targets |= src::MHOST_MX;
            }
            if targets & src::URL != 0 {
                targets |= src::URL_MX;
            }
        }
        if self.ns_ok {
            if targets & src::MHOST != 0 {
                targets |= src::MHOST_NS;
            }
            if targets & src::URL != 0 {
                targets |= src::URL_NS;
            }
        }
        let s = &mut self.settings;
        if self.white {
            s.group_white[self.group] |= targets;
        } else {
            s.group_black[self.group] |= targets;
        }
        self.declared += 1;
        let list = List {
            num: self.declared,
            domain: dom.to_string(),
            ltype,
            family,
            range,
            mask,
            targets,
            white: self.white,
            group: self.group,
            reply: self.reply.clone(),
            dup_of: None,
        };
        // Whitelists go before every blacklist.
        let at = if self.white {
            s.lists
                .iter()
                .position(|l| !l.white)
                .unwrap_or(s.lists.len())
        } else {
            s.lists.len()
        };
        s.lists.insert(at, list);
        Ok(())
    }
}

/// Marks lists that repeat an earlier list's domain, type and family: they
/// share its lookups.
fn link_duplicates(lists: &mut [List]) {
    let mut first: HashMap<(String, ListType, Family), usize> = HashMap::new();
    for (i, l) in lists.iter_mut().enumerate() {
        let head = *first
            .entry((l.domain.clone(), l.ltype, l.family))
            .or_insert(i);
        l.dup_of = (head != i).then_some(head);
    }
}

#[cfg(test)]
#[path = "option_tests.rs"]
mod tests;
