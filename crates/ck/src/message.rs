//! Whole-message driver: the checksums `dccproc -C` prints for a message.
//!
//! A raw message (header, blank line, body) is fed in pieces of any size
//! with [`MessageCks::feed`]; a milter that receives header fields one by one
//! uses [`MessageCks::header`], [`MessageCks::end_of_headers`] and
//! [`MessageCks::body`] instead. Either way each header field goes to the
//! header checksums and, when not one of theirs, to the MIME parser of the
//! body checksums; the body is passed through. Memory stays bounded: the
//! header is read into a buffer of at most 20 KBytes per field, as the
//! original does.

use crate::body::{BodyCks, BodySums};
use crate::header::fields::{FieldUse, HeaderCks, RelayFilter};
use crate::header::split::{Event, Splitter};
use crate::header::{CkConfig, Envelope};
use crate::{CkType, Sum};
use std::net::IpAddr;

/// One computed checksum.
#[derive(Debug, Clone)]
pub struct CkEntry {
    /// Its type.
    pub ck_type: CkType,
    /// For [`CkType::Sub`]: the lower-case header name (`list-id`,
    /// `mail_host`, `helo`).
    pub sub_name: Option<String>,
    /// The checksum.
    pub sum: Sum,
    /// Whether it is sent to DCC servers: false for a missing Message-ID,
    /// for the address of a trusted relay, for env_To, and for substitutes
    /// other than the first one found.
    pub report: bool,
}

/// The checksums of a message and the envelope as finally used.
#[derive(Debug, Clone, Default)]
pub struct Checksums {
    /// In the order `dccproc -C` prints them; env_To entries last.
    pub entries: Vec<CkEntry>,
    /// SMTP client address (given, or from a Received header with `-R`).
    pub client_ip: Option<IpAddr>,
    /// SMTP client host name.
    pub client_name: Option<String>,
    /// HELO value.
    pub helo: Option<String>,
    /// Envelope sender (given, or from a UNIX `From ` line or Return-Path).
    pub env_from: Option<String>,
    /// Domain of the envelope sender (given, or derived from it).
    pub mail_host: Option<String>,
    /// Set when `dccproc` would give up on the raw message without
    /// printing checksums (no blank line after the header: "missing message
    /// body"; no header line before it: "missing SMTP header lines").
    /// `entries` is empty then.
    pub error: Option<String>,
    /// Host names of the body's http:// and https:// URLs not yet taken
    /// with [`MessageCks::take_url_hosts`] (DNS list checks).
    pub url_hosts: Vec<String>,
}

impl Checksums {
    /// The entry of a type (the first substitute for [`CkType::Sub`]).
    pub fn get(&self, t: CkType) -> Option<&CkEntry> {
        self.entries.iter().find(|e| e.ck_type == t)
    }

