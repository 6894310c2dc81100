//! `option` lines: switch settings and thresholds.

use crate::cnum::strtoul;
use crate::names::{threshold_targets, threshold_type};
use crate::tgts::Tgts;
use tally_ck::CkType;

/// The switch settings of one whiteclnt file: which `option` lines it has.
/// Each setting is a bit; a file cannot set two bits that conflict.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Switches(pub u32);

#[rustfmt::skip]
impl Switches {
    pub const GREY_ON: u32 = 0x0000_0001;
    pub const GREY_OFF: u32 = 0x0000_0002;
    pub const GREY_SPAM_ON: u32 = 0x0000_0004;
    pub const GREY_SPAM_OFF: u32 = 0x0000_0008;
    pub const GREY_LOG_ON: u32 = 0x0000_0010;
    pub const GREY_LOG_OFF: u32 = 0x0000_0020;
    pub const LOG_ALL: u32 = 0x0000_0040;
    pub const LOG_NORMAL: u32 = 0x0000_0080;
    pub const DISCARD_OK: u32 = 0x0000_0100;
    pub const DISCARD_NO: u32 = 0x0000_0200;
    pub const DCC_ON: u32 = 0x0000_0400;
    pub const DCC_OFF: u32 = 0x0000_0800;
    pub const REP_ON: u32 = 0x0000_1000;
    pub const REP_OFF: u32 = 0x0000_2000;
    pub const MTA_FIRST: u32 = 0x0000_4000;
    pub const MTA_LAST: u32 = 0x0000_8000;
    pub const LOG_D: u32 = 0x0001_0000;
    pub const LOG_H: u32 = 0x0002_0000;
    pub const LOG_M: u32 = 0x0004_0000;
    pub const TRAP_NOT: u32 = 0x0008_0000;
    pub const TRAP_DIS: u32 = 0x0010_0000;
    pub const TRAP_REJ: u32 = 0x0020_0000;
    pub const TRAPS: u32 = Self::TRAP_DIS | Self::TRAP_REJ;
    /// `DNSBLn-on` for n = 1..4 is `DNSBL_ON << (n-1)`.
    pub const DNSBL_ON: u32 = 0x0040_0000;
    pub const DNSBL_ON_ALL: u32 = Self::DNSBL_ON * 0xf;
    /// `DNSBLn-off` for n = 1..4 is `DNSBL_OFF << (n-1)`.
    pub const DNSBL_OFF: u32 = 0x0400_0000;
    /// `xfltr-on`: the `-X` external filter's answers act (dccm(8)).
    pub const XFLTR_ON: u32 = 0x4000_0000;
    /// `xfltr-off`: they are only logged (the default).
    pub const XFLTR_OFF: u32 = 0x8000_0000;

    /// Whether a bit is set.
    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    /// Whether the file makes any setting.
    pub fn any(self) -> bool {
        self.0 != 0
    }
}

/// One `option` word: the bit it sets and the bits it conflicts with.
struct OptDef {
    name: &'static str,
    on: u32,
    conflicts: u32,
}

const fn od(name: &'static str, on: u32, conflicts: u32) -> OptDef {
    OptDef {
        name,
        on,
        conflicts,
    }
}

pub(crate) const DNS_ON: [u32; 4] = [0x0040_0000, 0x0080_0000, 0x0100_0000, 0x0200_0000];
pub(crate) const DNS_OFF: [u32; 4] = [0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000];
const TRAP_DIS_CONFLICTS: u32 = Switches::TRAP_REJ
    | Switches::TRAP_NOT
    | Switches::DCC_OFF
    | Switches::REP_OFF
    | Switches::DNSBL_ON_ALL
    | Switches::DISCARD_NO;
const DISCARD_NO_CONFLICTS: u32 = Switches::DISCARD_OK | Switches::TRAPS;

