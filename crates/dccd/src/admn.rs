//! Administrative requests from `cdcc`: statistics, stop, trace bits, the
//! client list, the anonymous delay, clock checks, database cleaning and
//! the flooding sub-operations (see [`crate::flood::admn`]).
//!
//! As in the original, STATS, CLOCK CHECK, FLOOD LIST and ANON DELAY
//! (asking) need no authentication, CLIENTS and CLIENTS ID need any
//! authenticated ID, FLOOD STATS any authenticated ID with a date within 64
//! seconds of the server's clock, and the rest (setting the anonymous
//! delay too) need the server's own server-ID and such a date (else an
//! ERROR saying how far off it is). Requests that fail authentication are
//! dropped without an answer. An operation the server does not know gets
//! the original's ERROR `invalid ADMN UNKNOWN #N VAL1`, whoever asks.
//! (Unauthenticated senders may be dropped before they get here: see
//! `Server::unauth_dropped`.)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tally_wire::admn::{AdmnRequest, AnonDelay, Aop, FlodAop, MAX_ADMN_RESP};
use tally_wire::packet::{Packet, Request, Response};
use tally_wire::response::AdmnAnswer;
use tally_wire::validate::MAX_DATE_SKEW;
use tally_wire::validate::{aop_name, check_date};

use crate::anon_delay::ANON_DELAY_MAX_MS;
use crate::server::{unix_now, Reply, Server, Who};
use crate::stats;
use crate::trace::Trace;

const NO_FLOOD: &str = "no flooding configured";

/// The `delay` of an ANON DELAY request that only asks.
const NO_ANON_DELAY: u16 = 0xfffe;
/// Clock differences beyond this refuse flooded reports (seconds).
const MAX_FLOOD_SKEW: i64 = 2 * 60 * 60;

/// Store a new anonymous delay: `FOREVER` refuses anonymous clients;
/// otherwise the delay (at most [`ANON_DELAY_MAX_MS`]) and the
/// inflation (0 or all ones: none).
fn set_anon_delay(cfg: &mut crate::server::Config, delay: u16, inflate: u32) {
    if delay == AnonDelay::FOREVER {
        cfg.anon_delay_ms = None;
        cfg.anon_inflate = None;
    } else {
        cfg.anon_delay_ms = Some(u32::from(delay).min(ANON_DELAY_MAX_MS));
        cfg.anon_inflate = (inflate != 0 && inflate != u32::MAX).then_some(inflate);
    }
}

/// The answer to CLOCK CHECK in the original's words: the difference,
/// and a second line when it is too large for commands or for flooding.
fn clock_text(off: i64) -> String {
    let mut t = format!("    clocks differ by about {off} seconds");
    if off.abs() > MAX_FLOOD_SKEW {
        t.push_str(&format!(
            "\n    which is more than the {MAX_FLOOD_SKEW} allowed for flooding"
        ));
    } else if off.abs() > MAX_DATE_SKEW {
        t.push_str(&format!(
            "\n    which is more than the {MAX_DATE_SKEW} allowed for commands"
        ));
    }
    t
}

/// A number as C's `%#x` writes it: `0x` before it, except for 0.
fn c_hex(n: u32) -> String {
    if n == 0 {
        "0".to_string()
    } else {
        format!("{n:#x}")
    }
}

/// The request as the original names it in its messages.
pub(crate) fn qop(a: &AdmnRequest) -> String {
    match a.aop {
        Aop::TraceOn | Aop::TraceOff => format!("ADMN {} {}", aop_name(a.aop), c_hex(a.val1)),
        Aop::Other(n) => format!("ADMN UNKNOWN #{n} {}", c_hex(a.val1)),
        _ => format!("ADMN {}", aop_name(a.aop)),
    }
}

