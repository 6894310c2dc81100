//! The command line of dccd(8), parsed getopt-style as the original does:
//! single-letter flags that may be bundled (`-dbQ`), option arguments
//! either attached (`-i1100`) or in the next word (`-i 1100`).
//!
//! As the original, most mistakes do not stop the server: an unknown
//! option, a missing option value or an extra word, and bad `-n`, `-q`,
//! `-K`, `-T`, `-u`, `-C`, `-L` and `-R` values are complained about (the
//! original's texts, in [`Opts::notices`]) and the server starts with the
//! setting unchanged (a bad `-u` leaves the longest anonymous delay, as
//! there). Start scripts and `DCCD_ARGS` written for the original thus
//! keep working. A bad `-i`, `-I`, `-a` or `-M` is still fatal.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use tally_ck::CkType;
use tally_getopt::{getopt, Item, Style};

use crate::trace::Trace;

/// The default UDP port of DCC servers.
pub const DEFAULT_PORT: u16 = 6277;
/// The default home directory.
pub const DEFAULT_HOME: &str = "/var/dcc";
/// The original's default anonymous delay in milliseconds.
pub const DEFAULT_ANON_DELAY_MS: u32 = 50;

/// Rate limits (`-R RL_SUB,RL_ANON,RL_ALL_ANON,RL_BUGS`): requests per
/// second allowed to one signed client, one anonymous client, all
/// anonymous clients together, and clients that send broken requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Per authenticated client.
    pub sub: f64,
    /// Per anonymous client (address).
    pub anon: f64,
    /// All anonymous clients together.
    pub all_anon: f64,
    /// Clients sending bad requests.
    pub bugs: f64,
}

impl Default for RateLimits {
    /// The man page's default, `-R 400,50,2000,0.1`.
    fn default() -> Self {
        RateLimits {
            sub: 400.0,
            anon: 50.0,
            all_anon: 2000.0,
            bugs: 0.1,
        }
    }
}

/// Everything the command line says.
#[derive(Debug, Clone)]
pub struct Opts {
    /// `-d` count.
    pub debug: u32,
    /// `-V` count.
    pub version: u32,
    /// `-b`: stay in the foreground.
    pub foreground: bool,
    /// `-Q`: treat reports as queries.
    pub query_only: bool,
    /// `-i`: our server-ID.
    pub srvr_id: Option<u16>,
    /// `-n`: brand.
    pub brand: String,
    /// `-h`: home directory.
    pub home: PathBuf,
    /// `-I host-ID,user`.
    pub host_id: Option<String>,
    /// The user part of `-I` (`user` or `user,group`): whom the server
    /// runs as once its options are read (see `tally-privs`).
    pub user: Option<String>,
    /// `-a`: addresses to listen on (empty: the defaults).
    pub addrs: Vec<SocketAddr>,
    /// `-q`: queue size.
    pub qsize: Option<u32>,
    /// `-G` argument, if given.
    pub grey: Option<String>,
    /// The greylist settings after every `-G` (`None`: a DCC server).
    pub grey_params: Option<tally_grey::Params>,
    /// `-W` argument, if given.
    pub window: Option<String>,
    /// Checksum types not kept (the default with every `-K` applied).
    pub nokeep: u32,
    /// Types `-K type` keeps (`-K all`: every type).
    pub keep_set: u32,
    /// Types `-K no-type` drops; they win over `keep_set`, whatever the
    /// order, as in the original.
    pub nokeep_set: u32,
    /// Trace bits (after `-T`).
    pub trace: u32,
    /// `-u`: anonymous delay in ms, at most 4000 (`None` = forever:
    /// anonymous clients refused).
    pub anon_delay_ms: Option<u32>,
    /// `-u ...,inflate`.
    pub anon_inflate: Option<u32>,
    /// `-C dbclean`.
    pub dbclean: Option<String>,
    /// `-L ltype,facility.level` entries.
    pub logs: Vec<tally_syslog::logopt::LogOpt>,
    /// `-R`.
    pub rate: RateLimits,
    /// `-f`/`-F` seen (no effect on our database).
    pub mmap_flag: Option<char>,
    /// Complaints about the command line and notices about options
    /// without effect, logged when the server starts.
    pub notices: Vec<String>,
    /// `-M [addr,]port`: the statistics listener (loopback only).
    pub metrics: Option<SocketAddr>,
}

