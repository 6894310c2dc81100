//! Whole UDP datagrams: client requests and server responses.
//!
//! Every datagram is the 24-byte [header](crate::header), a body that
//! depends on the operation, and a 16-byte signature. Decoding checks the
//! header's length against the datagram, the version range of the
//! operation, and the exact body layout; re-encoding a decoded packet gives
//! back the same bytes.
//!
//! Answers cannot be told apart by their bytes alone (a one-checksum DCC
//! answer and a greylist answer are both 48 bytes; the data of an ADMN
//! answer depends on what was asked), so decoding a response needs an
//! [`Expect`] derived from the request.

use crate::admn::{AdmnAnswerKind, AdmnRequest, AnonDelay, Aop, MAX_ADMN_RESP};
use crate::ck::{WireCk, CK_LEN, MAX_CKS};
use crate::clients::{self, ClientEntry};
use crate::error::DecodeError;
use crate::header::{Header, Op, OpNums, HDR_LEN, SIG_LEN, VERS_CUR, VERS_MIN, VERS_SINGLE_COUNTS};
use crate::tgts::Tgts;

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
    /// 1 to 14 checksums, normally in increasing type order.
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

/// The counts for one checksum of a DCC answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountPair {
    /// Total including this report.
    pub c: Tgts,
    /// Total before this report.
    pub p: Tgts,
}

/// A DCC answer: one entry per checksum of the request, in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Versions 6 and later: current and previous counts.
    Pairs(Vec<CountPair>),
    /// Versions 4 and 5: only the current count.
    Singles(Vec<Tgts>),
}

/// The data of an ADMN answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdmnAnswer {
    /// Text without a terminating NUL (stats, flood lists ...).
    Text(Vec<u8>),
    /// The binary clients list.
    Clients(Vec<ClientEntry>),
    /// Anonymous delay parameters.
    AnonDelay(AnonDelay),
}

/// The body of an OK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OkBody {
    /// Highest version the server speaks with this client.
    pub max_pkt_vers: u8,
    /// An unused byte.
    pub unused: u8,
    /// Average queue delay plus the penalty this client will see, in ms.
    pub qdelay_ms: u16,
    /// The server's brand, NUL-padded.
    pub brand: [u8; BRAND_LEN],
}

impl OkBody {
    /// An OK with a brand (cut at 63 bytes so that it stays terminated).
    pub fn new(max_pkt_vers: u8, qdelay_ms: u16, brand: &str) -> OkBody {
        let mut b = [0u8; BRAND_LEN];
        let n = brand.len().min(BRAND_LEN - 1);
        b[..n].copy_from_slice(&brand.as_bytes()[..n]);
        OkBody {
            max_pkt_vers,
            unused: 0,
            qdelay_ms,
            brand: b,
        }
    }

    /// The brand up to its first NUL.
    pub fn brand(&self) -> &[u8] {
        let end = self.brand.iter().position(|&c| c == 0).unwrap_or(BRAND_LEN);
        &self.brand[..end]
    }
}

/// A server-to-client operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Counts for a REPORT or QUERY.
    Answer(Answer),
    /// Greylist verdict: `msg` count and `triple` state (0, 1, 2 ... =
    /// embargoed, attempt n+1; OK = embargo ended; MANY = passes).
    GreyAnswer {
        /// Count of the message.
        msg: Tgts,
        /// State of the triple.
        triple: Tgts,
    },
    /// Data for an ADMN request.
    Admn(AdmnAnswer),
    /// Success.
    Ok(OkBody),
    /// Refusal with a reason (at most 127 bytes, sent NUL-terminated).
    Error(Vec<u8>),
}

/// What kind of answer a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A DCC server's answer to NOP, REPORT, QUERY or DELETE.
    Dcc,
    /// A greylist server's answer.
    Grey,
    /// The answer to an ADMN request with this sub-operation.
    Admn(Aop),
}

