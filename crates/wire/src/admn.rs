//! Administrative requests (`cdcc` talking to `dccd`) and the binary
//! answers to them.
//!
//! An ADMN request carries a date, a 32-bit `val1`, the sub-operation
//! (`aop`), three more bytes `val2`..`val4` and up to 64 bytes of `val5`.
//! Answers are ADMN packets with text (stats, flood lists), a packed binary
//! list of clients, or the anonymous delay; the rest are OK or ERROR.

use crate::error::DecodeError;

/// Fixed part of an ADMN request body: date, val1, aop, val2, val3, val4.
pub const ADMN_FIXED_LEN: usize = 12;
/// Most `val5` bytes.
pub const MAX_VAL5: usize = 64;
/// Most bytes of data in an ADMN answer (keeps the datagram within 1500).
pub const MAX_ADMN_RESP: usize = 1460;
/// The clients request's answer-buffer size in `val2` is scaled by 2^5.
pub const CLIENTS_SHIFT: u32 = 5;

/// Administrative sub-operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aop {
    /// Stop the server.
    Stop,
    /// Flood control; the flood sub-operation is in `val1` ([`FlodAop`]).
    Flod,
    /// Start cleaning the database.
    DbClean,
    /// Finish switching to a new database.
    DbNew,
    /// Return counters as text; `val1` is the answer buffer size.
    Stats,
    /// Return and clear counters.
    StatsClear,
    /// Turn on the trace bits in `val1`.
    TraceOn,
    /// Turn off the trace bits in `val1`.
    TraceOff,
    /// Recent clients by address (binary list).
    Clients,
    /// Recent clients by ID (binary list).
    ClientsId,
    /// Anonymous delay parameters.
    AnonDelay,
    /// Compare clocks.
    ClockCheck,
    /// A number this implementation does not know (2 and 10 are retired).
    Other(u8),
}

impl Aop {
    /// From the wire number.
    pub fn from_u8(n: u8) -> Aop {
        match n {
            1 => Aop::Stop,
            3 => Aop::Flod,
            4 => Aop::DbClean,
            5 => Aop::DbNew,
            6 => Aop::Stats,
            7 => Aop::StatsClear,
            8 => Aop::TraceOn,
            9 => Aop::TraceOff,
            11 => Aop::Clients,
            12 => Aop::ClientsId,
            13 => Aop::AnonDelay,
            14 => Aop::ClockCheck,
            n => Aop::Other(n),
        }
    }

    /// The wire number.
    pub fn number(self) -> u8 {
        match self {
            Aop::Stop => 1,
            Aop::Flod => 3,
            Aop::DbClean => 4,
            Aop::DbNew => 5,
            Aop::Stats => 6,
            Aop::StatsClear => 7,
            Aop::TraceOn => 8,
            Aop::TraceOff => 9,
            Aop::Clients => 11,
            Aop::ClientsId => 12,
            Aop::AnonDelay => 13,
            Aop::ClockCheck => 14,
            Aop::Other(n) => n,
        }
    }

    /// The kind of data the server answers with.
    pub fn answer_kind(self) -> AdmnAnswerKind {
        match self {
            Aop::Clients | Aop::ClientsId => AdmnAnswerKind::Clients,
            Aop::AnonDelay => AdmnAnswerKind::AnonDelay,
            _ => AdmnAnswerKind::Text,
        }
    }
}

/// Sub-operations of [`Aop::Flod`], carried in `val1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlodAop {
    /// Check the flood configuration.
    Check = 0,
    /// Stop flooding gracefully.
    Shutdown = 1,
    /// Halt flooding.
    Halt = 2,
    /// Resume flooding.
    Resume = 3,
    /// Ask peers to send everything again.
    Rewind = 4,
    /// List the peers (text).
    List = 5,
    /// Flood statistics (text).
    Stats = 6,
    /// Flood statistics, then clear them.
    StatsClear = 7,
    /// Skip incoming floods to their ends.
    FfwdIn = 8,
    /// Skip outgoing floods to their ends.
    FfwdOut = 9,
}

impl FlodAop {
    /// From `val1`.
    pub fn from_u32(n: u32) -> Option<FlodAop> {
        use FlodAop::*;
        [
            Check, Shutdown, Halt, Resume, Rewind, List, Stats, StatsClear, FfwdIn, FfwdOut,
        ]
        .get(usize::try_from(n).ok()?)
        .copied()
    }
}

/// The kinds of data in ADMN answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdmnAnswerKind {
    /// ASCII text without a terminating NUL.
    Text,
    /// The packed list of clients.
    Clients,
    /// Anonymous delay parameters.
    AnonDelay,
}

