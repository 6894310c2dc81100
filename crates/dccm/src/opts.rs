//! dccm's command line, parsed like the original: getopt with bundled
//! flags; an unknown option or an operand prints the usage text and dccm
//! goes on ("... continuing"), as the original does.

use crate::reply::RejectMsgs;
use tally_ck::header::CkConfig;
use tally_engine::logopt::{parse_log_opt, LogOpt};
use tally_engine::tholds::Thresholds;
use tally_getopt::{getopt, Item, Style};

/// The getopt string.
pub const OPTSTRING: &str = "VdbxANPQWG:h:I:p:m:w:U:a:t:g:S:l:R:r:j:B:L:X:M:";

/// The usage text.
pub const USAGE: &str =
    "usage: [-VdbxANPQ] [-G on | off | noIP | IPmask/xx] [-h homedir] [-I user]\n    \
[-p protocol:filename | protocol:port@host] [-m map]\n    \
[-w whiteclnt] [-U userdirs] [-a IGNORE | REJECT | DISCARD]\n    \
[-t type,[log-thold,][spam-thold]] [-g [not-]type] [-S header]\n    \
[-l logdir] [-R rundir] [-r rejection-msg] [-j maxjobs]\n    \
[-B dnsbl-option] [-X xfltr-option] [-L ltype,facility.level]\n    \
[-M [addr,]port]";

use crate::jobs::JobLimit;
pub use crate::jobs::MIN_MAX_WORK;

/// What to do with spam.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// Only add the header.
    Ignore,
    /// Reject with the `-r` message.
    #[default]
    Reject,
    /// Accept and throw away.
    Discard,
}

/// How existing X-DCC headers are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HdrMode {
    /// Delete existing X-DCC headers and add ours.
    #[default]
    Set,
    /// `-A`: add ours, keep the others.
    Add,
    /// `-N`: neither add nor delete.
    None,
}

/// Where to listen (`-p`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenOn {
    /// A unix domain socket.
    Unix(String),
    /// A TCP port on an address (`inet:port@host`, `inet6:port@host`).
    Tcp(String),
}

/// All options.
#[derive(Debug, Clone)]
pub struct Opts {
    /// `-V` count.
    pub version: u32,
    /// `-d` count.
    pub debug: u32,
    /// Stay in the foreground (`-b`).
    pub foreground: bool,
    /// `-x`.
    pub try_extra_hard: bool,
    /// `-A` / `-N`.
    pub hdr: HdrMode,
    /// `-P`: do not force Body=many in bulk headers.
    pub no_body_kludge: bool,
    /// `-Q`.
    pub query: bool,
    /// `-W` (obsolete): DCC off unless whitelisted on.
    pub to_white_only: bool,
    /// `-h`.
    pub homedir: Option<String>,
    /// `-I user[,group]`: whom the daemon runs as once its options are
    /// read (see `tally-privs`).
    pub user: Option<String>,
    /// `-p`.
    pub conn: Option<String>,
    /// `-m`.
    pub map: Option<String>,
    /// `-w`.
    pub whiteclnt: Option<String>,
    /// `-U`.
    pub userdirs: Option<String>,
    /// `-a`.
    pub action: Action,
    /// `-t`, `-g`.
    pub tholds: Thresholds,
    /// A log threshold was set with `-t`.
    pub log_tholds_set: bool,
    /// `-S` and checksum switches.
    pub ck_cfg: CkConfig,
    /// `-S HELO` was given.
    pub sub_helo: bool,
    /// `-l`.
    pub logdir: Option<String>,
    /// `-R`.
    pub rundir: String,
    /// `-r`.
    pub rej: RejectMsgs,
    /// `-j`.
    pub max_work: u64,
    /// The largest `-j` and its source.
    pub jobs: JobLimit,
    /// `-L`.
    pub log_opts: Vec<LogOpt>,
    /// `-X`.
    pub xfltr: tally_engine::xfltr::XfltrOpts,
    /// `-G`.
    pub grey: tally_engine::grey::GreyOpt,
    /// `-B` arguments, in order.
    pub dnsbl: Vec<String>,
    /// What the `-B` arguments declare (refused ones are in `msgs`).
    pub dnsbl_settings: tally_engine::dnsbl::Settings,
    /// Fatal problems.
    pub fatal: Option<String>,
    /// `-M [addr,]port`: the statistics listener (docs/statistics.md).
    pub metrics: Option<std::net::SocketAddr>,
    /// Complaints to print.
    pub msgs: Vec<String>,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            version: 0,
            debug: 0,
            foreground: false,
            try_extra_hard: false,
            hdr: HdrMode::Set,
            no_body_kludge: false,
            query: false,
            to_white_only: false,
            homedir: None,
            user: None,
            conn: None,
            map: None,
            whiteclnt: None,
            userdirs: None,
            action: Action::Reject,
            tholds: Thresholds::default(),
            log_tholds_set: false,
            ck_cfg: CkConfig::default(),
            sub_helo: false,
            logdir: None,
            rundir: "/var/run/dcc".to_string(),
            rej: RejectMsgs::default(),
            max_work: JobLimit::default().max_max_work,
            jobs: JobLimit::default(),
            log_opts: Vec::new(),
            xfltr: tally_engine::xfltr::XfltrOpts::default(),
            grey: tally_engine::grey::GreyOpt::default(),
            dnsbl: Vec::new(),
            dnsbl_settings: tally_engine::dnsbl::Settings::default(),
            fatal: None,
            metrics: None,
            msgs: Vec::new(),
        }
    }
}

