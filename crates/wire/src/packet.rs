//! Whole UDP datagrams: client requests (here) and server responses
//! ([`crate::response`]).
//!
//! Every datagram is the 24-byte [header](crate::header), a body that
//! depends on the operation, and a 16-byte signature. Decoding checks the
//! header's length against the datagram, the version range of the
//! operation, and the exact body layout; re-encoding a decoded packet gives
//! back the same bytes.

use crate::admn::{AdmnRequest, MAX_ADMN_RESP};
use crate::ck::{WireCk, CK_LEN, MAX_CKS};
use crate::error::DecodeError;
use crate::header::{Header, Op, OpNums, HDR_LEN, SIG_LEN};
use crate::tgts::Tgts;

pub use crate::response::{AdmnAnswer, Answer, CountPair, Expect, OkBody, Response};

/// Longest request the reference server receives (14 checksums).
pub const MAX_REQUEST_LEN: usize = HDR_LEN + 4 + MAX_CKS * CK_LEN + SIG_LEN;
/// Longest response (1460 bytes of data).
pub const MAX_RESPONSE_LEN: usize = HDR_LEN + MAX_ADMN_RESP + SIG_LEN;
/// Size of the brand field of an OK answer.
pub const BRAND_LEN: usize = 64;
/// Most bytes of ERROR text including its NUL.
pub const MAX_ERROR_MSG: usize = 128;
/// Body size of a DELETE: date, one checksum, two pad bytes.
pub const DELETE_BODY_LEN: usize = 4 + CK_LEN + 2;
/// Body size of a GREY_SPAM: three checksums, two pad bytes.
pub const GREY_SPAM_BODY_LEN: usize = 3 * CK_LEN + 2;
/// Body size of an OK.
pub const OK_BODY_LEN: usize = 4 + BRAND_LEN;

/// A datagram: the header fields other than `len` and `op` (which follow
/// from the body), the body, and the signature as carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<B> {
    /// Protocol version.
    pub pkt_vers: u8,
    /// Client-ID (requests) or server-ID (responses).
    pub sender: u32,
    /// The client's transaction numbers.
    pub op_nums: OpNums,
    /// The operation and its data.
    pub body: B,
    /// The last 16 bytes. See [`crate::sign`] to compute it.
    pub signature: [u8; 16],
}

/// Checksums with a target count: REPORT, QUERY and the greylist
/// REPORT, QUERY and WHITE requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CkRequest {
    /// Number of recipients (with the spam flags in reports). Greylist
    /// clients leave it uninitialised and servers ignore it.
    pub tgts: Tgts,
    /// Up to 14 checksums, in increasing type order for the server to
    /// accept them (see [`crate::validate`]). The reference server also
    /// answers a request without any.
    pub cks: Vec<WireCk>,
}

/// DELETE: remove a checksum from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    /// Seconds since the epoch on the client (must be within 64 s).
    pub date: u32,
    /// The checksum to delete.
    pub ck: WireCk,
    /// The structure padding before the signature (zero from the client).
    pub pad: [u8; 2],
}

/// GREY_SPAM: put a triple back under embargo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreySpam {
    /// The IP checksum.
    pub ip: WireCk,
    /// The greylist message checksum.
    pub msg: WireCk,
    /// The greylist triple checksum.
    pub triple: WireCk,
    /// The structure padding before the signature.
    pub pad: [u8; 2],
}

/// A client-to-server operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// NOP.
    Nop,
    /// REPORT.
    Report(CkRequest),
    /// QUERY.
    Query(CkRequest),
    /// ADMN.
    Admn(AdmnRequest),
    /// DELETE.
    Delete(Delete),
    /// GREY_REPORT.
    GreyReport(CkRequest),
    /// GREY_QUERY.
    GreyQuery(CkRequest),
    /// GREY_SPAM.
    GreySpam(GreySpam),
    /// GREY_WHITE.
    GreyWhite(CkRequest),
}

impl Request {
    /// The operation code.
    pub fn op(&self) -> Op {
        match self {
            Request::Nop => Op::Nop,
            Request::Report(_) => Op::Report,
            Request::Query(_) => Op::Query,
            Request::Admn(_) => Op::Admn,
            Request::Delete(_) => Op::Delete,
            Request::GreyReport(_) => Op::GreyReport,
            Request::GreyQuery(_) => Op::GreyQuery,
            Request::GreySpam(_) => Op::GreySpam,
            Request::GreyWhite(_) => Op::GreyWhite,
        }
    }

    /// The checksums of a request that carries a list of them.
    pub fn ck_request(&self) -> Option<&CkRequest> {
        match self {
            Request::Report(r)
            | Request::Query(r)
            | Request::GreyReport(r)
            | Request::GreyQuery(r)
            | Request::GreyWhite(r) => Some(r),
            _ => None,
        }
    }

    /// The vector of checksums of a request that carries a list of them,
    /// for [`Packet::decode_with`].
    pub fn into_cks(self) -> Option<Vec<WireCk>> {
        match self {
            Request::Report(r)
            | Request::Query(r)
            | Request::GreyReport(r)
            | Request::GreyQuery(r)
            | Request::GreyWhite(r) => Some(r.cks),
            _ => None,
        }
    }

