//! What the server does with a request from an address of the blacklist
//! file, as the original's `ck_id` does:
//!
//! - The line that decides for the address is `bad`, or `no-anon` and the
//!   client is anonymous or not authenticated: the request is dropped
//!   without an answer, whatever it asks (NOPs and `cdcc` requests too).
//!   The client is still counted (requests and NOPs) and marked
//!   blacklisted in `cdcc clients`; `cdcc stats` counts the request as
//!   `blist` and `bad op` (a NOP also as a NOP, an ADMN request as
//!   administrative).
//! - With `trace` on that line, or the trace mode `BL`, each dropped
//!   request is logged: `drop blacklisted QUERY from anonymous at
//!   192.0.2.1,1234`.
//! - A request from an address whose line says `trace` and that is not
//!   dropped is logged too: `QUERY from ID 32800 at 192.0.2.1,1234
//!   yy/mm/dd HH:MM:SS.uuuuuu` when it is answered at once, `delay 0.050
//!   QUERY from anonymous at 192.0.2.1,1234` when its answer waits.
//!
//! "Not authenticated" is the original's: an anonymous client, an
//! unknown ID, a bad password, and for QUERY, REPORT and the greylist
//! requests also a server-ID (which the original does not take as a
//! client there).

use std::net::SocketAddr;

use tally_store::Ts;
use tally_wire::header::IdKind;
use tally_wire::packet::{Packet, Request};
use tally_wire::sign::Auth;

use super::Hit;
use crate::server::{unix_now, Reply, Server, Who};
use crate::trace::{log, Trace};

/// Whether the sender of `req` counts as anonymous for `no-anon`.
pub(crate) fn unauthenticated(req: &Packet<Request>, who: &Who) -> bool {
    match req.body {
        Request::Nop | Request::Admn(_) | Request::Delete(_) => who.auth.passwd().is_none(),
        _ => !who.trusted,
    }
}

/// An address as the original writes a client's: IPv4 (also for an
/// IPv4-mapped address) or IPv6, a comma and the port.
pub fn addr_str(a: SocketAddr) -> String {
    format!("{},{}", a.ip().to_canonical(), a.port())
}

/// The operation as the original names it (`QUERY`, `ADMN STATS`, ...).
fn op_str(req: &Packet<Request>) -> String {
    match &req.body {
        Request::Admn(a) => crate::admn::qop(a),
        b => b.op().name().to_string(),
    }
}

/// `OP from WHO at ADDR`, the original's words for a request and its
/// sender; `black`: the address is blacklisted.
pub(crate) fn from_id_ip(
    req: &Packet<Request>,
    who: &Who,
    from: SocketAddr,
    black: bool,
) -> String {
    format!("{}{}", op_str(req), sender_str(req, who, from, black))
}

/// ` from WHO at ADDR`: the sender part of [`from_id_ip`].
pub(crate) fn sender_str(
    req: &Packet<Request>,
    who: &Who,
    from: SocketAddr,
    black: bool,
) -> String {
    let at = addr_str(from);
    let id = req.sender;
    match who.auth {
        Auth::Anonymous => format!(" from anonymous at {at}"),
        Auth::UnknownId => format!(" from unknown ID {id} at {at}"),
        Auth::Blacklisted => format!(" from blacklisted ID {id} at {at}"),
        Auth::BadPasswd => format!(" from ID {id} at {at} with bad password "),
        // a server-ID is no client for the original: its password "fails"
        Auth::Verified { .. }
            if !matches!(
                req.body,
                Request::Nop | Request::Admn(_) | Request::Delete(_)
            ) && IdKind::of(id) != IdKind::Client =>
        {
            format!(" from ID {id} at {at} with bad password ")
        }
        Auth::Verified { .. } if black => format!(" from ID {id} at blacklisted {at}"),
        Auth::Verified { .. } => format!(" from ID {id} at {at}"),
    }
}