/// The option words in the order the original tries them (the order
/// decides which conflicting option an error message names).
#[rustfmt::skip]
const OPTIONS: [OptDef; 39] = [
    od("log-all", Switches::LOG_ALL, Switches::LOG_NORMAL),
    od("log-normal", Switches::LOG_NORMAL, Switches::LOG_ALL),
    od("log-subdirectory-day", Switches::LOG_D, Switches::LOG_H | Switches::LOG_M),
    od("log-subdirectory-hour", Switches::LOG_H, Switches::LOG_D | Switches::LOG_M),
    od("log-subdirectory-minute", Switches::LOG_M, Switches::LOG_D | Switches::LOG_H),
    od("greylist-on", Switches::GREY_ON, Switches::GREY_OFF),
    od("greylist-off", Switches::GREY_OFF, Switches::GREY_ON),
    od("greylist-ignore-spam-on", Switches::GREY_SPAM_ON, Switches::GREY_SPAM_OFF),
    od("greylist-ignore-spam-off", Switches::GREY_SPAM_OFF, Switches::GREY_SPAM_ON),
    od("greylist-log-on", Switches::GREY_LOG_ON, Switches::GREY_LOG_OFF),
    od("greylist-log-off", Switches::GREY_LOG_OFF, Switches::GREY_LOG_ON),
    od("DCC-on", Switches::DCC_ON, Switches::DCC_OFF),
    od("DCC-off", Switches::DCC_OFF, Switches::DCC_ON | Switches::TRAPS),
    od("forced-discard-ok", Switches::DISCARD_OK, Switches::DISCARD_NO),
    od("no-forced-discard", Switches::DISCARD_NO, DISCARD_NO_CONFLICTS),
    od("no_forced-discard", Switches::DISCARD_NO, DISCARD_NO_CONFLICTS),
    od("forced-discard-nok", Switches::DISCARD_NO, DISCARD_NO_CONFLICTS),
    od("MTA-first", Switches::MTA_FIRST, Switches::MTA_LAST),
    od("MTA-last", Switches::MTA_LAST, Switches::MTA_FIRST),
    od("DCC-rep-on", Switches::REP_ON, Switches::REP_OFF),
    od("DCC-rep-off", Switches::REP_OFF, Switches::REP_ON),
    od("DCC-reps-on", Switches::REP_ON, Switches::REP_OFF),
    od("DCC-reps-off", Switches::REP_OFF, Switches::REP_ON),
    od("DNSBL1-on", DNS_ON[0], DNS_OFF[0] | Switches::TRAPS),
    od("DNSBL1-off", DNS_OFF[0], DNS_ON[0]),
    od("DNSBL2-on", DNS_ON[1], DNS_OFF[1] | Switches::TRAPS),
    od("DNSBL2-off", DNS_OFF[1], DNS_ON[1]),
    od("DNSBL3-on", DNS_ON[2], DNS_OFF[2] | Switches::TRAPS),
    od("DNSBL3-off", DNS_OFF[2], DNS_ON[2]),
    od("DNSBL4-on", DNS_ON[3], DNS_OFF[3] | Switches::TRAPS),
    od("DNSBL4-off", DNS_OFF[3], DNS_ON[3]),
    od("DNSBL-on", DNS_ON[0], DNS_OFF[0] | Switches::TRAPS),
    od("DNSBL-off", DNS_OFF[0], DNS_ON[0]),
    od("not-spam-trap", Switches::TRAP_NOT, Switches::TRAPS),
    od("spam-trap-discard", Switches::TRAP_DIS, TRAP_DIS_CONFLICTS),
    od("spam-trap-accept", Switches::TRAP_DIS, TRAP_DIS_CONFLICTS),
    od("spam-trap-reject", Switches::TRAP_REJ,
       Switches::TRAP_DIS | Switches::TRAP_NOT | Switches::DCC_OFF
       | Switches::REP_OFF | Switches::DNSBL_ON_ALL),
    od("xfltr-on", Switches::XFLTR_ON, Switches::XFLTR_OFF),
    od("xfltr-off", Switches::XFLTR_OFF, Switches::XFLTR_ON),
];

/// A rejection threshold: a count, `many`, or `never` (`THOLD_NEVER`).
pub type Threshold = Tgts;

/// The `never` threshold: one more than MANY, so nothing reaches it.
pub const THOLD_NEVER: Threshold = Tgts(Tgts::MANY.0 + 1);

/// Rejection thresholds by checksum type (`None` = not set here).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Thresholds(pub [Option<Threshold>; 14]);

impl Thresholds {
    /// The threshold for a type, if set.
    pub fn get(&self, t: CkType) -> Option<Threshold> {
        self.0[usize::from(t.number())]
    }

    /// Set the threshold for a type.
    pub fn set(&mut self, t: CkType, v: Threshold) {
        self.0[usize::from(t.number())] = Some(v);
    }

