//! The `flod` (and `grey_flod`) file of dccd(8): one flooding peer a line,
//!
//! ```text
//! host[,rport][;src[,lport]] rem-ID [passwd-ID [o-opt [i-opt]]]
//! ```
//!
//! with `-` for an absent value, `#` comments and blank lines. Pure: the
//! caller reads the file and resolves host names.

use std::fmt;

/// The default TCP port of flooding peers (the server's UDP port).
pub const DEFAULT_PORT: u16 = 6277;
/// The default port of greylist servers.
pub const DEFAULT_GREY_PORT: u16 = 6276;

/// A translation `IDS->result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trans {
    /// First server-ID covered (inclusive).
    pub lo: u16,
    /// Last server-ID covered (inclusive).
    pub hi: u16,
    /// `self` on the left: our own ID (`lo`, `hi` unused).
    pub own: bool,
    /// What the covered IDs become.
    pub result: TransResult,
}

/// The right side of a translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransResult {
    /// `ok`: unchanged.
    Ok,
    /// `reject`: not sent, or refused.
    Reject,
    /// `self`: our own server-ID.
    SelfId,
}

/// The options of one direction (`o-opt` or `i-opt`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opts {
    /// `off`.
    pub off: bool,
    /// `del` (Some(true)) or `no-del` (Some(false)); None: deletions go
    /// only between peers exchanging reputations.
    pub del: Option<bool>,
    /// `no-log-del`.
    pub no_log_del: bool,
    /// `passive`.
    pub passive: bool,
    /// `SOCKS`.
    pub socks: bool,
    /// `NAT`.
    pub nat: bool,
    /// `IDS->result`, first match wins.
    pub trans: Vec<Trans>,
    /// `leaf=path-len`.
    pub leaf: Option<u8>,
    /// `IPv4`.
    pub ipv4: bool,
    /// `IPv6`.
    pub ipv6: bool,
    /// `vers=...` or `version...`: the peer's flooding protocol.
    pub vers: Option<String>,
    /// `trace1`.
    pub trace1: bool,
    /// `trace2`.
    pub trace2: bool,
    /// `traps`: incoming counts become many.
    pub traps: bool,
}

impl Opts {
    /// Apply the translations to a server-ID: `None` when rejected.
    pub fn translate(&self, id: u16, own: u16) -> Option<u16> {
        for t in &self.trans {
            let hit = if t.own {
                id == own
            } else {
                (t.lo..=t.hi).contains(&id)
            };
            if hit {
                return match t.result {
                    TransResult::Ok => Some(id),
                    TransResult::Reject => None,
                    TransResult::SelfId => Some(own),
                };
            }
        }
        Some(id)
    }
}

/// One peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Line number in the file (from 1).
    pub line: usize,
    /// Host name or address of the peer.
    pub host: String,
    /// Its TCP port (name or number as written; None: the default).
    pub rport: Option<String>,
    /// Source address for our connection (None or `*`: any).
    pub src: Option<String>,
    /// Source port.
    pub lport: Option<String>,
    /// The peer's server-ID.
    pub rem_id: u16,
    /// The ID whose passwords sign the headers (None: the sender's ID).
    pub passwd_id: Option<u16>,
    /// Options of our outgoing stream.
    pub out: Opts,
    /// Options of the incoming stream.
    pub inc: Opts,
}

impl Peer {
    /// The port number (names other than numbers: the default).
    pub fn port(&self, default: u16) -> u16 {
        self.rport
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or(default)
    }

    /// Deletions are sent to this peer.
    pub fn send_del(&self, reps: bool) -> bool {
        self.out.del.unwrap_or(reps)
    }

    /// Deletions from this peer are accepted.
    pub fn accept_del(&self, reps: bool) -> bool {
        self.inc.del.unwrap_or(reps)
    }
}

/// A mistake in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// Line number (from 1).
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in line {}", self.msg, self.line)
    }
}

/// The peers of a file and the lines that were refused (a bad line is
/// skipped, as the original skips it, and logged by the caller).
pub fn parse(text: &[u8]) -> (Vec<Peer>, Vec<FileError>) {
    let mut peers: Vec<Peer> = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.split(|&c| c == b'\n').enumerate() {
        let line = i + 1;
        let s = String::from_utf8_lossy(raw);
        let s = s.split('#').next().unwrap_or("").trim();
        if s.is_empty() {
            continue;
        }
        let (peer, err) = parse_line_off(s, line);
        if let Some(msg) = err {
            errors.push(FileError { line, msg });
        }
        if let Some(p) = peer {
            if peers.iter().any(|q| q.rem_id == p.rem_id) {
                errors.push(FileError {
                    line,
                    msg: format!("duplicate server-ID {}", p.rem_id),
                });
            } else {
                peers.push(p);
            }
        }
    }
    (peers, errors)
}