/// Types not kept by default: everything but Body, Fuz1, Fuz2 and the two
/// reputation types (as `-K Body -K Fuz1 -K Fuz2` plus reputations).
pub fn default_nokeep() -> u32 {
    let keep = [
        CkType::Body,
        CkType::Fuz1,
        CkType::Fuz2,
        CkType::GreyMsg,
        CkType::GreyTriple,
        CkType::SrvrId,
    ];
    let mut bits = 0u32;
    for n in 1..=13u8 {
        if let Some(t) = CkType::from_number(n) {
            if !keep.contains(&t) {
                bits |= 1 << n;
            }
        }
    }
    bits
}

impl Opts {
    /// 6276 for a greylist server, else 6277.
    pub fn default_port(&self) -> u16 {
        if self.grey_params.is_some() {
            crate::grey::GREY_PORT
        } else {
            DEFAULT_PORT
        }
    }
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            debug: 0,
            version: 0,
            foreground: false,
            query_only: false,
            srvr_id: None,
            brand: String::new(),
            home: PathBuf::from(DEFAULT_HOME),
            host_id: None,
            user: None,
            addrs: Vec::new(),
            qsize: None,
            grey: None,
            grey_params: None,
            window: None,
            nokeep: default_nokeep(),
            keep_set: 0,
            nokeep_set: 0,
            trace: Trace::DEFAULT,
            anon_delay_ms: Some(DEFAULT_ANON_DELAY_MS),
            anon_inflate: None,
            dbclean: None,
            logs: Vec::new(),
            rate: RateLimits::default(),
            mmap_flag: None,
            notices: Vec::new(),
            metrics: None,
        }
    }
}

/// The getopt string: the original's (`-4`, `-6` and `-t x` are accepted
/// and ignored, as there) and `-M`.
const OPTSTRING: &str = "64dVbfFQi:n:h:I:a:q:G:t:W:K:T:u:C:L:R:M:";

/// The usage line.
pub const USAGE: &str =
    "usage: dccd [-dVbfFQ] -i server-ID [-n brand] [-h homedir] [-I [host-ID][,user]]\n\
    [-a [server-addr][,server-port]] [-q qsize] [-G [on,]...] [-W [rate][,chg][,dbsize]]\n\
    [-K [no-]type] [-T [no-]tracemode] [-u anon-delay[,inflate]] [-C dbclean]\n\
    [-L ltype,facility.level] [-R [RL_SUB],[RL_ANON],[RL_ALL_ANON],[RL_BUGS]]\n\
    [-M [addr,]port]";

/// Parse the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let scan = getopt(args, OPTSTRING, Style::Posix);
    // the original complains about the usage once and goes on
    let mut unrecognized = Vec::new();
    for item in scan.items {
        match item {
            Item::Opt(c, None) => flag(&mut o, c),
            Item::Opt(c, Some(value)) => with_arg(&mut o, c, &value)?,
            Item::Unknown(c) | Item::MissingArg(c) => unrecognized.push(format!("-{c}")),
        }
    }
    unrecognized.extend(scan.operands);
    if let Some(first) = unrecognized.first() {
        o.notices
            .push(format!("unrecognized \"{first}\"\n{USAGE}\n... continuing"));
    }
    o.nokeep = (default_nokeep() & !o.keep_set) | o.nokeep_set;
    // `-a host` without a port: the default port of the kind of server,
    // known only once every option is read.
    let port = o.default_port();
    for a in &mut o.addrs {
        if a.port() == 0 {
            a.set_port(port);
        }
    }
    Ok(o)
}

fn flag(o: &mut Opts, c: char) {
    match c {
        // obsolete in the original too
        '4' | '6' => {}
        'd' => o.debug += 1,
        'V' => o.version += 1,
        'b' => o.foreground = true,
        'Q' => o.query_only = true,
        'f' | 'F' => {
            o.mmap_flag = Some(c);
            o.notices.push(format!(
                "-{c} has no effect: the database is an append-only log written with write()"
            ));
        }
        _ => {}
    }
}

