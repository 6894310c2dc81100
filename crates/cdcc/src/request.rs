//! The requests `cdcc` sends, built from command arguments without any
//! I/O, so that they can be compared with the reference client's.

use std::net::IpAddr;
use tally_client::map::ClassKind;
use tally_white::cnum::strtoul_str;
use tally_wire::admn::{clients_req, AdmnRequest, Aop, FlodAop, MAX_ADMN_RESP};
use tally_wire::header::{IdKind, ID_ANON, SRVR_ID_MAX, SRVR_ID_MIN};
use tally_wire::validate::ClientsTarget;
use tally_wire::{CkType, WireCk};

/// The answer buffer size `stats` and `clock check` announce in `val1`.
pub const RESP_BUF: u32 = MAX_ADMN_RESP as u32;
/// Most clients `clients` lists.
pub const MAX_CLIENTS: u32 = 1_000_000;
/// Largest threshold of a clients request.
pub const MAX_THOLD: u32 = 0xffff;
/// Largest clients offset.
pub const MAX_OFFSET: u32 = (1 << 24) - 1;
/// Anonymous delay: "forever" and "just tell me".
pub const ANON_DELAY_FOREVER: u16 = 0xffff;
/// Asks for the current anonymous delay without changing it.
pub const NO_ANON_DELAY: u16 = 0xfffe;

/// An ID as `cdcc` reads one: a number in the valid ranges or `anon`.
pub fn parse_id(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("anon") {
        return Some(ID_ANON);
    }
    let n: u32 = s.parse().ok()?;
    (IdKind::of(n) != IdKind::Invalid).then_some(n)
}

/// How the reference client names an operation in its messages
/// (`dcc_aop2str`): `ADMN STOP`, `ADMN FLOD CHECK` (without the peer of
/// `flood rewind`), `ADMN TRACE ON 0x10`...
pub fn aop_str(aop: Aop, val1: u32) -> String {
    let name = match aop {
        Aop::Stop => "STOP",
        Aop::Flod => {
            return match FlodAop::from_u32(val1 & 0xff) {
                Some(op) => format!(
                    "ADMN FLOD {}",
                    match op {
                        FlodAop::Check => "CHECK",
                        FlodAop::Shutdown => "SHUTDOWN",
                        FlodAop::Halt => "HALT",
                        FlodAop::Resume => "RESUME",
                        FlodAop::Rewind => "REWIND",
                        FlodAop::List => "LIST",
                        FlodAop::Stats => "STATS",
                        FlodAop::StatsClear => "STATS CLEAR",
                        FlodAop::FfwdIn => "FFWD IN",
                        FlodAop::FfwdOut => "FFWD OUT",
                    }
                ),
                None => format!("ADMN UNKNOWN #{} {}", aop.number(), c_hex(val1)),
            };
        }
        Aop::DbClean => "DB CLEAN",
        Aop::DbNew => "DB NEW",
        Aop::Stats => "STATS",
        Aop::StatsClear => "STATS CLEAR",
        Aop::TraceOn => return format!("ADMN TRACE ON {}", c_hex(val1)),
        Aop::TraceOff => return format!("ADMN TRACE OFF {}", c_hex(val1)),
        Aop::Clients => "CLIENTS",
        Aop::ClientsId => "CLIENTS BY ID",
        Aop::AnonDelay => "ANON DELAY",
        Aop::ClockCheck => "CLOCK CHECK",
        Aop::Other(n) => return format!("ADMN UNKNOWN #{n} {}", c_hex(val1)),
    };
    format!("ADMN {name}")
}

/// A number as C's `%#x` writes it: `0` alone, else with `0x`.
fn c_hex(v: u32) -> String {
    if v == 0 {
        "0".to_string()
    } else {
        format!("{v:#x}")
    }
}

/// A simple request with `val1`, dated `date`.
pub fn simple(date: u32, aop: Aop, val1: u32) -> AdmnRequest {
    AdmnRequest::new(date, aop, val1)
}

/// `stats` or `stats clear`.
pub fn stats(date: u32, clear: bool) -> AdmnRequest {
    simple(
        date,
        if clear { Aop::StatsClear } else { Aop::Stats },
        RESP_BUF,
    )
}

