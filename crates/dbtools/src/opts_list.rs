//! The command line of `dblist`, with the original's syntax and checks.

use tally_ck::{CkType, Sum};
use tally_store::Ts;

use crate::text::parse_ts;
use tally_getopt::{getopt, Item, Style};

/// The original's option letters, plus `-S` (an extension: list every
/// checksum's total).
pub const SPEC: &str = "vVHDSG:h:s:C:I:A:L:P:T:";

/// The usage text.
pub const USAGE: &str = "usage: [-vVHDS] [-G on | off] [-h homedir]\n   \
[-C '[type] [h1 h2 h3 h4]'] [-I server-ID] [-A dbptr] [-L pathlen]\n   \
[-P pages] [-T timestamp] [file file2 ...]";

/// At most this many `-C`, `-I` and `-T` values each.
pub const MAX_PATTERNS: usize = 16;

/// One `-C` pattern: a type, a value, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CkPattern {
    /// `None`: any type.
    pub ty: Option<CkType>,
    /// `None`: any value of the type.
    pub sum: Option<Sum>,
}

impl CkPattern {
    /// Whether the pattern selects `ck`.
    pub fn matches(&self, ck: &tally_store::Ck) -> bool {
        self.ty.is_none_or(|t| t == ck.ty) && self.sum.is_none_or(|s| s == ck.sum)
    }
}

/// The parsed command line.
#[derive(Debug, Default)]
pub struct ListOpts {
    pub verbose: u32,
    pub version: u32,
    pub no_hash: bool,
    pub no_data: bool,
    pub sums: bool,
    pub grey: bool,
    pub home: Option<String>,
    pub cks: Vec<CkPattern>,
    pub ids: Vec<u16>,
    pub min_pos: u64,
    pub min_path: usize,
    pub pages: u64,
    pub times: Vec<(Ts, Ts)>,
    pub files: Vec<String>,
    pub warnings: Vec<String>,
}

impl ListOpts {
    /// Whether records are selected by a pattern.
    pub fn matching(&self) -> bool {
        !self.cks.is_empty()
            || !self.ids.is_empty()
            || self.min_pos != 0
            || self.min_path != 0
            || self.pages != 0
            || !self.times.is_empty()
    }
}

/// A checksum type by the name the original prints or accepts.
pub fn type_by_name(s: &str) -> Option<CkType> {
    CkType::ALL.into_iter().find(|t| {
        t.name().eq_ignore_ascii_case(s)
            || t.grey_name().eq_ignore_ascii_case(s)
            || (*t == CkType::Sub && s.eq_ignore_ascii_case("sub"))
    })
}

/// Parse one `-C` argument.
pub fn parse_ck(arg: &str) -> Result<CkPattern, String> {
    let mut words: Vec<&str> = arg.split_whitespace().collect();
    if words.first().is_some_and(|w| w.eq_ignore_ascii_case("hex")) {
        words.remove(0);
    }
    let bad = || format!("unrecognized checksum \"-C {arg}\"");
    match words.len() {
        1 => match type_by_name(words[0]) {
            Some(t) => Ok(CkPattern {
                ty: Some(t),
                sum: None,
            }),
            None => Err(format!("unrecognized checksum type \"-C {arg}\"")),
        },
        4 => Sum::parse_hex(&words.join(" "))
            .map(|s| CkPattern {
                ty: None,
                sum: Some(s),
            })
            .ok_or_else(bad),
        5 => {
            let t = type_by_name(words[0])
                .ok_or_else(|| format!("unrecognized checksum type \"-C {arg}\""))?;
            let s = Sum::parse_hex(&words[1..].join(" ")).ok_or_else(bad)?;
            Ok(CkPattern {
                ty: Some(t),
                sum: Some(s),
            })
        }
        _ => Err(bad()),
    }
}

/// Whether a `-T` timestamp is good but for microseconds of a million
/// or more (the original has its own complaint for that).
fn micros_too_large(arg: &str) -> bool {
    arg.rsplit_once('.').is_some_and(|(head, us)| {
        us.parse::<u64>().is_ok_and(|us| us >= 1_000_000) && parse_ts(head).is_some()
    })
}