fn with_arg(o: &mut Opts, c: char, v: &str) -> Result<(), String> {
    match c {
        'i' => {
            let id: u32 = v
                .parse()
                .map_err(|_| format!("invalid server-ID \"-i {v}\""))?;
            if !(100..=32767).contains(&id) {
                return Err(format!("invalid server-ID \"-i {v}\""));
            }
            o.srvr_id = u16::try_from(id).ok();
        }
        'n' => {
            // printable ASCII without blanks (RFC 2822) and without ':'
            if v.is_empty()
                || v.len() > 64
                || v.bytes().any(|b| !(33..=126).contains(&b) || b == b':')
            {
                o.notices.push(format!("invalid brand name \"-n {v}\""));
            } else {
                o.brand = v.to_string();
            }
        }
        'h' => o.home = PathBuf::from(v),
        'I' => {
            let (h, u) = v.split_once(',').unwrap_or((v, ""));
            if !h.is_empty() {
                o.host_id = Some(h.to_string());
            }
            if !u.is_empty() {
                tally_privs::Spec::parse(u).map_err(|e| format!("-I {e}"))?;
                o.user = Some(u.to_string());
            }
        }
        'a' => o.addrs.extend(parse_addr(v)?),
        'q' => match v.parse::<u32>() {
            Ok(q) if (2..=1000).contains(&q) && v.bytes().all(|b| b.is_ascii_digit()) => {
                o.qsize = Some(q)
            }
            _ => o.notices.push(format!("invalid queue length \"{v}\"")),
        },
        // obsolete in the original too
        't' => {}
        'G' => {
            o.grey = Some(v.to_string());
            // As the original: a bad -G is complained about, the words
            // before its bad durations count and the earlier durations
            // stay; the server is a greylist server anyway.
            let base = o.grey_params.unwrap_or_default();
            let (p, complaint) = base.parse_arg_as_dccd(v);
            if let Some(e) = complaint {
                o.notices.push(e.to_string());
            }
            o.grey_params = Some(p);
        }
        'W' => {
            o.window = Some(v.to_string());
            o.notices.push(format!(
                "-W {v} ignored: the database has no mmap() window to size"
            ));
        }
        'K' => keep_opt(o, v),
        'T' => trace_opt(o, v),
        'u' => parse_anon(o, v),
        'C' if v.is_empty() => o.notices.push(format!("no path to dbclean \"-C {v}\"")),
        'C' => {
            o.dbclean = Some(v.to_string());
            o.notices.push(format!(
                "-C {v}: dbclean is not run by this server; expiry runs through `cdcc \"clean\"`"
            ));
        }
        'L' => match tally_syslog::logopt::parse_log_opt(v) {
            Ok(l) => o.logs.push(l),
            Err(e) => o.notices.push(e),
        },
        'R' => parse_rate(o, v),
        'M' => o.metrics = Some(tally_stats::parse_listen(v)?),
        _ => return Err(format!("invalid option -- '{c}'")),
    }
    Ok(())
}

/// `-K [no-]type` or `-K all`. `no_` may stand for `no-`, in any case.
fn keep_opt(o: &mut Opts, v: &str) {
    if v.eq_ignore_ascii_case("all") {
        o.keep_set = u32::MAX;
        return;
    }
    let prefix = v.get(..3).map(str::to_ascii_lowercase);
    let (no, name) = match prefix.as_deref() {
        Some("no-" | "no_") => (true, &v[3..]),
        _ => (false, v),
    };
    let Some(t) = ck_type_named(name) else {
        o.notices
            .push(format!("bad checksum type in \"-K {name}\""));
        return;
    };
    let bit = 1u32 << t.number();
    if no {
        o.nokeep_set |= bit;
    } else {
        o.keep_set |= bit;
    }
}

/// `-T [no-]mode`; `FLOOD` is `FLOOD1`, as in the original.
fn trace_opt(o: &mut Opts, v: &str) {
    let no = v.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("no-"));
    let name = if no { &v[3..] } else { v };
    let bit = if name.eq_ignore_ascii_case("FLOOD") {
        Some(Trace::FLOOD1)
    } else {
        Trace::bit(name)
    };
    match bit {
        Some(b) if no => o.trace &= !b,
        Some(b) => o.trace |= b,
        None => o.notices.push(format!("invalid trace mode \"{name}\"")),
    }
}

