//! dccproc's options, applied in command-line order as the original does
//! (input and output files are opened as soon as they are named).

use std::fs::File;
use std::net::IpAddr;
use tally_ck::header::CkConfig;
use tally_engine::tgts::{parse_ulong, Tgts, RPT_MAX};
use tally_engine::tholds::Thresholds;
use tally_getopt::{getopt, Item, Style};

/// The option letters; those followed by `:` take an argument.
pub const OPTSTRING: &str = "VdAQCHEPRr:h:m:w:T:a:f:g:S:t:x:c:i:o:l:B:X:L:";

/// The usage text after "usage: ".
pub const USAGE: &str = "[-VdAQCHEPR]  [-h homedir] [-m map] [-w whiteclnt] [-T tmpdir]\n   \
[-a IP-address] [-f env_from] [-t targets] [-x exitcode]\n   \
[-c type,[log-thold,][spam-thold]] [-g [not-]type] [-S header]\n   \
[-i infile] [-o outfile] [-l logdir] [-B dnsbl-option]\n   \
[-X xfltr-option] [-L ltype,facility.level]";

/// EX_NOUSER, the default `-x` exit code.
pub const EX_NOUSER: i32 = 67;

/// Everything the command line says.
#[derive(Debug, Default)]
pub struct Opts {
    /// Number of `-V`.
    pub version: u32,
    /// Number of `-d`.
    pub debug: u32,
    /// `-A`: keep existing X-DCC headers.
    pub add_xhdr: bool,
    /// `-Q`: query only.
    pub query: bool,
    /// `-C`: print only the header and the checksums.
    pub cksums_only: bool,
    /// `-H`: print only the header.
    pub xhdr_only: bool,
    /// `-E`: envelope lines in log files.
    pub fake_envelope: bool,
    /// `-P`: no SpamAssassin kludge; without it a bulk header says Body=many.
    pub no_body_kludge: bool,
    /// `-R` / `-r N`: which Received header holds the client address (0 = none).
    pub std_received: u64,
    /// `-h`.
    pub homedir: Option<String>,
    /// `-m`.
    pub map: Option<String>,
    /// `-w`.
    pub whiteclnt: Option<String>,
    /// `-T`.
    pub tmpdir: Option<String>,
    /// `-a`, when it gave a usable address.
    pub client_ip: Option<IpAddr>,
    /// `-f`.
    pub env_from: Option<String>,
    /// `-S` headers.
    pub ck_cfg: CkConfig,
    /// `-t`: (targets, spam).
    pub local_tgts: Option<(Tgts, bool)>,
    /// `-x`.
    pub exit_code: i32,
    /// `-c` thresholds and `-g` choices.
    pub tholds: Thresholds,
    /// A `-c` set a logging threshold.
    pub log_tgts_set: bool,
    /// A `-c` set the reputation threshold.
    pub rep_tholds_set: bool,
    /// `-i`: name and open file.
    pub infile: Option<(String, File)>,
    /// `-o`: name and open file.
    pub outfile: Option<(String, File)>,
    /// `-l`.
    pub logdir: Option<String>,
    /// `-B` arguments.
    pub dnsbl: Vec<String>,
    /// The `-B` arguments read so far.
    pub dnsbl_parser: tally_engine::dnsbl::Parser,
    /// `-i` named a file that could not be opened.
    pub input_failed: bool,
    /// `-o` named a file that could not be created.
    pub output_failed: bool,
    /// `-L` settings.
    pub log_opts: Vec<tally_engine::logopt::LogOpt>,
    /// `-X`: the external filter (docs/xfltr.md).
    pub xfltr: tally_engine::xfltr::XfltrOpts,
    /// Complaints in order; `true` when they also go to the log file.
    pub msgs: Vec<(bool, String)>,
}

/// Why the options could not be used: dccproc gives up but still delivers.
#[derive(Debug)]
pub struct Fatal {
    /// The message (printed with "; fatal error").
    pub msg: String,
}

