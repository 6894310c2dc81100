//! A normal form of a parsed file: options, thresholds, then one line per
//! entry (checksums in hex, addresses as ranges or blocks, host names as
//! written), with included files flattened. Parsing the normal form gives
//! the same entries and settings again.

use crate::options::{Switches, THOLD_NEVER};
use crate::parse::{ItemValue, ParsedFile};
use crate::tgts::Tgts;
use std::fmt::Write;
use tally_ck::CkType;

/// A name of a type that whiteclnt lines and thresholds accept.
pub fn type_name(t: CkType) -> &'static str {
    match t {
        CkType::GreyMsg => "Grey_Msg",
        CkType::GreyTriple => "Grey3",
        other => other.name(),
    }
}

const OPTION_NAMES: [(&str, u32); 32] = [
    ("log-all", Switches::LOG_ALL),
    ("log-normal", Switches::LOG_NORMAL),
    ("log-subdirectory-day", Switches::LOG_D),
    ("log-subdirectory-hour", Switches::LOG_H),
    ("log-subdirectory-minute", Switches::LOG_M),
    ("greylist-on", Switches::GREY_ON),
    ("greylist-off", Switches::GREY_OFF),
    ("greylist-ignore-spam-on", Switches::GREY_SPAM_ON),
    ("greylist-ignore-spam-off", Switches::GREY_SPAM_OFF),
    ("greylist-log-on", Switches::GREY_LOG_ON),
    ("greylist-log-off", Switches::GREY_LOG_OFF),
    ("DCC-on", Switches::DCC_ON),
    ("DCC-off", Switches::DCC_OFF),
    ("forced-discard-ok", Switches::DISCARD_OK),
    ("no-forced-discard", Switches::DISCARD_NO),
    ("MTA-first", Switches::MTA_FIRST),
    ("MTA-last", Switches::MTA_LAST),
    ("DCC-rep-on", Switches::REP_ON),
    ("DCC-rep-off", Switches::REP_OFF),
    ("DNSBL1-on", Switches::DNSBL_ON),
    ("DNSBL1-off", Switches::DNSBL_OFF),
    ("DNSBL2-on", Switches::DNSBL_ON << 1),
    ("DNSBL2-off", Switches::DNSBL_OFF << 1),
    ("DNSBL3-on", Switches::DNSBL_ON << 2),
    ("DNSBL3-off", Switches::DNSBL_OFF << 2),
    ("DNSBL4-on", Switches::DNSBL_ON << 3),
    ("DNSBL4-off", Switches::DNSBL_OFF << 3),
    ("not-spam-trap", Switches::TRAP_NOT),
    ("spam-trap-discard", Switches::TRAP_DIS),
    ("spam-trap-reject", Switches::TRAP_REJ),
    ("xfltr-on", Switches::XFLTR_ON),
    ("xfltr-off", Switches::XFLTR_OFF),
];

/// The option lines for a set of switches.
pub fn option_lines(sw: Switches) -> Vec<String> {
    OPTION_NAMES
        .iter()
        .filter(|(_, bit)| sw.has(*bit))
        .map(|(name, _)| format!("option {name}"))
        .collect()
}

fn thold(v: Tgts) -> String {
    match v {
        Tgts::MANY => "many".to_string(),
        THOLD_NEVER => "never".to_string(),
        Tgts(n) => n.to_string(),
    }
}

impl ParsedFile {
    /// The normal form of the file's good lines.
    pub fn normal_form(&self) -> String {
        let mut out = String::new();
        for l in option_lines(self.switches) {
            let _ = writeln!(out, "{l}");
        }
        for t in CkType::ALL {
            if let Some(v) = self.thresholds.get(t) {
                let _ = writeln!(out, "option threshold {},{}", type_name(t), thold(v));
            }
        }
        for it in &self.items {
            let _ = match &it.value {
                ItemValue::Sum(t, s) => writeln!(out, "{} hex {} {}", it.tgts, type_name(*t), s),
                ItemValue::Range(r) => writeln!(out, "{} IP {}", it.tgts, r),
                ItemValue::Host(h) => writeln!(out, "{} IP {}", it.tgts, h),
            };
        }
        out
    }
}