/// A flood sub-operation about one peer (`flood rewind 1101`...).
pub fn flood(date: u32, op: FlodAop, peer: u32) -> AdmnRequest {
    simple(
        date,
        Aop::Flod,
        peer.wrapping_mul(256).wrapping_add(op as u32),
    )
}

/// `anon delay [delay[,inflate]]`: the requested delay (or
/// [`NO_ANON_DELAY`] to only ask) and inflation.
pub fn anon_delay(date: u32, delay: u16, inflate: u32) -> AdmnRequest {
    let mut r = simple(date, Aop::AnonDelay, inflate);
    r.val2 = (delay >> 8) as u8;
    r.val3 = (delay & 0xff) as u8;
    r
}

/// Largest delay `anon delay` takes, as the original (its longest RTT
/// in microseconds); the 16 bits of the request carry what fits.
pub const ANON_DELAY_MAX: u64 = 4_000_000;

/// Parse the argument of `anon delay` as the original: a delay in ms
/// (`forever`), then after `,` or `*` an inflation (`none` or a number).
/// Returns `(delay, inflate)`.
pub fn parse_anon_delay(arg: &str) -> Result<(u16, u32), String> {
    if arg.is_empty() {
        return Ok((NO_ANON_DELAY, 0));
    }
    if arg.eq_ignore_ascii_case("forever") {
        return Ok((ANON_DELAY_FOREVER, 0));
    }
    let (delay, rest) = strtoul_str(arg, 10);
    if delay > ANON_DELAY_MAX || !(rest.is_empty() || rest.starts_with([',', '*'])) {
        return Err(format!("invalid delay: \"{arg}\""));
    }
    let rest = rest
        .get(1..)
        .unwrap_or("")
        .trim_start_matches([' ', '\t', '\n', '\r']);
    let inflate = if rest.is_empty() || rest.eq_ignore_ascii_case("none") {
        0
    } else {
        match strtoul_str(rest, 10) {
            // the low 32 bits, as the original's int
            (n, "") if rest.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-') => {
                (n & 0xffff_ffff) as u32
            }
            _ => return Err(format!("invalid delay inflation: \"{rest}\"")),
        }
    };
    // the 16 bits the request carries
    Ok(((delay & 0xffff) as u16, inflate))
}

/// Arguments a command does not accept (the usage is shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadArgs;

impl std::fmt::Display for BadArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid arguments")
    }
}

/// The options of `clients`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientsArgs {
    /// `-n`: addresses only.
    pub no_names: bool,
    /// `-s`: sorted by requests.
    pub sort: bool,
    /// `-i`: by client-ID.
    pub ids: bool,
    /// `-I id`: only this ID.
    pub tgt_id: Option<u32>,
    /// Request flags (`-a -V -A -K`).
    pub flags: u8,
    /// Most clients shown.
    pub max: u32,
    /// Least requests.
    pub thold: u32,
    /// Address block.
    pub addr: Option<([u8; 16], u8)>,
}

/// An address or block as `clients` takes it, as an IPv6 (or
/// IPv4-mapped) address and prefix length.
pub fn parse_cidr(s: &str) -> Option<([u8; 16], u8)> {
    let (a, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (s, None),
    };
    match a.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let b = bits.unwrap_or(32);
            if b == 0 || b > 32 {
                return None;
            }
            Some((v4.to_ipv6_mapped().octets(), b + 96))
        }
        IpAddr::V6(v6) => {
            let b = bits.unwrap_or(128);
            if b == 0 || b > 128 {
                return None;
            }
            Some((v6.octets(), b))
        }
    }
}

