//! Options common to the DCC clients: `-c`/`-t` thresholds and `-g` honoring
//! of server whitelists.

use crate::tgts::{self, str_to_thold, Tgts, THOLD_UNSET};
use tally_ck::CkType;

/// Number of threshold slots: one per checksum type number (0 unused).
pub const NUM_TYPES: usize = 14;

/// What a threshold type name selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TholdTarget {
    /// One checksum type.
    One(CkType),
    /// `ALL`: IP through Fuz2.
    All,
    /// `CMN`: Body, Fuz1 and Fuz2.
    Cmn,
}

impl TholdTarget {
    /// Whether this selection covers `ty`.
    pub fn covers(self, ty: CkType) -> bool {
        match self {
            TholdTarget::One(t) => t == ty,
            TholdTarget::All => (1..=9).contains(&ty.number()),
            TholdTarget::Cmn => ty.is_body(),
        }
    }
}

const TYPE_NAMES: &[(&str, Option<CkType>)] = &[
    ("IP", Some(CkType::Ip)),
    ("env_From", Some(CkType::EnvFrom)),
    ("From", Some(CkType::From)),
    ("substitute", Some(CkType::Sub)),
    ("Message-ID", Some(CkType::MessageId)),
    ("Received", Some(CkType::Received)),
    ("Body", Some(CkType::Body)),
    ("Fuz1", Some(CkType::Fuz1)),
    ("Fuz2", Some(CkType::Fuz2)),
    ("Grey_Msg", Some(CkType::GreyMsg)),
    ("Grey3", Some(CkType::GreyTriple)),
    ("rep-total", Some(CkType::GreyMsg)),
    ("rep", Some(CkType::GreyTriple)),
    ("env_To", Some(CkType::EnvTo)),
    ("flood path", Some(CkType::EnvTo)),
    ("server-ID", Some(CkType::SrvrId)),
    ("ALL", None),
    ("CMN", None),
];

/// Compare a table name with user text: case and the punctuation `-._`
/// do not matter; trailing blanks and colons are ignored.
fn name_matches(name: &str, text: &str) -> bool {
    let nb = name.as_bytes();
    let tb = text.as_bytes();
    let mut i = 0;
    while i < nb.len() {
        let Some(&c) = tb.get(i) else { return false };
        let n = nb[i];
        let same = n.eq_ignore_ascii_case(&c)
            || (matches!(n, b'-' | b'.' | b'_') && matches!(c, b'-' | b'.' | b'_'));
        if !same {
            return false;
        }
        i += 1;
    }
    tb[i..]
        .iter()
        .all(|c| matches!(c, b':' | b' ' | b'\t' | b'\n'))
}

/// A checksum type name accepted for thresholds (`-c`, `-g`, whiteclnt):
/// IP through `rep`, plus ALL and CMN; numbers are accepted when `numeric`.
pub fn str_to_thold_type(s: &str, numeric: bool) -> Option<TholdTarget> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r']);
    for (name, ty) in TYPE_NAMES {
        if name_matches(name, s) {
            return match ty {
                Some(t) if (1..=11).contains(&t.number()) => Some(TholdTarget::One(*t)),
                Some(_) => None,
                None if *name == "ALL" => Some(TholdTarget::All),
                None => Some(TholdTarget::Cmn),
            };
        }
    }
    if numeric {
        if let Some(n) = tgts::parse_ulong(s) {
            if (1..=11).contains(&n) {
                return CkType::from_number(n as u8).map(TholdTarget::One);
            }
        }
    }
    None
}

/// Logging and rejection thresholds and the `-g` choices of a DCC client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    /// Log messages with counts at or above these.
    pub log: [Tgts; NUM_TYPES],
    /// Reject (call spam) messages with counts at or above these.
    pub rej: [Tgts; NUM_TYPES],
    /// Believe the server's ok/ok2 answers for these types.
    pub honor: [bool; NUM_TYPES],
}

impl Default for Thresholds {
    /// The defaults: nothing set except `rep-total` at 20; server
    /// whitelisting honored for IP, env_From and From.
    fn default() -> Self {
        let mut rej = [THOLD_UNSET; NUM_TYPES];
        rej[usize::from(CkType::GreyMsg.number())] = tgts::REP_TOTAL_THOLD_DEF;
        let mut honor = [false; NUM_TYPES];
        for t in [CkType::Ip, CkType::EnvFrom, CkType::From] {
            honor[usize::from(t.number())] = true;
        }
        Thresholds {
            log: [THOLD_UNSET; NUM_TYPES],
            rej,
            honor,
        }
    }
}

/// Result of parsing one `-c` argument.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TholdParse {
    /// A logging threshold was set (so a log directory is wanted).
    pub log_set: bool,
    /// Complaints, worded as the original words them.
    pub errors: Vec<String>,
}

impl Thresholds {
    /// Rejection threshold of a type.
    pub fn rej(&self, ty: CkType) -> Tgts {
        self.rej[usize::from(ty.number())]
    }

    /// Logging threshold of a type.
    pub fn log(&self, ty: CkType) -> Tgts {
        self.log[usize::from(ty.number())]
    }

