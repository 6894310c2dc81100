//! dccsight's options, applied in command-line order as the original does
//! (the input file is opened as soon as it is named).

use std::fs::File;
use tally_engine::tgts::Tgts;
use tally_engine::tholds::Thresholds;
use tally_getopt::{getopt, Item, Style};

/// The option letters; those followed by `:` take an argument.
pub const OPTSTRING: &str = "VdCPQh:m:w:t:c:g:i:G:L:";

/// The usage text.
pub const USAGE: &str = "usage: [-VdCPQ] [-h homedir] [-m map] [-w whiteclnt] [-t targets]\n   \
[-c type,[log-thold,][spam-thold]] [-g [not-]type]\n   \
[-i infile] [-G grey-cksum] [-L ltype,facility.level]";

/// Most targets `-t` takes.
const MAX_TGTS: u64 = 1000;

/// `EX_USAGE`.
pub const EX_USAGE: i32 = 64;

/// Everything the command line says.
#[derive(Debug, Default)]
pub struct Opts {
    /// Number of `-V`.
    pub version: u32,
    /// Number of `-d`.
    pub debug: u32,
    /// `-C`: print the checksums after the header.
    pub print_cksums: bool,
    /// `-P`: no SpamAssassin kludge.
    pub no_body_kludge: bool,
    /// `-Q`: query only.
    pub query: bool,
    /// `-h`.
    pub homedir: Option<String>,
    /// `-m`.
    pub map: Option<String>,
    /// `-w`.
    pub whiteclnt: Option<String>,
    /// `-t`: the text, the targets and whether `many` said spam. A `-t`
    /// with a bad count still counts as given, with the targets before
    /// it, as in the original.
    pub local_tgts: Option<(String, Tgts, bool)>,
    /// `-c` thresholds and `-g` choices.
    pub tholds: Thresholds,
    /// `-i`: name and open file.
    pub infile: Option<(String, File)>,
    /// `-G`: the greylist triple checksum in hex.
    pub grey_sum: Option<String>,
    /// Complaints about the options, in order; the run goes on.
    pub msgs: Vec<String>,
}

/// The options could not be used: the complaint and the exit code.
#[derive(Debug)]
pub struct Fatal {
    /// Printed before the fatal message (getopt's own complaint).
    pub before: Option<String>,
    /// The message (printed with "; fatal error").
    pub msg: String,
    /// The exit code.
    pub code: i32,
}

fn usage(before: Option<String>) -> Fatal {
    Fatal {
        before,
        msg: USAGE.to_string(),
        code: EX_USAGE,
    }
}

/// Parse and apply the options of the program started as `prog`: what was
/// applied, and why the run cannot go on, if it cannot.
pub fn parse(prog: &str, args: &[String]) -> (Opts, Option<Fatal>) {
    let mut o = Opts::default();
    let scan = getopt(args, OPTSTRING, Style::Gnu);
    for item in scan.items {
        let (c, arg) = match item {
            Item::Unknown(c) => {
                // the C library reads `--word` as options, `-` the first
                let c = if c == '\0' { '-' } else { c };
                return (
                    o,
                    Some(usage(Some(format!("{prog}: invalid option -- '{c}'")))),
                );
            }
            Item::MissingArg(c) => {
                return (
                    o,
                    Some(usage(Some(format!(
                        "{prog}: option requires an argument -- '{c}'"
                    )))),
                );
            }
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
        };
        if let Err(f) = apply(&mut o, c, arg) {
            return (o, Some(f));
        }
    }
    if !scan.operands.is_empty() {
        return (o, Some(usage(None)));
    }
    (o, None)
}

fn apply(o: &mut Opts, c: char, arg: String) -> Result<(), Fatal> {
    match c {
        'V' => {
            o.version += 1;
            tally_getopt::version::print(o.version);
        }
        'd' => o.debug += 1,
        'C' => o.print_cksums = true,
        'P' => o.no_body_kludge = true,
        'Q' => o.query = true,
        'h' => o.homedir = Some(arg),
        'm' => o.map = Some(arg),
        'w' => o.whiteclnt = Some(arg),
        't' => {
            let before = o.local_tgts.as_ref().map_or(1, |t| t.1);
            o.local_tgts = Some(if arg.eq_ignore_ascii_case("many") {
                (arg, 1, true)
            } else {
                match tally_engine::tgts::parse_ulong(&arg).filter(|&n| n <= MAX_TGTS) {
                    Some(n) => (arg, n as Tgts, false),
                    None => {
                        o.msgs.push(format!("invalid count \"{arg}\""));
                        (arg, before, false)
                    }
                }
            });
        }
        'c' => {
            let r = o.tholds.parse("-c ", &arg);
            o.msgs.extend(r.errors);
        }
        'g' => {
            if let Some(e) = o.tholds.parse_honor(&arg) {
                o.msgs.push(e);
            }
        }
        'i' => match File::open(&arg) {
            Ok(f) => o.infile = Some((arg, f)),
            Err(e) => {
                return Err(Fatal {
                    before: None,
                    msg: format!("bad input file \"{arg}\": {}", tally_engine::errno_str(&e)),
                    code: EX_USAGE,
                })
            }
        },
        'G' => o.grey_sum = Some(arg),
        // checked, but the system log stays off (see `run::Out`)
        'L' => {
            if let Err(e) = tally_engine::logopt::parse_log_opt(&arg) {
                o.msgs.push(e);
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn targets() {
        let ok = |a: &str| {
            let (o, f) = parse("dccsight", &args(a));
            assert!(f.is_none());
            o
        };
        let o = ok("-t 5");
        assert_eq!(o.local_tgts, Some(("5".into(), 5, false)));
        let o = ok("-t MANY");
        assert_eq!(o.local_tgts, Some(("MANY".into(), 1, true)));
        // a bad count is complained about and keeps what was before
        let o = ok("-t 7 -t 1001");
        assert_eq!(o.local_tgts, Some(("1001".into(), 7, false)));
        assert_eq!(o.msgs, vec!["invalid count \"1001\"".to_string()]);
        // strtoul: blanks and a sign, an empty count is 0
        let o = ok("-t +3");
        assert_eq!(o.local_tgts, Some(("+3".into(), 3, false)));
        let (o, _) = parse("dccsight", &["-t".to_string(), String::new()]);
        assert_eq!(o.local_tgts, Some((String::new(), 0, false)));
        // a negative count too large for 64 bits is ULONG_MAX, not 1
        let o = ok("-t 7 -t -18446744073709551616");
        assert_eq!(o.local_tgts.map(|t| t.1), Some(7));
        assert_eq!(o.msgs.len(), 1);
    }

    #[test]
    fn usage_errors() {
        let f = parse("dccsight", &args("-z")).1.expect("fatal");
        assert_eq!(f.before.as_deref(), Some("dccsight: invalid option -- 'z'"));
        // named as started; `--word` is the option `-`
        let f = parse("/usr/libexec/dccsight", &args("--foo"))
            .1
            .expect("fatal");
        assert_eq!(
            f.before.as_deref(),
            Some("/usr/libexec/dccsight: invalid option -- '-'")
        );
        assert_eq!((f.msg.as_str(), f.code), (USAGE, EX_USAGE));
        let f = parse("dccsight", &args("-Q extra")).1.expect("fatal");
        assert_eq!(f.code, EX_USAGE);
        let f = parse("dccsight", &args("-i /nonexistent/cks"))
            .1
            .expect("fatal");
        assert_eq!(
            f.msg,
            "bad input file \"/nonexistent/cks\": No such file or directory"
        );
    }
}
