//! The settings of a greylist server: `dccd -G
//! [on,][weak-body,][weak-IP,][embargo][,window][,white]` as dccd(8)
//! describes it, with the original's defaults and limits.

use std::fmt;

/// Seconds in a minute, hour, day and week.
const MINUTE: u32 = 60;
const HOUR: u32 = 60 * MINUTE;
const DAY: u32 = 24 * HOUR;
const WEEK: u32 = 7 * DAY;

/// Default embargo: 270 seconds.
pub const DEF_EMBARGO: u32 = 270;
/// Longest embargo: one day.
pub const MAX_EMBARGO: u32 = DAY;
/// Default window (how long an embargoed triple waits for its retry): 7 days.
pub const DEF_WINDOW: u32 = 7 * DAY;
/// Longest window: 10 days.
pub const MAX_WINDOW: u32 = 10 * DAY;
/// Default time a familiar triple is remembered: 63 days.
pub const DEF_WHITE: u32 = 63 * DAY;
/// Longest such time (the database's longest expiry, as the original).
pub const MAX_WHITE: u32 = i32::MAX as u32;

/// The option word of the automatic client whitelist (an addition of this
/// implementation, off by default): `auto-white-IP=N` whitelists an SMTP
/// client's IP address once N of its triples have passed their embargo.
pub const AUTO_WHITE_WORD: &str = "auto-white-IP";

/// The file beside a greylist database in which its server keeps these
/// settings, in the form of `-G` ([`Params::to_arg`]), so that `dbclean
/// -G on` expires the database with them.
pub const PARAMS_FILE: &str = "grey-params";

/// The greylist settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Seconds a new triple is embargoed; 0 means "only collect names"
    /// (GREY_REPORT is then handled as GREY_WHITE).
    pub embargo: u32,
    /// Seconds an embargoed triple is remembered waiting for its retry.
    pub window: u32,
    /// Seconds a familiar triple is remembered after its last accepted message.
    pub white: u32,
    /// `weak-body`: any message of the triple ends the embargo.
    pub weak_body: bool,
    /// `weak-IP`: once a message from an IP address is accepted, all its
    /// mail is.
    pub weak_ip: bool,
    /// `auto-white-IP=N` (not in the original): the IP address of an SMTP
    /// client is whitelisted once N of its triples have passed the embargo.
    pub auto_white_ip: Option<u32>,
}

impl Default for Params {
    /// `-G 270seconds,7days,63days`.
    fn default() -> Self {
        Params {
            embargo: DEF_EMBARGO,
            window: DEF_WINDOW,
            white: DEF_WHITE,
            weak_body: false,
            weak_ip: false,
            auto_white_ip: None,
        }
    }
}

/// A `-G` argument the original would refuse, with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError(pub String);

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParamError {}

/// Take `word` (any case) followed by a comma or the end from the front of
/// `rest`.
fn take_word<'a>(rest: &'a str, word: &str) -> Option<&'a str> {
    let head = rest.get(..word.len())?;
    if !head.eq_ignore_ascii_case(word) {
        return None;
    }
    let after = &rest[word.len()..];
    if after.is_empty() {
        Some(after)
    } else {
        after.strip_prefix(',')
    }
}

/// The original's bound on durations (`DCC_MAX_SECS`).
const MAX_SECS: u64 = i32::MAX as u64;

/// The units of a duration, as the original spells them (any case), with
/// their seconds: nothing else is taken (not `sec`, `min` or `second`).
const UNITS: [(&str, u32); 14] = [
    ("seconds", 1),
    ("s", 1),
    ("minutes", MINUTE),
    ("minute", MINUTE),
    ("m", MINUTE),
    ("hours", HOUR),
    ("hour", HOUR),
    ("h", HOUR),
    ("days", DAY),
    ("day", DAY),
    ("d", DAY),
    ("weeks", WEEK),
    ("week", WEEK),
    ("w", WEEK),
];

/// Parse one duration field as the original does: empty means `default`;
/// `never` (any case) means `max` where `min` is above 0 (so not for the
/// embargo, nor for a window after an embargo of 0); otherwise a number,
/// after blanks and an optional sign, of seconds, or followed by a unit
/// of [`UNITS`] (a unit alone counts 0 of it). The number must be below
/// the original's bound for its unit (2^31 seconds divided by 60 for
/// seconds and minutes, by the unit's seconds for hours, days and weeks),
/// and the value must lie in `min..=max` (the original also lets a window
/// or whitelist time of 0 through, whose meaning it does not say; we
/// refuse it).
pub fn parse_duration(field: &str, min: u32, max: u32, default: u32) -> Option<u32> {
    if field.is_empty() {
        return Some(default);
    }
    if min > 0 {
        if let Some(rest) = field.get(..5).filter(|h| h.eq_ignore_ascii_case("never")) {
            return (field.len() == rest.len()).then_some(max);
        }
    }
    // C's strtoul: without digits the number is 0 and the unit is read
    // from the start; a negative number wraps around and an overflow
    // saturates, both refused by the bound below
    let (n, used) = tally_white::cnum::strtoul(field.as_bytes(), 10);
    let unit = field.get(used..)?;
    let mult = if unit.is_empty() {
        1
    } else {
        UNITS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(unit))
            .map(|&(_, m)| u64::from(m))?
    };
    // the original's bound before multiplying
    if n >= MAX_SECS / mult.max(u64::from(MINUTE)) {
        return None;
    }
    let v = u32::try_from(n * mult).ok()?;
    (min..=max).contains(&v).then_some(v)
}