impl Server {
    /// Drop a request from a blacklisted address (see the module).
    pub(crate) fn blacklisted(
        &mut self,
        req: &Packet<Request>,
        from: SocketAddr,
        who: &Who,
        hit: Hit,
    ) -> Reply {
        let nop = matches!(req.body, Request::Nop);
        self.clients.note(req, from, who, nop, unix_now(), true);
        match req.body {
            Request::Nop => self.stats.nops += 1,
            Request::Admn(_) => self.stats.admin += 1,
            _ => {}
        }
        self.stats.bad_op += 1;
        self.stats.blist += 1;
        if hit.flags.trace() || self.trace & Trace::BL != 0 {
            log(&format!(
                "drop blacklisted {}",
                from_id_ip(req, who, from, true)
            ));
        }
        Reply::Drop
    }

    /// Log a request from an address whose line says `trace`, answered
    /// after `delay_ms`.
    pub(crate) fn trace_request(
        &self,
        req: &Packet<Request>,
        from: SocketAddr,
        who: &Who,
        delay_ms: u64,
    ) {
        if delay_ms == 0 {
            log(&format!(
                "{} from ID {} at {} {}",
                op_str(req),
                req.sender,
                addr_str(from),
                tally_dbtools::text::ts2str(Ts::now())
            ));
        } else {
            log(&format!(
                "delay {:.3} {}",
                delay_ms as f64 / 1000.0,
                from_id_ip(req, who, from, false)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_wire::OpNums;

    fn req(id: u32, body: Request) -> Packet<Request> {
        Packet::request(12, id, OpNums::from_le_words(1, 2, 3, 4), body)
    }

    fn who(auth: Auth, trusted: bool) -> Who {
        Who { auth, trusted }
    }

    #[test]
    fn senders_named_as_the_original() {
        let from: SocketAddr = "[::ffff:192.0.2.1]:1234".parse().unwrap();
        let q = || {
            Request::Query(tally_wire::packet::CkRequest {
                tgts: tally_wire::Tgts(0),
                cks: Vec::new(),
            })
        };
        let pw = tally_wire::sign::Passwd::new(b"pw").unwrap();
        let ok = Auth::Verified {
            passwd: pw,
            second: false,
        };
        assert_eq!(
            from_id_ip(&req(1, q()), &who(Auth::Anonymous, false), from, true),
            "QUERY from anonymous at 192.0.2.1,1234"
        );
        assert_eq!(
            from_id_ip(&req(32800, q()), &who(ok.clone(), true), from, true),
            "QUERY from ID 32800 at blacklisted 192.0.2.1,1234"
        );
        assert_eq!(
            from_id_ip(&req(32800, q()), &who(Auth::BadPasswd, false), from, true),
            "QUERY from ID 32800 at 192.0.2.1,1234 with bad password "
        );
        assert_eq!(
            from_id_ip(
                &req(5000, Request::Nop),
                &who(Auth::UnknownId, false),
                from,
                false
            ),
            "NOP from unknown ID 5000 at 192.0.2.1,1234"
        );
        assert_eq!(
            from_id_ip(
                &req(1100, Request::Nop),
                &who(ok.clone(), false),
                from,
                false
            ),
            "NOP from ID 1100 at 192.0.2.1,1234"
        );
        assert_eq!(
            from_id_ip(&req(1100, q()), &who(ok, false), from, false),
            "QUERY from ID 1100 at 192.0.2.1,1234 with bad password "
        );
        let v6: SocketAddr = "[2001:db8::1]:6277".parse().unwrap();
        assert_eq!(addr_str(v6), "2001:db8::1,6277");
    }

    #[test]
    fn who_counts_as_anonymous() {
        let pw = tally_wire::sign::Passwd::new(b"pw").unwrap();
        let ok = Auth::Verified {
            passwd: pw,
            second: false,
        };
        let q = Request::Query(tally_wire::packet::CkRequest {
            tgts: tally_wire::Tgts(0),
            cks: Vec::new(),
        });
        assert!(unauthenticated(
            &req(1, Request::Nop),
            &who(Auth::Anonymous, false)
        ));
        assert!(!unauthenticated(
            &req(1100, Request::Nop),
            &who(ok.clone(), false)
        ));
        assert!(unauthenticated(
            &req(1100, q.clone()),
            &who(ok.clone(), false)
        ));
        assert!(!unauthenticated(&req(32800, q.clone()), &who(ok, true)));
        assert!(unauthenticated(
            &req(32800, q),
            &who(Auth::BadPasswd, false)
        ));
    }
}
