//! Server responses: DCC and greylist answers, ADMN data, OK and ERROR.
//!
//! Answers cannot be told apart by their bytes alone (a one-checksum DCC
//! answer and a greylist answer are both 48 bytes; the data of an ADMN
//! answer depends on what was asked), so decoding a response needs an
//! [`Expect`] derived from the request.

use crate::admn::{AdmnAnswerKind, AnonDelay, Aop, MAX_ADMN_RESP};
use crate::ck::MAX_CKS;
use crate::clients::{self, ClientEntry};
use crate::error::DecodeError;
use crate::header::{Op, VERS_CUR, VERS_MIN, VERS_SINGLE_COUNTS};
use crate::packet::{
    assemble, split, Packet, Request, BRAND_LEN, MAX_ERROR_MSG, MAX_RESPONSE_LEN, OK_BODY_LEN,
};
use crate::tgts::Tgts;

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
                if !body.chunks_exact(width).remainder().is_empty() || body.len() / width > MAX_CKS
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