impl Params {
    /// Parse the argument of `-G`, starting from `self` (an earlier `-G`
    /// or the defaults), as the original: leading words `on`, `weak-body`
    /// (also `weak_body`, `weak`), `weak-IP` (also `weak_IP`) and ours,
    /// `auto-white-IP=N`, in any order; then up to three durations
    /// separated by commas (see [`parse_duration`]): the embargo (0 ..= 1
    /// day), the window (embargo ..= 10 days) and the white time (window
    /// and more).
    pub fn parse_arg(&self, arg: &str) -> Result<Params, ParamError> {
        match self.parse_arg_as_dccd(arg) {
            (p, None) => Ok(p),
            (_, Some(e)) => Err(e),
        }
    }

    /// [`Params::parse_arg`] as dccd applies a bad `-G`: the words before
    /// the bad part still count (`-G weak-body,2d` turns `weak-body` on),
    /// the durations stay as they were; with the complaint.
    pub fn parse_arg_as_dccd(&self, arg: &str) -> (Params, Option<ParamError>) {
        let mut p = *self;
        let mut rest = arg;
        loop {
            if rest.is_empty() {
                break;
            }
            if let Some(r) = take_word(rest, "weak-body")
                .or_else(|| take_word(rest, "weak_body"))
                .or_else(|| take_word(rest, "weak"))
            {
                p.weak_body = true;
                rest = r;
                continue;
            }
            if let Some(r) = take_word(rest, "weak-IP").or_else(|| take_word(rest, "weak_IP")) {
                p.weak_ip = true;
                rest = r;
                continue;
            }
            if let Some(after) = rest
                .get(..AUTO_WHITE_WORD.len() + 1)
                .filter(|h| h.eq_ignore_ascii_case(&format!("{AUTO_WHITE_WORD}=")))
                .map(|h| &rest[h.len()..])
            {
                let (num, r) = after.split_once(',').unwrap_or((after, ""));
                match num.parse::<u32>().ok().filter(|&n| n >= 1) {
                    Some(n) => p.auto_white_ip = Some(n),
                    None => {
                        let e = format!("invalid {AUTO_WHITE_WORD} count \"-G {arg}\"");
                        return (p, Some(ParamError(e)));
                    }
                }
                rest = r;
                continue;
            }
            match take_word(rest, "on") {
                Some(r) => rest = r,
                None => break,
            }
        }
        let mut fields = rest.splitn(3, ',');
        let f_embargo = fields.next().unwrap_or("");
        let f_window = fields.next().unwrap_or("");
        let f_white = fields.next().unwrap_or("");
        let bad = |what: &str| Some(ParamError(format!("invalid greylist {what} \"-G {arg}\"")));
        let Some(embargo) = parse_duration(f_embargo, 0, MAX_EMBARGO, p.embargo) else {
            return (p, bad("embargo"));
        };
        let Some(window) = parse_duration(f_window, embargo, MAX_WINDOW, embargo.max(p.window))
        else {
            return (p, bad("wait time"));
        };
        let Some(white) = parse_duration(f_white, window, MAX_WHITE, window.max(p.white)) else {
            return (p, bad("whitelist time"));
        };
        p.embargo = embargo;
        p.window = window;
        p.white = white;
        (p, None)
    }

    /// The settings as a `-G` argument that [`Params::parse_arg`] reads
    /// back to the same values (saved with the database so that `dbclean
    /// -G on` expires with the server's durations).
    pub fn to_arg(&self) -> String {
        let mut s = String::from("on,");
        if self.weak_body {
            s.push_str("weak-body,");
        }
        if self.weak_ip {
            s.push_str("weak-IP,");
        }
        if let Some(n) = self.auto_white_ip {
            s.push_str(&format!("{AUTO_WHITE_WORD}={n},"));
        }
        s.push_str(&format!("{},{},{}", self.embargo, self.window, self.white));
        s
    }