/// Parse the arguments (without the program name); errors are fatal
/// usage errors.
pub fn parse(args: &[String]) -> Result<ListOpts, String> {
    let tally_getopt::Scan {
        items: opts,
        operands: files,
        ..
    } = getopt(args, SPEC, Style::Posix);
    let mut o = ListOpts {
        files,
        ..ListOpts::default()
    };
    for opt in opts {
        let (c, arg) = match opt {
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
            Item::Unknown(_) | Item::MissingArg(_) => return Err(USAGE.into()),
        };
        match c {
            'v' => o.verbose += 1,
            'V' => {
                // printed now, as the original prints it while reading
                // the options
                o.version += 1;
                tally_getopt::version::print(o.version);
            }
            'H' => o.no_hash = true,
            'D' => o.no_data = true,
            'S' => o.sums = true,
            'G' => {
                if arg.eq_ignore_ascii_case("on") {
                    o.grey = true;
                } else if arg.eq_ignore_ascii_case("off") {
                    o.grey = false;
                } else {
                    return Err(USAGE.into());
                }
            }
            'h' => o.home = Some(arg),
            'C' => {
                if o.cks.len() >= MAX_PATTERNS {
                    o.warnings.push("too many -C patterns".into());
                } else {
                    o.cks.push(parse_ck(&arg)?);
                }
            }
            'I' => {
                if o.ids.len() >= MAX_PATTERNS {
                    o.warnings.push("too many -I IDs".into());
                    continue;
                }
                match arg.parse::<u16>() {
                    Ok(id) if id <= 32767 => o.ids.push(id),
                    _ => return Err(format!("invalid server-ID \"-I {arg}\"")),
                }
            }
            'A' => {
                o.min_pos = u64::from_str_radix(arg.trim_start_matches("0x"), 16)
                    .map_err(|_| format!("invalid database address \"{arg}\""))?;
            }
            'L' => {
                o.min_path = arg
                    .parse()
                    .map_err(|_| format!("invalid path length \"{arg}\""))?;
            }
            'P' => {
                o.pages = arg
                    .parse()
                    .map_err(|_| format!("invalid number of pages \"{arg}\""))?;
            }
            'T' => {
                if o.times.len() >= MAX_PATTERNS {
                    o.warnings.push("too many -T timestamps".into());
                    continue;
                }
                o.times.push(parse_ts(&arg).ok_or_else(|| {
                    if micros_too_large(&arg) {
                        format!("invalid microseconds in \"{arg}\"")
                    } else {
                        format!("bad timestamp \"{arg}\"")
                    }
                })?);
            }
            _ => return Err(USAGE.into()),
        }
    }
    if o.matching() && o.no_data && o.no_hash {
        return Err("patterns need data or hash table".into());
    }
    if o.min_pos != 0 && o.pages != 0 {
        return Err("-P and -A are incompatible".into());
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_patterns() {
        let s = "e2d3f96a c65aea01 3fece361 edff9ecf";
        let p = parse_ck(&format!("body {s}")).unwrap();
        assert_eq!(p.ty, Some(CkType::Body));
        assert_eq!(p.sum.unwrap().to_string(), s);
        assert_eq!(parse_ck(s).unwrap().ty, None);
        assert_eq!(parse_ck("Fuz2").unwrap().sum, None);
        assert_eq!(
            parse_ck(&format!("hex env_from {s}")).unwrap().ty,
            Some(CkType::EnvFrom)
        );
        assert!(parse_ck("bogus").is_err());
        assert!(parse_ck("body 1 2 3").is_err());
    }

    #[test]
    fn timestamp_complaints() {
        let p = |a: &str| parse(&["-T".to_string(), a.to_string()]).unwrap_err();
        assert_eq!(
            p("02/02/05 20:25:12.1000000"),
            "invalid microseconds in \"02/02/05 20:25:12.1000000\""
        );
        assert_eq!(p("yesterday"), "bad timestamp \"yesterday\"");
    }
}