/// Flag bits of a clients request (in `val3`).
pub mod clients_req {
    /// Averages instead of totals.
    pub const AVG: u8 = 0x01;
    /// Include protocol versions.
    pub const VERS: u8 = 0x02;
    /// Only anonymous (or unauthenticated) clients.
    pub const ANON: u8 = 0x04;
    /// Only authenticated clients.
    pub const NON_ANON: u8 = 0x08;
}

/// An ADMN request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmnRequest {
    /// Seconds since the epoch on the sender (checked to within 64 s for
    /// state-changing requests).
    pub date: u32,
    /// Buffer size, trace bits, flood sub-operation, clients offset/threshold.
    pub val1: u32,
    /// Sub-operation.
    pub aop: Aop,
    /// Clients: answer buffer size >> 5.
    pub val2: u8,
    /// Clients: request flags ([`clients_req`]).
    pub val3: u8,
    /// Clients: high bits of the offset.
    pub val4: u8,
    /// Clients: optional target address block (17 bytes) and ID (4 more).
    pub val5: Vec<u8>,
}

impl AdmnRequest {
    /// A request without `val5`.
    pub fn new(date: u32, aop: Aop, val1: u32) -> AdmnRequest {
        AdmnRequest {
            date,
            val1,
            aop,
            val2: 0,
            val3: 0,
            val4: 0,
            val5: Vec::new(),
        }
    }

    /// A clients request as `cdcc clients` builds it.
    pub fn clients(date: u32, by_id: bool, offset: u32, thold: u16, flags: u8) -> AdmnRequest {
        AdmnRequest {
            date,
            val1: (offset << 16).wrapping_add(u32::from(thold)),
            aop: if by_id { Aop::ClientsId } else { Aop::Clients },
            val2: (MAX_ADMN_RESP >> CLIENTS_SHIFT) as u8,
            val3: flags,
            val4: (offset >> 16) as u8,
            val5: Vec::new(),
        }
    }

    /// For clients requests: the number of entries to skip.
    pub fn clients_offset(&self) -> u32 {
        (self.val1 >> 16) | (u32::from(self.val4) << 16)
    }

    /// For clients requests: the minimum request count.
    pub fn clients_threshold(&self) -> u16 {
        (self.val1 & 0xffff) as u16
    }

    /// For clients requests: the size of the answer buffer in bytes.
    pub fn clients_buf_len(&self) -> usize {
        usize::from(self.val2) << CLIENTS_SHIFT
    }

    /// Decode the body (what lies between header and signature).
    pub fn decode(body: &[u8]) -> Result<AdmnRequest, DecodeError> {
        let f: &[u8; ADMN_FIXED_LEN] = body
            .get(..ADMN_FIXED_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(DecodeError::BadBodyLength {
            op: crate::Op::Admn,
            len: body.len(),
        })?;
        let val5 = &body[ADMN_FIXED_LEN..];
        if val5.len() > MAX_VAL5 {
            return Err(DecodeError::BadBodyLength {
                op: crate::Op::Admn,
                len: body.len(),
            });
        }
        Ok(AdmnRequest {
            date: u32::from_be_bytes([f[0], f[1], f[2], f[3]]),
            val1: u32::from_be_bytes([f[4], f[5], f[6], f[7]]),
            aop: Aop::from_u8(f[8]),
            val2: f[9],
            val3: f[10],
            val4: f[11],
            val5: val5.to_vec(),
        })
    }

    /// Append the body bytes (`val5` beyond 64 bytes is cut).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.date.to_be_bytes());
        out.extend_from_slice(&self.val1.to_be_bytes());
        out.extend_from_slice(&[self.aop.number(), self.val2, self.val3, self.val4]);
        let n = self.val5.len().min(MAX_VAL5);
        out.extend_from_slice(&self.val5[..n]);
    }
}

/// The anonymous delay answer: inflation divisor and delay in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnonDelay {
    /// Requests per inflation step (or "off").
    pub inflate: u32,
    /// Delay in milliseconds; 65535 = forever, 65534 = no anonymous delay.
    pub delay_ms: u16,
}

impl AnonDelay {
    /// "Forever" (anonymous clients are not answered).
    pub const FOREVER: u16 = 0xffff;
    /// No anonymous delay configured.
    pub const NONE: u16 = 0xfffe;
    /// Length on the wire.
    pub const LEN: usize = 6;

    /// Decode the 6 bytes.
    pub fn decode(b: &[u8]) -> Result<AnonDelay, DecodeError> {
        match b {
            [a, b2, c, d, e, f] => Ok(AnonDelay {
                inflate: u32::from_be_bytes([*a, *b2, *c, *d]),
                delay_ms: u16::from_be_bytes([*e, *f]),
            }),
            _ => Err(DecodeError::BadBodyLength {
                op: crate::Op::Admn,
                len: b.len(),
            }),
        }
    }

    /// Append the 6 bytes.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.inflate.to_be_bytes());
        out.extend_from_slice(&self.delay_ms.to_be_bytes());
    }
}
