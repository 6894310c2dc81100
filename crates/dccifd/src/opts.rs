//! dccifd's command line, parsed with the original's getopt syntax
//! (`-VdbxANPQ` flags, the other letters with a value, attached or as
//! the next argument, `--` ending the options).

use std::net::IpAddr;
use tally_ck::header::CkConfig;
use tally_engine::grey::GreyOpt;
use tally_engine::logopt::{parse_log_opt, LogOpt};
use tally_engine::tholds::Thresholds;
use tally_getopt::{getopt, Item, Style};

/// The getopt string: the flags, then the letters taking a value.
const OPTSTRING: &str = "VdbxANPQG:h:I:p:o:D:r:m:w:U:a:t:g:S:l:R:T:j:B:X:L:M:";

/// The smallest `-j` the original accepts (its `MIN_MAX_WORK`).
pub const MIN_JOBS: usize = crate::jobs::MIN_MAX_WORK as usize;

/// Where dccifd listens (`-p`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// A unix domain socket path (relative to the home directory unless
    /// absolute).
    Unix(String),
    /// `lhost,lport,rhost`: a TCP address and the clients allowed.
    Tcp {
        /// Local host (`*` for every address).
        host: String,
        /// Local port.
        port: u16,
        /// Who may connect.
        allow: Acl,
    },
}

/// The `rhost` part of `-p`: a host, a CIDR block or an address range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acl {
    /// One address.
    Addr(IpAddr),
    /// `addr/bits`.
    Cidr(IpAddr, u8),
    /// `first-last`.
    Range(IpAddr, IpAddr),
}

impl Acl {
    /// Parse the `rhost` of `-p` (host names are resolved).
    pub fn parse(s: &str) -> Result<Acl, String> {
        if let Some((a, b)) = s.split_once('/') {
            let ip = resolve(a)?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            match b.parse::<u8>() {
                Ok(n) if n <= max => Ok(Acl::Cidr(ip, n)),
                _ => Err(format!("invalid IP address block \"{s}\"")),
            }
        } else if let Some((a, b)) = s
            .split_once('-')
            .filter(|(a, _)| a.parse::<IpAddr>().is_ok())
        {
            let (a, b) = (resolve(a)?, resolve(b)?);
            if a.is_ipv4() != b.is_ipv4() || to_u128(a) > to_u128(b) {
                return Err(format!("invalid IP address range \"{s}\""));
            }
            Ok(Acl::Range(a, b))
        } else {
            Ok(Acl::Addr(resolve(s)?))
        }
    }

    /// Whether the allowed clients are IPv6 (then dccifd listens on
    /// IPv6, as the original chooses the family from `rhost`).
    pub fn is_ipv6(&self) -> bool {
        match *self {
            Acl::Addr(a) | Acl::Cidr(a, _) | Acl::Range(a, _) => canonical(a).is_ipv6(),
        }
    }

    /// Whether a client address is allowed.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match *self {
            Acl::Addr(a) => canonical(a) == ip,
            Acl::Cidr(a, bits) => {
                let a = canonical(a);
                if a.is_ipv4() != ip.is_ipv4() {
                    return false;
                }
                let width = if a.is_ipv4() { 32 } else { 128 };
                let shift = width - u32::from(bits);
                if shift >= 128 {
                    return true;
                }
                (to_u128(a) >> shift) == (to_u128(ip) >> shift)
            }
            Acl::Range(a, b) => {
                let (a, b) = (canonical(a), canonical(b));
                a.is_ipv4() == ip.is_ipv4()
                    && to_u128(a) <= to_u128(ip)
                    && to_u128(ip) <= to_u128(b)
            }
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn resolve(h: &str) -> Result<IpAddr, String> {
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Ok(ip);
    }
    use std::net::ToSocketAddrs;
    (h, 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .map(|a| a.ip())
        .ok_or_else(|| format!("unknown host \"{h}\""))
}

/// Parse `-p`: a path, or `lhost,lport,rhost`.
pub fn parse_listen(arg: &str) -> Result<Listen, String> {
    let parts: Vec<&str> = arg.split(',').collect();
    if parts.len() == 1 || arg.starts_with('/') {
        return Ok(Listen::Unix(arg.to_string()));
    }
    let [host, port, rhost] = parts[..] else {
        return Err(format!("invalid -p \"{arg}\""));
    };
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| format!("invalid port in \"-p {arg}\""))?;
    let allow = Acl::parse(rhost)?;
    Ok(Listen::Tcp {
        host: host.to_string(),
        port,
        allow,
    })
}