/// Work on an ADMN request.
pub(crate) fn admn(
    s: &mut Server,
    req: &Packet<Request>,
    a: &AdmnRequest,
    who: &Who,
    from: SocketAddr,
    buf: &[u8],
    now: Instant,
) -> Reply {
    s.stats.admin += 1;
    let text = |s: &mut Server, t: String| {
        let mut b = t.into_bytes();
        b.truncate(MAX_ADMN_RESP);
        s.answer(
            req,
            who,
            Response::Admn(AdmnAnswer::Text(b)),
            Duration::ZERO,
        )
    };
    // A date within 64 seconds of the server's clock, else the ERROR
    // saying how far off it is.
    let current = |s: &mut Server| -> Result<(), Reply> {
        check_date(a.date, unix_now() as i64).map_err(|off| {
            s.error(
                req,
                who,
                &format!("drop {}; timestamp off by {off} seconds", qop(a)),
            )
        })
    };
    // Requests that change the server's state.
    let picky = |s: &mut Server| -> Result<(), Reply> {
        if !s.is_admin(req, who) {
            return Err(Reply::Drop);
        }
        current(s)
    };
    match a.aop {
        Aop::Stats => text(s, stats_text(s, a.val1 as usize)),
        Aop::StatsClear => {
            if let Err(e) = picky(s) {
                return e;
            }
            let t = stats_text(s, a.val1 as usize);
            s.stats = stats::Stats {
                since: unix_now(),
                records_at_reset: s.counter.store.stats().map_or(0, |st| st.records),
                ..Default::default()
            };
            // as the original, the client list starts afresh too
            s.clients.clear();
            text(s, t)
        }
        Aop::Stop => {
            if let Err(e) = picky(s) {
                return e;
            }
            if let Some(a) = s
                .ridc
                .replay(from, buf, req, who, s.cfg.srvr_id, now, &mut s.out)
            {
                s.stats.retrans += 1;
                return a;
            }
            crate::trace::log("stopping on request");
            s.stop = true;
            let body = Response::Ok(s.ok_body(req));
            s.answer_remembered(req, who, body, from, buf, now)
        }
        Aop::TraceOn | Aop::TraceOff => {
            if let Err(e) = picky(s) {
                return e;
            }
            // no bit at all is as wrong as an unknown one, as there
            if a.val1 & !Trace::ALL != 0 || a.val1 == 0 {
                return s.error(req, who, &format!("invalid trace bits {}", c_hex(a.val1)));
            }
            if a.aop == Aop::TraceOn {
                s.trace |= a.val1;
            } else {
                s.trace &= !a.val1;
            }
            s.answer(req, who, Response::Ok(s.ok_body(req)), Duration::ZERO)
        }
        Aop::Clients | Aop::ClientsId => {
            if who.auth.passwd().is_none() {
                return Reply::Drop;
            }
            let vers = tally_wire::header::answer_version(req.pkt_vers);
            let bytes = s.clients.answer(a, vers);
            s.answer(
                req,
                who,
                Response::Admn(AdmnAnswer::Text(bytes)),
                Duration::ZERO,
            )
        }
        Aop::AnonDelay => {
            let d = AnonDelay {
                inflate: s.cfg.anon_inflate.unwrap_or(0),
                delay_ms: s
                    .cfg
                    .anon_delay_ms
                    .map_or(AnonDelay::FOREVER, |d| d.min(65533) as u16),
            };
            // A new delay from the server's own ID with a current date;
            // the answer carries the old values, as the original's. From
            // another ID the request only asks.
            let new = (u16::from(a.val2) << 8) | u16::from(a.val3);
            if new != NO_ANON_DELAY && s.is_admin(req, who) {
                if let Err(e) = current(s) {
                    return e;
                }
                set_anon_delay(&mut s.cfg, new, a.val1);
            }
            s.answer(
                req,
                who,
                Response::Admn(AdmnAnswer::AnonDelay(d)),
                Duration::ZERO,
            )
        }
        // anyone may ask, as of the original
        Aop::ClockCheck => text(s, clock_text(i64::from(a.date) - unix_now() as i64)),
        Aop::DbClean | Aop::DbNew => {
            if let Err(e) = picky(s) {
                return e;
            }
            if a.aop == Aop::DbClean {
                let policy = match &s.grey {
                    Some(g) => crate::grey::expiry(g.grey.params()),
                    None => tally_store::Expiry::default(),
                };
                match s.clean_db(unix_now(), &policy) {
                    Ok(r) => {
                        crate::trace::log(&format!(
                            "database cleaned: {} kept, {} trimmed, {} removed",
                            r.kept, r.trimmed, r.removed
                        ));
                        if let Some(f) = s.flood.clone() {
                            if let Ok(mut f) = f.lock() {
                                f.rebuild_seen(&*s.counter.store);
                            }
                        }
                    }
                    Err(e) => return s.error(req, who, &format!("dbclean failed: {e}")),
                }
            }
            s.answer(req, who, Response::Ok(s.ok_body(req)), Duration::ZERO)
        }
        Aop::Flod => {
            // As the original: LIST is open to anyone, STATS to any
            // authenticated ID with a current date, the rest (STATS CLEAR
            // too) to the server's own ID with a current date.
            let fop = FlodAop::from_u32(a.val1 % 256);
            match fop {
                Some(FlodAop::List) => {}
                Some(FlodAop::Stats) => {
                    if who.auth.passwd().is_none() {
                        return Reply::Drop;
                    }
                    if let Err(e) = current(s) {
                        return e;
                    }
                }
                _ => {
                    if let Err(e) = picky(s) {
                        return e;
                    }
                }
            }
            let Some(flood) = s.flood.clone() else {
                return match fop {
                    Some(FlodAop::List) => text(s, String::new()),
                    Some(FlodAop::Check) => text(s, stats::flood_line("off", 0, 0, 0)),
                    Some(FlodAop::Stats) | Some(FlodAop::StatsClear) => {
                        text(s, NO_FLOOD.to_string())
                    }
                    _ => s.error(req, who, NO_FLOOD),
                };
            };
            let admin = s.is_admin(req, who);
            let store = &s.counter.store;
            let position = |id: u16| store.peer_pos(id).ok().flatten().map(|p| p.0);
            let now = s.clock.unwrap_or_else(crate::server::unix_now);
            let reply = match flood.lock() {
                Ok(mut f) => crate::flood::admn::op(&mut f, a.val1, admin, &position, now),
                Err(_) => return Reply::Drop,
            };
            match reply {
                crate::flood::admn::Reply::Text(t) => text(s, t),
                crate::flood::admn::Reply::Ok => {
                    s.answer(req, who, Response::Ok(s.ok_body(req)), Duration::ZERO)
                }
                crate::flood::admn::Reply::Error(e) => s.error(req, who, &e),
            }
        }
        // whoever asks is told, as by the original
        Aop::Other(_) => s.error(req, who, &format!("invalid {}", qop(a))),
    }
}

fn stats_text(s: &Server, max: usize) -> String {
    let st = s.counter.store.stats().unwrap_or_default();
    let tracing = Trace::names(s.trace);
    let ctx = stats::Context {
        tracing: &tracing,
        checksums: st.checksums,
        records: st.records,
        db_bytes: st.disk_bytes,
        delay_ms: u64::from(s.cfg.qdelay_ms),
        clients: s.clients.active() as u64,
        flood: s
            .flood
            .as_ref()
            .and_then(|f| f.lock().ok().map(|f| crate::flood::admn::totals(&f))),
        grey: s.grey.is_some(),
        query_only: s.cfg.query_only,
        now: unix_now(),
    };
    let max = max.clamp(1, MAX_ADMN_RESP);
    let mut t = stats::text(&s.stats, &ctx, MAX_ADMN_RESP);
    if let Some(g) = &s.grey {
        t.push_str(&crate::grey::stats_lines(g));
    }
    t.truncate(max);
    t
}
