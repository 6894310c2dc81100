//! The filter switches of a message or recipient (`FLTR_SWS`) that
//! programs derive from their own settings and the `option` lines of
//! whiteclnt files.

use crate::options::{Switches, DNS_OFF, DNS_ON};

/// What `-a` says to do with spam.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SpamAction {
    Reject,
    Discard,
    Ignore,
}

/// Which per-day/hour/minute subdirectory per-user log files go in.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LogSubdir {
    Day,
    Hour,
    Minute,
}

/// The filter switches of a message or recipient (`FLTR_SWS`), computed
/// from the program's defaults and the settings of whiteclnt files.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Filters {
    /// Spam must be rejected, never discarded (`no-forced-discard`).
    pub discard_no: bool,
    /// DCC filtering off (`DCC-off`).
    pub dcc_off: bool,
    /// Honor DCC reputations (`DCC-rep-on`).
    pub rep_on: bool,
    /// Log every message (`log-all`).
    pub log_all: bool,
    /// Greylisting off for this recipient.
    pub grey_off: bool,
    /// Greylist even spam (`greylist-ignore-spam-on`).
    pub grey_ignore_spam: bool,
    /// Do not log greylist embargoes per user (`greylist-log-off`).
    pub grey_log_off: bool,
    /// Per-user log subdirectories (`log-subdirectory-*`); the bits
    /// accumulate over the global and per-user files.
    pub log_day: bool,
    pub log_hour: bool,
    pub log_minute: bool,
    /// MTA spam/not-spam opinions come before the whiteclnt files.
    pub mta_first: bool,
    /// A spam trap of either kind.
    pub trap: bool,
    pub trap_discard: bool,
    pub trap_reject: bool,
    /// Honor the results of DNS blacklist groups 1..4.
    pub dnsbl: [bool; 4],
    /// The `-X` external filter's answers act (`xfltr-on`); otherwise
    /// they are only logged.
    pub xfltr_on: bool,
}

impl Filters {
    /// The switches dccm and dccifd start from before any whiteclnt file:
    /// with `-a REJECT` spam is rejected, not discarded (so
    /// `no-forced-discard` is the default), and `-W` turns DCC filtering
    /// off except for whitelisted recipients. Everything else starts off:
    /// log-normal, DCC-on, greylist-ignore-spam-off, greylist-log-on,
    /// DCC-rep-off, DNSBLs off, MTA-last. Greylisting is on only when the
    /// program enables it (`grey_on` of [`Filters::apply`]).
    pub fn initial(reject: bool, to_white_only: bool) -> Filters {
        Filters {
            discard_no: reject,
            dcc_off: to_white_only,
            ..Filters::default()
        }
    }

    /// The complaint `wf2sws` makes when a file asks for greylisting
    /// (`option greylist-on` or `greylist-log-on`) in a program that does
    /// not greylist (`grey_on` false: dccproc always, dccm and dccifd
    /// without `-G on`); `abs_name` is the file's absolute path, as the
    /// original names it. The original says it at most once a day per
    /// process; keeping that count is the caller's part.
    pub fn grey_off_complaint(sw: Switches, grey_on: bool, abs_name: &str) -> Option<String> {
        (Filters::wants_grey(sw) && !grey_on)
            .then(|| format!("{abs_name} wants greylisting but it is turned off"))
    }

    /// Whether a file's switches ask for greylisting (`option
    /// greylist-on` or `greylist-log-on`).
    pub fn wants_grey(sw: Switches) -> bool {
        sw.has(Switches::GREY_ON) || sw.has(Switches::GREY_LOG_ON)
    }

    /// `wf2sws`: apply one file's settings on top of these switches.
    /// `grey_on`: greylisting is enabled in the program (-G on);
    /// `have_dnsbls`: DNS blacklists are configured (-B).
    pub fn apply(mut self, sw: Switches, grey_on: bool, have_dnsbls: bool) -> Filters {
        let pick = |v: &mut bool, on: u32, off: u32| {
            if sw.has(on) {
                *v = true;
            } else if sw.has(off) {
                *v = false;
            }
        };
        pick(
            &mut self.discard_no,
            Switches::DISCARD_NO,
            Switches::DISCARD_OK,
        );
        pick(&mut self.dcc_off, Switches::DCC_OFF, Switches::DCC_ON);
        if grey_on && sw.has(Switches::GREY_ON) {
            self.grey_off = false;
        } else if !grey_on || sw.has(Switches::GREY_OFF) {
            self.grey_off = true;
        }
        pick(
            &mut self.grey_ignore_spam,
            Switches::GREY_SPAM_ON,
            Switches::GREY_SPAM_OFF,
        );
        pick(&mut self.log_all, Switches::LOG_ALL, Switches::LOG_NORMAL);
        pick(
            &mut self.grey_log_off,
            Switches::GREY_LOG_OFF,
            Switches::GREY_LOG_ON,
        );
        if sw.has(Switches::LOG_M) {
            self.log_minute = true;
        } else if sw.has(Switches::LOG_H) {
            self.log_hour = true;
        } else if sw.has(Switches::LOG_D) {
            self.log_day = true;
        }
        pick(&mut self.mta_first, Switches::MTA_FIRST, Switches::MTA_LAST);
        for i in 0..4 {
            if sw.has(DNS_ON[i]) && have_dnsbls {
                self.dnsbl[i] = true;
            } else if sw.has(DNS_OFF[i]) {
                self.dnsbl[i] = false;
            }
        }
        pick(&mut self.rep_on, Switches::REP_ON, Switches::REP_OFF);
        pick(&mut self.xfltr_on, Switches::XFLTR_ON, Switches::XFLTR_OFF);
        if sw.has(Switches::TRAP_DIS) {
            self.trap = true;
            self.trap_discard = true;
            self.trap_reject = false;
        } else if sw.has(Switches::TRAP_REJ) {
            self.trap = true;
            self.trap_discard = false;
            self.trap_reject = true;
        } else if sw.has(Switches::TRAP_NOT) {
            self.trap = false;
            self.trap_discard = false;
            self.trap_reject = false;
        }
        if self.trap {
            self.grey_off = true;
            self.rep_on = true;
            self.dcc_off = false;
            self.dnsbl = [false; 4];
        }
        self
    }