    /// Parse `type,[log-thold,]rej-thold`; `flag` is "-c " or "-t " for messages.
    pub fn parse(&mut self, flag: &str, arg: &str) -> TholdParse {
        let mut out = TholdParse::default();
        let Some((tname, rest)) = arg.split_once(',') else {
            out.errors.push(format!("missing comma in \"{flag}{arg}\""));
            return out;
        };
        let Some(target) = str_to_thold_type(tname, false) else {
            out.errors
                .push(format!("unrecognized checksum type in \"{flag}{arg}\""));
            return out;
        };
        let rep_ty = match target {
            TholdTarget::One(t) => t,
            _ => CkType::Body,
        };
        let (log_s, rej_s) = match rest.split_once(',') {
            Some((l, r)) => (Some(l), r),
            None => (None, rest),
        };
        let mut log_v = None;
        if let Some(l) = log_s.filter(|l| !l.is_empty()) {
            match str_to_thold(rep_ty, l) {
                Some(v) => log_v = Some(v),
                None => out.errors.push(format!(
                    "unrecognized logging threshold \"{l}\" in \"{flag}{arg}\""
                )),
            }
        }
        let mut rej_v = None;
        if rej_s.is_empty() {
            if matches!(log_s, None | Some("")) {
                out.errors.push(format!("no thresholds in \"{flag}{arg}\""));
            }
        } else {
            match str_to_thold(rep_ty, rej_s) {
                Some(v) => rej_v = Some(v),
                None => out.errors.push(format!(
                    "unrecognized rejection threshold \"{rej_s}\" in \"{flag}{arg}\""
                )),
            }
        }
        for ty in CkType::ALL {
            if target.covers(ty) {
                let i = usize::from(ty.number());
                if let Some(v) = log_v {
                    self.log[i] = v;
                }
                if let Some(v) = rej_v {
                    self.rej[i] = v;
                }
            }
        }
        out.log_set = log_v.is_some();
        out
    }

    /// Parse a `-g [not-]type` argument; returns a complaint when unrecognized.
    pub fn parse_honor(&mut self, arg: &str) -> Option<String> {
        let lower = arg.get(..4).map(str::to_ascii_lowercase);
        let (rest, on) = if matches!(lower.as_deref(), Some("not_" | "not-")) {
            (&arg[4..], false)
        } else if matches!(
            arg.get(..3).map(str::to_ascii_lowercase).as_deref(),
            Some("no_" | "no-")
        ) {
            (&arg[3..], false)
        } else {
            (arg, true)
        };
        let Some(target) = str_to_thold_type(rest, true) else {
            return Some(format!("unrecognized checksum type in \"-g {arg}\""));
        };
        for ty in CkType::ALL {
            if target.covers(ty) {
                self.honor[usize::from(ty.number())] = on;
            }
        }
        None
    }

    /// Whether the rejection threshold of the bulk reputation was set to a
    /// usable percentage (turns reputations on for dccproc).
    pub fn rep_set(&self) -> bool {
        self.rej(CkType::GreyTriple) <= 100
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tgts::{THOLD_NEVER, TOO_MANY};

    #[test]
    fn cmn_two_values() {
        let mut t = Thresholds::default();
        let r = t.parse("-c ", "CMN,25,50");
        assert!(r.errors.is_empty());
        assert!(r.log_set);
        for ty in [CkType::Body, CkType::Fuz1, CkType::Fuz2] {
            assert_eq!(t.log(ty), 25);
            assert_eq!(t.rej(ty), 50);
        }
        assert_eq!(t.rej(CkType::Ip), THOLD_UNSET);
    }

    #[test]
    fn all_and_words() {
        let mut t = Thresholds::default();
        assert!(t.parse("-c ", "all,never").errors.is_empty());
        assert_eq!(t.rej(CkType::Ip), THOLD_NEVER);
        assert_eq!(t.rej(CkType::Fuz2), THOLD_NEVER);
        assert_eq!(t.rej(CkType::GreyMsg), 20);
        assert!(t.parse("-c ", "body,MANY").errors.is_empty());
        assert_eq!(t.rej(CkType::Body), TOO_MANY);
        assert!(t.parse("-c ", "env-from,3").errors.is_empty());
        assert_eq!(t.rej(CkType::EnvFrom), 3);
        assert!(!t.parse("-c ", "Body,10").log_set);
    }

    #[test]
    fn errors() {
        let mut t = Thresholds::default();
        assert_eq!(
            t.parse("-c ", "Body").errors,
            ["missing comma in \"-c Body\""]
        );
        assert_eq!(
            t.parse("-c ", "Bogus,3").errors,
            ["unrecognized checksum type in \"-c Bogus,3\""]
        );
        assert_eq!(
            t.parse("-c ", "Body,").errors,
            ["no thresholds in \"-c Body,\""]
        );
        assert_eq!(
            t.parse("-c ", "Body,x").errors,
            ["unrecognized rejection threshold \"x\" in \"-c Body,x\""]
        );
        let r = t.parse("-c ", "Body,5,");
        assert!(r.errors.is_empty() && r.log_set);
        assert_eq!(t.log(CkType::Body), 5);
    }

    #[test]
    fn honor() {
        let mut t = Thresholds::default();
        assert!(t.honor[1]);
        assert_eq!(t.parse_honor("not-IP"), None);
        assert!(!t.honor[1]);
        assert_eq!(t.parse_honor("IP"), None);
        assert!(t.honor[1]);
        assert!(t.parse_honor("xyz").is_some());
        assert_eq!(t.parse_honor("CMN"), None);
        assert!(t.honor[7] && t.honor[8] && t.honor[9]);
    }
}