/// Everything the command line sets.
#[derive(Debug, Default)]
pub struct Opts {
    /// `-V` count.
    pub version: u32,
    /// `-d` count.
    pub debug: u32,
    /// `-b`: stay in the foreground.
    pub foreground: bool,
    /// `-x`: try hard to reach a DCC server.
    pub try_hard: bool,
    /// `-A`: add to existing X-DCC headers instead of replacing them.
    pub add_xhdr: bool,
    /// `-N`: leave existing X-DCC headers alone.
    pub no_xhdr_change: bool,
    /// `-P`: SpamAssassin-friendly headers (no forced Body=many).
    pub no_body_kludge: bool,
    /// `-Q`: query only.
    pub query: bool,
    /// `-G`.
    pub grey: GreyOpt,
    /// `-h`.
    pub home: Option<String>,
    /// `-I user[,group]`: whom the daemon runs as once its options are
    /// read (see `tally-privs`).
    pub user: Option<String>,
    /// `-p`.
    pub listen: Option<Listen>,
    /// `-p` as given, for the start message.
    pub listen_arg: Option<String>,
    /// `-D` local domains.
    pub local_domains: Vec<String>,
    /// `-r` rejection messages.
    pub rej_msgs: Vec<String>,
    /// `-m`.
    pub map: Option<String>,
    /// `-w`.
    pub whiteclnt: Option<String>,
    /// `-U`.
    pub userdirs: Option<String>,
    /// `-a` action: false = REJECT (default), true = IGNORE.
    pub ignore: bool,
    /// `-a DISCARD`.
    pub discard: bool,
    /// `-o`: SMTP proxy mode.
    pub proxy: Option<crate::proxy::Downstream>,
    /// `-t` and `-g`.
    pub tholds: Thresholds,
    /// A `-t` set a logging threshold.
    pub log_tholds_set: bool,
    /// Checksum configuration (`-S`).
    pub ck_cfg: CkConfig,
    /// `-l`.
    pub logdir: Option<String>,
    /// `-R`.
    pub rundir: Option<String>,
    /// `-T`.
    pub tmpdir: Option<String>,
    /// `-j` as given (cut to the largest allowed), `None` without one.
    pub maxjobs: Option<usize>,
    /// The largest `-j`, the default, and where it comes from.
    pub jobs: crate::jobs::JobLimit,
    /// `-L`.
    pub log_opts: Vec<LogOpt>,
    /// Complaints that do not stop the daemon.
    pub warnings: Vec<String>,
    /// The `-B` arguments read.
    pub dnsbl: tally_engine::dnsbl::Parser,
    /// `-X`: the external filter (docs/xfltr.md).
    pub xfltr: tally_engine::xfltr::XfltrOpts,
    /// `-M [addr,]port`: the statistics listener (docs/statistics.md).
    pub metrics: Option<std::net::SocketAddr>,
}

/// The usage message.
pub fn usage() -> String {
    "usage: dccifd [-VdbxANPQ] [-G on | off | noIP | IPmask/xx] [-h homedir] [-I user]\n\
     \x20  [-p /sock | lhost,lport,rhost] [-o /sock | host,port] [-D local-domain]\n\
     \x20  [-m map] [-w whiteclnt] [-U userdirs] [-a IGNORE | REJECT | DISCARD]\n\
     \x20  [-t type,[log-thold,]rej-thold] [-g [not-]type] [-S header]\n\
     \x20  [-l logdir] [-R rundir] [-r rejection-msg] [-T tmpdir] [-j maxjobs]\n\
     \x20  [-B dnsbl-option] [-X xfltr-option] [-L ltype,facility.level]\n\
     \x20  [-M [addr,]port]"
        .to_string()
}

impl Opts {
    /// The jobs served at once: `-j`, else the largest allowed.
    pub fn max_work(&self) -> usize {
        self.maxjobs
            .unwrap_or_else(|| usize::try_from(self.jobs.max_max_work).unwrap_or(usize::MAX))
    }
}

/// The original's start message: `<version> listening to <socket> for
/// ASCII protocol` (`SMTP commands` with `-o`), the socket being the `-p`
/// path as given or `<home>/dccifd`; for TCP `<lhost>,<lport> from
/// <rhost>`, an empty or `@` local host written `*`.
pub fn listening_line(o: &Opts, home: &std::path::Path) -> String {
    let what = if o.proxy.is_some() {
        "SMTP commands"
    } else {
        "ASCII protocol"
    };
    let to = match (&o.listen, o.listen_arg.as_deref()) {
        (Some(Listen::Tcp { host, port, .. }), Some(arg)) => {
            let rhost = arg.splitn(3, ',').nth(2).unwrap_or("");
            let host = match host.as_str() {
                "" | "@" => "*",
                h => h,
            };
            format!("{host},{port} from {rhost}")
        }
        (Some(Listen::Unix(p)), _) => p.clone(),
        _ => home.join("dccifd").display().to_string(),
    };
    format!("{VERSION} listening to {to} for {what}")
}

