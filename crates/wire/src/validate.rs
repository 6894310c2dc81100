//! The rules a DCC server applies to a well-formed request before it does
//! any work, beyond the layout checked by decoding.
//!
//! Most failures make the reference server drop the request silently; a
//! few (ADMN sizes, stale dates) are answered with an ERROR by servers that
//! authenticated the sender. [`Refusal::error_text`] gives that text.

use crate::admn::{AdmnRequest, Aop, ADMN_FIXED_LEN};
use crate::ck::WireCk;
use crate::header::{IdKind, HDR_LEN, SIG_LEN};
use crate::packet::{CkRequest, Packet, Request};
use crate::tgts::Tgts;
use tally_ck::CkType;

/// How far a state-changing ADMN or DELETE date may be from the server's
/// clock, in seconds.
pub const MAX_DATE_SKEW: i64 = 64;
/// `val5` sizes allowed in CLIENTS requests: none, an address block
/// (16-byte IPv6 address and prefix length), or that plus a client-ID.
pub const CLIENTS_VAL5_SIZES: [usize; 3] = [0, 17, 21];

/// Why a server will not process a decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The sender is 0, 2..=99 or above 16777215.
    BadSenderId(u32),
    /// A checksum type clients may not send (server-ID, flood path).
    ClientCkType(CkType),
    /// Checksum types not strictly increasing (also catches duplicates).
    OutOfOrder(CkType),
    /// A REPORT count above 2000 that is neither `many` nor flagged spam.
    BogusTargets(Tgts),
    /// An ADMN request whose `val5` has a size its sub-operation forbids.
    AdmnSize {
        /// The sub-operation.
        aop: Aop,
        /// The whole datagram length.
        len: usize,
    },
    /// GREY_SPAM whose checksums are not IP, greylist message and triple.
    GreySpamTypes,
}

impl Refusal {
    /// The ERROR text the reference server sends for refusals it answers.
    pub fn error_text(&self) -> Option<String> {
        match self {
            Refusal::AdmnSize { aop, len } => Some(format!("ADMN {} size = {len}", aop_name(*aop))),
            _ => None,
        }
    }
}

/// The names `cdcc` and the server use for sub-operations in messages.
pub fn aop_name(aop: Aop) -> String {
    match aop {
        Aop::Stop => "STOP".into(),
        Aop::Flod => "FLOOD".into(),
        Aop::DbClean => "DB CLEAN".into(),
        Aop::DbNew => "DB NEW".into(),
        Aop::Stats => "STATS".into(),
        Aop::StatsClear => "STATS CLEAR".into(),
        Aop::TraceOn => "TRACE ON".into(),
        Aop::TraceOff => "TRACE OFF".into(),
        Aop::Clients => "CLIENTS".into(),
        Aop::ClientsId => "CLIENTS ID".into(),
        Aop::AnonDelay => "ANON DELAY".into(),
        Aop::ClockCheck => "CLOCK CHECK".into(),
        Aop::Other(n) => format!("#{n}"),
    }
}

fn check_cks(cks: &[WireCk]) -> Result<(), Refusal> {
    let mut prev = 0u8;
    for ck in cks {
        if ck.ty.number() > CkType::GreyTriple.number() {
            return Err(Refusal::ClientCkType(ck.ty));
        }
        if ck.ty.number() <= prev {
            return Err(Refusal::OutOfOrder(ck.ty));
        }
        prev = ck.ty.number();
    }
    Ok(())
}

fn check_report_tgts(r: &CkRequest) -> Result<(), Refusal> {
    let t = r.tgts;
    if t.is_spam() || t.is_rep_spam() || t == Tgts::MANY || t.0 <= Tgts::RPT_MAX {
        Ok(())
    } else {
        Err(Refusal::BogusTargets(t))
    }
}

fn check_admn(a: &AdmnRequest) -> Result<(), Refusal> {
    let ok = match a.aop {
        Aop::Clients | Aop::ClientsId => CLIENTS_VAL5_SIZES.contains(&a.val5.len()),
        _ => a.val5.is_empty(),
    };
    if ok {
        Ok(())
    } else {
        Err(Refusal::AdmnSize {
            aop: a.aop,
            len: HDR_LEN + ADMN_FIXED_LEN + a.val5.len() + SIG_LEN,
        })
    }
}

/// Check a decoded request as the reference server does before working on
/// it (authentication aside: see [`crate::sign::authenticate`]).
pub fn check_request(p: &Packet<Request>) -> Result<(), Refusal> {
    if IdKind::of(p.sender) == IdKind::Invalid {
        return Err(Refusal::BadSenderId(p.sender));
    }
    match &p.body {
        Request::Nop | Request::Delete(_) => Ok(()),
        Request::Report(r) => {
            check_report_tgts(r)?;
            check_cks(&r.cks)
        }
        Request::Query(r)
        | Request::GreyReport(r)
        | Request::GreyQuery(r)
        | Request::GreyWhite(r) => check_cks(&r.cks),
        Request::Admn(a) => check_admn(a),
        Request::GreySpam(g) => {
            if g.ip.ty == CkType::Ip
                && g.msg.ty == CkType::GreyMsg
                && g.triple.ty == CkType::GreyTriple
            {
                Ok(())
            } else {
                Err(Refusal::GreySpamTypes)
            }
        }
    }
}