/// Parse the arguments of `clients [-nsiaVAK] [-I id] [max [thold]] [addr/prefix]`.
pub fn parse_clients(arg: &str) -> Result<ClientsArgs, BadArgs> {
    let mut a = ClientsArgs {
        no_names: false,
        sort: false,
        ids: false,
        tgt_id: None,
        flags: 0,
        max: MAX_CLIENTS,
        thold: 0,
        addr: None,
    };
    let has_addr = arg.contains(['/', '.', ':']);
    let (mut passed_flags, mut passed_max, mut passed_thold, mut passed_cidr) =
        (false, false, false, false);
    let mut words = arg.split_whitespace().peekable();
    while let Some(w) = words.next() {
        if let Some(fl) = w.strip_prefix('-').filter(|_| !passed_flags) {
            let mut chars = fl.chars();
            if fl.is_empty() {
                return Err(BadArgs);
            }
            while let Some(c) = chars.next() {
                match c {
                    'n' => a.no_names = true,
                    's' => a.sort = true,
                    'i' => a.ids = true,
                    'I' => {
                        let rest: String = chars.by_ref().collect();
                        let v = if rest.is_empty() {
                            words.next().ok_or(BadArgs)?.to_string()
                        } else {
                            rest
                        };
                        let id: u32 = v.parse().map_err(|_| BadArgs)?;
                        if !(SRVR_ID_MIN..=tally_wire::header::CLNT_ID_MAX).contains(&id) {
                            return Err(BadArgs);
                        }
                        a.tgt_id = Some(id);
                    }
                    'a' => a.flags |= clients_req::AVG,
                    'V' => a.flags |= clients_req::VERS,
                    'A' => {
                        a.flags |= clients_req::ANON;
                        a.flags &= !clients_req::NON_ANON;
                    }
                    'K' => {
                        a.flags |= clients_req::NON_ANON;
                        a.flags &= !clients_req::ANON;
                    }
                    _ => return Err(BadArgs),
                }
            }
            continue;
        }
        if !passed_cidr && has_addr && words.peek().is_none() && w.contains(['/', '.', ':']) {
            a.addr = Some(parse_cidr(w).ok_or(BadArgs)?);
            passed_cidr = true;
            passed_flags = true;
            passed_max = true;
            passed_thold = true;
            continue;
        }
        let n: Option<u32> = w.parse().ok();
        if !passed_max {
            if let Some(n) = n.filter(|n| *n != 0) {
                a.max = n;
                passed_max = true;
                passed_flags = true;
                continue;
            }
        }
        if !passed_thold {
            if let Some(n) = n.filter(|n| *n > 0 && *n <= MAX_THOLD) {
                a.thold = n;
                passed_thold = true;
                passed_max = true;
                passed_flags = true;
                continue;
            }
        }
        return Err(BadArgs);
    }
    if a.ids {
        a.flags &= !clients_req::VERS;
    }
    Ok(a)
}

/// One clients request of the series: entries from `offset` on.
pub fn clients(date: u32, a: &ClientsArgs, offset: u32, thold: u32) -> AdmnRequest {
    let mut r = AdmnRequest::clients(
        date,
        a.ids,
        offset,
        u16::try_from(thold.min(MAX_THOLD)).unwrap_or(u16::MAX),
        a.flags,
    );
    if a.addr.is_some() || a.tgt_id.is_some() {
        r.val5 = ClientsTarget {
            addr: a.addr,
            id: a.tgt_id,
        }
        .encode();
    }
    r
}

/// The checksum type names `delck` accepts.
pub fn parse_ck_type(s: &str, kind: ClassKind) -> Option<CkType> {
    CkType::ALL.into_iter().find(|t| {
        let name = match kind {
            ClassKind::Grey => t.grey_name(),
            ClassKind::Dcc => t.name(),
        };
        name.eq_ignore_ascii_case(s) || t.name().eq_ignore_ascii_case(s)
    })
}

/// Parse `delck type hex1 hex2 hex3 hex4` as the original reads a
/// checksum in hex (the rules of whiteclnt's `hex` lines, shared with
/// tally-white): words of one to eight digits, a header name before the
/// words of `substitute`, or a server-ID declaration (`simple at N`,
/// `ignore at N`, `rogue at N`). The error is the original's text.
pub fn parse_delck(arg: &str, kind: ClassKind) -> Result<WireCk, String> {
    let arg = arg.trim_matches([' ', '\t']);
    let (ty, rest) = arg.split_once([' ', '\t']).unwrap_or((arg, ""));
    let (t, sum) = tally_white::hex_ck(ty.as_bytes(), parse_ck_type(ty, kind), rest.as_bytes())?;
    Ok(WireCk::new(t, sum))
}