/// The version the original's messages give.
pub use tally_getopt::version::VERSION;

/// Parse the arguments (without the program name), `-j` bounded as
/// without a known open-file limit. `Err` is a fatal complaint: the
/// daemon does not start.
pub fn parse(args: &[String]) -> Result<Opts, String> {
    parse_with(args, &crate::jobs::JobLimit::default())
}

/// Parse the arguments with `-j` bounded by `jobs` (the default `-j`
/// too); its complaints come first, as the original makes them before
/// reading the options.
pub fn parse_with(args: &[String], jobs: &crate::jobs::JobLimit) -> Result<Opts, String> {
    let mut o = Opts {
        tholds: Thresholds::default(),
        jobs: jobs.clone(),
        warnings: jobs.msgs.clone(),
        ..Opts::default()
    };
    // as the original: a usage error is reported once and the daemon
    // goes on with the options it understood
    let complain = |o: &mut Opts, what: String| {
        if !o.warnings.iter().any(|w| w.contains("usage: dccifd")) {
            o.warnings.push(format!(
                "unrecognized \"{what}\"\n{}\n... continuing",
                usage()
            ));
        }
    };
    let scan = getopt(args, OPTSTRING, Style::Posix);
    for item in scan.items {
        match item {
            Item::Opt(c, None) => flag(&mut o, c),
            Item::Opt(c, Some(val)) => {
                if !with_arg(&mut o, c, val.clone())? {
                    complain(&mut o, format!("-{c}{val}"));
                }
            }
            Item::Unknown(c) | Item::MissingArg(c) => complain(&mut o, format!("-{c}")),
        }
    }
    // getopt stops at the first operand; those after `--` are ignored
    if let Some(first) = scan.operands.first().filter(|_| !scan.dashes) {
        complain(&mut o, first.clone());
    }
    Ok(o)
}

fn flag(o: &mut Opts, c: char) {
    match c {
        'V' => o.version += 1,
        'd' => o.debug += 1,
        'b' => o.foreground = true,
        'x' => o.try_hard = true,
        'A' => o.add_xhdr = true,
        'N' => o.no_xhdr_change = true,
        'P' => o.no_body_kludge = true,
        'Q' => o.query = true,
        _ => {}
    }
}

