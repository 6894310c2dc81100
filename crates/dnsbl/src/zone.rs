//! A small authoritative zone for tests and benchmarks, in the format of the
//! recordings' `zone.txt`: `NAME TYPE VALUE` a line (A, AAAA, MX "pref host",
//! NS, TXT, SOA), `#` comments, and faults: `$DROP NAME` (never answered),
//! `$SERVFAIL NAME`, `$TRUNCATE NAME` (over UDP an empty reply with TC set),
//! `$MALFORMED NAME` (over UDP bytes that are no DNS message); each applies to
//! the name and every name below it.
//!
//! Answers as the recording server's: the records of the asked type, and in
//! the authority section of a positive answer the NS records of the closest
//! enclosing name that has some; NODATA for a name that exists (or has names
//! below it) without such records, NXDOMAIN else, both with an SOA.
//! Pure: it maps a query message to a reply.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, MX, NS, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::answer::{Answer, Question};
use crate::plan::resolver_timeout;

/// TTL of every record served.
pub const TTL: u32 = 60;

/// A fault a name is set up for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Drop,
    ServFail,
    Truncate,
    Malformed,
}

/// What the server does with a query.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Say nothing.
    Drop,
    /// Send these bytes (not a DNS message).
    Garbage(Vec<u8>),
    Message(Box<Message>),
}

#[derive(Clone, Debug, Default)]
pub struct Zone {
    recs: HashMap<String, Vec<(RecordType, String)>>,
    /// Every owner name and every name above one (names that exist).
    names: std::collections::HashSet<String>,
    faults: Vec<(String, Fault)>,
}

fn below(name: &str, suffix: &str) -> bool {
    name == suffix || name.strip_suffix(suffix).is_some_and(|p| p.ends_with('.'))
}