    /// Whether a record `age` seconds old with target count `tgts` is kept
    /// by a cleaning: embargo records (below `many`) for the window,
    /// records of accepted messages (`many`) for the white time.
    pub fn keeps(&self, tgts: u32, age: u64) -> bool {
        if tgts >= crate::MANY {
            age <= u64::from(self.white)
        } else {
            age <= u64::from(self.window)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_units() {
        let d = Params::default();
        assert_eq!(d.parse_arg("on").unwrap(), d);
        assert_eq!(d.parse_arg("").unwrap(), d);
        let p = d.parse_arg("on,20").unwrap();
        assert_eq!((p.embargo, p.window, p.white), (20, DEF_WINDOW, DEF_WHITE));
        let p = d.parse_arg("weak-body,weak-IP,5m,2d,4W").unwrap();
        assert!(p.weak_body && p.weak_ip);
        assert_eq!((p.embargo, p.window, p.white), (300, 2 * DAY, 28 * DAY));
        let p = d.parse_arg("ON,WEAK,270seconds,7days,63days").unwrap();
        assert!(p.weak_body && !p.weak_ip);
        assert_eq!((p.embargo, p.window, p.white), (270, 7 * DAY, 63 * DAY));
        let p = d.parse_arg("on,1HOURS,,").unwrap();
        assert_eq!((p.embargo, p.window), (3600, DEF_WINDOW));
        let p = d.parse_arg("0").unwrap();
        assert_eq!(p.embargo, 0);
    }

    #[test]
    fn limits() {
        let d = Params::default();
        assert!(d.parse_arg("on,2d").is_err(), "embargo above a day");
        assert!(d.parse_arg("on,1d").is_ok());
        assert!(d.parse_arg("on,10,11d").is_err(), "window above 10 days");
        assert!(
            d.parse_arg("on,600,300").is_err(),
            "window below the embargo"
        );
        assert!(
            d.parse_arg("on,10,1d,1h").is_err(),
            "white below the window"
        );
        assert!(d.parse_arg("on,10x").is_err());
        assert!(d.parse_arg("off").is_err());
        assert!(d.parse_arg("on,1,2,3,4").is_err());
    }

    /// The original's `dcc_get_secs`: `never`, only its unit words, blanks
    /// and a sign before the number, its bounds before multiplying.
    #[test]
    fn durations_as_the_original() {
        let d = Params::default();
        // never: the longest window and whitelist time, never an embargo
        let p = d.parse_arg("on,20,NEVER,never").unwrap();
        assert_eq!((p.window, p.white), (MAX_WINDOW, MAX_WHITE));
        assert!(d.parse_arg("never").is_err());
        assert!(d.parse_arg("on,0,never").is_err(), "window after embargo 0");
        assert!(d.parse_arg("on,20,nevermore").is_err());
        // only the original's unit words
        for ok in [
            "5s", "5seconds", "5m", "5minute", "5MINUTES", "1h", "1hour", "1d", "1day",
        ] {
            assert!(d.parse_arg(ok).is_ok(), "{ok}");
        }
        for bad in [
            "5sec", "5secs", "5second", "5min", "5mins", "1hr", "5 m", "20 ", "1dd",
        ] {
            assert!(d.parse_arg(bad).is_err(), "{bad}");
        }
        // blanks and a sign before the number
        assert_eq!(d.parse_arg(" 20").unwrap().embargo, 20);
        assert_eq!(d.parse_arg("+20").unwrap().embargo, 20);
        assert!(d.parse_arg("-20").is_err());
        // a unit alone is 0 of it
        assert_eq!(d.parse_arg("on,m").unwrap().embargo, 0);
        // the bound before multiplying: 2^31/60 for plain seconds
        assert!(d.parse_arg("on,20,1d,35791393").is_ok());
        assert!(d.parse_arg("on,20,1d,35791394").is_err());
        assert!(d.parse_arg("on,20,1d,3549w").is_ok());
        assert!(d.parse_arg("on,20,1d,3550w").is_err());
        assert!(d.parse_arg("on,20,1d,99999999999999999999999").is_err());
    }

    /// A bad `-G` keeps the words before the bad durations, as dccd.
    #[test]
    fn words_of_a_bad_argument_count() {
        let d = Params::default().parse_arg("on,60").unwrap();
        let (p, e) = d.parse_arg_as_dccd("weak-body,weak-IP,2d");
        assert_eq!(
            e.unwrap().0,
            "invalid greylist embargo \"-G weak-body,weak-IP,2d\""
        );
        assert!(p.weak_body && p.weak_ip);
        assert_eq!(p.embargo, 60);
        let (p, e) = d.parse_arg_as_dccd("weak,30,20");
        assert_eq!(e.unwrap().0, "invalid greylist wait time \"-G weak,30,20\"");
        assert_eq!((p.weak_body, p.embargo), (true, 60));
        let (_, e) = d.parse_arg_as_dccd("30,1d,1h");
        assert_eq!(
            e.unwrap().0,
            "invalid greylist whitelist time \"-G 30,1d,1h\""
        );
    }

    #[test]
    fn auto_white_round_trip() {
        let d = Params::default();
        let p = d.parse_arg("on,auto-white-IP=3,weak-body,60").unwrap();
        assert_eq!(p.auto_white_ip, Some(3));
        assert_eq!(d.parse_arg(&p.to_arg()).unwrap(), p);
        assert!(d.parse_arg("auto-white-IP=0").is_err());
        assert!(d.parse_arg("auto-white-IP=x").is_err());
    }

    #[test]
    fn keeps() {
        let p = Params::default();
        assert!(p.keeps(1, u64::from(DEF_WINDOW)));
        assert!(!p.keeps(1, u64::from(DEF_WINDOW) + 1));
        assert!(p.keeps(crate::MANY, u64::from(DEF_WINDOW) + 1));
        assert!(!p.keeps(crate::MANY, u64::from(DEF_WHITE) + 1));
    }
}
