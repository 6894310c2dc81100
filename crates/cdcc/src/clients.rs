//! `clients`: ask the server for its recent clients, about a hundred at a
//! time, and list them as the reference does: requests, NOPs, when last
//! seen, client-ID, protocol version, address and name, optionally sorted
//! by requests, then totals per protocol version.
//!
//! The name beside an address is what the system resolver gives for it
//! (`getnameinfo` with `NI_NAMEREQD`, [`crate::resolve::name_of`]), as the
//! original's `dcc_su2name`: nothing when it has none. It is asked only
//! for the lines shown with an address of one client (not with `-n` or
//! `-i`, not for an address block), once per address and command.

use crate::request::{self, ClientsArgs};
use crate::server::{op_error, print_heading, req_date, send};
use crate::state::State;
use crate::Ret;
use std::collections::HashMap;
use std::net::IpAddr;
use tally_client::clock::{now_secs, time_of_day};
use tally_wire::admn::{clients_req, Aop};
use tally_wire::clients::{dates, flags, ClientAddr, NO_AUTH};
use tally_wire::header::ID_ANON;
use tally_wire::packet::{AdmnAnswer, Response};

/// Protocol versions counted separately in the totals.
const VERS_DIM: usize = 33;
/// Longest name shown: the original's buffer holds 255 bytes and a NUL,
/// and a longer name does not fit (`getnameinfo` fails, no name).
const MAX_NAME: usize = 255;
/// A client-ID standing for several clients.
const ID_MULTI: u64 = 8;
/// The client-ID of a misbehaving server.
const ID_ROGUE: u64 = 7;
/// Version byte meaning "several versions".
const VERS_MULTI: u8 = 1;

/// One listed client.
#[derive(Debug, Clone)]
struct Ct {
    last_used: u64,
    reqs: u64,
    nops: u64,
    /// Blacklisted or dropped: listed before the others when sorting.
    early: bool,
    black: bool,
    dropped: bool,
    block: bool,
    vers: u8,
    id: u64,
    addr: ClientAddr,
}

#[derive(Debug, Clone, Copy, Default)]
struct Tot {
    clients: u64,
    reqs: u64,
    nops: u64,
    black_reqs: u64,
    black_nops: u64,
}

