//! The 24-byte header of every DCC UDP datagram.
//!
//! Layout: `len` (2, big-endian, the whole datagram including the trailing
//! 16-byte signature), `pkt_vers` (1), `op` (1), `sender` (4, big-endian:
//! a client-ID in requests, the server's ID in answers) and `op_nums`
//! (16 opaque bytes chosen by the client and echoed by the server).

use crate::error::DecodeError;
use std::fmt;

/// Size of the header.
pub const HDR_LEN: usize = 24;
/// Size of the signature that ends every datagram.
pub const SIG_LEN: usize = 16;
/// Oldest protocol version understood.
pub const VERS_MIN: u8 = 4;
/// Current (and newest) protocol version.
pub const VERS_CUR: u8 = 12;
/// Highest version accepted in a NOP while the versions are negotiated.
pub const NOP_VERS_MAX: u8 = 32;
/// The last version whose answers carry one 4-byte count per checksum.
pub const VERS_SINGLE_COUNTS: u8 = 5;
/// The last version whose clients-list answers use fixed-size entries.
pub const VERS_FIXED_CLIENTS: u8 = 6;
/// The last version whose clients-list answers send 4-byte dates.
pub const VERS_CLIENTS_DATE4: u8 = 9;
/// The last version for which anonymous answers are signed with the op_nums.
pub const VERS_OPNUMS_SIGNED: u8 = 8;

/// The anonymous client-ID.
pub const ID_ANON: u32 = 1;
/// Smallest server-ID.
pub const SRVR_ID_MIN: u32 = 100;
/// Largest server-ID.
pub const SRVR_ID_MAX: u32 = 32767;
/// Smallest client-ID.
pub const CLNT_ID_MIN: u32 = 32768;
/// Largest client-ID.
pub const CLNT_ID_MAX: u32 = 0x00ff_ffff;

/// The twelve operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Op {
    /// Is the server alive? (also negotiates the version).
    Nop = 1,
    /// Report checksums and ask for their counts.
    Report = 2,
    /// Ask for counts without reporting.
    Query = 3,
    /// Counts (DCC or greylist) from the server.
    Answer = 4,
    /// Administrative request, or the server's data answering one.
    Admn = 5,
    /// Success of a NOP or of an administrative request.
    Ok = 6,
    /// The server refuses a well-authenticated request.
    Error = 7,
    /// Delete a checksum from the database.
    Delete = 8,
    /// Greylist: report a triple.
    GreyReport = 9,
    /// Greylist: query a triple.
    GreyQuery = 10,
    /// Greylist: restore the embargo of a spammer's triple.
    GreySpam = 11,
    /// Greylist: a whitelisted triple.
    GreyWhite = 12,
}

impl Op {
    /// The operation with this number.
    pub fn from_u8(n: u8) -> Option<Op> {
        Some(match n {
            1 => Op::Nop,
            2 => Op::Report,
            3 => Op::Query,
            4 => Op::Answer,
            5 => Op::Admn,
            6 => Op::Ok,
            7 => Op::Error,
            8 => Op::Delete,
            9 => Op::GreyReport,
            10 => Op::GreyQuery,
            11 => Op::GreySpam,
            12 => Op::GreyWhite,
            _ => return None,
        })
    }

    /// The wire number.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The name the original uses in its messages.
    pub fn name(self) -> &'static str {
        match self {
            Op::Nop => "NOP",
            Op::Report => "REPORT",
            Op::Query => "QUERY",
            Op::Answer => "ANSWER",
            Op::Admn => "ADMN",
            Op::Ok => "OK",
            Op::Error => "ERROR",
            Op::Delete => "DELETE",
            Op::GreyReport => "GREYLIST REPORT",
            Op::GreyQuery => "GREYLIST QUERY",
            Op::GreySpam => "GREYLIST SPAM",
            Op::GreyWhite => "GREYLIST WHITELIST",
        }
    }

    /// The range of `pkt_vers` a server accepts for this operation.
    pub fn versions(self) -> std::ops::RangeInclusive<u8> {
        match self {
            Op::Nop => VERS_MIN..=NOP_VERS_MAX,
            _ => VERS_MIN..=VERS_CUR,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The client's transaction identification, four 32-bit words `h`
/// (host), `p` (process), `r` (request serial) and `t` (transmission
/// number). They are opaque to the server, which echoes them; the reference
/// client writes them in its own CPU byte order, so they are kept as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OpNums {
    /// Host identification.
    pub h: [u8; 4],
    /// Process identification.
    pub p: [u8; 4],
    /// Request number, the same for all transmissions of one request.
    pub r: [u8; 4],
    /// Transmission number.
    pub t: [u8; 4],
}

impl OpNums {
    /// From the 16 wire bytes.
    pub fn from_bytes(b: [u8; 16]) -> OpNums {
        let w = |i: usize| [b[i], b[i + 1], b[i + 2], b[i + 3]];
        OpNums {
            h: w(0),
            p: w(4),
            r: w(8),
            t: w(12),
        }
    }

    /// The 16 wire bytes.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[0..4].copy_from_slice(&self.h);
        out[4..8].copy_from_slice(&self.p);
        out[8..12].copy_from_slice(&self.r);
        out[12..16].copy_from_slice(&self.t);
        out
    }

    /// Words as a little-endian client (such as the reference on x86)
    /// writes them.
    pub fn from_le_words(h: u32, p: u32, r: u32, t: u32) -> OpNums {
        OpNums {
            h: h.to_le_bytes(),
            p: p.to_le_bytes(),
            r: r.to_le_bytes(),
            t: t.to_le_bytes(),
        }
    }
}