    /// The label the original prints: `IP`, `env_From`, ...,
    /// `substitute list-id`.
    pub fn label(entry: &CkEntry) -> String {
        match (&entry.ck_type, &entry.sub_name) {
            (CkType::Sub, Some(n)) => format!("substitute {n}"),
            (t, _) => t.name().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Body,
}

/// Streaming checksum computation for one message.
pub struct MessageCks {
    hdr: HeaderCks,
    body: BodyCks,
    split: Splitter,
    phase: Phase,
    /// Raw input through `feed`: the original's fatal errors apply.
    raw: bool,
    error: Option<String>,
}

impl MessageCks {
    /// Start a message with this configuration and envelope.
    pub fn new(cfg: &CkConfig, env: &Envelope) -> Self {
        MessageCks {
            hdr: HeaderCks::new(cfg, env),
            body: BodyCks::new(),
            split: Splitter::new(cfg.keep_xdcc),
            phase: Phase::Header,
            raw: false,
            error: None,
        }
    }

    /// Callback asked, for an address found in a Received header while
    /// looking for the client IP (-R), whether that Received was added by a
    /// trusted MX/MXDCC relay and the next Received header should be used
    /// instead.
    pub fn set_relay_filter(&mut self, f: Box<dyn FnMut(IpAddr) -> bool + Send>) {
        let f: RelayFilter = f;
        self.hdr.set_relay_filter(f);
    }

    /// Raw message bytes (header, blank line, body), any chunking, LF or
    /// CRLF line endings.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.raw = true;
        match self.phase {
            Phase::Body => self.body.body(bytes),
            Phase::Header => {
                if let Some(used) = self.push_header(bytes) {
                    self.begin_body();
                    if let Some(rest) = bytes.get(used..).filter(|r| !r.is_empty()) {
                        self.body.body(rest);
                    }
                }
            }
        }
    }

    /// One header field as a milter receives it: the name and the value
    /// after the colon (which may contain folded lines).
    pub fn header(&mut self, name: &[u8], value: &[u8]) {
        if self.phase != Phase::Header {
            return;
        }
        let mut ended = self.push_header(name).is_some();
        ended = ended || self.push_header(b":").is_some();
        ended = ended || self.push_header(value).is_some();
        if !ended && !value.ends_with(b"\n") {
            ended = self.push_header(b"\r\n").is_some();
        }
        if !ended {
            ended = self.flush_header();
        }
        if ended {
            self.begin_body();
        }
    }

    /// The envelope's HELO value arrived before the message (milters): its
    /// `-S HELO` substitute checksum takes the first free substitute slot
    /// now, as the original dccm computes it in its HELO callback.
    pub fn helo_first(&mut self) {
        self.hdr.helo_first();
    }

    /// The header is complete (a milter's end-of-header callback).
    pub fn end_of_headers(&mut self) {
        if self.phase == Phase::Header {
            self.flush_header();
            self.begin_body();
        }
    }

    /// The host names of the body's URLs found since the last call (DNS
    /// list checks as the body arrives); the rest come with the checksums.
    pub fn take_url_hosts(&mut self) -> Vec<String> {
        self.body.take_url_hosts()
    }

    /// Body bytes, any chunking.
    pub fn body(&mut self, chunk: &[u8]) {
        self.end_of_headers();
        self.body.body(chunk);
    }

    /// Finish and return the checksums.
    pub fn finish(mut self) -> Checksums {
        if self.phase == Phase::Header {
            if self.raw {
                self.error
                    .get_or_insert_with(|| "missing message body".to_string());
            } else {
                self.end_of_headers();
            }
        }
        let sums = self.body.finish();
        let hosts = self.body.take_url_hosts();
        let mut out = self.collect(sums);
        out.url_hosts = hosts;
        out
    }

    fn push_header(&mut self, bytes: &[u8]) -> Option<usize> {
        let (hdr, body, split) = (&mut self.hdr, &mut self.body, &mut self.split);
        split.push(bytes, &mut |e| route(hdr, body, e))
    }

    fn flush_header(&mut self) -> bool {
        let (hdr, body, split) = (&mut self.hdr, &mut self.body, &mut self.split);
        split.flush(&mut |e| route(hdr, body, e))
    }

    fn begin_body(&mut self) {
        if self.phase == Phase::Body {
            return;
        }
        self.phase = Phase::Body;
        if self.raw && !self.hdr.seen_hdr {
            self.error
                .get_or_insert_with(|| "missing SMTP header lines".to_string());
        }
        if self.hdr.seen_hdr {
            self.body.header_seen();
        }
        self.hdr.end_of_headers();
        self.body.end_of_headers();
    }

    fn collect(self, sums: BodySums) -> Checksums {
        let h = &self.hdr;
        let mut out = Checksums {
            client_ip: h.ip.map(|(ip, _)| ip),
            client_name: h.client_name.clone(),
            helo: h.helo.clone(),
            env_from: h
                .env_from
                .as_deref()
                .map(|v| String::from_utf8_lossy(v).into_owned()),
            mail_host: h
                .mail_host
                .as_deref()
                .map(|v| String::from_utf8_lossy(v).into_owned()),
            error: self.error.clone(),
            entries: Vec::new(),
            url_hosts: Vec::new(),
        };
        if out.error.is_some() {
            return out;
        }
        let mut add = |t: CkType, g: Option<(Sum, bool)>| {
            if let Some((sum, report)) = g {
                out.entries.push(CkEntry {
                    ck_type: t,
                    sub_name: None,
                    sum,
                    report,
                });
            }
        };
        let pair = |g: Option<crate::header::fields::Got>| g.map(|g| (g.sum, g.report));
        add(CkType::Ip, pair(h.ip_got()));
        add(CkType::EnvFrom, pair(h.env_from_sum));
        add(CkType::From, pair(h.from));
        let mut subs = h.subs();
        let first_sub = subs.next();
        if let Some((name, sum)) = first_sub {
            out.entries.push(CkEntry {
                ck_type: CkType::Sub,
                sub_name: Some(name.to_string()),
                sum,
                report: true,
            });
        }
        let mut add = |t: CkType, g: Option<(Sum, bool)>| {
            if let Some((sum, report)) = g {
                out.entries.push(CkEntry {
                    ck_type: t,
                    sub_name: None,
                    sum,
                    report,
                });
            }
        };
        add(CkType::MessageId, pair(h.message_id));
        add(CkType::Received, pair(h.received));
        add(CkType::Body, sums.body.map(|s| (s, true)));
        add(CkType::Fuz1, sums.fuz1.map(|s| (s, true)));
        add(CkType::Fuz2, sums.fuz2.map(|s| (s, true)));
        for (name, sum) in subs {
            out.entries.push(CkEntry {
                ck_type: CkType::Sub,
                sub_name: Some(name.to_string()),
                sum,
                report: false,
            });
        }
        for sum in &h.env_to {
            out.entries.push(CkEntry {
                ck_type: CkType::EnvTo,
                sub_name: None,
                sum: *sum,
                report: false,
            });
        }
        out
    }
}

/// Hand a header event to the header checksums and, for fields they do
/// not consume, to the body's MIME parser.
fn route(hdr: &mut HeaderCks, body: &mut BodyCks, e: Event<'_>) {
    match e {
        Event::Field(f) => {
            if let FieldUse::ToBody = hdr.field(f) {
                body.header_field(f);
                hdr.field_after_body(f);
            }
        }
        Event::DroppedXdcc => hdr.seen_hdr = true,
        Event::EndOfHeader => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_sums_after_header_of_consumed_fields_only() {
        // every field goes to the header checksums, none to the MIME parser
        let msg = b"Received: from a.example (a.example [192.0.2.1])\n\
            From: someone@example.com\n\nSome text that is long enough for a Body checksum.\n";
        let mut m = MessageCks::new(&CkConfig::default(), &Envelope::default());
        m.feed(msg);
        let c = m.finish();
        assert!(c.error.is_none());
        assert!(c.get(CkType::Body).is_some());
        assert!(c.get(CkType::Fuz1).is_some());
    }
}