fn absent(s: Option<&str>) -> Option<&str> {
    s.filter(|v| *v != "-")
}

fn server_id(s: &str, what: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(n) if (100..=32767).contains(&n) => Ok(n),
        _ => Err(format!("invalid {what} \"{s}\"")),
    }
}

/// One line (without comment); any mistake is an error.
pub fn parse_line(s: &str, line: usize) -> Result<Peer, String> {
    match parse_line_off(s, line) {
        (Some(p), None) => Ok(p),
        (_, Some(e)) => Err(e),
        (None, None) => Err("missing host".into()),
    }
}

/// One line as the original takes it: a line without a host or a valid
/// server-ID is skipped, but a peer whose options are wrong (an unknown
/// word, `passive` with `NAT`, trailing words) is kept with flooding
/// off both ways, so that its streams are refused with "turned off"
/// rather than as unknown. The mistake is returned to be logged.
pub fn parse_line_off(s: &str, line: usize) -> (Option<Peer>, Option<String>) {
    match parse_head(s, line) {
        Err(e) => (None, Some(e)),
        Ok((mut peer, rest)) => match parse_cols(&rest) {
            Ok((out, inc)) => {
                peer.out = out;
                peer.inc = inc;
                (Some(peer), None)
            }
            Err(e) => {
                peer.out.off = true;
                peer.inc.off = true;
                (Some(peer), Some(e))
            }
        },
    }
}

/// The options of both columns and what follows them. Some words apply to
/// the peer whichever column names them, as in the original: `passive`,
/// `SOCKS`, `NAT`, `IPv4`, `IPv6`, `leaf=`, `version7`, `trace1`, `trace2`
/// and `no-log-del`/`log-del` (the last word wins); they are copied into
/// both columns. `off`, `del`, `no-del`, `traps` and the translations
/// stay in their column.
fn parse_cols(rest: &[&str]) -> Result<(Opts, Opts), String> {
    let mut shared = Opts::default();
    let mut out = Opts::default();
    let mut inc = Opts::default();
    if let Some(o) = absent(rest.first().copied()) {
        parse_col(o, &mut out, &mut shared)?;
    }
    if let Some(o) = absent(rest.get(1).copied()) {
        parse_col(o, &mut inc, &mut shared)?;
    }
    if let Some(extra) = rest.get(2) {
        return Err(format!("unrecognized \"{extra}\""));
    }
    share(&shared, &mut out);
    share(&shared, &mut inc);
    Ok((out, inc))
}

/// Copy the words that apply to the whole peer into a column.
fn share(shared: &Opts, col: &mut Opts) {
    col.passive = shared.passive;
    col.socks = shared.socks;
    col.nat = shared.nat;
    col.ipv4 = shared.ipv4;
    col.ipv6 = shared.ipv6;
    col.leaf = shared.leaf;
    col.vers.clone_from(&shared.vers);
    col.trace1 = shared.trace1;
    col.trace2 = shared.trace2;
    col.no_log_del = shared.no_log_del;
}

/// The host, ports and IDs of a line, and the words after them.
fn parse_head(s: &str, line: usize) -> Result<(Peer, Vec<&str>), String> {
    let mut words = s.split_ascii_whitespace();
    let hostpart = words.next().ok_or("missing host")?;
    let (remote, local) = match hostpart.split_once(';') {
        Some((r, l)) => (r, Some(l)),
        None => (hostpart, None),
    };
    let (host, rport) = split_port(remote);
    if host.is_empty() {
        return Err(format!("missing host in \"{hostpart}\""));
    }
    let (src, lport) = match local {
        Some(l) => {
            let (s, p) = split_port(l);
            (Some(s.to_string()).filter(|s| !s.is_empty() && s != "*"), p)
        }
        None => (None, None),
    };
    let rem = words.next().ok_or("missing server-ID")?;
    let rem_id = server_id(rem, "server-ID")?;
    let passwd_id = match absent(words.next()) {
        Some(p) => Some(server_id(p, "passwd-ID")?),
        None => None,
    };
    Ok((
        Peer {
            line,
            host: host.to_string(),
            rport,
            src,
            lport,
            rem_id,
            passwd_id,
            out: Opts::default(),
            inc: Opts::default(),
        },
        words.collect(),
    ))
}