/// The decoded header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Total length from the `len` field.
    pub len: u16,
    /// Protocol version.
    pub pkt_vers: u8,
    /// Operation.
    pub op: Op,
    /// Client-ID or server-ID of the sender.
    pub sender: u32,
    /// Transaction identification.
    pub op_nums: OpNums,
}

impl Header {
    /// Decode the header of a datagram and check that its `len` matches the
    /// number of bytes and that it has room for the signature.
    pub fn decode(buf: &[u8]) -> Result<Header, DecodeError> {
        let need = HDR_LEN + SIG_LEN;
        let b: &[u8; HDR_LEN] =
            buf.get(..HDR_LEN)
                .and_then(|s| s.try_into().ok())
                .ok_or(DecodeError::TooShort {
                    need,
                    got: buf.len(),
                })?;
        let len = u16::from_be_bytes([b[0], b[1]]);
        if usize::from(len) != buf.len() {
            return Err(DecodeError::LengthMismatch {
                header_len: len,
                received: buf.len(),
            });
        }
        if buf.len() < need {
            return Err(DecodeError::TooShort {
                need,
                got: buf.len(),
            });
        }
        let op = Op::from_u8(b[3]).ok_or(DecodeError::UnknownOp(b[3]))?;
        let mut nums = [0u8; 16];
        nums.copy_from_slice(&b[8..24]);
        Ok(Header {
            len,
            pkt_vers: b[2],
            op,
            sender: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            op_nums: OpNums::from_bytes(nums),
        })
    }

    /// Append the 24 header bytes.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.len.to_be_bytes());
        out.push(self.pkt_vers);
        out.push(self.op.number());
        out.extend_from_slice(&self.sender.to_be_bytes());
        out.extend_from_slice(&self.op_nums.to_bytes());
    }
}

/// Bytes of the header that identify a request across retransmissions.
pub const CACHE_KEY_LEN: usize = 20;

/// The part of a request's header that is the same in all its
/// retransmissions: everything but the transmission number `t`. Servers
/// remember answers under this key (with the client's UDP port) for about
/// 32 seconds and replay them, re-signed, instead of counting a report
/// twice.
pub fn cache_key(datagram: &[u8]) -> Option<[u8; CACHE_KEY_LEN]> {
    datagram.get(..CACHE_KEY_LEN)?.try_into().ok()
}

/// What kind of identity an ID in the `sender` field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// 1: the anonymous client.
    Anonymous,
    /// 100..=32767: a server-ID (also used by `cdcc` for administration).
    Server,
    /// 32768..=16777215: a client-ID.
    Client,
    /// 0, 2..=99 or above 16777215: requests from these are dropped.
    Invalid,
}

impl IdKind {
    /// Classify an ID.
    pub fn of(id: u32) -> IdKind {
        match id {
            ID_ANON => IdKind::Anonymous,
            SRVR_ID_MIN..=SRVR_ID_MAX => IdKind::Server,
            CLNT_ID_MIN..=CLNT_ID_MAX => IdKind::Client,
            _ => IdKind::Invalid,
        }
    }
}

/// The version a server answers in: the request's, limited to 4..=12.
pub fn answer_version(request_vers: u8) -> u8 {
    request_vers.clamp(VERS_MIN, VERS_CUR)
}