/// Parse the arguments (without the program name), `-j` bounded as
/// without a known open-file limit ([`JobLimit::default`]).
pub fn parse(args: &[String]) -> Opts {
    parse_with(args, &JobLimit::default())
}

/// Parse the arguments with `-j` bounded by `jobs` (the default `-j`
/// too); its complaints come first.
pub fn parse_with(args: &[String], jobs: &JobLimit) -> Opts {
    let mut o = Opts {
        max_work: jobs.max_max_work,
        jobs: jobs.clone(),
        msgs: jobs.msgs.clone(),
        ..Opts::default()
    };
    let scan = getopt(args, OPTSTRING, Style::Gnu);
    let mut complained = false;
    // the usage complaint is made once; the options after a bad one are
    // still used (a later -V too), as the original's getopt loop goes on
    for item in scan.items {
        match item {
            Item::Unknown(c) | Item::MissingArg(c) => {
                if !complained {
                    let opt = if c == '\0' {
                        "-".into()
                    } else {
                        format!("-{c}")
                    };
                    o.msgs
                        .push(format!("unrecognized \"{opt}\"\n{USAGE}\n... continuing"));
                    complained = true;
                }
            }
            Item::Opt(c, a) => apply(&mut o, c, a.unwrap_or_default()),
        }
    }
    if let Some(first) = scan.operands.first() {
        if !complained {
            o.msgs
                .push(format!("unrecognized \"{first}\"\n{USAGE}\n... continuing"));
        }
    }
    // refused -B arguments are only reported; dccm goes on (recorded)
    let (settings, errs) = tally_engine::dnsbl::parse(&o.dnsbl);
    o.msgs.extend(errs.iter().map(|e| e.to_string()));
    o.dnsbl_settings = settings;
    o
}

