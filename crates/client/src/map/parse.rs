//! Reading the map text: the lines `cdcc load` accepts plus the state
//! comments `cdcc info` writes.
//!
//! A server line is `host[,port] [RTT+adj [ms]] [Greylist] [ID [password]]`
//! (`port` may be `-` for the default, `ID` may be `anon`). A line starting
//! with `IPv6` sets the switches (`IPv6 on|off|only`, `use SOCKS`,
//! `src=...`, `version=N`). Comment lines are otherwise ignored, except
//! the ones `info` writes about the state of each class and address, which
//! are read back when they follow a heading with a date.

use super::{ClassKind, Ipv6Mode, Map, ServerAddr, ServerName, MAX_ADDRS, MAX_HOST_LEN};
use super::{MAX_NAMES, TEXT_VERSION};
use crate::clock;
use crate::timing::{MAX_FAIL_EXP, RTT_ADJ_MAX, RTT_BAD, TOTAL_XMITS_MAX};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use tally_wire::header::{IdKind, ID_ANON};
use tally_wire::header::{VERS_CUR, VERS_MIN};
use tally_wire::Passwd;

/// A line of a map text that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapError {
    /// The file, if the text came from one.
    pub file: Option<String>,
    /// 1-based line number (0 when not about a line).
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), 0) => write!(f, "{file}: {}", self.msg),
            (Some(file), n) => write!(f, "{} line {n}: {}", file, self.msg),
            (None, 0) => f.write_str(&self.msg),
            (None, n) => write!(f, "line {n}: {}", self.msg),
        }
    }
}

impl std::error::Error for MapError {}

/// Parse one server line in the form of `cdcc add` arguments, refusing
/// what the original only warns about (see [`parse_server_warn`]): the
/// lines of a map file.
pub fn parse_server(line: &str) -> Result<(ClassKind, ServerName), String> {
    match parse_server_warn(line)? {
        (_, _, Some(w)) => Err(w),
        (kind, n, None) => Ok((kind, n)),
    }
}

/// A server line of `cdcc add` or `load`, with the original's words:
/// errors, and the last warning about what it only warns about and
/// corrects (an RTT adjustment beyond ±2000 ms is clamped, a password
/// with the anonymous client-ID dropped), as `cdcc` prints it before it
/// adds the entry all the same.
pub fn parse_server_warn(line: &str) -> Result<(ClassKind, ServerName, Option<String>), String> {
    let mut toks = line.split_whitespace();
    let first = toks.next().ok_or("missing host name")?;
    let (host, port) = match first.rsplit_once(',') {
        Some((h, p)) => (h, Some(p)),
        None => (first, None),
    };
    if host.is_empty() || host.len() > MAX_HOST_LEN {
        return Err(format!("bad host name \"{host}\""));
    }
    let mut kind = ClassKind::Dcc;
    let mut rtt_adj = 0i64;
    let mut id: Option<u32> = None;
    let mut passwd: Option<Passwd> = None;
    let mut prev_rtt = false;
    let mut warning = None;
    let mut extra = false;
    for t in toks {
        let was_rtt = std::mem::take(&mut prev_rtt);
        if id.is_some() {
            if passwd.is_some() {
                extra = true;
                continue;
            }
            passwd = Some(Passwd::new(t.as_bytes()).ok_or("bad password")?);
        } else if t.eq_ignore_ascii_case("greylist") {
            kind = ClassKind::Grey;
        } else if was_rtt && t == "ms" {
        } else if t.len() > 3 && t.is_char_boundary(3) && t[..3].eq_ignore_ascii_case("rtt") {
            let n: i64 = t[3..]
                .parse()
                .map_err(|_| format!("bad RTT adjustment \"{t}\""))?;
            let max = RTT_ADJ_MAX / 1000;
            if n.abs() > max {
                warning = Some("invalid RTT adjustment".to_string());
            }
            rtt_adj = n.clamp(-max, max) * 1000;
            prev_rtt = true;
        } else if t.eq_ignore_ascii_case("anon") {
            id = Some(ID_ANON);
        } else {
            let bad = || format!("invalid ID \"{t}\"");
            let n: u32 = t.parse().map_err(|_| bad())?;
            if IdKind::of(n) == tally_wire::header::IdKind::Invalid {
                return Err(bad());
            }
            id = Some(n);
        }
    }
    let port = match port {
        None | Some("-") | Some("") => kind.default_port(),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 => n,
            _ => return Err(format!("bad port \"{p}\"")),
        },
    };
    let client_id = id.unwrap_or(ID_ANON);
    if extra {
        let e = format!("invalid password server {host}, client-ID {client_id}");
        if client_id != ID_ANON {
            return Err(e);
        }
        warning = Some(e);
    }
    if client_id == ID_ANON && passwd.is_some() {
        warning = Some(format!(
            "password invalid for {host} with anonymous client-ID"
        ));
    }
    let mut n = ServerName::new(host, port);
    n.rtt_adj = rtt_adj;
    n.client_id = client_id;
    if n.client_id != ID_ANON {
        n.passwd = passwd;
    }
    Ok((kind, n, warning))
}