/// Check the `date` of a DELETE or state-changing ADMN against the
/// server's clock: `Err(offset)` (date minus now) when it is off by more
/// than [`MAX_DATE_SKEW`] seconds.
pub fn check_date(date: u32, now_secs: i64) -> Result<(), i64> {
    let off = i64::from(date) - now_secs;
    if off.abs() > MAX_DATE_SKEW {
        Err(off)
    } else {
        Ok(())
    }
}

/// The optional target of a CLIENTS request carried in `val5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientsTarget {
    /// IPv6 (or IPv4-mapped) address and prefix length.
    pub addr: Option<([u8; 16], u8)>,
    /// Only this client-ID.
    pub id: Option<u32>,
}

impl ClientsTarget {
    /// Parse `val5` of a CLIENTS request (sizes 0, 17 or 21).
    pub fn parse(val5: &[u8]) -> Option<ClientsTarget> {
        let addr = |b: &[u8]| {
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[..16]);
            (a, b[16])
        };
        match val5.len() {
            0 => Some(ClientsTarget {
                addr: None,
                id: None,
            }),
            17 => Some(ClientsTarget {
                addr: Some(addr(val5)),
                id: None,
            }),
            21 => {
                let id = u32::from_be_bytes([val5[17], val5[18], val5[19], val5[20]]);
                let a = addr(val5);
                // cdcc sends an all-zero block when only the ID matters
                let addr = (a.1 != 0).then_some(a);
                Some(ClientsTarget { addr, id: Some(id) })
            }
            _ => None,
        }
    }

    /// The `val5` bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.addr.is_some() || self.id.is_some() {
            let (a, bits) = self.addr.unwrap_or(([0; 16], 0));
            out.extend_from_slice(&a);
            out.push(bits);
        }
        if let Some(id) = self.id {
            out.extend_from_slice(&id.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::OpNums;
    use tally_ck::Sum;

    fn req(body: Request) -> Packet<Request> {
        Packet::request(12, 32800, OpNums::default(), body)
    }

    #[test]
    fn checksum_rules() {
        let ck = |t| WireCk::new(t, Sum::default());
        let q = |cks: Vec<WireCk>, tgts| {
            Request::Report(CkRequest {
                tgts: Tgts(tgts),
                cks,
            })
        };
        assert_eq!(
            check_request(&req(q(vec![ck(CkType::Ip), ck(CkType::Body)], 1))),
            Ok(())
        );
        assert_eq!(
            check_request(&req(q(vec![ck(CkType::Body), ck(CkType::Ip)], 1))),
            Err(Refusal::OutOfOrder(CkType::Ip))
        );
        assert_eq!(
            check_request(&req(q(vec![ck(CkType::Body), ck(CkType::Body)], 1))),
            Err(Refusal::OutOfOrder(CkType::Body))
        );
        assert_eq!(
            check_request(&req(q(vec![ck(CkType::SrvrId)], 1))),
            Err(Refusal::ClientCkType(CkType::SrvrId))
        );
        assert_eq!(
            check_request(&req(q(vec![], 2001))),
            Err(Refusal::BogusTargets(Tgts(2001)))
        );
        assert_eq!(check_request(&req(q(vec![], 0x0100_0001))), Ok(()));
        assert_eq!(check_request(&req(q(vec![], 0x00ff_fff0))), Ok(()));
        let mut p = req(Request::Nop);
        p.sender = 50;
        assert_eq!(check_request(&p), Err(Refusal::BadSenderId(50)));
    }

    #[test]
    fn admn_sizes() {
        let mut a = AdmnRequest::new(0, Aop::Stats, 1460);
        a.val5 = vec![0; 3];
        let r = check_request(&req(Request::Admn(a))).unwrap_err();
        assert_eq!(r.error_text().unwrap(), "ADMN STATS size = 55");
        let mut a = AdmnRequest::clients(0, false, 0, 0, 0);
        a.val5 = vec![0; 17];
        assert_eq!(check_request(&req(Request::Admn(a))), Ok(()));
        assert_eq!(check_date(1000, 1064), Ok(()));
        assert_eq!(check_date(1000, 4600), Err(-3600));
    }

    #[test]
    fn clients_target() {
        let t = ClientsTarget {
            addr: None,
            id: Some(32800),
        };
        let b = t.encode();
        assert_eq!(b.len(), 21);
        assert_eq!(ClientsTarget::parse(&b), Some(t));
        assert_eq!(ClientsTarget::parse(&[0; 5]), None);
    }
}