    /// The adjustments dccm and dccifd make after applying the files
    /// (`get_sws`): no greylisting for mail through a listed MX or
    /// SUBMIT client (`via_relay`); a discarding spam trap may always
    /// discard; a program that cannot discard for one recipient alone
    /// (`can_discard_one` false: dccifd as a proxy) must reject unless
    /// `-a IGNORE`; with `-a DISCARD` spam may be discarded.
    pub fn finish(mut self, via_relay: bool, can_discard_one: bool, action: SpamAction) -> Filters {
        if via_relay {
            self.grey_off = true;
        }
        if self.trap_discard {
            self.discard_no = false;
        } else if !can_discard_one && (action != SpamAction::Ignore || self.trap_reject) {
            self.discard_no = true;
        } else if action == SpamAction::Discard {
            self.discard_no = false;
        }
        self
    }

    /// The finest log subdirectory asked for, if any.
    pub fn log_subdir(&self) -> Option<LogSubdir> {
        if self.log_minute {
            Some(LogSubdir::Minute)
        } else if self.log_hour {
            Some(LogSubdir::Hour)
        } else if self.log_day {
            Some(LogSubdir::Day)
        } else {
            None
        }
    }

    /// Switches that make two recipients' filtering differ
    /// (`FLTR_SWS_CONFLICT`).
    pub fn conflicts_with(&self, other: &Filters) -> bool {
        self.dcc_off != other.dcc_off
            || self.grey_off != other.grey_off
            || self.mta_first != other.mta_first
            || self.rep_on != other.rep_on
            || self.dnsbl != other.dnsbl
            || self.trap_discard != other.trap_discard
            || self.trap_reject != other.trap_reject
            || self.trap != other.trap
            || self.xfltr_on != other.xfltr_on
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{apply_option, Thresholds};

    fn opt(lines: &[&str]) -> Result<(Switches, Thresholds), String> {
        let mut s = Switches::default();
        let mut t = Thresholds::default();
        for l in lines {
            apply_option(l.as_bytes(), &mut s, &mut t)?;
        }
        Ok((s, t))
    }

    #[test]
    fn greylisting_wanted_but_off() {
        let (on, _) = opt(&["greylist-on"]).unwrap();
        let (log_on, _) = opt(&["greylist-log-on"]).unwrap();
        let (off, _) = opt(&["greylist-off", "log-all"]).unwrap();
        assert_eq!(
            Filters::grey_off_complaint(on, false, "/var/dcc/whiteclnt").as_deref(),
            Some("/var/dcc/whiteclnt wants greylisting but it is turned off")
        );
        assert!(Filters::grey_off_complaint(log_on, false, "/w").is_some());
        assert!(Filters::grey_off_complaint(on, true, "/w").is_none());
        assert!(Filters::grey_off_complaint(off, false, "/w").is_none());
    }

    #[test]
    fn filters() {
        let (s, _) = opt(&["spam-trap-discard"]).unwrap();
        let f = Filters::default().apply(s, true, false);
        assert!(f.trap && f.trap_discard && f.grey_off && f.rep_on);
        let (s, _) = opt(&["greylist-on"]).unwrap();
        assert!(Filters::default().apply(s, false, false).grey_off);
        assert!(!Filters::default().apply(s, true, false).grey_off);
    }

    #[test]
    fn external_filter() {
        let (on, _) = opt(&["xfltr-on"]).unwrap();
        let (off, _) = opt(&["xfltr-off"]).unwrap();
        let global = Filters::default().apply(on, false, false);
        assert!(global.xfltr_on);
        // a per-user file over the global one
        assert!(!global.apply(off, false, false).xfltr_on);
        assert!(global.apply(Switches::default(), false, false).xfltr_on);
        assert!(global.conflicts_with(&Filters::default()));
    }
}