/// Parse and apply the options; `Err` carries what was applied so far.
pub fn parse(args: &[String]) -> (Opts, Option<Fatal>) {
    let mut o = Opts {
        exit_code: EX_NOUSER,
        ..Opts::default()
    };
    let scan = getopt(args, OPTSTRING, Style::Gnu);
    for item in scan.items {
        let (c, arg) = match item {
            Item::Unknown(c) | Item::MissingArg(c) => {
                // the original prints "-" and the letter as a C string
                let opt = if c == '\0' {
                    "-".to_string()
                } else {
                    format!("-{c}")
                };
                let msg = format!("unrecognized \"{opt}\"\nusage: {USAGE}\n");
                return (o, Some(Fatal { msg }));
            }
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
        };
        if let Err(f) = apply(&mut o, c, arg) {
            return (o, Some(f));
        }
    }
    if let Some(first) = scan.operands.first() {
        return (
            o,
            Some(Fatal {
                msg: format!("unrecognized \"{first}\"\nusage: {USAGE}\n"),
            }),
        );
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
        'A' => o.add_xhdr = true,
        'Q' => o.query = true,
        'C' => o.cksums_only = true,
        'H' => o.xhdr_only = true,
        'E' => o.fake_envelope = true,
        'R' if o.std_received == 0 => o.std_received = 1,
        'R' => {}
        'P' => o.no_body_kludge = true,
        'r' => match parse_ulong(&arg) {
            // the original keeps the count in a C int: the low 32 bits,
            // and a negative count takes the first Received header
            Some(n) => o.std_received = u64::try_from(n as u32 as i32).unwrap_or(1),
            None => {
                log_err(&mut o.msgs, format!("invalid count \"-e {arg}\""));
                o.std_received = 1;
            }
        },
        'h' => o.homedir = Some(arg),
        'm' => o.map = Some(arg),
        'w' => o.whiteclnt = Some(arg),
        'T' => o.tmpdir = Some(arg),
        // "-a 0.0.0.0" is SpamAssassin noise
        'a' if arg == "0.0.0.0" => {}
        'a' => match client_addr(&arg) {
            Ok(ip) => o.client_ip = Some(ip),
            Err(e) => log_err(&mut o.msgs, format!("\"-a {arg}\": {e}")),
        },
        'f' => o.env_from = Some(arg),
        'g' => {
            if let Some(e) = o.tholds.parse_honor(&arg) {
                o.msgs.push((false, e));
            }
        }
        'S' => {
            o.ck_cfg.add_substitute(&arg).map_err(|msg| Fatal { msg })?;
        }
        't' => {
            if arg.eq_ignore_ascii_case("many") {
                o.local_tgts = Some((1, true));
            } else {
                match parse_ulong(&arg) {
                    Some(n) if n <= u64::from(RPT_MAX) => o.local_tgts = Some((n as Tgts, false)),
                    _ => log_err(&mut o.msgs, format!("invalid count \"-t {arg}\"")),
                }
            }
        }
        'x' => match parse_ulong(&arg) {
            Some(n) => o.exit_code = n as i32,
            None => log_err(&mut o.msgs, format!("invalid exit code \"-x {arg}\"")),
        },
        'c' => {
            let r = o.tholds.parse("-c ", &arg);
            o.msgs.extend(r.errors.into_iter().map(|e| (false, e)));
            if r.log_set {
                o.log_tgts_set = true;
            }
            if o.tholds.rep_set() {
                o.rep_tholds_set = true;
            }
        }
        'i' => match File::open(&arg) {
            Ok(f) => o.infile = Some((arg, f)),
            Err(e) => {
                o.input_failed = true;
                return Err(Fatal {
                    msg: format!("bad input file \"{arg}\": {}", tally_engine::errno_str(&e)),
                });
            }
        },
        'o' => match File::create(&arg) {
            Ok(f) => o.outfile = Some((arg, f)),
            Err(e) => {
                o.output_failed = true;
                return Err(Fatal {
                    msg: format!("bad output file \"{arg}\": {}", tally_engine::errno_str(&e)),
                });
            }
        },
        'l' => o.logdir = Some(arg),
        'B' => {
            // refused arguments are only reported; dccproc goes on (12)
            let mut p = std::mem::take(&mut o.dnsbl_parser);
            if let Err(e) = p.arg(&arg) {
                o.msgs.push((false, e.to_string()));
            }
            o.dnsbl_parser = p;
            o.dnsbl.push(arg);
        }
        'L' => match tally_engine::logopt::parse_log_opt(&arg) {
            Ok(l) => o.log_opts.push(l),
            Err(e) => o.msgs.push((false, e)),
        },
        // a bad -X setting is reported; dccproc goes on without it
        'X' => {
            if let Err(e) = o.xfltr.parse_arg(&arg) {
                o.msgs.push((false, e));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The `-a` address, found as the original's `dcc_get_host` finds it:
/// `@` is the IPv4 loopback address and `*` the IPv4 "any" address; other
/// arguments go to the system resolver (getaddrinfo, through the standard
/// library), so host names and the old IPv4 forms such as `127.1` or
/// `010.1.1.1` work, and the first IPv4 address is preferred to IPv6 ones.
/// `Err` holds the resolver's words.
fn client_addr(arg: &str) -> Result<IpAddr, String> {
    use std::net::{Ipv4Addr, ToSocketAddrs};
    match arg {
        "@" => return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        "*" => return Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        _ => {}
    }
    if let Ok(ip) = arg.parse::<IpAddr>() {
        return Ok(ip);
    }
    let addrs: Vec<IpAddr> = match (arg, 0u16).to_socket_addrs() {
        Ok(a) => a.map(|sa| sa.ip()).collect(),
        Err(e) => return Err(tally_engine::lookup_text(&e)),
    };
    // the original skips "any" addresses in answers
    let usable = |ip: &&IpAddr| !ip.is_unspecified();
    addrs
        .iter()
        .filter(usable)
        .find(|ip| ip.is_ipv4())
        .or_else(|| addrs.iter().find(usable))
        .copied()
        .ok_or_else(|| "No address associated with name".to_string())
}

/// Keep a complaint that also goes to the log file.
fn log_err(v: &mut Vec<(bool, String)>, s: String) {
    v.push((true, s));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_address_forms() {
        let ip = |s: &str| client_addr(s).map(|i| i.to_string());
        assert_eq!(ip("192.0.2.1").as_deref(), Ok("192.0.2.1"));
        assert_eq!(ip("2001:db8::1").as_deref(), Ok("2001:db8::1"));
        assert_eq!(ip("@").as_deref(), Ok("127.0.0.1"));
        assert_eq!(ip("*").as_deref(), Ok("0.0.0.0"));
        // inet_aton's forms, through getaddrinfo (no DNS query)
        assert_eq!(ip("127.1").as_deref(), Ok("127.0.0.1"));
        assert_eq!(ip("1.2.3").as_deref(), Ok("1.2.0.3"));
        assert_eq!(ip("010.1.1.1").as_deref(), Ok("8.1.1.1"));
        // a name of /etc/hosts
        assert_eq!(ip("localhost").as_deref(), Ok("127.0.0.1"));
        // "-a 0.0.0.0" stays ignored (SpamAssassin noise)
        let (o, _) = parse(&["-a".to_string(), "0.0.0.0".to_string()]);
        assert!(o.client_ip.is_none() && o.msgs.is_empty());
    }

    #[test]
    fn external_filter() {
        let a = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let (o, fatal) = parse(&a("-X /bin/filter -X set:msg-secs=3 -X set:debug"));
        assert!(fatal.is_none() && o.msgs.is_empty());
        assert_eq!(o.xfltr.target.as_deref(), Some("/bin/filter"));
        assert_eq!((o.xfltr.msg_secs, o.xfltr.debug), (3, 1));
        let (o, fatal) = parse(&a("-X set:nothing"));
        assert!(fatal.is_none());
        assert_eq!(
            o.msgs,
            vec![(false, "unrecognized -X \"set:nothing\"".to_string())]
        );
    }
}