/// `host[,port]`; an IPv6 address may be in brackets.
fn split_port(s: &str) -> (&str, Option<String>) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((h, tail)) = rest.split_once(']') {
            let p = tail
                .strip_prefix(',')
                .filter(|p| !p.is_empty() && *p != "-");
            return (h, p.map(str::to_string));
        }
    }
    match s.rsplit_once(',') {
        Some((h, p)) => (h, Some(p.to_string()).filter(|p| !p.is_empty() && p != "-")),
        None => (s, None),
    }
}

/// A comma-separated option list by itself (the words that apply to the
/// whole peer land in it too).
pub fn parse_opts(s: &str) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut shared = Opts::default();
    parse_col(s, &mut o, &mut shared)?;
    share(&shared, &mut o);
    Ok(o)
}

/// The words of one column: its own into `o`, the peer's into `shared`,
/// refusing a second of `passive`, `SOCKS`, `NAT` and both `IPv4` and
/// `IPv6` across the columns, as the original does.
fn parse_col(s: &str, o: &mut Opts, shared: &mut Opts) -> Result<(), String> {
    for w in s.split(',').filter(|w| !w.is_empty() && *w != "-") {
        let lw = w.to_ascii_lowercase();
        match lw.as_str() {
            "off" => o.off = true,
            "del" => o.del = Some(true),
            "no-del" => o.del = Some(false),
            "no-log-del" => shared.no_log_del = true,
            "passive" | "socks" | "nat" => {
                let already = [
                    ("passive", shared.passive),
                    ("socks", shared.socks),
                    ("nat", shared.nat),
                ];
                if already.iter().any(|&(n, set)| set && n != lw) {
                    return Err("only one of \"passive\", \"SOCKS\", or \"NAT\" allowed".into());
                }
                match lw.as_str() {
                    "passive" => shared.passive = true,
                    "socks" => shared.socks = true,
                    _ => shared.nat = true,
                }
            }
            "ipv4" | "ipv6" => {
                if (lw == "ipv4" && shared.ipv6) || (lw == "ipv6" && shared.ipv4) {
                    return Err("\"IPv4\" and \"IPv6\"; cannot both be".into());
                }
                if lw == "ipv4" {
                    shared.ipv4 = true;
                } else {
                    shared.ipv6 = true;
                }
            }
            "trace1" | "trace" => shared.trace1 = true,
            "log-del" => shared.no_log_del = false,
            "trace2" => shared.trace2 = true,
            "traps" => o.traps = true,
            _ => {
                if let Some(n) = lw.strip_prefix("leaf=") {
                    shared.leaf = Some(
                        n.parse::<u8>()
                            .ok()
                            .filter(|&n| usize::from(n) <= super::records::MAX_PATH)
                            .ok_or_else(|| format!("invalid \"{w}\""))?,
                    );
                } else if let Some(v) = lw.strip_prefix("vers=") {
                    shared.vers = Some(v.to_string());
                } else if lw.starts_with("version") {
                    // `version7`: the protocol the peer speaks
                    shared.vers = Some(lw.clone());
                } else if let Some((ids, res)) = w.split_once("->") {
                    o.trans.push(parse_trans(ids, res, w)?);
                } else {
                    return Err(format!("unknown option \"{w}\""));
                }
            }
        }
    }
    Ok(())
}