    /// Whether any threshold is set.
    pub fn any(&self) -> bool {
        self.0.iter().any(Option::is_some)
    }

    /// `merge_tholds`: every threshold set in `over` replaces ours.
    pub fn merge(&mut self, over: &Thresholds) {
        for (mine, theirs) in self.0.iter_mut().zip(over.0.iter()) {
            if theirs.is_some() {
                *mine = *theirs;
            }
        }
    }
}

/// Parse a threshold value for a type (`dcc_str2thold`): a decimal count,
/// `many`, `never`, or for `rep` a percentage up to 100 (`NN%`).
pub fn parse_threshold(t: CkType, s: &[u8]) -> Option<Threshold> {
    let (mut v, used) = strtoul(s, 10);
    if used < s.len() {
        let rest = &s[used..];
        if rest.first() == Some(&b'%') {
            if rest.len() != 1 || t != CkType::GreyTriple {
                return None;
            }
        } else if s.eq_ignore_ascii_case(b"many") {
            v = u64::from(Tgts::MANY.0);
        } else if s.eq_ignore_ascii_case(b"never") {
            v = u64::from(THOLD_NEVER.0);
        } else {
            return None;
        }
    }
    if v <= u64::from(Tgts::MANY.0) {
        if t == CkType::GreyTriple && v > 100 {
            return None;
        }
        if t == CkType::GreyMsg && v >= u64::from(Tgts::MANY.0) {
            return None;
        }
    }
    // the C code keeps the low 32 bits of a huge number
    Some(Tgts(v as u32))
}

/// What an `option` line did, or the message (without file and line) of
/// why it was refused. `%L` in a message stands for the file-and-line
/// suffix, which the parser fills in.
pub(crate) fn apply_option(
    opt: &[u8],
    sws: &mut Switches,
    tholds: &mut Thresholds,
) -> Result<(), String> {
    let shown = String::from_utf8_lossy(opt);
    let Some(def) = OPTIONS
        .iter()
        .find(|d| d.name.as_bytes().eq_ignore_ascii_case(opt))
    else {
        return apply_threshold(opt, tholds);
    };
    check_conflicts(def, &shown, *sws)?;
    sws.0 |= def.on;
    Ok(())
}

/// The original's second pass over a file without problems, for one
/// `option` line: the line against the settings of the whole file. Some
/// conflicts in the table go one way only (`spam-trap-discard` conflicts
/// with `DCC-rep-off` but not the other way round), so an option can
/// conflict with one that comes after it; the original reports that on
/// this pass, and so do we. Thresholds cannot conflict here: the first
/// pass already refused any second value.
pub(crate) fn recheck_option(opt: &[u8], all: Switches) -> Result<(), String> {
    match OPTIONS
        .iter()
        .find(|d| d.name.as_bytes().eq_ignore_ascii_case(opt))
    {
        Some(def) => check_conflicts(def, &String::from_utf8_lossy(opt), all),
        None => Ok(()),
    }
}

/// Whether `def` may be set beside `sws`; the message names the first
/// option of the table that sets a conflicting bit, as the original does.
fn check_conflicts(def: &OptDef, shown: &str, sws: Switches) -> Result<(), String> {
    let conflicts = sws.0 & def.conflicts;
    if conflicts == 0 {
        return Ok(());
    }
    Err(match OPTIONS.iter().find(|d| d.on & conflicts != 0) {
        Some(other) => {
            format!(
                "\"option {shown}\"%L conflicts with \"option {}\"",
                other.name
            )
        }
        None => format!("conflicting \"option {shown}\"%L"),
    })
}

