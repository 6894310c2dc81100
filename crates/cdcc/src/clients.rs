//! `clients`: ask the server for its recent clients, about a hundred at a
//! time, and list them as the reference does: requests, NOPs, when last
//! seen, client-ID, protocol version and address, optionally sorted by
//! requests, then totals per protocol version.

use crate::request::{self, ClientsArgs};
use crate::server::{op_error, print_heading, req_date, send};
use crate::state::State;
use crate::Ret;
use tally_client::clock::{now_secs, time_of_day};
use tally_wire::admn::{clients_req, Aop};
use tally_wire::clients::{dates, flags, ClientAddr, NO_AUTH};
use tally_wire::header::ID_ANON;
use tally_wire::packet::{AdmnAnswer, Response};

/// Protocol versions counted separately in the totals.
const VERS_DIM: usize = 33;
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

fn addr_str(a: &ClientAddr) -> String {
    match a {
        ClientAddr::V4(b) => std::net::Ipv4Addr::from(*b).to_string(),
        ClientAddr::V6(b) => std::net::Ipv6Addr::from(*b).to_string(),
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
                st.server_error(&op_error(aop, val1, &e));
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
    print_list(&list, &a, total.max(1), max_ops, max_nops);
    print_totals(&totals);
    Ret::Ok
}

fn print_list(list: &[Ct], a: &ClientsArgs, total: u64, max_ops: u64, max_nops: u64) {
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
            let s = addr_str(&ct.addr);
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
                // No reverse DNS here: the name column stays empty.
                out.push_str(&format!(" {s:<n$} "));
            }
        }
        out.push('\n');
    }
    out.push('\n');
    print!("{out}");
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
        print_list(&big, &a, u64::MAX, u64::MAX, u64::MAX);
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