    fn decode_body(op: Op, body: &[u8], spare: Vec<WireCk>) -> Result<Request, DecodeError> {
        let bad = || DecodeError::BadBodyLength {
            op,
            len: body.len(),
        };
        Ok(match op {
            Op::Nop if body.is_empty() => Request::Nop,
            Op::Nop => return Err(bad()),
            Op::Report | Op::Query | Op::GreyReport | Op::GreyQuery | Op::GreyWhite => {
                let r = decode_ck_request(op, body, spare)?;
                match op {
                    Op::Report => Request::Report(r),
                    Op::Query => Request::Query(r),
                    Op::GreyReport => Request::GreyReport(r),
                    Op::GreyQuery => Request::GreyQuery(r),
                    _ => Request::GreyWhite(r),
                }
            }
            Op::Admn => Request::Admn(AdmnRequest::decode(body)?),
            Op::Delete => {
                if body.len() != DELETE_BODY_LEN {
                    return Err(bad());
                }
                Request::Delete(Delete {
                    date: u32::from_be_bytes([body[0], body[1], body[2], body[3]]),
                    ck: WireCk::decode(&body[4..])?,
                    pad: [body[22], body[23]],
                })
            }
            Op::GreySpam => {
                if body.len() != GREY_SPAM_BODY_LEN {
                    return Err(bad());
                }
                Request::GreySpam(GreySpam {
                    ip: WireCk::decode(body)?,
                    msg: WireCk::decode(&body[CK_LEN..])?,
                    triple: WireCk::decode(&body[2 * CK_LEN..])?,
                    pad: [body[54], body[55]],
                })
            }
            Op::Answer | Op::Ok | Op::Error => return Err(DecodeError::NotARequest(op)),
        })
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Request::Nop => {}
            Request::Report(r)
            | Request::Query(r)
            | Request::GreyReport(r)
            | Request::GreyQuery(r)
            | Request::GreyWhite(r) => {
                out.extend_from_slice(&r.tgts.to_bytes());
                for ck in r.cks.iter().take(MAX_CKS) {
                    ck.encode_into(out);
                }
            }
            Request::Admn(a) => a.encode_into(out),
            Request::Delete(d) => {
                out.extend_from_slice(&d.date.to_be_bytes());
                d.ck.encode_into(out);
                out.extend_from_slice(&d.pad);
            }
            Request::GreySpam(g) => {
                g.ip.encode_into(out);
                g.msg.encode_into(out);
                g.triple.encode_into(out);
                out.extend_from_slice(&g.pad);
            }
        }
    }
}

fn decode_ck_request(op: Op, body: &[u8], mut cks: Vec<WireCk>) -> Result<CkRequest, DecodeError> {
    let bad = DecodeError::BadBodyLength {
        op,
        len: body.len(),
    };
    let (t, rest) = match body {
        [a, b, c, d, rest @ ..] => (Tgts(u32::from_be_bytes([*a, *b, *c, *d])), rest),
        _ => return Err(bad),
    };
    if !rest.chunks_exact(CK_LEN).remainder().is_empty() || rest.len() / CK_LEN > MAX_CKS {
        return Err(bad);
    }
    WireCk::decode_list_into(rest, &mut cks)?;
    Ok(CkRequest { tgts: t, cks })
}

pub(crate) fn split(buf: &[u8]) -> Result<(Header, &[u8], [u8; 16]), DecodeError> {
    let h = Header::decode(buf)?;
    let body = buf.get(HDR_LEN..buf.len() - SIG_LEN).unwrap_or(&[]);
    let mut sig = [0u8; 16];
    sig.copy_from_slice(&buf[buf.len() - SIG_LEN..]);
    Ok((h, body, sig))
}

pub(crate) fn assemble(
    pkt_vers: u8,
    op: Op,
    sender: u32,
    op_nums: &OpNums,
    sig: &[u8; 16],
    body: Vec<u8>,
) -> Vec<u8> {
    let total = HDR_LEN + body.len() + SIG_LEN;
    let h = Header {
        len: u16::try_from(total).unwrap_or(u16::MAX),
        pkt_vers,
        op,
        sender,
        op_nums: *op_nums,
    };
    let mut out = Vec::with_capacity(total);
    h.encode_into(&mut out);
    out.extend_from_slice(&body);
    out.extend_from_slice(sig);
    out
}

impl Packet<Request> {
    /// A request with a zero signature (sign it with [`crate::sign`]).
    pub fn request(pkt_vers: u8, sender: u32, op_nums: OpNums, body: Request) -> Self {
        Packet {
            pkt_vers,
            sender,
            op_nums,
            body,
            signature: [0; 16],
        }
    }

    /// Decode a datagram received by a server.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_with(buf, Vec::new())
    }

    /// [`Packet::decode`] that puts the checksums of a request carrying a
    /// list of them into `spare` (emptied first) instead of a new vector:
    /// a server takes the vector back from a request it has answered
    /// ([`Request::into_cks`]) and decodes the next one into it.
    pub fn decode_with(buf: &[u8], spare: Vec<WireCk>) -> Result<Self, DecodeError> {
        if buf.len() > MAX_REQUEST_LEN {
            return Err(DecodeError::TooLong {
                max: MAX_REQUEST_LEN,
                got: buf.len(),
            });
        }
        let (h, body, signature) = split(buf)?;
        if !h.op.versions().contains(&h.pkt_vers) {
            return Err(DecodeError::BadVersion {
                op: h.op,
                vers: h.pkt_vers,
            });
        }
        let body = Request::decode_body(h.op, body, spare)?;
        Ok(Packet {
            pkt_vers: h.pkt_vers,
            sender: h.sender,
            op_nums: h.op_nums,
            body,
            signature,
        })
    }

    /// The datagram bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        self.body.encode_body(&mut body);
        assemble(
            self.pkt_vers,
            self.body.op(),
            self.sender,
            &self.op_nums,
            &self.signature,
            body,
        )
    }
}