fn apply_threshold(opt: &[u8], tholds: &mut Thresholds) -> Result<(), String> {
    let shown = String::from_utf8_lossy(opt);
    let word = b"threshold";
    let rest = match opt.get(..word.len()) {
        Some(w) if w.eq_ignore_ascii_case(word) => &opt[word.len()..],
        _ => return Err(format!("unrecognized \"option {shown}\"%L")),
    };
    let sp = rest.iter().take_while(|c| b" \t\n\r".contains(c)).count();
    if sp == 0 {
        return Err(format!("unrecognized \"option {shown}\"%L"));
    }
    let arg = &rest[sp..];
    let Some(comma) = arg.iter().position(|&c| c == b',') else {
        return Err(format!("no comma in \"option {shown}\"%L"));
    };
    let Some(name) = threshold_type(&arg[..comma]) else {
        return Err(format!("unknown checksum type in \"option {shown}\"%L"));
    };
    let targets = threshold_targets(name);
    let value = &arg[comma + 1..];
    let first = targets.first().copied().unwrap_or(CkType::Body);
    let kind = if targets.len() == 1 {
        first
    } else {
        CkType::Body
    };
    let Some(v) = parse_threshold(kind, value) else {
        return Err(format!("unrecognized threshold in \"option {shown}\"%L"));
    };
    let mut result = Ok(());
    for t in targets {
        match tholds.get(t) {
            Some(old) if old != v => {
                if result.is_ok() {
                    result = Err("conflicting threshold setting%L".to_string());
                }
            }
            _ => tholds.set(t, v),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(lines: &[&str]) -> Result<(Switches, Thresholds), String> {
        let mut s = Switches::default();
        let mut t = Thresholds::default();
        for l in lines {
            apply_option(l.as_bytes(), &mut s, &mut t)?;
        }
        Ok((s, t))
    }

    #[test]
    fn words() {
        let (s, _) = opt(&["log-all", "DCC-OFF", "log-subdirectory-day"]).unwrap();
        assert!(s.has(Switches::LOG_ALL) && s.has(Switches::DCC_OFF) && s.has(Switches::LOG_D));
        let e = opt(&["log-all", "log-normal"]).unwrap_err();
        assert_eq!(
            e,
            "\"option log-normal\"%L conflicts with \"option log-all\""
        );
        let e = opt(&["dcc-off", "spam-trap-reject"]).unwrap_err();
        assert!(e.contains("conflicts with \"option DCC-off\""), "{e}");
        assert!(opt(&["bogus"]).unwrap_err().starts_with("unrecognized"));
        let (s, _) = opt(&["XFLTR-ON"]).unwrap();
        assert!(s.has(Switches::XFLTR_ON) && !s.has(Switches::XFLTR_OFF));
        let e = opt(&["xfltr-on", "xfltr-off"]).unwrap_err();
        assert!(e.contains("conflicts with \"option xfltr-on\""), "{e}");
    }

    #[test]
    fn one_way_conflicts_on_the_second_pass() {
        // pass 1 accepts these orders
        let (all, _) = opt(&["spam-trap-discard", "DCC-rep-off"]).unwrap();
        let e = recheck_option(b"spam-trap-discard", all).unwrap_err();
        assert_eq!(
            e,
            "\"option spam-trap-discard\"%L conflicts with \"option DCC-rep-off\""
        );
        assert_eq!(recheck_option(b"DCC-rep-off", all), Ok(()));
        let (all, _) = opt(&["no-forced-discard", "spam-trap-reject"]).unwrap();
        let e = recheck_option(b"No-Forced-Discard", all).unwrap_err();
        assert!(
            e.ends_with("conflicts with \"option spam-trap-reject\""),
            "{e}"
        );
        // symmetric pairs and thresholds never reach this pass with a conflict
        let (all, _) = opt(&["log-all", "threshold body,3"]).unwrap();
        assert_eq!(recheck_option(b"log-all", all), Ok(()));
        assert_eq!(recheck_option(b"threshold body,3", all), Ok(()));
    }

    #[test]
    fn thresholds() {
        let (_, t) = opt(&["threshold CMN,MANY"]).unwrap();
        assert_eq!(t.get(CkType::Body), Some(Tgts::MANY));
        assert_eq!(t.get(CkType::Fuz2), Some(Tgts::MANY));
        assert_eq!(t.get(CkType::Ip), None);
        let (_, t) = opt(&["threshold body,10", "threshold rep,90%"]).unwrap();
        assert_eq!(t.get(CkType::Body), Some(Tgts(10)));
        assert_eq!(t.get(CkType::GreyTriple), Some(Tgts(90)));
        assert!(opt(&["threshold body,10", "threshold CMN,3"]).is_err());
        assert!(opt(&["threshold body"])
            .unwrap_err()
            .starts_with("no comma"));
        assert!(opt(&["threshold bogus,3"]).is_err());
        assert!(opt(&["threshold body,x"]).is_err());
        assert_eq!(parse_threshold(CkType::Body, b"never"), Some(THOLD_NEVER));
    }
}
