//! The command line of dccd(8), parsed getopt-style as the original does:
//! single-letter flags that may be bundled (`-dbQ`), option arguments
//! either attached (`-i1100`) or in the next word (`-i 1100`).

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
    /// Checksum types not kept (after `-K`).
    pub nokeep: u32,
    /// Trace bits (after `-T`).
    pub trace: u32,
    /// `-u`: anonymous delay in ms (`None` = forever: anonymous clients refused).
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
    /// Notices about accepted options without effect.
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

/// The getopt string: the flags, then the letters taking a value.
const OPTSTRING: &str = "dVbfFQi:n:h:I:a:q:G:W:K:T:u:C:L:R:M:";

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
    for item in scan.items {
        match item {
            Item::Opt(c, None) => flag(&mut o, c),
            Item::Opt(c, Some(value)) => with_arg(&mut o, c, &value)?,
            Item::Unknown(c) => return Err(format!("invalid option -- '{c}'\n{USAGE}")),
            Item::MissingArg(c) => {
                return Err(format!("option requires an argument -- '{c}'\n{USAGE}"))
            }
        }
    }
    if let Some(extra) = scan.operands.first() {
        return Err(format!("unrecognized argument \"{extra}\"\n{USAGE}"));
    }
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
            if v.len() > 63 || v.bytes().any(|b| b.is_ascii_whitespace() || b < 0x20) {
                return Err(format!("invalid brand \"-n {v}\""));
            }
            o.brand = v.to_string();
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
        'q' => {
            let q: u32 = v
                .parse()
                .map_err(|_| format!("invalid queue size \"-q {v}\""))?;
            o.qsize = Some(q);
        }
        'G' => {
            o.grey = Some(v.to_string());
            // As the original: a bad -G is complained about and the
            // earlier settings stay; the server is a greylist server anyway.
            let base = o.grey_params.unwrap_or_default();
            match base.parse_arg(v) {
                Ok(p) => o.grey_params = Some(p),
                Err(e) => {
                    o.notices.push(e.to_string());
                    o.grey_params = Some(base);
                }
            }
        }
        'W' => {
            o.window = Some(v.to_string());
            o.notices.push(format!(
                "-W {v} ignored: the database has no mmap() window to size"
            ));
        }
        'K' => {
            let (no, name) = match v.strip_prefix("no-") {
                Some(n) => (true, n),
                None => (false, v),
            };
            let t = ck_type_named(name).ok_or_else(|| format!("invalid -K type \"{v}\""))?;
            let bit = 1u32 << t.number();
            if no {
                o.nokeep |= bit;
            } else {
                o.nokeep &= !bit;
            }
        }
        'T' => {
            let (no, name) = match v.strip_prefix("no-") {
                Some(n) => (true, n),
                None => (false, v),
            };
            let bit = Trace::bit(name).ok_or_else(|| format!("invalid mode \"-T {v}\""))?;
            if no {
                o.trace &= !bit;
            } else {
                o.trace |= bit;
            }
        }
        'u' => parse_anon(o, v)?,
        'C' => {
            o.dbclean = Some(v.to_string());
            o.notices.push(format!(
                "-C {v}: dbclean is not run by this server; expiry runs through `cdcc \"clean\"`"
            ));
        }
        'L' => o.logs.push(tally_syslog::logopt::parse_log_opt(v)?),
        'R' => o.rate = parse_rate(v)?,
        'M' => o.metrics = Some(tally_stats::parse_listen(v)?),
        _ => return Err(format!("invalid option -- '{c}'")),
    }
    Ok(())
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

fn parse_anon(o: &mut Opts, v: &str) -> Result<(), String> {
    let bad = || format!("invalid \"-u {v}\"");
    let (d, inflate) = v.split_once(',').unwrap_or((v, ""));
    o.anon_delay_ms = match d {
        "forever" | "FOREVER" => None,
        _ => {
            let ms: u32 = d.parse().map_err(|_| bad())?;
            if ms > 65533 {
                return Err(bad());
            }
            Some(ms)
        }
    };
    if !inflate.is_empty() {
        o.anon_inflate = Some(inflate.parse().map_err(|_| bad())?);
    }
    Ok(())
}

fn parse_rate(v: &str) -> Result<RateLimits, String> {
    let mut r = RateLimits::default();
    let mut parts = v.split(',');
    let slots: [&mut f64; 4] = [&mut r.sub, &mut r.anon, &mut r.all_anon, &mut r.bugs];
    for slot in slots {
        match parts.next() {
            Some("") | None => {}
            Some(s) => {
                let x: f64 = s.parse().map_err(|_| format!("invalid \"-R {v}\""))?;
                if !(x.is_finite() && x > 0.0) {
                    return Err(format!("invalid \"-R {v}\""));
                }
                *slot = x;
            }
        }
    }
    if parts.next().is_some() {
        return Err(format!("invalid \"-R {v}\""));
    }
    Ok(r)
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
        assert!(p(&["-x"]).is_err());
        assert!(p(&["-i"]).is_err());
        assert!(p(&["-T", "BOGUS"]).is_err());
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
        let e = parse(&args(&["-i", "1100", "-L", "loud,MAIL.ERR"])).unwrap_err();
        assert!(e.contains("neither"), "{e}");
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