/// Year, month, day of a date (UTC).
fn ymd(secs: u64) -> (i64, u32, u32) {
    let z = i64::try_from(secs / 86_400).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// When a client was last seen: month, day and time, or the full date
/// without the time when it was long ago.
pub fn last_used(secs: u64, now: u64) -> String {
    let (y, m, d) = ymd(secs);
    let (ny, nm, _) = ymd(now);
    if y != ny && (m < 7 || nm > 3) {
        format!(" {y:04}/{m:02}/{d:02}    ")
    } else {
        format!(" {m:02}/{d:02} {}", time_of_day(secs))
    }
}

fn id_str(id: u64) -> String {
    let bare = id & !NO_AUTH;
    let mut s = match bare {
        ID_MULTI => "multi".to_string(),
        ID_ROGUE => "server".to_string(),
        n => n.to_string(),
    };
    if id & NO_AUTH != 0 {
        s.push('*');
    }
    format!(" {s:>6}")
}

fn addr_ip(a: &ClientAddr) -> IpAddr {
    match a {
        ClientAddr::V4(b) => std::net::Ipv4Addr::from(*b).into(),
        ClientAddr::V6(b) => std::net::Ipv6Addr::from(*b).into(),
    }
}

/// A look-up of the name of an address, as [`crate::resolve::name_of`]:
/// a name or nothing.
pub type NameOf<'a> = dyn FnMut(IpAddr) -> Option<String> + 'a;

/// The names of the addresses of one command: each asked of `lookup`
/// once, nothing (an empty name) when it has none.
struct Names<'a, 'b> {
    lookup: &'a mut NameOf<'b>,
    known: HashMap<IpAddr, String>,
}

impl<'a, 'b> Names<'a, 'b> {
    fn new(lookup: &'a mut NameOf<'b>) -> Self {
        Names {
            lookup,
            known: HashMap::new(),
        }
    }

    fn of(&mut self, ip: IpAddr) -> &str {
        let lookup = &mut self.lookup;
        self.known.entry(ip).or_insert_with(|| {
            lookup(ip)
                .filter(|n| n.len() <= MAX_NAME)
                .unwrap_or_default()
        })
    }
}

/// Put a client into the list (top first), keeping at most `max` + 1.
fn insert(list: &mut Vec<Ct>, new: Ct, a: &ClientsArgs, thold: &mut u32) {
    let max = a.max as usize;
    if list.len() > max {
        list.pop();
    }
    let mut pos = list.len();
    let mut n = list.len();
    while let Some(ct) = pos.checked_sub(1).and_then(|p| list.get(p)) {
        if !a.sort || (ct.early && !new.early) || (ct.early == new.early && ct.reqs >= new.reqs) {
            break;
        }
        n = n.saturating_sub(1);
        if n >= max && u64::from(*thold) < ct.reqs && *thold > 1 {
            *thold = u32::try_from(ct.reqs.min(u64::from(request::MAX_THOLD))).unwrap_or(0);
        }
        pos -= 1;
    }
    list.insert(pos, new);
}

/// `clients [-nsiaVAK] [-I id] [max [thold]] [addr/prefix]`.
pub fn clients(st: &mut State, arg: &str) -> Ret {
    let Ok(a) = request::parse_clients(arg) else {
        return Ret::Usage;
    };
    let mut thold = a.thold;
    let mut offset: u32 = 0;
    let mut num_clients: u32 = 0;
    let mut list: Vec<Ct> = Vec::new();
    let mut totals = [Tot::default(); VERS_DIM];
    let (mut total, mut max_ops, mut max_nops) = (0u64, 0u64, 0u64);
    let aop = if a.ids { Aop::ClientsId } else { Aop::Clients };
    'chunks: loop {
        if offset > request::MAX_OFFSET {
            st.error(&format!("{offset} are too many clients"));
            break;
        }
        let started = now_secs();
        let req = request::clients(req_date(st), &a, offset, thold);
        let val1 = req.val1;
        let reply = match send(st, req, None) {
            Ok(r) => r,
            Err(e) => {
                st.server_error(&op_error(st, aop, val1, &e));
                break;
            }
        };
        if offset == 0 {
            print_heading(st, &reply, started);
        }
        let entries = match &reply.response {
            Response::Admn(AdmnAnswer::Clients(v)) => v.clone(),
            Response::Admn(AdmnAnswer::Text(t)) if t.len() <= 1 => Vec::new(),
            Response::Ok(_) => Vec::new(),
            other => {
                st.error(&format!("unexpected response: {}", other.op().name()));
                break;
            }
        };
        if entries.is_empty() {
            break;
        }
        let mut vers = 0u8;
        let mut last_flags = 0u8;
        let chunk_start = offset;
        for (e, d) in entries.iter().zip(dates(&entries)) {
            last_flags = e.flags;
            if let Some(v) = e.vers {
                vers = v;
            }
            if e.flags & flags::SKIP != 0 {
                offset = offset.saturating_add(u32::try_from(e.when).unwrap_or(u32::MAX));
                continue;
            }
            num_clients += 1;
            if num_clients > request::MAX_CLIENTS {
                st.error(&format!("assume looping after {num_clients} responses"));
                break 'chunks;
            }
            offset = offset.saturating_add(1);
            let id = e.id.unwrap_or(u64::from(ID_ANON));
            if a.tgt_id.is_some_and(|t| u64::from(t) != id & !NO_AUTH) {
                continue;
            }
            let ct = Ct {
                last_used: d.unwrap_or(0),
                reqs: e.reqs,
                nops: e.nops,
                black: e.flags & flags::BLACK != 0,
                dropped: e.flags & flags::DROPPED != 0,
                early: e.flags & (flags::BLACK | flags::DROPPED) != 0,
                block: e.flags & flags::BLOCK != 0,
                vers,
                id,
                addr: e.addr,
            };
            let vi = usize::from(vers);
            if ct.black {
                match totals.get_mut(vi) {
                    Some(t) => {
                        t.clients = t.clients.saturating_add(1);
                        t.black_reqs = t.black_reqs.saturating_add(ct.reqs);
                        t.black_nops = t.black_nops.saturating_add(ct.nops);
                    }
                    None => {
                        totals[0].clients = totals[0].clients.saturating_add(1);
                        totals[0].reqs = totals[0].reqs.saturating_add(ct.reqs);
                        totals[0].nops = totals[0].nops.saturating_add(ct.nops);
                    }
                }
            }
            if vers != 0 && vers != VERS_MULTI && !ct.block && !ct.black {
                let slot = if vi < VERS_DIM { vi } else { 0 };
                totals[slot].clients = totals[slot].clients.saturating_add(1);
                totals[slot].reqs = totals[slot].reqs.saturating_add(ct.reqs);
                totals[slot].nops = totals[slot].nops.saturating_add(ct.nops);
            }
            total = total.saturating_add(ct.reqs);
            max_ops = max_ops.max(ct.reqs);
            max_nops = max_nops.max(ct.nops);
            insert(&mut list, ct, &a, &mut thold);
        }
        // A server that keeps answering without progress is not followed.
        if last_flags & flags::LAST != 0 || offset == chunk_start {
            break;
        }
        if !a.sort && offset >= a.max {
            break;
        }
    }
    let mut name_of = crate::resolve::name_of;
    let text = list_text(&list, &a, total.max(1), max_ops, max_nops, &mut name_of);
    print!("{text}");
    print_totals(&totals);
    Ret::Ok
}