/// A checksum type as `-K` names it (case-insensitive; `IP`, `env_From`,
/// `From`, `Message-ID`, `Received`, `Body`, `Fuz1`, `Fuz2`, ...).
pub fn ck_type_named(name: &str) -> Option<CkType> {
    (1..=13u8)
        .filter_map(CkType::from_number)
        .find(|t| t.name().eq_ignore_ascii_case(name) || t.grey_name().eq_ignore_ascii_case(name))
        .or_else(|| match name.to_ascii_lowercase().as_str() {
            "sub" | "substitute" => Some(CkType::Sub),
            "message_id" => Some(CkType::MessageId),
            "env-from" => Some(CkType::EnvFrom),
            _ => None,
        })
}

fn parse_addr(v: &str) -> Result<Vec<SocketAddr>, String> {
    let bad = || format!("invalid \"-a {v}\"");
    let (host, port) = match v.rsplit_once(',') {
        Some((h, p)) => (h, p),
        None => (v, ""),
    };
    let port = if port.is_empty() || port == "-" {
        0
    } else {
        port.parse::<u16>().map_err(|_| bad())?
    };
    if host.is_empty() || host == "@" {
        // IPv6 first: on systems where it is dual-stack it also receives
        // IPv4, and the IPv4 socket then fails harmlessly.
        return Ok(vec![
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
        ]);
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(ip) => Ok(vec![SocketAddr::new(ip, port)]),
        Err(_) => {
            use std::net::ToSocketAddrs;
            let found: Vec<SocketAddr> =
                (host, port).to_socket_addrs().map_err(|_| bad())?.collect();
            if found.is_empty() {
                Err(bad())
            } else {
                Ok(found)
            }
        }
    }
}

/// `-u` (see [`crate::anon_delay`]). A bad value is complained about and,
/// as in the original, leaves the longest delay, at which unauthenticated
/// clients are not answered (`forever` stays `forever`).
fn parse_anon(o: &mut Opts, v: &str) {
    use crate::anon_delay::{parse, AnonDelay, ANON_DELAY_MAX_MS};
    match parse(v) {
        Ok(AnonDelay::Forever) => (o.anon_delay_ms, o.anon_inflate) = (None, None),
        Ok(AnonDelay::Ms { ms, inflate }) => {
            (o.anon_delay_ms, o.anon_inflate) = (Some(ms), inflate)
        }
        Err(e) => {
            o.notices.push(e);
            if o.anon_delay_ms.is_some() {
                o.anon_delay_ms = Some(ANON_DELAY_MAX_MS);
            }
            o.anon_inflate = None;
        }
    }
}

