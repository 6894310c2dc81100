//! Typed errors for everything that can be wrong with received bytes.
//!
//! Decoding never panics: every malformed input ends in one of these.

use crate::header::Op;
use std::fmt;

/// Why a datagram (or a part of one) could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than the smallest valid form of what was expected.
    TooShort { need: usize, got: usize },
    /// More bytes than the largest valid form.
    TooLong { max: usize, got: usize },
    /// The header's `len` field differs from the number of bytes received.
    LengthMismatch { header_len: u16, received: usize },
    /// The body of this operation cannot have this size.
    BadBodyLength { op: Op, len: usize },
    /// The operation byte is not one of the twelve DCC operations.
    UnknownOp(u8),
    /// A server-to-client operation where a request was expected.
    NotARequest(Op),
    /// A client-to-server operation where a response was expected.
    NotAResponse(Op),
    /// A protocol version this operation cannot have.
    BadVersion { op: Op, vers: u8 },
    /// A checksum type number outside 1..=13.
    UnknownCkType(u8),
    /// A checksum whose length byte is not 18.
    BadCkLen { ty: u8, len: u8 },
    /// An ERROR text that is not NUL-terminated, or has an inner NUL.
    BadErrorText,
    /// An entry of a binary clients list ends before its declared fields.
    TruncatedClient { offset: usize },
    /// A packed integer in a clients list is longer than needed or too big.
    BadVarint { offset: usize },
    /// A flooded report with no checksums or more than 14.
    BadNumCks(u8),
    /// A flood message starting with one of the reserved positions 6..=9.
    BadFloodPos(u64),
    /// A flood NOTE or COMPLAINT whose length byte does not fit its text.
    BadNoteLength(u8),
    /// A flood END message longer than 200 bytes of text.
    FloodTextTooLong(usize),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooShort { need, got } => {
                write!(f, "too short: {got} bytes, need at least {need}")
            }
            DecodeError::TooLong { max, got } => write!(f, "too long: {got} bytes, at most {max}"),
            DecodeError::LengthMismatch {
                header_len,
                received,
            } => {
                write!(
                    f,
                    "header length {header_len} but {received} bytes received"
                )
            }
            DecodeError::BadBodyLength { op, len } => {
                write!(f, "wrong packet length {len} for {op}")
            }
            DecodeError::UnknownOp(op) => write!(f, "unknown operation {op}"),
            DecodeError::NotARequest(op) => write!(f, "{op} is not a request"),
            DecodeError::NotAResponse(op) => write!(f, "{op} is not a response"),
            DecodeError::BadVersion { op, vers } => {
                write!(f, "protocol version {vers} not accepted for {op}")
            }
            DecodeError::UnknownCkType(t) => write!(f, "unknown checksum type {t}"),
            DecodeError::BadCkLen { ty, len } => {
                write!(f, "checksum type {ty} has length {len} instead of 18")
            }
            DecodeError::BadErrorText => f.write_str("error text is not a NUL-terminated string"),
            DecodeError::TruncatedClient { offset } => {
                write!(f, "clients list entry at offset {offset} is truncated")
            }
            DecodeError::BadVarint { offset } => {
                write!(f, "bad packed number at offset {offset} of clients list")
            }
            DecodeError::BadNumCks(n) => write!(f, "flooded report with {n} checksums"),
            DecodeError::BadFloodPos(p) => write!(f, "bogus flood position {p}"),
            DecodeError::BadNoteLength(n) => write!(f, "bad flood note length {n}"),
            DecodeError::FloodTextTooLong(n) => write!(f, "flood message of {n} bytes is too long"),
        }
    }
}

impl std::error::Error for DecodeError {}