fn apply(o: &mut Opts, c: char, arg: String) {
    match c {
        'V' => o.version += 1,
        'd' => o.debug += 1,
        'b' => o.foreground = true,
        'x' => o.try_extra_hard = true,
        'A' => o.hdr = HdrMode::Add,
        'N' => o.hdr = HdrMode::None,
        'P' => o.no_body_kludge = true,
        'Q' => o.query = true,
        'W' => o.to_white_only = true,
        // a bad -G prints the usage, and dccm goes on
        'G' if o.grey.parse(&arg).is_err() => o
            .msgs
            .push(format!("unrecognized \"-G{arg}\"\n{USAGE}\n... continuing")),
        'G' => {}
        'B' => o.dnsbl.push(arg),
        'h' => o.homedir = Some(arg),
        'I' => match tally_privs::Spec::parse(&arg) {
            Ok(_) => o.user = Some(arg),
            Err(e) => o.fatal = Some(format!("-I {e}")),
        },
        'p' => o.conn = Some(arg),
        'm' => o.map = Some(arg),
        'w' => o.whiteclnt = Some(arg),
        'U' => o.userdirs = Some(arg),
        'a' => {
            if arg.eq_ignore_ascii_case("IGNORE") {
                o.action = Action::Ignore;
            } else if arg.eq_ignore_ascii_case("REJECT") {
                o.action = Action::Reject;
            } else if arg.eq_ignore_ascii_case("DISCARD") {
                o.action = Action::Discard;
            } else {
                o.msgs.push(format!("unrecognized -a action: {arg}"));
            }
        }
        't' => {
            let r = o.tholds.parse("-t ", &arg);
            o.msgs.extend(r.errors);
            if r.log_set {
                o.log_tholds_set = true;
            }
        }
        'g' => {
            if let Some(e) = o.tholds.parse_honor(&arg) {
                o.msgs.push(e);
            }
        }
        'S' => {
            if arg.trim_end_matches(':').eq_ignore_ascii_case("HELO") {
                o.sub_helo = true;
            }
            if let Err(e) = o.ck_cfg.add_substitute(&arg) {
                o.msgs.push(e);
            }
        }
        'l' => o.logdir = Some(arg),
        'R' => o.rundir = arg,
        'r' => {
            if let Err(e) = o.rej.add(&arg) {
                o.msgs.push(e);
            }
        }
        'j' => match arg.parse::<u64>() {
            Ok(n) if n >= MIN_MAX_WORK => {
                let max = o.jobs.max_max_work;
                if n > max {
                    o.msgs.push(format!(
                        "-j queue length {arg} larger than {}; using {max}",
                        o.jobs.src
                    ));
                    o.max_work = max;
                } else {
                    o.max_work = n;
                }
            }
            _ => o.msgs.push(format!("invalid queue length {arg}")),
        },
        'L' => match parse_log_opt(&arg) {
            Ok(l) => o.log_opts.push(l),
            Err(e) => o.msgs.push(e),
        },
        'X' => parse_xfltr(o, &arg),
        'M' => match tally_stats::parse_listen(&arg) {
            Ok(a) => o.metrics = Some(a),
            Err(e) => o.fatal = Some(e),
        },
        _ => {}
    }
}

fn parse_xfltr(o: &mut Opts, arg: &str) {
    if let Err(e) = o.xfltr.parse_arg(arg) {
        o.msgs.push(e);
    }
}

/// The system log line saying dccm is ready, as the original's: the
/// version, the `-p` value as given (or the default socket's path) and the
/// DCC home directory.
pub fn listening_line(conn: &str, home: &std::path::Path) -> String {
    format!(
        "{} listening to {conn} with {}",
        crate::VERSION,
        home.display()
    )
}