/// The list as printed, a blank line after it; the names of the
/// addresses shown are asked of `name_of`.
fn list_text(
    list: &[Ct],
    a: &ClientsArgs,
    total: u64,
    max_ops: u64,
    max_nops: u64,
    name_of: &mut NameOf<'_>,
) -> String {
    let mut names = Names::new(name_of);
    let ow = if max_ops > 99_000_000 {
        9
    } else if max_ops > 9_000_000 {
        8
    } else {
        7
    };
    let nw = if max_nops > 99_000 {
        6
    } else if max_nops > 9_000 {
        5
    } else {
        4
    };
    let vers = a.flags & clients_req::VERS != 0;
    let now = now_secs();
    let mut subtotal = 0u64;
    let mut out = String::new();
    for (i, ct) in list.iter().enumerate() {
        if i == 0 {
            if a.sort {
                out.push_str(&format!("          {:>ow$} {:>nw$} ", "ops", "nops"));
                if a.ids {
                    out.push_str("   ID ");
                }
                out.push_str("   last       ");
            } else {
                out.push_str(&format!(
                    "{:>ow$} {:>nw$}    last           ID ",
                    "ops", "nops"
                ));
            }
            if vers {
                out.push_str("  v");
            }
            out.push('\n');
        }
        if i >= a.max as usize {
            continue;
        }
        if a.sort {
            subtotal = subtotal.saturating_add(ct.reqs);
            out.push_str(&format!(
                "{:3}% {:3}% ",
                (ct.reqs as f64 * 100.0 / total as f64) as i64,
                (subtotal as f64 * 100.0 / total as f64) as i64
            ));
        }
        out.push_str(&format!("{:>ow$} {:>nw$}", ct.reqs, ct.nops));
        if a.sort && a.ids {
            out.push_str(&id_str(ct.id));
        }
        out.push_str(&last_used(ct.last_used, now));
        if !a.sort {
            out.push_str(&id_str(ct.id));
        }
        if vers {
            if ct.block && ct.vers == VERS_MULTI {
                out.push_str(&format!(" {:>2}", "m"));
            } else if ct.vers == 0 {
                out.push_str("   ");
            } else {
                out.push_str(&format!(" {:>2}", ct.vers));
            }
        }
        let mut n = 16;
        if ct.black {
            out.push_str(" BLACKLIST");
            n = 16 - " BLACKLIST".len();
        } else if ct.dropped {
            out.push_str(" BAD");
            n = 16 - " BAD".len();
        }
        if !a.ids {
            let ip = addr_ip(&ct.addr);
            let s = ip.to_string();
            if ct.block {
                let bits = if matches!(ct.addr, ClientAddr::V4(_)) {
                    24
                } else {
                    56
                };
                out.push_str(&format!(" {s}/{bits}"));
            } else if a.no_names {
                out.push_str(&format!(" {s}"));
            } else {
                // the address padded to its column (narrower after
                // BLACKLIST or BAD), then the name, if any
                out.push_str(&format!(" {s:<n$} {}", names.of(ip)));
            }
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

fn print_totals(totals: &[Tot]) {
    let mut head = true;
    for (i, t) in totals.iter().enumerate() {
        if t.clients == 0 {
            continue;
        }
        if head {
            head = false;
            println!("                               blacklisted");
            println!("version requests     nops   requests     nops");
        }
        println!(
            "{i:6}  {:8} {:8}   {:8} {:8}",
            t.reqs, t.nops, t.black_reqs, t.black_nops
        );
    }
    if !head {
        println!();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(reqs: u64, early: bool) -> Ct {
        Ct {
            last_used: 0,
            reqs,
            nops: u64::MAX,
            early,
            black: early,
            dropped: false,
            block: false,
            vers: 0,
            id: u64::MAX,
            addr: ClientAddr::V6([0xff; 16]),
        }
    }

    #[test]
    fn sorting_keeps_the_biggest() {
        let a = request::parse_clients("-s 2 5").unwrap();
        let mut thold = a.thold;
        let mut list = Vec::new();
        for (r, e) in [(3, false), (9, false), (1, true), (7, false), (8, false)] {
            insert(&mut list, ct(r, e), &a, &mut thold);
        }
        let got: Vec<u64> = list.iter().map(|c| c.reqs).collect();
        assert_eq!(got, [1, 9, 8]);
        assert_eq!(thold, 5);
        // Extreme values print without trouble.
        let big = [ct(u64::MAX, false), ct(u64::MAX, true)];
        let mut asked = Vec::new();
        let mut fake = |ip| {
            asked.push(ip);
            None
        };
        let text = list_text(&big, &a, u64::MAX, u64::MAX, u64::MAX, &mut fake);
        assert_eq!(text.lines().count(), 4, "{text}");
        // the same address is asked once
        assert_eq!(asked, [IpAddr::from([0xff; 16])]);
    }

    /// A client at `ip` with `reqs` requests, one NOP, client-ID `id`.
    fn at(ip: &str, reqs: u64, id: u64) -> Ct {
        Ct {
            last_used: 0,
            reqs,
            nops: 1,
            early: false,
            black: false,
            dropped: false,
            block: false,
            vers: 0,
            id,
            addr: match ip.parse::<IpAddr>().unwrap() {
                IpAddr::V4(a) => ClientAddr::V4(a.octets()),
                IpAddr::V6(a) => ClientAddr::V6(a.octets()),
            },
        }
    }

    /// The list the name tests print: a named address, a blacklisted one,
    /// a dropped one without a name, a block, the first address again, one
    /// whose name is too long, and one past `max` (6).
    fn named_list() -> Vec<Ct> {
        let black = Ct {
            black: true,
            early: true,
            ..at("192.0.2.2", 4, 1)
        };
        let bad = Ct {
            dropped: true,
            early: true,
            ..at("2001:db8::1", 3, 32800 | NO_AUTH)
        };
        let block = Ct {
            block: true,
            ..at("192.0.2.0", 2, 8)
        };
        vec![
            at("192.0.2.1", 5, 32800),
            black,
            bad,
            block,
            at("192.0.2.1", 1, 1),
            at("198.51.100.7", 1, 1),
            at("198.51.100.8", 1, 1),
        ]
    }

    /// A resolver of fixed names, recording its questions (nothing leaves
    /// the process).
    fn fake(asked: &mut Vec<IpAddr>) -> impl FnMut(IpAddr) -> Option<String> + '_ {
        move |ip| {
            asked.push(ip);
            match ip.to_string().as_str() {
                "192.0.2.1" => Some("one.example".into()),
                "192.0.2.2" => Some("black.example".into()),
                "198.51.100.7" => Some(format!("{}.example", "x".repeat(250))),
                "198.51.100.8" => Some("past-max.example".into()),
                _ => None,
            }
        }
    }

    #[test]
    fn names_beside_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let list = named_list();
        let a = request::parse_clients("6").unwrap();
        let mut asked = Vec::new();
        let text = list_text(&list, &a, 16, 5, 1, &mut fake(&mut asked));
        let expect = [
            "    ops nops    last           ID ",
            "      5    1 1970/01/01      32800 192.0.2.1        one.example",
            "      4    1 1970/01/01          1 BLACKLIST 192.0.2.2 black.example",
            "      3    1 1970/01/01     32800* BAD 2001:db8::1  ",
            "      2    1 1970/01/01      multi 192.0.2.0/24",
            "      1    1 1970/01/01          1 192.0.2.1        one.example",
            "      1    1 1970/01/01          1 198.51.100.7     ",
            "",
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expect, "{text}");
        // each address shown once, in order; not the block nor the
        // client past max
        assert_eq!(
            asked,
            [
                ip("192.0.2.1"),
                ip("192.0.2.2"),
                ip("2001:db8::1"),
                ip("198.51.100.7")
            ]
        );

        // sorted: the same columns after the percentages
        let a = request::parse_clients("-s 2").unwrap();
        let mut asked = Vec::new();
        let text = list_text(&list[..2], &a, 9, 5, 1, &mut fake(&mut asked));
        let expect = [
            "              ops nops    last       ",
            " 55%  55%       5    1 1970/01/01     192.0.2.1        one.example",
            " 44% 100%       4    1 1970/01/01     BLACKLIST 192.0.2.2 black.example",
            "",
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expect, "{text}");
        assert_eq!(asked.len(), 2);
    }

    #[test]
    fn no_names_asked_with_n_or_i() {
        let list = named_list();
        for (args, last) in [
            ("-n 6", "      1    1 1970/01/01          1 198.51.100.7"),
            ("-i 6", "      1    1 1970/01/01          1"),
            ("-ni 6", "      1    1 1970/01/01          1"),
        ] {
            let a = request::parse_clients(args).unwrap();
            let mut asked = Vec::new();
            let text = list_text(&list, &a, 16, 5, 1, &mut fake(&mut asked));
            assert!(asked.is_empty(), "{args}: {asked:?}");
            assert!(!text.contains(".example"), "{args}: {text}");
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 8, "{args}: {text}");
            assert_eq!(lines[6], last, "{args}");
        }
        let a = request::parse_clients("-n 6").unwrap();
        let text = list_text(&list, &a, 16, 5, 1, &mut fake(&mut Vec::new()));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[2],
            "      4    1 1970/01/01          1 BLACKLIST 192.0.2.2"
        );
        assert_eq!(
            lines[3],
            "      3    1 1970/01/01     32800* BAD 2001:db8::1"
        );
        assert_eq!(lines[4], "      2    1 1970/01/01      multi 192.0.2.0/24");
    }

    #[test]
    fn dates() {
        // 2026-11-22 12:15:31 UTC
        let now = 1_795_349_731;
        assert_eq!(last_used(now, now), " 11/22 12:15:31");
        assert_eq!(last_used(now - 400 * 86_400, now), " 2025/10/18    ");
        assert_eq!(id_str(NO_AUTH + 32800), " 32800*");
        assert_eq!(id_str(8), "  multi");
    }
}