/// Parse `flood stats [clear] {ID|all}`: `(clear, Some(id))` or
/// `(clear, None)` for all peers.
pub fn parse_flood_stats(arg: &str) -> Result<(bool, Option<u32>), BadArgs> {
    let (mut clear, mut id, mut all) = (false, None, false);
    for w in arg.split_whitespace() {
        if !all && id.is_none() && w.starts_with(|c: char| ('1'..='9').contains(&c)) {
            if let Some(n) = parse_id(w) {
                id = Some(n);
                continue;
            }
        }
        if id.is_none() && w.eq_ignore_ascii_case("all") {
            all = true;
        } else if w.eq_ignore_ascii_case("clear") {
            clear = true;
        } else {
            return Err(BadArgs);
        }
    }
    Ok((clear, id))
}

/// The first ID in the peer loop of `flood stats all`.
pub const FLOOD_ALL_START: u32 = SRVR_ID_MAX + 1;

/// The server-ID in a flood statistics answer (` server-ID N ...`).
pub fn flood_stats_id(text: &str) -> Option<u32> {
    let rest = text.trim_start().strip_prefix("server-ID")?;
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest.get(..end)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_args() {
        let a = parse_clients("-V -A").unwrap();
        assert_eq!(a.flags, clients_req::VERS | clients_req::ANON);
        let a = parse_clients("-ns 10 2 10.2.3.0/24").unwrap();
        assert!(a.sort && a.no_names);
        assert_eq!((a.max, a.thold), (10, 2));
        assert_eq!(a.addr.map(|x| x.1), Some(120));
        assert!(parse_clients("-x").is_err());
        assert!(parse_clients("abc").is_err());
        let a = parse_clients("-I 32800").unwrap();
        assert_eq!(a.tgt_id, Some(32800));
    }

    /// The operations named as the original's dcc_aop2str.
    #[test]
    fn operation_names() {
        assert_eq!(aop_str(Aop::Stop, 2), "ADMN STOP");
        assert_eq!(aop_str(Aop::Stats, RESP_BUF), "ADMN STATS");
        assert_eq!(aop_str(Aop::DbClean, 0), "ADMN DB CLEAN");
        assert_eq!(aop_str(Aop::ClientsId, 0), "ADMN CLIENTS BY ID");
        assert_eq!(aop_str(Aop::TraceOn, 0x10), "ADMN TRACE ON 0x10");
        assert_eq!(aop_str(Aop::TraceOff, 0), "ADMN TRACE OFF 0");
        // the peer of a flood operation is not named
        let rewind = flood(0, FlodAop::Rewind, 1101).val1;
        assert_eq!(aop_str(Aop::Flod, rewind), "ADMN FLOD REWIND");
        assert_eq!(aop_str(Aop::Flod, 0), "ADMN FLOD CHECK");
        assert_eq!(aop_str(Aop::Flod, 0xee), "ADMN UNKNOWN #3 0xee");
        assert_eq!(aop_str(Aop::Other(2), 5), "ADMN UNKNOWN #2 0x5");
    }

    #[test]
    fn anon_and_flood() {
        assert_eq!(parse_anon_delay(""), Ok((NO_ANON_DELAY, 0)));
        assert_eq!(parse_anon_delay("50,200"), Ok((50, 200)));
        assert!(parse_anon_delay("x").is_err());
        // as C's strtoul: no digits are 0, blanks only after the comma
        assert_eq!(parse_anon_delay(",5"), Ok((0, 5)));
        assert_eq!(parse_anon_delay("5, none"), Ok((5, 0)));
        assert_eq!(parse_anon_delay("5*7"), Ok((5, 7)));
        assert!(parse_anon_delay("5 ,3").is_err());
        assert!(parse_anon_delay("4000001").is_err());
        assert_eq!(parse_anon_delay("70000"), Ok((4464, 0)));
        assert_eq!(parse_flood_stats("clear 1101"), Ok((true, Some(1101))));
        assert_eq!(parse_flood_stats("all"), Ok((false, None)));
        assert!(parse_flood_stats("bogus").is_err());
        assert_eq!(flood_stats_id(" server-ID 1101  x"), Some(1101));
    }
}