/// Parse a `-p` argument: `unix:path`, `local:path`, a bare path,
/// `inet:port@host`, `inet6:port@host` (host optional).
pub fn parse_conn(s: &str) -> Result<ListenOn, String> {
    let (proto, rest) = match s.find(':') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => ("unix", s),
    };
    match proto.to_ascii_lowercase().as_str() {
        "unix" | "local" if !rest.is_empty() => Ok(ListenOn::Unix(rest.to_string())),
        "inet" | "inet6" => {
            let (port, host) = match rest.find('@') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            };
            let port: u16 = port
                .parse()
                .map_err(|_| format!("illegal sendmail connection \"{s}\""))?;
            let v6 = proto.eq_ignore_ascii_case("inet6");
            let host = if host.is_empty() {
                if v6 {
                    "::".to_string()
                } else {
                    "0.0.0.0".to_string()
                }
            } else {
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string()
            };
            if host.contains(':') {
                Ok(ListenOn::Tcp(format!("[{host}]:{port}")))
            } else {
                Ok(ListenOn::Tcp(format!("{host}:{port}")))
            }
        }
        _ => Err(format!("illegal sendmail connection \"{s}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    /// `-j` and its default follow the open-file limit, as the original.
    #[test]
    fn jobs_from_the_open_file_limit() {
        let l = crate::jobs::limit(Ok((100, 400)));
        let o = parse_with(&v(&[]), &l);
        assert_eq!((o.max_work, o.msgs.len()), (116, 0));
        let o = parse_with(&v(&["-j", "116"]), &l);
        assert_eq!((o.max_work, o.msgs.len()), (116, 0));
        let o = parse_with(&v(&["-j", "500"]), &l);
        assert_eq!(o.max_work, 116);
        assert_eq!(
            o.msgs,
            ["-j queue length 500 larger than RLIMIT_NOFILE limit; using 116"]
        );
        let o = parse_with(&v(&["-j", "400"]), &crate::jobs::JobLimit::default());
        assert_eq!(o.max_work, 324);
        assert_eq!(
            o.msgs,
            ["-j queue length 400 larger than FD_SETSIZE limit; using 324"]
        );
        // the complaints about the limit come first
        let l = crate::jobs::limit(Ok((40, 40)));
        let o = parse_with(&v(&["-j", "x"]), &l);
        assert_eq!(o.max_work, 2);
        assert_eq!(
            o.msgs,
            ["too few open files allowed", "invalid queue length x"]
        );
    }

    #[test]
    fn bundled() {
        let o = parse(&v(&["-bxQ", "-aDISCARD", "-j", "1", "-r", "x"]));
        assert!(o.foreground && o.try_extra_hard && o.query);
        assert_eq!(o.action, Action::Discard);
        assert_eq!(o.max_work, 324);
        assert!(o.msgs.iter().any(|m| m == "invalid queue length 1"));
        let o = parse(&v(&["-Z"]));
        assert!(o.msgs[0].starts_with("unrecognized \"-Z\""));
        let o = parse(&v(&["-G", "on"]));
        assert!(o.fatal.is_none() && o.grey.on);
        let o = parse(&v(&["-G", "IPmask/24", "-G", "off"]));
        assert_eq!((o.grey.on, o.grey.mask_bits), (false, Some(120)));
        let o = parse(&v(&["-G", "noIP"]));
        assert_eq!((o.grey.on, o.grey.mask_bits), (true, Some(0)));
        let o = parse(&v(&["-G", "sometimes"]));
        assert!(!o.grey.on && o.msgs[0].starts_with("unrecognized \"-Gsometimes\""));
        let o = parse(&v(&["-B", "set:bogus", "-B", "bl.test"]));
        assert!(o.fatal.is_none() && o.dnsbl_settings.enabled());
        assert_eq!(o.msgs, ["unrecognized  \"-B set:bogus\""]);
    }

    #[test]
    fn switch_user() {
        assert_eq!(parse(&v(&["-I", "nobody"])).user.as_deref(), Some("nobody"));
        let o = parse(&v(&["-Idcc,mail"]));
        assert_eq!((o.user.as_deref(), o.fatal), (Some("dcc,mail"), None));
        for bad in ["", ",mail", "dcc,", "a,b,c"] {
            let o = parse(&v(&["-I", bad]));
            assert_eq!(o.user, None, "{bad}");
            assert!(o.fatal.is_some_and(|f| f.starts_with("-I ")), "{bad}");
        }
    }

    #[test]
    fn start_line() {
        let l = listening_line("local:/run/dcc/dccm", std::path::Path::new("/var/dcc"));
        assert!(l.starts_with(crate::VERSION), "{l}");
        assert!(
            l.ends_with(" listening to local:/run/dcc/dccm with /var/dcc"),
            "{l}"
        );
    }

    #[test]
    fn conns() {
        assert_eq!(
            parse_conn("local:/x/s").unwrap(),
            ListenOn::Unix("/x/s".into())
        );
        assert_eq!(
            parse_conn("inet:3000@127.0.0.1").unwrap(),
            ListenOn::Tcp("127.0.0.1:3000".into())
        );
        assert_eq!(
            parse_conn("inet6:3000@::1").unwrap(),
            ListenOn::Tcp("[::1]:3000".into())
        );
        assert!(parse_conn("bogus:1").is_err());
    }
}
