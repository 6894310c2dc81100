//! Trace modes (`-T`, `cdcc "trace ..."`) and the server's messages.
//!
//! Messages go to the system log (`-L`, by default `MAIL.NOTICE` and
//! `MAIL.ERR` as the original) and, while there is a terminal (in the
//! foreground), to the standard error as well.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use tally_syslog::logopt::LogOpt;
use tally_syslog::Syslog;

static TO_STDERR: AtomicBool = AtomicBool::new(true);
static SYSLOG: OnceLock<Syslog> = OnceLock::new();

/// The name the server's messages carry in the system log: `dccd`, or
/// `dccd grey` for a greylist server (`-G`), as the original names itself.
pub fn ident(grey: bool) -> &'static str {
    if grey {
        "dccd grey"
    } else {
        "dccd"
    }
}

/// Set up the system log from the `-L` options (once, at start), for a
/// greylist server (`grey`) or not.
pub fn init_syslog(opts: &[LogOpt], grey: bool) {
    let mut s = Syslog::new(ident(grey));
    for o in opts {
        s.apply(*o);
    }
    let _ = SYSLOG.set(s);
}

/// Trace bit values as cdcc sends them in `val1` of TRACE_ON/TRACE_OFF.
pub struct Trace;

impl Trace {
    /// Administrative requests.
    pub const ADMN: u32 = 0x0001;
    /// Anonymous clients.
    pub const ANON: u32 = 0x0002;
    /// Authenticated clients.
    pub const CLNT: u32 = 0x0004;
    /// Rate limiting.
    pub const RLIM: u32 = 0x0008;
    /// Queries and reports.
    pub const QUERY: u32 = 0x0010;
    /// The retransmission cache.
    pub const RIDC: u32 = 0x0020;
    /// Flooding connections.
    pub const FLOOD1: u32 = 0x0040;
    /// Flooded reports.
    pub const FLOOD2: u32 = 0x0080;
    /// The ids file.
    pub const IDS: u32 = 0x0100;
    /// The blacklist file.
    pub const BL: u32 = 0x0200;
    /// Database.
    pub const DB: u32 = 0x0400;
    /// Whitelist hits.
    pub const WLIST: u32 = 0x0800;
    /// All defined bits.
    pub const ALL: u32 = 0x0fff;
    /// On by default (the original traces these without `-T`).
    pub const DEFAULT: u32 = Self::ANON | Self::CLNT | Self::WLIST;

    const NAMES: [(&'static str, u32); 12] = [
        ("ADMN", Self::ADMN),
        ("ANON", Self::ANON),
        ("CLNT", Self::CLNT),
        ("RLIM", Self::RLIM),
        ("QUERY", Self::QUERY),
        ("RIDC", Self::RIDC),
        ("FLOOD1", Self::FLOOD1),
        ("FLOOD2", Self::FLOOD2),
        ("IDS", Self::IDS),
        ("BL", Self::BL),
        ("DB", Self::DB),
        ("WLIST", Self::WLIST),
    ];

    /// The bit of a mode name (case-insensitive).
    pub fn bit(name: &str) -> Option<u32> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, b)| *b)
    }

    /// The names of the bits set, space-separated, as `cdcc stats` shows.
    pub fn names(bits: u32) -> String {
        let mut s = String::new();
        for (n, b) in Self::NAMES {
            if bits & b != 0 {
                s.push_str(n);
                s.push(' ');
            }
        }
        s
    }
}

/// Send messages to stderr or not (the background server has none).
pub fn set_stderr(on: bool) {
    TO_STDERR.store(on, Ordering::Relaxed);
}

/// Log a message.
pub fn log(msg: &str) {
    if let Some(s) = SYSLOG.get() {
        s.info(msg);
    }
    if TO_STDERR.load(Ordering::Relaxed) {
        eprintln!("dccd: {msg}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A greylist server's messages are `dccd grey[pid]: ...` in the
    /// system log, as the original's.
    #[test]
    fn greylist_server_ident() {
        assert_eq!(ident(false), "dccd");
        assert_eq!(ident(true), "dccd grey");
    }
}
