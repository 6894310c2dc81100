//! The command line of `dbclean`, with the original's syntax and checks.

use crate::text::parse_secs;
use tally_getopt::{getopt, Item, Style};

/// The original's option letters (`-4` and `-6` are obsolete and ignored).
pub const SPEC: &str = "64dfFNPSVqui:a:h:H:D:G:R:s:e:E:L:";

/// The usage text.
pub const USAGE: &str =
    "usage: [-dfFNPSVqu] [-i id] [-a [server-addr][,server-port]] [-h homedir]\n   \
[-H hash-file-dir] [-D db-file-dir] [-G on] [-R mode] [-s hash-size]\n   \
[-e seconds] [-E spamsecs] [-L ltype,facility.level]";

/// The shortest expiry `-e`/`-E` accept (one hour).
pub const EXPIRE_SECS_MIN: u64 = 3600;

/// The smallest hash table `-s` accepts in the original (8192 entries).
pub const HASH_ENTRIES_MIN: u64 = 8192;

/// What `-R` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A normal (nightly) cleaning.
    #[default]
    Normal,
    /// `-R bad`: repair a damaged database.
    Repair,
    /// `-R quick`.
    Quick,
    /// `-R hash`.
    Hash,
    /// `-R failsafe`.
    Failsafe,
    /// `-R del`.
    Del,
}

/// The parsed command line.
#[derive(Debug, Default)]
pub struct CleanOpts {
    pub debug: u32,
    pub quiet: bool,
    pub version: u32,
    pub new_db: bool,
    pub standalone: bool,
    pub previous_ages: bool,
    pub grey: bool,
    pub mode: Mode,
    pub home: Option<String>,
    pub server_id: Option<u16>,
    /// The UDP port of the local server from `-a [addr][,port]`.
    pub port: Option<u16>,
    pub small: Option<u64>,
    pub bulk: Option<u64>,
    /// Options accepted for compatibility that change nothing here.
    pub ignored: Vec<String>,
    /// Non-fatal complaints, printed before running.
    pub warnings: Vec<String>,
    /// An unknown option was seen: print the usage once and continue.
    pub complained: bool,
}

/// A fatal command-line problem: message and exit code.
pub type Fatal = (String, i32);

/// Parse the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<CleanOpts, Fatal> {
    let usage_err = |m: String| Err((m, crate::exit::USAGE));
    let tally_getopt::Scan {
        items: opts,
        operands,
        ..
    } = getopt(args, SPEC, Style::Posix);
    let mut o = CleanOpts::default();
    // 1: -e/-E seen, -1: -P or -G seen.
    let mut have_expire = 0i8;
    for opt in opts {
        let (c, arg) = match opt {
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
            Item::Unknown(c) | Item::MissingArg(c) => {
                o.warnings.push(format!("invalid option -- '{c}'"));
                o.complained = true;
                continue;
            }
        };
        match c {
            '4' | '6' => {}
            'd' => o.debug += 1,
            'f' | 'F' | 'u' => o.ignored.push(format!("-{c}")),
            'N' => {
                o.new_db = true;
                o.standalone = true;
            }
            'P' => {
                if have_expire > 0 {
                    return usage_err("do not use -P with -e or -E".into());
                }
                have_expire = -1;
                o.previous_ages = true;
            }
            'S' => o.standalone = true,
            'V' => {
                // printed now, as the original prints it while reading
                // the options
                o.version += 1;
                tally_getopt::version::print(o.version);
            }
            'q' => o.quiet = true,
            'i' => match arg.parse::<u16>() {
                Ok(id) if (100..=32767).contains(&id) => o.server_id = Some(id),
                _ => o.warnings.push(format!("invalid DCC ID \"-i {arg}\"")),
            },
            'a' => match arg.rsplit_once(',') {
                Some((_, p)) if !p.trim().is_empty() => match p.trim().parse::<u16>() {
                    Ok(port) if port != 0 => o.port = Some(port),
                    _ => o
                        .warnings
                        .push(format!("unrecognized port number in \"-a {arg}\"")),
                },
                _ => {}
            },
            'H' | 'D' => o.ignored.push(format!("-{c} {arg}")),
            'h' => o.home = Some(arg),
            'G' => {
                if have_expire > 0 {
                    return usage_err("do not use -G with -e or -E".into());
                }
                if !arg.eq_ignore_ascii_case("on") {
                    o.complained = true;
                }
                o.grey = true;
                have_expire = -1;
            }
            'R' => {
                o.mode = match arg.to_ascii_lowercase().as_str() {
                    "bad" => Mode::Repair,
                    "quick" => Mode::Quick,
                    "hash" => Mode::Hash,
                    "failsafe" => Mode::Failsafe,
                    "del" => Mode::Del,
                    _ => return usage_err(format!("unrecognized repair mode -R {arg}")),
                }
            }
            's' => match parse_c_ulong(&arg) {
                Some(n) if (HASH_ENTRIES_MIN..=u64::from(u32::MAX)).contains(&n) => {
                    o.ignored.push(format!("-s {arg}"))
                }
                _ => return usage_err(format!("invalid database size \"{arg}\"")),
            },
            'e' | 'E' => {
                let flag = c;
                if o.grey {
                    return usage_err(format!("do not use -{flag} with -G"));
                }
                if have_expire < 0 {
                    // the original words the two complaints differently
                    return usage_err(if flag == 'e' {
                        "-e cannot be used with -P".to_string()
                    } else {
                        "do not use -E with -P".to_string()
                    });
                }
                have_expire = 1;
                let Some(v) = parse_secs(&arg, EXPIRE_SECS_MIN) else {
                    let what = if flag == 'e' { "" } else { "spam " };
                    return usage_err(format!(
                        "invalid {what}expiration seconds \"-{flag} {arg}\""
                    ));
                };
                if flag == 'e' {
                    o.small = Some(v);
                } else {
                    o.bulk = Some(v);
                }
            }
            'L' => {
                if !log_opt_ok(&arg) {
                    o.warnings.push(format!("bad -L \"{arg}\""));
                }
                o.ignored.push(format!("-L {arg}"));
            }
            _ => o.complained = true,
        }
    }
    if !operands.is_empty() {
        return usage_err(USAGE.to_string());
    }
    Ok(o)
}

