//! What the checks of a message found: per group a hit, a timeout or nothing;
//! the log lines and the rejection text.

use crate::answer::Question;
use crate::option::{Settings, GROUPS};
use crate::reply::{Macro, Template};

/// A list's positive answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// A whitelist's hit.
    pub white: bool,
    /// Where the name or address came from ([`crate::option::src`] bit).
    pub kind: u16,
    /// Index of the list in [`Settings::lists`].
    pub list: usize,
    /// `%BTYPE`: `SMTP client [192.0.2.66]`, `mail_host MX mxspam.example`, ...
    pub btype: String,
    /// `%BTGT`: the address or name found in the list.
    pub target: String,
    /// `%BPROBE`: the name asked.
    pub probe: String,
    /// `%BRESULT`: the address the list answered.
    pub result: String,
}

/// What a group of lists found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum GroupResult {
    #[default]
    None,
    Hit(Hit),
    /// Nothing found, and some check the group wanted ran out of time.
    Timeout,
}

/// The result of the checks of a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub groups: [GroupResult; GROUPS],
    /// `set:group=` was used: log lines carry group numbers.
    pub have_groups: bool,
    /// Every question in the order the checks asked it (repeats included).
    pub questions: Vec<Question>,
}

impl Outcome {
    /// The hit of group `g` (0-based), if any.
    pub fn hit(&self, g: usize) -> Option<&Hit> {
        match self.groups.get(g) {
            Some(GroupResult::Hit(h)) => Some(h),
            _ => None,
        }
    }

    /// A blacklist hit of group `g`.
    pub fn black(&self, g: usize) -> Option<&Hit> {
        self.hit(g).filter(|h| !h.white)
    }

    /// Whether a DNS whitelist listed the message in group `g`.
    pub fn white(&self, g: usize) -> bool {
        self.hit(g).is_some_and(|h| h.white)
    }

    /// Whether group `g` ran out of time without a hit.
    pub fn timed_out(&self, g: usize) -> bool {
        matches!(self.groups.get(g), Some(GroupResult::Timeout))
    }

    /// The `DNSBL` name of group `g` in log lines: `DNSBL`, or `DNSBL2` with groups.
    pub fn label(&self, g: usize) -> String {
        if self.have_groups {
            format!("DNSBL{}", g + 1)
        } else {
            "DNSBL".to_string()
        }
    }

    /// The lines the original writes for the hits, one per group with a hit:
    /// `DNSBL SMTP client [192.0.2.66] 66.2.0.192.bl.test=127.0.0.2`.
    /// With `set:debug` the line starts with the message ID (`id`).
    pub fn log_lines(&self, debug: bool, id: &str) -> Vec<String> {
        (0..GROUPS)
            .filter_map(|g| {
                let h = self.hit(g)?;
                let line = format!("{} {} {}={}", self.label(g), h.btype, h.probe, h.result);
                Some(if debug { format!("{id} {line}") } else { line })
            })
            .collect()
    }

    /// The DNSBL parts of the log file's decision line, group by group:
    /// `DNSBL-->spam`, `DNSBL1-->spam(off)` (a hit of a group that does not
    /// count, `on[g]` false), `DNSBL(timeout)`. The program joins them with two
    /// blanks before its own (`  dccm  global-log`).
    pub fn decision(&self, on: [bool; GROUPS]) -> Vec<String> {
        (0..GROUPS)
            .filter_map(|g| {
                if self.black(g).is_some() {
                    let off = if on[g] { "" } else { "(off)" };
                    Some(format!("{}-->spam{off}", self.label(g)))
                } else if self.timed_out(g) {
                    Some(format!("{}(timeout)", self.label(g)))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The first group, among those whose hits count (`on[g]`), with a
    /// blacklist hit: the one whose text rejects the message.
    pub fn deciding(&self, on: [bool; GROUPS]) -> Option<(usize, &Hit)> {
        (0..GROUPS).find_map(|g| self.black(g).filter(|_| on[g]).map(|h| (g, h)))
    }

    /// The SMTP rejection of a hit: the list's `set:rej-msg` or else `default`
    /// (the program's first `-r` text), macros expanded; `id` is the message ID
    /// (%ID), `cip` the client address (%CIP).
    pub fn rejection(
        &self,
        settings: &Settings,
        hit: &Hit,
        default: &Template,
        id: &str,
        cip: &str,
    ) -> String {
        let t = settings
            .lists
            .get(hit.list)
            .and_then(|l| l.reply.as_deref())
            .unwrap_or(default);
        t.reply(|m| match m {
            Macro::Id => id.to_string(),
            Macro::ClientIp => cip.to_string(),
            Macro::Type => hit.btype.clone(),
            Macro::Target => hit.target.clone(),
            Macro::Probe => hit.probe.clone(),
            Macro::Result => hit.result.clone(),
        })
    }
}