/// `-R [RL_SUB],[RL_ANON],[RL_ALL_ANON],[RL_BUGS]`: an empty field keeps
/// its value. As the original, the first bad field is complained about
/// (with the rest of the value from there) and it and the fields after it
/// are left alone; words after the fourth field are ignored.
fn parse_rate(o: &mut Opts, v: &str) {
    let r = &mut o.rate;
    let slots: [(&str, &mut f64); 4] = [
        ("RL_SUB", &mut r.sub),
        ("RL_ANON", &mut r.anon),
        ("RL_ALL_ANON", &mut r.all_anon),
        ("RL_BUGS", &mut r.bugs),
    ];
    let mut rest = v;
    for (label, slot) in slots {
        if rest.is_empty() {
            break;
        }
        let (field, after) = rest.split_once(',').unwrap_or((rest, ""));
        if !field.is_empty() {
            match field.parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 => *slot = x,
                _ => {
                    o.notices
                        .push(format!("invalid {label} value in \"{rest}\""));
                    return;
                }
            }
        }
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<Opts, String> {
        parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn bundled_and_attached() {
        let o = p(&["-dbQ", "-i1100", "-n", "vecbrand", "-a", "127.0.0.1,16277"]).unwrap();
        assert_eq!(o.debug, 1);
        assert!(o.foreground && o.query_only);
        assert_eq!(o.srvr_id, Some(1100));
        assert_eq!(o.brand, "vecbrand");
        assert_eq!(o.addrs, vec!["127.0.0.1:16277".parse().unwrap()]);
    }

    #[test]
    fn keep_trace_rate_anon() {
        let o = p(&[
            "-i", "1100", "-K", "IP", "-K", "no-Body", "-T", "QUERY", "-T", "no-ANON",
        ])
        .unwrap();
        assert_eq!(o.nokeep & (1 << 1), 0);
        assert_ne!(o.nokeep & (1 << 7), 0);
        assert_ne!(o.trace & Trace::QUERY, 0);
        assert_eq!(o.trace & Trace::ANON, 0);
        let o = p(&["-i", "1100", "-R", "1000,,5000", "-u", "forever"]).unwrap();
        assert_eq!(o.rate.sub, 1000.0);
        assert_eq!(o.rate.anon, 50.0);
        assert_eq!(o.rate.all_anon, 5000.0);
        assert_eq!(o.anon_delay_ms, None);
        assert!(p(&["-i", "99"]).is_err());
    }

    #[test]
    fn obsolete_and_original_forms() {
        let o = p(&[
            "-4", "-6", "-i", "1100", "-t", "5", "-T", "FLOOD", "-K", "no_IP", "-K", "NO-Fuz2",
        ])
        .unwrap();
        assert!(o.notices.is_empty(), "{:?}", o.notices);
        assert_ne!(o.trace & Trace::FLOOD1, 0);
        assert_ne!(o.nokeep & (1 << CkType::Ip.number()), 0);
        assert_ne!(o.nokeep & (1 << CkType::Fuz2.number()), 0);
        // -K all keeps every type; a "no-" wins whatever the order
        let o = p(&["-i", "1100", "-K", "no-Body", "-K", "all", "-K", "Body"]).unwrap();
        assert_eq!(o.nokeep, 1 << CkType::Body.number());
        assert_eq!(p(&["-i1100", "-K", "ALL"]).unwrap().nokeep, 0);
    }

    /// Mistakes the original only complains about: the server starts.
    #[test]
    fn complaints_are_not_fatal() {
        let o = p(&["-x", "-i", "1100", "extra", "-y"]).unwrap();
        assert_eq!(o.srvr_id, Some(1100));
        assert_eq!(o.notices.len(), 1, "the usage once: {:?}", o.notices);
        assert!(o.notices[0].starts_with("unrecognized \"-x\"\nusage: dccd"));
        assert!(o.notices[0].ends_with("\n... continuing"));
        let o = p(&["-i", "1100", "extra"]).unwrap();
        assert!(o.notices[0].starts_with("unrecognized \"extra\"\n"));
        let o = p(&["-i"]).unwrap();
        assert_eq!(o.srvr_id, None);
        assert!(o.notices[0].starts_with("unrecognized \"-i\"\n"));

        let o = p(&[
            "-i",
            "1100",
            "-n",
            "bad:brand",
            "-n",
            "",
            "-q",
            "1",
            "-q",
            "10x",
            "-T",
            "no-BOGUS",
            "-K",
            "no-bogus",
            "-C",
            "",
            "-L",
            "loud,MAIL.ERR",
            "-R",
            "100,x,7",
        ])
        .unwrap();
        let want = [
            "invalid brand name \"-n bad:brand\"",
            "invalid brand name \"-n \"",
            "invalid queue length \"1\"",
            "invalid queue length \"10x\"",
            "invalid trace mode \"BOGUS\"",
            "bad checksum type in \"-K bogus\"",
            "no path to dbclean \"-C \"",
        ];
        assert_eq!(o.notices[..want.len()], want);
        assert!(
            o.notices[want.len()].contains("-L loud,MAIL.ERR"),
            "{:?}",
            o.notices
        );
        assert_eq!(
            o.notices[want.len() + 1],
            "invalid RL_ANON value in \"x,7\""
        );
        assert_eq!(o.notices.len(), want.len() + 2);
        // the settings stay; the fields before a bad -R field are taken
        assert_eq!(
            (o.brand.as_str(), o.qsize, o.trace),
            ("", None, Trace::DEFAULT)
        );
        assert_eq!(
            (o.rate.sub, o.rate.anon, o.rate.all_anon),
            (100.0, 50.0, 2000.0)
        );
        assert_eq!(o.nokeep, default_nokeep());
        assert!(o.logs.is_empty());
        // what the original accepts
        let o = p(&[
            "-i",
            "1100",
            "-n",
            &"b".repeat(64),
            "-q",
            "1000",
            "-R",
            "1,2,3,4,5",
        ])
        .unwrap();
        assert!(o.notices.is_empty(), "{:?}", o.notices);
        assert_eq!((o.brand.len(), o.qsize, o.rate.bugs), (64, Some(1000), 4.0));
    }

    /// `-u` as the original takes it: `*` for the inflation, `forever` in
    /// any case, at most 4000 ms; a bad value is only complained about and
    /// leaves the 4 s at which unauthenticated clients are dropped.
    #[test]
    fn anonymous_delay() {
        let o = p(&["-i", "1100", "-u", "50*10"]).unwrap();
        assert_eq!((o.anon_delay_ms, o.anon_inflate), (Some(50), Some(10)));
        let o = p(&["-i", "1100", "-u", "200,3", "-u", "Forever"]).unwrap();
        assert_eq!((o.anon_delay_ms, o.anon_inflate), (None, None));
        let o = p(&["-i", "1100", "-u", "4000"]).unwrap();
        assert!(o.notices.is_empty(), "{:?}", o.notices);
        for (bad, why) in [
            ("5000", "invalid delay \"5000\" > 4000"),
            ("50x", "unrecognized delay \"50x\""),
            ("50,x", "unrecognized delay inflation \"x\""),
        ] {
            let o = p(&["-i", "1100", "-u", "50,9", "-u", bad]).unwrap();
            assert_eq!(o.notices, [why]);
            assert_eq!((o.anon_delay_ms, o.anon_inflate), (Some(4000), None));
        }
        let o = p(&["-i", "1100", "-u", "forever", "-u", "5000"]).unwrap();
        assert_eq!((o.anon_delay_ms, o.notices.len()), (None, 1));
    }

    #[test]
    fn host_id_and_user() {
        let o = p(&["-i", "1100", "-I", "dcc1"]).unwrap();
        assert_eq!((o.host_id.as_deref(), o.user), (Some("dcc1"), None));
        let o = p(&["-i", "1100", "-I", ",nobody"]).unwrap();
        assert_eq!((o.host_id, o.user.as_deref()), (None, Some("nobody")));
        let o = p(&["-i", "1100", "-Idcc1,dcc,mail"]).unwrap();
        assert_eq!(o.host_id.as_deref(), Some("dcc1"));
        assert_eq!(o.user.as_deref(), Some("dcc,mail"));
        assert!(p(&["-i", "1100", "-I", "h,dcc,"])
            .unwrap_err()
            .starts_with("-I "));
        assert!(p(&["-i", "1100", "-I", "h,,mail"]).is_err());
    }

    #[test]
    fn default_addresses() {
        let o = p(&["-i", "1100", "-a", ",7000"]).unwrap();
        assert_eq!(o.addrs.len(), 2);
        assert!(o.addrs.iter().all(|a| a.port() == 7000));
    }

    #[test]
    fn syslog_options() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = parse(&args(&[
            "-i",
            "1100",
            "-L",
            "info,LOCAL0.INFO",
            "-L",
            "off",
        ]))
        .unwrap();
        assert_eq!(o.logs.len(), 2);
        let o = parse(&args(&["-i", "1100", "-L", "loud,MAIL.ERR"])).unwrap();
        assert!(o.notices[0].contains("neither"), "{:?}", o.notices);
    }

    #[test]
    fn metrics_listener() {
        let o = p(&["-i", "1100", "-M", "9100"]).unwrap();
        assert_eq!(o.metrics, Some("127.0.0.1:9100".parse().unwrap()));
        let o = p(&["-i", "1100", "-M::1,0"]).unwrap();
        assert_eq!(o.metrics, Some("[::1]:0".parse().unwrap()));
        assert_eq!(p(&["-i", "1100"]).unwrap().metrics, None);
        let e = p(&["-i", "1100", "-M", "192.0.2.1,80"]).unwrap_err();
        assert!(
            e.contains("-M 192.0.2.1,80") && e.contains("not a loopback"),
            "{e}"
        );
    }
}