/// A C `strtoul(s, 0)` number using the whole string.
fn parse_c_ulong(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// `-L ltype,facility.level` as dcc_parse_log_opt accepts it.
fn log_opt_ok(s: &str) -> bool {
    let Some((ltype, rest)) = s.split_once(',') else {
        return false;
    };
    let ltype_ok = ["error", "info", "off"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(ltype));
    if ltype.eq_ignore_ascii_case("off") {
        return true;
    }
    let Some((fac, level)) = rest.split_once('.') else {
        return false;
    };
    let fac = fac.to_ascii_uppercase();
    let fac_ok = [
        "AUTH", "AUTHPRIV", "CRON", "DAEMON", "FTP", "KERN", "LPR", "MAIL", "NEWS", "USER", "UUCP",
    ]
    .contains(&fac.as_str())
        || fac
            .strip_prefix("LOCAL")
            .is_some_and(|n| matches!(n, "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7"));
    let level_ok = [
        "EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG",
    ]
    .contains(&level.to_ascii_uppercase().as_str());
    ltype_ok && fac_ok && level_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[&str]) -> Result<CleanOpts, Fatal> {
        parse(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn original_checks() {
        let o = p(&["-dqS", "-e2days", "-E", "6w"]).unwrap();
        assert_eq!((o.debug, o.quiet, o.standalone), (1, true, true));
        assert_eq!((o.small, o.bulk), (Some(2 * 86_400), Some(42 * 86_400)));
        assert_eq!(p(&["-e1d", "-P"]).unwrap_err().1, 64);
        assert_eq!(p(&["-P", "-E1d"]).unwrap_err().1, 64);
        assert_eq!(p(&["-Gon", "-e1d"]).unwrap_err().1, 64);
        assert_eq!(p(&["-e", "30"]).unwrap_err().1, 64);
        assert_eq!(p(&["-R", "sideways"]).unwrap_err().1, 64);
        assert_eq!(p(&["-S", "extra"]).unwrap_err().1, 64);
        assert!(p(&["-S", "-Z"]).unwrap().complained);
        assert!(p(&["-L", "info,MAIL.NOTICE"]).unwrap().warnings.is_empty());
        assert!(!p(&["-L", "info,MALE.NOTICE"]).unwrap().warnings.is_empty());
        assert_eq!(p(&["-R", "BAD"]).unwrap().mode, Mode::Repair);
        assert_eq!(p(&["-i", "1101"]).unwrap().server_id, Some(1101));
        assert_eq!(
            p(&["-P", "-e1d"]).unwrap_err().0,
            "-e cannot be used with -P"
        );
        assert_eq!(p(&["-P", "-E1d"]).unwrap_err().0, "do not use -E with -P");
        assert_eq!(p(&["-s", "8191"]).unwrap_err().1, 64);
        assert!(p(&["-s", "8192"]).is_ok());
        assert!(p(&["-s", "0x2000"]).is_ok());
        assert_eq!(p(&["-e", "90m"]).unwrap().small, Some(90 * 60));
        assert!(p(&["-i", "5"]).unwrap().server_id.is_none());
    }
}
