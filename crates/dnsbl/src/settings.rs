//! The checking configuration the `-B` arguments build: lists, their groups
//! and sources, and the time limits (see [`crate::option`] for the grammar).

use std::sync::Arc;

use crate::addr::Range;
use crate::reply::Template;

/// Where a name or address was found, as bits (the original's kinds of checks).
pub mod src {
    pub const CLIENT: u16 = 0x01;
    pub const MHOST: u16 = 0x02;
    pub const URL: u16 = 0x04;
    pub const MHOST_MX: u16 = 0x08;
    pub const URL_MX: u16 = 0x10;
    pub const MHOST_NS: u16 = 0x20;
    pub const URL_NS: u16 = 0x40;
    /// The sources a list checks unless told otherwise.
    pub const DEFAULT: u16 = CLIENT | MHOST | URL;
    /// Every source.
    pub const ALL: u16 = 0x7f;
}

/// Number of list groups (`set:group=1` to `4`).
pub const GROUPS: usize = 4;

/// Default `set:msg-secs`.
pub const DEFAULT_MSG_SECS: u32 = 25;
/// Default `set:URL-secs`.
pub const DEFAULT_URL_SECS: u32 = 11;
pub(crate) const MAX_SECS: u32 = 1000;
/// Longest list domain: room must remain for a probe's reversed address.
pub(crate) const MAX_DOMAIN: usize = 256 - 46 * 2;

/// What a list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListType {
    /// Reversed IPv4 addresses (the default).
    Ipv4,
    /// Reversed IPv6 addresses, 16 decimal octets.
    Ipv6,
    /// Domain names, looked up as they are.
    Name,
    /// Domain names and every parent domain.
    AllNames,
}

/// Which address records a probe asks for, from the family of the result
/// address: A for IPv4, AAAA for IPv6, both for `any`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
    Any,
}

/// One DNS list.
#[derive(Clone, Debug)]
pub struct List {
    /// Declaration number, from 1.
    pub num: usize,
    /// The list's domain as given (case and a trailing dot kept; one leading dot
    /// removed).
    pub domain: String,
    pub ltype: ListType,
    pub family: Family,
    /// Result addresses that count, after the mask.
    pub range: Range,
    /// `&IPmask`, all ones if none.
    pub mask: u128,
    /// The sources checked in this list ([`src`] bits).
    pub targets: u16,
    /// A whitelist (`set:white`).
    pub white: bool,
    /// Group index 0..3.
    pub group: usize,
    /// `set:rej-msg` in force for this list; `None`: the first `-r` text.
    pub reply: Option<Arc<Template>>,
    /// Index (in [`Settings::lists`]) of the first list with the same domain,
    /// type and family: this one shares its lookups.
    pub dup_of: Option<usize>,
}

impl List {
    /// Whether an answer address counts as a hit.
    pub fn matches(&self, bits: u128) -> bool {
        self.range.contains(bits & self.mask)
    }
}

/// The parsed `-B` arguments of a program.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Lists in checking order: whitelists first, then declaration order.
    pub lists: Vec<List>,
    pub msg_secs: u32,
    pub url_secs: u32,
    pub debug: i32,
    /// `set:max_helpers=X`: the bound of simultaneous lookups, if given.
    pub max_helpers: Option<u32>,
    /// `set:progpath=`: accepted and kept; nothing runs it.
    pub progpath: Option<String>,
    /// Whether `set:group=` was ever given (log lines then carry group numbers).
    pub have_groups: bool,
    /// An IPv4 list was declared (or attempted: the original notes it before
    /// checking the rest of the argument).
    pub have_ipv4: bool,
    pub have_ipv6: bool,
    pub have_name: bool,
    /// Per group: the sources its whitelists and its blacklists want.
    pub group_white: [u16; GROUPS],
    pub group_black: [u16; GROUPS],
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lists: Vec::new(),
            msg_secs: DEFAULT_MSG_SECS,
            url_secs: DEFAULT_URL_SECS,
            debug: 0,
            max_helpers: None,
            progpath: None,
            have_groups: false,
            have_ipv4: false,
            have_ipv6: false,
            have_name: false,
            group_white: [0; GROUPS],
            group_black: [0; GROUPS],
        }
    }
}

impl Settings {
    /// Whether any list was declared: DNSBL checks are configured.
    pub fn enabled(&self) -> bool {
        !self.lists.is_empty()
    }

    /// `URL-secs`, never more than `msg-secs`.
    pub fn effective_url_secs(&self) -> u32 {
        self.url_secs.min(self.msg_secs)
    }
}