fn parse_switches(map: &mut Map, line: &str) -> Result<(), String> {
    let mut toks = line.split_whitespace().peekable();
    while let Some(t) = toks.next() {
        if t.eq_ignore_ascii_case("IPv6") {
            map.ipv6 = match toks.next().map(|s| s.to_ascii_lowercase()).as_deref() {
                Some("on") => Ipv6Mode::On,
                Some("off") => Ipv6Mode::Off,
                Some("only") => Ipv6Mode::Only,
                _ => return Err("IPv6 must be on, off or only".into()),
            };
        } else if t.eq_ignore_ascii_case("use") {
            match toks.next() {
                Some(s) if s.eq_ignore_ascii_case("SOCKS") => map.socks = true,
                _ => return Err("unrecognized \"use\"".into()),
            }
        } else if let Some(src) = t.strip_prefix("src=") {
            let mut src = src.to_string();
            if toks.peek() == Some(&"but") {
                toks.next();
                toks.next();
                src.push_str(" but unused");
            }
            map.src = Some(src);
        } else if let Some(v) = t.strip_prefix("version=") {
            match v.parse::<u32>() {
                Ok(n) if n <= TEXT_VERSION => {}
                _ => return Err(format!("unrecognized version \"{v}\"")),
            }
        } else {
            return Err(format!("unrecognized \"{t}\""));
        }
    }
    Ok(())
}

/// Where comment lines about state go.
struct Ctx {
    kind: ClassKind,
    base: Option<u64>,
    name: Option<(ClassKind, usize)>,
    addr: Option<(ClassKind, usize)>,
}

fn parse_heading(map: &mut Map, ctx: &mut Ctx, body: &str) -> bool {
    let toks: Vec<&str> = body.split_whitespace().collect();
    let (Some(d), Some(t), Some(_zone)) = (toks.first(), toks.get(1), toks.get(2)) else {
        return false;
    };
    let Some(date) = clock::parse_date_time(d, t) else {
        return false;
    };
    let grey = toks.get(3) == Some(&"greylist");
    ctx.kind = if grey {
        ClassKind::Grey
    } else {
        ClassKind::Dcc
    };
    ctx.base = Some(date);
    ctx.name = None;
    ctx.addr = None;
    let skip = if grey { 4 } else { 3 };
    if !grey {
        map.label = toks.get(skip..).map(|r| r.join(" ")).unwrap_or_default();
    }
    true
}

fn parse_state_comment(map: &mut Map, ctx: &mut Ctx, body: &str) {
    let b = body.trim();
    let Some(base) = ctx.base else { return };
    let class = map.class_mut(ctx.kind);
    if b.starts_with("Re-resolve names after") || b.starts_with("Check RTTs after") {
        let toks: Vec<&str> = b.split_whitespace().collect();
        for w in toks.windows(2) {
            if w[0] == "after" {
                if let Some(tod) = clock::parse_time_of_day(w[1]) {
                    let t = clock::next_time_of_day(base, tod);
                    if b.starts_with("Re-") && class.resolve_at == 0 {
                        class.resolve_at = t;
                    } else {
                        class.measure_at = t;
                    }
                }
            }
        }
    } else if let Some(rest) = b.strip_prefix("continue not asking") {
        let n: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        if let [secs, exp] = n[..] {
            class.fail.fail_time = base.saturating_add(secs);
            class.fail.fail_exp = u8::try_from(exp).unwrap_or(0).min(MAX_FAIL_EXP);
        }
    } else if b.contains("ms threshold,") {
        let n: Vec<f64> = b
            .split_whitespace()
            .filter_map(|w| w.trim_end_matches(',').parse().ok())
            .collect();
        if let [thold, avg, ..] = n[..] {
            class.thold_rtt = (thold * 1000.0).round() as i64;
            class.avg_thold_rtt = (avg * 1000.0).round() as i64;
        }
    }
}

