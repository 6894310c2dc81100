//! The DNS questions the check plan asks and what it needs of their answers.
//!
//! An [`Answer`] keeps only what the checks use: the addresses (A or AAAA) or
//! mail exchangers (MX) of the answer section, in order, and the name servers
//! (NS) of the authority section: the original finds a domain's name servers
//! there and never asks an NS question. [`Answer::from_message`] reads a
//! hickory-proto message (pure: no I/O).

use std::fmt;
use std::net::IpAddr;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use hickory_proto::serialize::binary::BinDecodable;

/// The record types the checks ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QType {
    A,
    Aaaa,
    Mx,
}

impl QType {
    pub fn record_type(self) -> RecordType {
        match self {
            QType::A => RecordType::A,
            QType::Aaaa => RecordType::AAAA,
            QType::Mx => RecordType::MX,
        }
    }
}

impl fmt::Display for QType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QType::A => "A",
            QType::Aaaa => "AAAA",
            QType::Mx => "MX",
        })
    }
}

/// One DNS question: a name exactly as the original would ask it (case and a
/// trailing dot kept) and a type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Question {
    pub name: String,
    pub qtype: QType,
}

impl Question {
    pub fn new(name: impl Into<String>, qtype: QType) -> Question {
        Question {
            name: name.into(),
            qtype,
        }
    }
}

impl fmt::Display for Question {
    /// As the recorded query logs: `A 66.2.0.192.bl.test` (no trailing dot).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name.strip_suffix('.').unwrap_or(&self.name);
        write!(f, "{} {}", self.qtype, name)
    }
}

/// How a question ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// NOERROR with at least one record of the asked type.
    Records,
    /// NOERROR without a record of the asked type.
    NoData,
    /// The name does not exist.
    NxDomain,
    /// SERVFAIL, REFUSED, a malformed or truncated reply: the resolver failed.
    Failed,
    /// No answer in the time allowed.
    TimedOut,
}

/// What the checks use of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: Status,
    /// A or AAAA records of the answer section, in order.
    pub addrs: Vec<IpAddr>,
    /// MX exchange names of the answer section, in order.
    pub mx: Vec<String>,
    /// NS names of the authority section, in order.
    pub ns: Vec<String>,
    /// Milliseconds the question took (the time budgets count them).
    pub elapsed_ms: u64,
}

/// Most addresses kept of one answer.
const MAX_RECORDS: usize = 64;

impl Answer {
    /// An answer without records.
    pub fn empty(status: Status, elapsed_ms: u64) -> Answer {
        Answer {
            status,
            addrs: Vec::new(),
            mx: Vec::new(),
            ns: Vec::new(),
            elapsed_ms,
        }
    }

    /// No answer within `elapsed_ms`.
    pub fn timed_out(elapsed_ms: u64) -> Answer {
        Answer::empty(Status::TimedOut, elapsed_ms)
    }

    /// Reads a reply to `q`.
    pub fn from_message(msg: &Message, q: QType, elapsed_ms: u64) -> Answer {
        if msg.message_type() != MessageType::Response || msg.truncated() {
            return Answer::empty(Status::Failed, elapsed_ms);
        }
        match msg.response_code() {
            ResponseCode::NoError => {}
            ResponseCode::NXDomain => return Answer::empty(Status::NxDomain, elapsed_ms),
            _ => return Answer::empty(Status::Failed, elapsed_ms),
        }
        let mut a = Answer::empty(Status::NoData, elapsed_ms);
        for r in msg.answers() {
            match r.data() {
                RData::A(v4) if q == QType::A => a.addrs.push(IpAddr::V4(v4.0)),
                RData::AAAA(v6) if q == QType::Aaaa => a.addrs.push(IpAddr::V6(v6.0)),
                RData::MX(mx) if q == QType::Mx => a.mx.push(name_text(mx.exchange())),
                _ => continue,
            }
            if a.addrs.len() + a.mx.len() >= MAX_RECORDS {
                break;
            }
        }
        if a.addrs.is_empty() && a.mx.is_empty() {
            return a;
        }
        a.status = Status::Records;
        for r in msg.name_servers() {
            if let RData::NS(ns) = r.data() {
                if a.ns.len() < MAX_RECORDS {
                    a.ns.push(name_text(&ns.0));
                }
            }
        }
        a
    }

    /// Reads reply bytes; bytes that do not decode are a failed lookup.
    pub fn from_bytes(bytes: &[u8], q: QType, elapsed_ms: u64) -> Answer {
        match Message::from_bytes(bytes) {
            Ok(m) => Answer::from_message(&m, q, elapsed_ms),
            Err(_) => Answer::empty(Status::Failed, elapsed_ms),
        }
    }
}

/// A name as text without its root dot, as the resolver library gives names.
fn name_text(n: &hickory_proto::rr::Name) -> String {
    let s = n.to_ascii();
    match s.strip_suffix('.') {
        Some(t) => t.to_string(),
        None => s,
    }
}