/// One option with its value; `Ok(false)` for a value the original
/// complains about with the usage message.
fn with_arg(o: &mut Opts, c: char, arg: String) -> Result<bool, String> {
    match c {
        // a good value is taken by the parse in the guard
        'G' if o.grey.parse(&arg).is_err() => return Ok(false),
        'B' => {
            // refused arguments are only reported (recorded, 12)
            let mut p = std::mem::take(&mut o.dnsbl);
            if let Err(e) = p.arg(&arg) {
                o.warnings.push(e.to_string());
            }
            o.dnsbl = p;
        }
        'o' => o.proxy = Some(crate::proxy::parse_downstream(&arg)?),
        'M' => o.metrics = Some(tally_stats::parse_listen(&arg)?),
        'h' => o.home = Some(arg),
        'I' => {
            tally_privs::Spec::parse(&arg).map_err(|e| format!("-I {e}"))?;
            o.user = Some(arg);
        }
        'p' => {
            o.listen = Some(parse_listen(&arg)?);
            o.listen_arg = Some(arg);
        }
        'D' => o.local_domains.push(arg),
        'r' => {
            // the first replaces the bulk rejection, the second the
            // greylist embargo (which must stay temporary), the third
            // the reputation rejection; empty ones keep the default
            let arg = arg.trim_start().to_string();
            match o.rej_msgs.len() {
                0 | 2 => o.rej_msgs.push(arg),
                1 if arg.is_empty() || crate::replies::valid_grey_msg(&arg) => o.rej_msgs.push(arg),
                1 => {
                    o.warnings.push(format!("invalid greylist message: {arg}"));
                    o.rej_msgs.push(String::new());
                }
                _ => o.warnings.push("more than 3 -r settings".to_string()),
            }
        }
        'm' => o.map = Some(arg),
        'w' => o.whiteclnt = Some(arg),
        'U' => o.userdirs = Some(arg),
        'a' => {
            if arg.eq_ignore_ascii_case("IGNORE") {
                o.ignore = true;
            } else if arg.eq_ignore_ascii_case("REJECT") {
                o.ignore = false;
            } else if arg.eq_ignore_ascii_case("DISCARD") {
                // only the SMTP proxy discards; the ASCII protocol rejects
                o.ignore = false;
                o.discard = true;
            } else {
                o.warnings.push(format!("unrecognized -a action: {arg}"));
            }
        }
        't' => {
            let r = o.tholds.parse("-t ", &arg);
            o.log_tholds_set |= r.log_set;
            o.warnings.extend(r.errors);
        }
        'g' => {
            if let Some(e) = o.tholds.parse_honor(&arg) {
                o.warnings.push(e);
            }
        }
        'S' => o.ck_cfg.add_substitute(&arg)?,
        'l' => o.logdir = Some(arg),
        'R' => o.rundir = Some(arg),
        'T' => o.tmpdir = Some(arg),
        // as the original: at least 2 (MIN_MAX_WORK), at most what the
        // open-file limit allows; a bad value is reported and the
        // default kept
        'j' => match arg.parse::<usize>() {
            Ok(n) if n >= MIN_JOBS => {
                if u64::try_from(n).unwrap_or(u64::MAX) > o.jobs.max_max_work {
                    let (max, msg) = crate::jobs::over_limit(&arg, &o.jobs);
                    o.warnings.push(msg);
                    o.maxjobs = Some(max);
                } else {
                    o.maxjobs = Some(n);
                }
            }
            _ => o.warnings.push(format!("invalid queue length {arg}")),
        },
        'L' => match parse_log_opt(&arg) {
            Ok(l) => o.log_opts.push(l),
            Err(e) => o.warnings.push(e),
        },
        // a bad -X setting is reported; the daemon goes on without it
        'X' => {
            if let Err(e) = o.xfltr.parse_arg(&arg) {
                o.warnings.push(e);
            }
        }
        _ => {}
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn getopt_forms() {
        let o = parse(&args("-bQ -hHOME -p sock -t CMN,2,3 -S List-ID -j 4")).unwrap();
        assert!(o.foreground && o.query);
        assert_eq!(o.home.as_deref(), Some("HOME"));
        assert_eq!(o.listen, Some(Listen::Unix("sock".into())));
        assert_eq!(o.maxjobs, Some(4));
        assert!(parse(&args("-G on")).unwrap().grey.on);
        let o = parse(&args("-B set:bogus -B bl.test")).unwrap();
        assert_eq!(o.warnings, ["unrecognized  \"-B set:bogus\""]);
        assert!(o.dnsbl.clone().finish().enabled());
        assert!(parse(&args("-o 127.0.0.1,25")).unwrap().proxy.is_some());
        let o = parse(&args("-Z -h")).unwrap();
        assert_eq!(o.warnings.len(), 1);
        assert!(o.warnings[0].starts_with("unrecognized \"-Z\"\nusage: dccifd"));
    }

    /// `-j` and its default follow the open-file limit, as the original.
    #[test]
    fn jobs_from_the_open_file_limit() {
        use crate::jobs::JobLimit;
        let l = JobLimit::from_nofile(Ok((100, 400)));
        let o = parse_with(&args(""), &l).unwrap();
        assert_eq!((o.maxjobs, o.max_work(), o.warnings.len()), (None, 87, 0));
        let o = parse_with(&args("-j 87"), &l).unwrap();
        assert_eq!((o.max_work(), o.warnings.len()), (87, 0));
        let o = parse_with(&args("-j 500"), &l).unwrap();
        assert_eq!(o.maxjobs, Some(87));
        assert_eq!(
            o.warnings,
            ["-j queue length 500 larger than RLIMIT_NOFILE limit; using 87"]
        );
        let o = parse(&args("-j 300")).unwrap();
        assert_eq!(o.max_work(), 243);
        assert_eq!(
            o.warnings,
            ["-j queue length 300 larger than FD_SETSIZE limit; using 243"]
        );
        assert_eq!(parse(&args("-b")).unwrap().max_work(), 243);
        // the complaints about the limit come first
        let l = JobLimit::from_nofile(Ok((40, 40)));
        let o = parse_with(&args("-j x"), &l).unwrap();
        assert_eq!(o.max_work(), 2);
        assert_eq!(
            o.warnings,
            ["too few open files allowed", "invalid queue length x"]
        );
        let o = parse_with(&args("-j 1"), &JobLimit::from_nofile(Err("gone".into()))).unwrap();
        assert_eq!(o.max_work(), 243);
        assert_eq!(
            o.warnings,
            ["getrlimit(RLIMIT_NOFILE): gone", "invalid queue length 1"]
        );
    }

    #[test]
    fn start_message() {
        let home = std::path::Path::new("/var/dcc");
        let line = |a: &str| listening_line(&parse(&args(a)).unwrap(), home);
        assert_eq!(
            line(""),
            "2.3.167 listening to /var/dcc/dccifd for ASCII protocol"
        );
        assert_eq!(
            line("-p run/if.sock -o /dev/null"),
            "2.3.167 listening to run/if.sock for SMTP commands"
        );
        assert_eq!(
            line("-p @,10025,127.0.0.0/8"),
            "2.3.167 listening to *,10025 from 127.0.0.0/8 for ASCII protocol"
        );
        assert_eq!(
            line("-p 127.0.0.1,10025,10.0.0.1-10.0.0.9"),
            "2.3.167 listening to 127.0.0.1,10025 from 10.0.0.1-10.0.0.9 for ASCII protocol"
        );
    }

    #[test]
    fn greylisting() {
        let o = parse(&args("-G IPmask/24")).unwrap();
        assert!(o.grey.on);
        assert_eq!(o.grey.mask_bits, Some(120));
        // as the original: a bad -G is a usage complaint, not fatal
        let o = parse(&args("-G sometimes -G off")).unwrap();
        assert!(!o.grey.on);
        assert!(o.warnings[0].starts_with("unrecognized \"-Gsometimes\"\nusage: dccifd"));
    }

    #[test]
    fn rejection_messages() {
        let a = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
        let o = parse(&a(&["-r", "", "-r", "4.7.0 451 later %ID"])).unwrap();
        assert_eq!(o.rej_msgs, a(&["", "4.7.0 451 later %ID"]));
        assert!(o.warnings.is_empty());
        let o = parse(&a(&["-r", "x", "-r", "5.7.1 550 no", "-r", "y", "-r", "z"])).unwrap();
        assert_eq!(o.rej_msgs, a(&["x", "", "y"]));
        assert_eq!(
            o.warnings,
            a(&[
                "invalid greylist message: 5.7.1 550 no",
                "more than 3 -r settings"
            ])
        );
    }

    #[test]
    fn switch_user() {
        assert_eq!(
            parse(&args("-I nobody")).unwrap().user.as_deref(),
            Some("nobody")
        );
        let o = parse(&args("-Idcc,mail")).unwrap();
        assert_eq!(o.user.as_deref(), Some("dcc,mail"));
        for bad in ["-I ,mail", "-I dcc,", "-I a,b,c"] {
            assert!(parse(&args(bad)).unwrap_err().starts_with("-I "), "{bad}");
        }
    }

    #[test]
    fn tcp_acl() {
        let l = parse_listen("127.0.0.1,10025,127.0.0.0/8").unwrap();
        let Listen::Tcp { port, allow, .. } = l else {
            panic!()
        };
        assert_eq!(port, 10025);
        assert!(allow.allows("127.1.2.3".parse().unwrap()));
        assert!(!allow.allows("10.0.0.1".parse().unwrap()));
        let r = Acl::parse("10.0.0.1-10.0.0.9").unwrap();
        assert!(r.allows("10.0.0.5".parse().unwrap()));
        assert!(!r.allows("10.0.0.10".parse().unwrap()));
        assert!(Acl::parse("0.0.0.0/0")
            .unwrap()
            .allows("8.8.8.8".parse().unwrap()));
        assert!(parse_listen("*,0,127.0.0.1").is_err());
        assert!(Acl::parse("::1").unwrap().is_ipv6());
        assert!(!Acl::parse("::ffff:127.0.0.1").unwrap().is_ipv6());
        assert!(!Acl::parse("127.0.0.0/8").unwrap().is_ipv6());
    }

    #[test]
    fn external_filter() {
        let o = parse(&args("-X unix:/run/f.sock -Xset:msg-secs=2 -X set:debug=2")).unwrap();
        assert_eq!(o.xfltr.target.as_deref(), Some("unix:/run/f.sock"));
        assert_eq!((o.xfltr.msg_secs, o.xfltr.debug), (2, 2));
        assert!(o.warnings.is_empty(), "{:?}", o.warnings);
        let o = parse(&args("-X set:msg-secs=0")).unwrap();
        assert_eq!(o.xfltr.msg_secs, 20);
        assert!(
            o.warnings[0].contains("-X \"set:msg-secs=0\""),
            "{:?}",
            o.warnings
        );
    }
}