impl Expect {
    /// The kind of answer this request gets.
    pub fn for_request(req: &Request) -> Expect {
        match req {
            Request::Admn(a) => Expect::Admn(a.aop),
            Request::GreyReport(_)
            | Request::GreyQuery(_)
            | Request::GreyWhite(_)
            | Request::GreySpam(_) => Expect::Grey,
            _ => Expect::Dcc,
        }
    }
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

    fn decode_body(op: Op, body: &[u8]) -> Result<Request, DecodeError> {
        let bad = || DecodeError::BadBodyLength {
            op,
            len: body.len(),
        };
        Ok(match op {
            Op::Nop if body.is_empty() => Request::Nop,
            Op::Nop => return Err(bad()),
            Op::Report | Op::Query | Op::GreyReport | Op::GreyQuery | Op::GreyWhite => {
                let r = decode_ck_request(op, body)?;
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

fn decode_ck_request(op: Op, body: &[u8]) -> Result<CkRequest, DecodeError> {
    let bad = DecodeError::BadBodyLength {
        op,
        len: body.len(),
    };
    let (t, rest) = match body {
        [a, b, c, d, rest @ ..] => (Tgts(u32::from_be_bytes([*a, *b, *c, *d])), rest),
        _ => return Err(bad),
    };
    if rest.is_empty()
        || !rest.chunks_exact(CK_LEN).remainder().is_empty()
        || rest.len() / CK_LEN > MAX_CKS
    {
        return Err(bad);
    }
    Ok(CkRequest {
        tgts: t,
        cks: WireCk::decode_list(rest)?,
    })
}

fn decode_tgts_list(b: &[u8]) -> Vec<Tgts> {
    b.chunks_exact(4)
        .map(|w| Tgts(u32::from_be_bytes([w[0], w[1], w[2], w[3]])))
        .collect()
}

impl Response {
    /// The operation code.
    pub fn op(&self) -> Op {
        match self {
            Response::Answer(_) | Response::GreyAnswer { .. } => Op::Answer,
            Response::Admn(_) => Op::Admn,
            Response::Ok(_) => Op::Ok,
            Response::Error(_) => Op::Error,
        }
    }

    fn decode_body(op: Op, vers: u8, expect: Expect, body: &[u8]) -> Result<Response, DecodeError> {
        let bad = || DecodeError::BadBodyLength {
            op,
            len: body.len(),
        };
        Ok(match op {
            Op::Answer => {
                if expect == Expect::Grey {
                    if body.len() != 8 {
                        return Err(bad());
                    }
                    let t = decode_tgts_list(body);
                    return Ok(Response::GreyAnswer {
                        msg: t[0],
                        triple: t[1],
                    });
                }
                let width = if vers <= VERS_SINGLE_COUNTS { 4 } else { 8 };
                if body.is_empty()
                    || !body.chunks_exact(width).remainder().is_empty()
                    || body.len() / width > MAX_CKS
                {
                    return Err(bad());
                }
                let t = decode_tgts_list(body);
                if width == 4 {
                    Response::Answer(Answer::Singles(t))
                } else {
                    Response::Answer(Answer::Pairs(
                        t.chunks_exact(2)
                            .map(|p| CountPair { c: p[0], p: p[1] })
                            .collect(),
                    ))
                }
            }
            Op::Admn => {
                if body.len() > MAX_ADMN_RESP {
                    return Err(bad());
                }
                let kind = match expect {
                    Expect::Admn(aop) => aop.answer_kind(),
                    _ => AdmnAnswerKind::Text,
                };
                Response::Admn(match kind {
                    AdmnAnswerKind::Text => AdmnAnswer::Text(body.to_vec()),
                    AdmnAnswerKind::Clients => AdmnAnswer::Clients(clients::decode(body, vers)?),
                    AdmnAnswerKind::AnonDelay => AdmnAnswer::AnonDelay(AnonDelay::decode(body)?),
                })
            }
            Op::Ok => {
                if body.len() != OK_BODY_LEN {
                    return Err(bad());
                }
                let mut brand = [0u8; BRAND_LEN];
                brand.copy_from_slice(&body[4..]);
                Response::Ok(OkBody {
                    max_pkt_vers: body[0],
                    unused: body[1],
                    qdelay_ms: u16::from_be_bytes([body[2], body[3]]),
                    brand,
                })
            }
            Op::Error => {
                if body.is_empty() || body.len() > MAX_ERROR_MSG {
                    return Err(bad());
                }
                match body.split_last() {
                    Some((0, text)) if !text.contains(&0) => Response::Error(text.to_vec()),
                    _ => return Err(DecodeError::BadErrorText),
                }
            }
            _ => return Err(DecodeError::NotAResponse(op)),
        })
    }

    fn encode_body(&self, vers: u8, out: &mut Vec<u8>) {
        match self {
            Response::Answer(Answer::Pairs(p)) => {
                for cp in p.iter().take(MAX_CKS) {
                    out.extend_from_slice(&cp.c.to_bytes());
                    out.extend_from_slice(&cp.p.to_bytes());
                }
            }
            Response::Answer(Answer::Singles(s)) => {
                for t in s.iter().take(MAX_CKS) {
                    out.extend_from_slice(&t.to_bytes());
                }
            }
            Response::GreyAnswer { msg, triple } => {
                out.extend_from_slice(&msg.to_bytes());
                out.extend_from_slice(&triple.to_bytes());
            }
            Response::Admn(AdmnAnswer::Text(t)) => {
                out.extend_from_slice(&t[..t.len().min(MAX_ADMN_RESP)])
            }
            Response::Admn(AdmnAnswer::Clients(c)) => clients::encode_into(c, vers, out),
            Response::Admn(AdmnAnswer::AnonDelay(a)) => a.encode_into(out),
            Response::Ok(ok) => {
                out.extend_from_slice(&[ok.max_pkt_vers, ok.unused]);
                out.extend_from_slice(&ok.qdelay_ms.to_be_bytes());
                out.extend_from_slice(&ok.brand);
            }
            Response::Error(text) => {
                let n = text
                    .iter()
                    .position(|&c| c == 0)
                    .unwrap_or(text.len())
                    .min(MAX_ERROR_MSG - 1);
                out.extend_from_slice(&text[..n]);
                out.push(0);
            }
        }
    }
}

fn split(buf: &[u8]) -> Result<(Header, &[u8], [u8; 16]), DecodeError> {
    let h = Header::decode(buf)?;
    let body = buf.get(HDR_LEN..buf.len() - SIG_LEN).unwrap_or(&[]);
    let mut sig = [0u8; 16];
    sig.copy_from_slice(&buf[buf.len() - SIG_LEN..]);
    Ok((h, body, sig))
}

fn assemble(
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
        let body = Request::decode_body(h.op, body)?;
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

impl Packet<Response> {
    /// A response to `req` from server `srvr_id`, in the version the server
    /// answers with, with a zero signature.
    pub fn response_to(req: &Packet<Request>, srvr_id: u32, body: Response) -> Self {
        Packet {
            pkt_vers: crate::header::answer_version(req.pkt_vers),
            sender: srvr_id,
            op_nums: req.op_nums,
            body,
            signature: [0; 16],
        }
    }

    /// Decode a datagram received by a client.
    pub fn decode(buf: &[u8], expect: Expect) -> Result<Self, DecodeError> {
        if buf.len() > MAX_RESPONSE_LEN {
            return Err(DecodeError::TooLong {
                max: MAX_RESPONSE_LEN,
                got: buf.len(),
            });
        }
        let (h, body, signature) = split(buf)?;
        if !(VERS_MIN..=VERS_CUR).contains(&h.pkt_vers) {
            return Err(DecodeError::BadVersion {
                op: h.op,
                vers: h.pkt_vers,
            });
        }
        let body = Response::decode_body(h.op, h.pkt_vers, expect, body)?;
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
        self.body.encode_body(self.pkt_vers, &mut body);
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