fn parse_addr_line(map: &mut Map, ctx: &mut Ctx, body: &str) -> bool {
    let (chosen, rest) = match body.as_bytes() {
        [b' ', b'*', ..] => (true, &body[2..]),
        [b' ', b' ', ..] => (false, &body[2..]),
        _ => return false,
    };
    let toks: Vec<&str> = rest.split_whitespace().collect();
    let Some((ip, port)) = toks.first().and_then(|t| t.rsplit_once(',')) else {
        return false;
    };
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return false;
    };
    let Some((kind, name)) = ctx.name.filter(|(k, _)| *k == ctx.kind) else {
        return false;
    };
    let port = if port == "-" {
        kind.default_port()
    } else {
        match port.parse() {
            Ok(p) => p,
            Err(_) => return false,
        }
    };
    let class = map.class_mut(kind);
    if class.addrs.len() >= MAX_ADDRS {
        return true;
    }
    let mut a = ServerAddr::new(SocketAddr::new(ip, port), name);
    let mut words = &toks[1..];
    if let [head @ .., id_word, id] = words {
        if *id_word == "ID" {
            if let Ok(id) = id.parse() {
                a.srvr_id = Some(id);
                words = head;
            }
        }
    }
    match (a.srvr_id.is_some(), words) {
        (_, []) => {}
        (true, [brand]) => a.brand = brand.to_string(),
        (true, [name, brand @ ..]) => {
            a.rdns = name.to_string();
            a.brand = brand.join(" ");
        }
        (false, w) => a.rdns = w.join(" "),
    }
    // Answering is shown on the next line; until then it is not known.
    a.rtt = RTT_BAD;
    class.addrs.push(a);
    let idx = class.addrs.len() - 1;
    if chosen {
        class.chosen = Some(idx);
    }
    ctx.addr = Some((kind, idx));
    true
}

fn parse_addr_stats(map: &mut Map, ctx: &mut Ctx, body: &str) {
    let Some((kind, idx)) = ctx.addr else { return };
    let Some(a) = map.class_mut(kind).addrs.get_mut(idx) else {
        return;
    };
    let b = body.trim();
    if let Some(v) = b.strip_prefix("protocol version ") {
        if let Ok(v) = v.trim().parse::<u8>() {
            a.pkt_vers = v.clamp(VERS_MIN, VERS_CUR);
        }
        return;
    }
    if b == "not answering" {
        a.rtt = RTT_BAD;
        return;
    }
    let Some((head, tail)) = b.split_once(" ms RTT") else {
        return;
    };
    let mut words: Vec<&str> = head.split_whitespace().collect();
    let Some(rtt_word) = words.pop() else { return };
    let num_end = rtt_word
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(rtt_word.len(), |(i, _)| i);
    let Ok(rtt) = rtt_word[..num_end].parse::<f64>() else {
        return;
    };
    a.rtt = ((rtt * 1000.0).round() as i64).clamp(0, RTT_BAD - 1);
    if let [pct, "of", n, "requests", "ok"] = words[..] {
        let pct: f64 = pct.trim_end_matches('%').parse().unwrap_or(0.0);
        let n: u8 = n.parse().unwrap_or(0).min(TOTAL_XMITS_MAX);
        let resps = (pct * f64::from(n) / 100.0)
            .round()
            .clamp(0.0, f64::from(n)) as u8;
        a.total_xmits = n;
        a.total_resps = resps;
        a.resp_mem = if resps >= 32 {
            u32::MAX
        } else {
            (1u32 << resps) - 1
        };
    }
    if let Some(w) = tail.split_whitespace().next() {
        if let Ok(ms) = w.parse::<i64>() {
            a.srvr_wait = ms.saturating_mul(1000);
        }
    }
}

/// Parse a map text. `file` names the source in error messages.
pub fn parse_map(text: &str, file: Option<&str>) -> Result<Map, MapError> {
    let mut map = Map::new(file.unwrap_or(""));
    let mut ctx = Ctx {
        kind: ClassKind::Dcc,
        base: None,
        name: None,
        addr: None,
    };
    for (i, line) in text.lines().enumerate() {
        let err = |msg: String| MapError {
            file: file.map(str::to_string),
            line: i + 1,
            msg,
        };
        let line = line.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        if let Some(body) = line.strip_prefix('#') {
            let b = body.trim_start();
            if body.starts_with(' ')
                && b.starts_with(|c: char| c.is_ascii_digit())
                && parse_heading(&mut map, &mut ctx, b)
            {
                continue;
            }
            if b.starts_with("undefined name") {
                if let Some((k, n)) = ctx.name {
                    if let Some(n) = map.class_mut(k).names.get_mut(n) {
                        n.defined = false;
                    }
                }
            } else if !parse_addr_line(&mut map, &mut ctx, body) {
                if ctx.addr.is_some() && body.starts_with("     ") {
                    parse_addr_stats(&mut map, &mut ctx, body);
                } else {
                    parse_state_comment(&mut map, &mut ctx, body);
                }
            }
            continue;
        }
        if line.split_whitespace().next().is_some_and(|t| {
            t.eq_ignore_ascii_case("IPv6") || t.starts_with("version=") || t.starts_with("src=")
        }) {
            parse_switches(&mut map, line).map_err(err)?;
            continue;
        }
        let (kind, name) = parse_server(line).map_err(err)?;
        let class = map.class_mut(kind);
        if class.names.len() >= MAX_NAMES {
            return Err(err(format!("too many {} servers", kind.name())));
        }
        class.names.push(name);
        ctx.name = Some((kind, class.names.len() - 1));
        ctx.addr = None;
    }
    Ok(map)
}