fn norm(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn parse_name(s: &str) -> Option<Name> {
    let fq = if s.ends_with('.') {
        s.to_string()
    } else {
        format!("{s}.")
    };
    Name::from_ascii(&fq).ok()
}

impl Zone {
    /// Reads zone text; lines that cannot be read are skipped.
    pub fn parse(text: &str) -> Zone {
        let mut z = Zone::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let parts: Vec<&str> = line.split_whitespace().collect();
            let (Some(&first), Some(&second)) = (parts.first(), parts.get(1)) else {
                continue;
            };
            let fault = match first {
                "$DROP" => Some(Fault::Drop),
                "$SERVFAIL" => Some(Fault::ServFail),
                "$TRUNCATE" => Some(Fault::Truncate),
                "$MALFORMED" => Some(Fault::Malformed),
                _ => None,
            };
            if let Some(f) = fault {
                z.faults.push((norm(second), f));
                continue;
            }
            let value = parts[2..].join(" ");
            let rtype = match second.to_ascii_uppercase().as_str() {
                "A" => RecordType::A,
                "AAAA" => RecordType::AAAA,
                "MX" => RecordType::MX,
                "NS" => RecordType::NS,
                "TXT" => RecordType::TXT,
                "SOA" => RecordType::SOA,
                _ => continue,
            };
            let owner = norm(first);
            let mut n = owner.as_str();
            while z.names.insert(n.to_string()) {
                match n.split_once('.') {
                    Some((_, up)) => n = up,
                    None => break,
                }
            }
            z.recs.entry(owner).or_default().push((rtype, value));
        }
        z
    }

    /// The fault set up for a name, if any.
    pub fn fault(&self, name: &str) -> Option<Fault> {
        let n = norm(name);
        self.faults
            .iter()
            .find(|(f, _)| below(&n, f))
            .map(|&(_, f)| f)
    }

    fn exists(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    fn enclosing(&self, name: &str, t: RecordType) -> Option<(String, Vec<String>)> {
        let mut n = name;
        loop {
            let vals: Vec<String> = self
                .recs
                .get(n)
                .map(|v| {
                    v.iter()
                        .filter(|(rt, _)| *rt == t)
                        .map(|(_, s)| s.clone())
                        .collect()
                })
                .unwrap_or_default();
            if !vals.is_empty() {
                return Some((n.to_string(), vals));
            }
            n = n.split_once('.')?.1;
        }
    }

    fn record(owner: &Name, t: RecordType, value: &str) -> Option<Record> {
        let rdata = match t {
            RecordType::A => RData::A(A(Ipv4Addr::from_str(value).ok()?)),
            RecordType::AAAA => RData::AAAA(AAAA(Ipv6Addr::from_str(value).ok()?)),
            RecordType::MX => {
                let (pref, host) = value.split_once(char::is_whitespace)?;
                RData::MX(MX::new(pref.parse().ok()?, parse_name(host.trim())?))
            }
            RecordType::NS => RData::NS(NS(parse_name(value)?)),
            RecordType::TXT => RData::TXT(TXT::new(vec![value.trim_matches('"').to_string()])),
            _ => return None,
        };
        Some(Record::from_rdata(owner.clone(), TTL, rdata))
    }

    fn soa(&self, name: &str) -> Option<Record> {
        let owner = match self.enclosing(name, RecordType::SOA) {
            Some((o, _)) => o,
            None => name.rsplit('.').next().unwrap_or(name).to_string(),
        };
        let o = parse_name(&owner)?;
        let soa = SOA::new(
            parse_name(&format!("ns.{owner}"))?,
            parse_name(&format!("hostmaster.{owner}"))?,
            1,
            3600,
            600,
            86400,
            TTL,
        );
        Some(Record::from_rdata(o, TTL, RData::SOA(soa)))
    }

    /// The reply to a query; `tcp` for a query that came over TCP (truncation
    /// and garbage are UDP faults).
    pub fn respond(&self, query: &Message, tcp: bool) -> Reply {
        let mut m = Message::new();
        m.set_id(query.id())
            .set_message_type(MessageType::Response)
            .set_op_code(OpCode::Query)
            .set_authoritative(true)
            .set_recursion_available(true)
            .set_recursion_desired(query.recursion_desired());
        let Some(q) = query.queries().first() else {
            m.set_response_code(ResponseCode::FormErr);
            return Reply::Message(Box::new(m));
        };
        m.add_query(q.clone());
        let raw = q.name().to_ascii();
        let name = norm(&raw);
        match self.fault(&name) {
            Some(Fault::Drop) => return Reply::Drop,
            Some(Fault::ServFail) => {
                m.set_response_code(ResponseCode::ServFail);
                return Reply::Message(Box::new(m));
            }
            Some(Fault::Truncate) if !tcp => {
                m.set_truncated(true);
                return Reply::Message(Box::new(m));
            }
            Some(Fault::Malformed) if !tcp => {
                let mut b = query.id().to_be_bytes().to_vec();
                b.extend_from_slice(&[0x81, 0x80, 0xff, 0xff, 0, 7]);
                return Reply::Garbage(b);
            }
            _ => {}
        }
        let t = q.query_type();
        let owner = q.name().clone();
        let rrs: Vec<Record> = self
            .recs
            .get(&name)
            .map(|v| {
                v.iter()
                    .filter(|(rt, _)| *rt == t)
                    .filter_map(|(rt, val)| Self::record(&owner, *rt, val))
                    .collect()
            })
            .unwrap_or_default();
        if !rrs.is_empty() {
            m.add_answers(rrs);
            if t != RecordType::NS {
                if let Some((o, vals)) = self.enclosing(&name, RecordType::NS) {
                    let on = parse_name(&o);
                    for v in vals {
                        if let Some(r) = on
                            .as_ref()
                            .and_then(|on| Self::record(on, RecordType::NS, &v))
                        {
                            m.add_name_server(r);
                        }
                    }
                }
            }
        } else {
            if !self.exists(&name) {
                m.set_response_code(ResponseCode::NXDomain);
            }
            if let Some(soa) = self.soa(&name) {
                m.add_name_server(soa);
            }
        }
        Reply::Message(Box::new(m))
    }

    /// The answer a resolver would give for a question with `budget_ms` left:
    /// a dropped name takes the resolver's whole timeout. For the pure tests.
    pub fn answer(&self, q: &Question, budget_ms: u64) -> Answer {
        let Some(name) = parse_name(&q.name) else {
            return Answer::empty(crate::answer::Status::Failed, 0);
        };
        let mut query = Message::new();
        query.add_query(hickory_proto::op::Query::query(name, q.qtype.record_type()));
        query.set_recursion_desired(true);
        match self.respond(&query, true) {
            Reply::Drop => {
                let (tries, per_try) = resolver_timeout(budget_ms);
                Answer::timed_out(u64::from(tries) * per_try)
            }
            Reply::Garbage(b) => Answer::from_bytes(&b, q.qtype, 0),
            Reply::Message(m) => Answer::from_message(&m, q.qtype, 0),
        }
    }
}