fn parse_trans(ids: &str, res: &str, w: &str) -> Result<Trans, String> {
    let bad = || format!("invalid server-ID translation \"{w}\"");
    let result = match res.to_ascii_lowercase().as_str() {
        "ok" => TransResult::Ok,
        "reject" => TransResult::Reject,
        "self" => TransResult::SelfId,
        _ => return Err(bad()),
    };
    let (lo, hi, own) = match ids.to_ascii_lowercase().as_str() {
        "self" => (0, 0, true),
        "all" => (0, u16::MAX, false),
        r => {
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            let a: u16 = a.parse().map_err(|_| bad())?;
            let b: u16 = b.parse().map_err(|_| bad())?;
            if a > b {
                return Err(bad());
            }
            (a, b, false)
        }
    };
    Ok(Trans {
        lo,
        hi,
        own,
        result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_lines() {
        let (p, e) = parse(b"127.0.0.1,16278    1101\n");
        assert!(e.is_empty());
        assert_eq!(p[0].host, "127.0.0.1");
        assert_eq!(p[0].port(DEFAULT_PORT), 16278);
        assert_eq!(p[0].rem_id, 1101);
        assert_eq!(p[0].passwd_id, None);
    }

    #[test]
    fn every_form() {
        let text = b"# comment\n\
            dcc.example.com 1200 - - -\n\
            [::1],6000;127.0.0.2,7000 1201 1500 off,no-del,leaf=2,IPv6 del,no-log-del,traps\n\
            h;*,7001 1202 - SOCKS,self->ok,all->reject 1000-1099->self,trace1,trace2\n\
            h2 1203 - NAT,version2,IPv4 vers=7\n";
        let (p, e) = parse(text);
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].rport, None);
        assert_eq!(p[1].host, "::1");
        assert_eq!(p[1].port(1), 6000);
        assert_eq!(p[1].src.as_deref(), Some("127.0.0.2"));
        assert_eq!(p[1].lport.as_deref(), Some("7000"));
        assert_eq!(p[1].passwd_id, Some(1500));
        assert!(p[1].out.off && p[1].out.ipv6);
        assert_eq!(p[1].out.del, Some(false));
        assert_eq!(p[1].out.leaf, Some(2));
        assert!(p[1].inc.traps && p[1].inc.no_log_del);
        assert_eq!(p[1].inc.del, Some(true));
        // words of the whole peer, in whichever column
        assert!(p[1].inc.ipv6 && p[1].out.no_log_del && p[1].inc.leaf == Some(2));
        assert!(!p[1].inc.off && !p[1].out.traps && p[1].out.del == Some(false));
        assert_eq!(p[2].src, None);
        assert!(p[2].out.socks && p[2].inc.socks && !p[2].inc.passive);
        assert!(p[2].out.trace1 && p[2].out.trace2 && p[2].inc.trace1);
        assert_eq!(p[2].out.translate(1100, 1100), Some(1100));
        assert_eq!(p[2].out.translate(1101, 1100), None);
        assert_eq!(p[2].inc.translate(1050, 1100), Some(1100));
        assert_eq!(p[2].inc.translate(1150, 1100), Some(1150));
        assert!(p[3].out.nat && p[3].out.ipv4);
        // the last word about the version wins, for the whole peer
        assert_eq!(p[3].out.vers.as_deref(), Some("7"));
        assert_eq!(p[3].inc.vers.as_deref(), Some("7"));
    }

    #[test]
    fn errors_name_the_line() {
        let text = b"h 1100\nh 99\nh\nh 1101 - bogus\nh 1100\nh 1102 - leaf=25\nh 1103 - 5->x\n";
        let (p, e) = parse(text);
        // lines with bad options stay, off both ways
        assert_eq!(p.len(), 4);
        assert!(p[1..].iter().all(|p| p.out.off && p.inc.off));
        let lines: Vec<usize> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6, 7]);
        assert_eq!(e[0].to_string(), "invalid server-ID \"99\" in line 2");
        assert_eq!(e[2].to_string(), "unknown option \"bogus\" in line 4");
        let (p, e) = parse(b"h 1100 - passive,NAT\nh 1101 - IPv4,IPv6\n");
        assert_eq!(
            e[0].to_string(),
            "only one of \"passive\", \"SOCKS\", or \"NAT\" allowed in line 1"
        );
        assert_eq!(e[1].line, 2);
        // kept, turned off both ways, as the original keeps them
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|p| p.out.off && p.inc.off));
        let (p, _) = parse(b"h 1100 - trace,log-del\n");
        assert!(p[0].out.trace1 && !p[0].out.no_log_del);
    }

    #[test]
    fn peer_words_in_either_column() {
        // the original puts passive, SOCKS and NAT on the peer whichever
        // column names them, and allows only one of them for both
        let (p, e) = parse(b"h 1100 - - passive\nh 1101 - - NAT\nh 1102 - passive NAT\nh 1103 - IPv4 IPv6\nh 1104 - no-log-del log-del\n");
        assert!(p[0].out.passive && p[0].inc.passive && !p[0].out.off);
        assert!(p[1].out.nat && !p[1].out.off);
        assert!(p[2].out.off && p[2].inc.off);
        assert!(p[3].out.off && p[3].inc.off);
        assert!(!p[4].inc.no_log_del && !p[4].out.off);
        let lines: Vec<usize> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert!(e[0].msg.starts_with("only one of"), "{e:?}");
        // an unknown word or a trailing one: kept and off
        let (p, e) = parse(b"h 1100 - bogus\nh 1101 - - - extra\n");
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|p| p.out.off && p.inc.off));
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn never_panics() {
        for s in [
            "",
            ";",
            ",",
            "[",
            "[]",
            "[x",
            "a;b;c 1",
            "x 1100 - ->",
            "x 1100 - a->",
            "x 1100 - -5->ok",
        ] {
            let _ = parse(s.as_bytes());
        }
    }
}
