//! Whole-message driver: the checksums `dccproc -C` prints for a message.
//!
//! A raw message (header, blank line, body) is fed in pieces of any size
//! with [`MessageCks::feed`]; a milter that receives header fields one by one
//! uses [`MessageCks::header`], [`MessageCks::end_of_headers`] and
//! [`MessageCks::body`] instead. Either way each header field goes to the
//! header checksums and, when not one of theirs, to the MIME parser of the
//! body checksums; the body is passed through.
//!
//! Each program of the original cuts the header into fields its own way
//! ([`Framing`]): `dccproc` line by line into a 20 KByte buffer, `dccifd`
//! through the 8 KByte buffer its socket is read into, and `dccm` gets
//! whole fields from the MTA. Memory stays bounded either way: at most
//! 20 KBytes for a raw message's field; a milter's field is as long as
//! the MTA made it.

use crate::body::{BodyCks, BodySums};
use crate::header::fields::{FieldUse, HeaderCks, RelayFilter, SkipNote};
pub use crate::header::ifd::FieldCounts;
use crate::header::ifd::{IfdSplit, IfdStart};
use crate::header::split::{Event, Splitter};
use crate::header::{CkConfig, Envelope};
use crate::{CkType, Sum};
use std::net::IpAddr;

/// How a raw message's header is cut into fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Framing {
    /// As `dccproc` reads it: a line is continued by lines starting with
    /// a blank unless it has at most two bytes, a field over 2048 bytes
    /// keeps its first 1024 bytes, a NUL ends only its line, DCC's own
    /// X-DCC fields are dropped (`crate::header::split`).
    #[default]
    Dccproc,
    /// As `dccifd` reads it, its buffer standing as given when the message
    /// begins ([`crate::header::ifd`]).
    Dccifd(IfdStart),
}

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
    /// `entries` is empty then. With the `dccifd` framing only "missing
    /// message body" is set, a complaint after which the original goes on:
    /// `entries` are kept.
    pub error: Option<String>,
    /// With the `dccifd` framing: its header fields as it counted them.
    pub fields: Option<FieldCounts>,
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

/// The field splitter of the framing.
enum Split {
    Dccproc(Splitter),
    Dccifd(Box<IfdSplit>),
}

/// Streaming checksum computation for one message.
pub struct MessageCks {
    hdr: HeaderCks,
    body: BodyCks,
    split: Split,
    phase: Phase,
    /// Raw input through `feed`: with the `dccproc` framing, its fatal
    /// errors apply.
    raw: bool,
    error: Option<String>,
}

impl MessageCks {
    /// Start a message with this configuration and envelope, a raw
    /// message framed as `dccproc` reads it.
    pub fn new(cfg: &CkConfig, env: &Envelope) -> Self {
        Self::with_framing(cfg, env, Framing::Dccproc)
    }

    /// Start a message whose raw header is framed as `framing` says.
    pub fn with_framing(cfg: &CkConfig, env: &Envelope, framing: Framing) -> Self {
        let split = match framing {
            Framing::Dccproc => Split::Dccproc(Splitter::new(cfg.keep_xdcc)),
            Framing::Dccifd(start) => Split::Dccifd(Box::new(IfdSplit::new(start))),
        };
        MessageCks {
            hdr: HeaderCks::new(cfg, env),
            body: BodyCks::new(),
            split,
            phase: Phase::Header,
            raw: false,
            error: None,
        }
    }

    /// Raw input with `dccproc`'s fatal errors: no header line, no body.
    fn dccproc_raw(&self) -> bool {
        self.raw && matches!(self.split, Split::Dccproc(_))
    }

    /// Callback asked, for an address found in a Received header while
    /// looking for the client IP (-R), whether that Received was added by a
    /// trusted MX/MXDCC relay and the next Received header should be used
    /// instead.
    pub fn set_relay_filter(&mut self, f: Box<dyn FnMut(IpAddr) -> bool + Send>) {
        let f: RelayFilter = f;
        self.hdr.set_relay_filter(f);
    }

    /// Callback told the name of the local form (`qmail`, `LMTP`, ...) of
    /// each Received header passed over without an address while looking
    /// for the client IP, in order with the relay filter's calls (the
    /// original's log note `skip NAME Received: header`).
    pub fn set_skip_note(&mut self, f: Box<dyn FnMut(&'static str) + Send>) {
        let f: SkipNote = f;
        self.hdr.set_skip_note(f);
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
                    self.body_in_split();
                    if let Some(rest) = bytes.get(used..).filter(|r| !r.is_empty()) {
                        self.body.body(rest);
                    }
                }
            }
        }
    }

    /// One header field as a milter receives it: the name and the value
    /// after the colon (which may contain folded lines). As the original
    /// dccm, the field is taken whole, its name and value as C strings
    /// (each ends at a NUL): the name says whether it is From, Message-ID
    /// or Received; only the checksums keep at most 1024 bytes of the
    /// value, as they do of any value.
    pub fn header(&mut self, name: &[u8], value: &[u8]) {
        if self.phase != Phase::Header {
            return;
        }
        let cstr = |b: &[u8]| -> usize { b.iter().position(|&c| c == 0).unwrap_or(b.len()) };
        let (name, value) = (&name[..cstr(name)], &value[..cstr(value)]);
        let mut f = Vec::with_capacity(name.len() + 1 + value.len());
        f.extend_from_slice(name);
        f.push(b':');
        f.extend_from_slice(value);
        if let FieldUse::ToBody = self.hdr.milter_field(name, &f) {
            self.body.header_field_whole(&f);
            self.hdr.field_after_body(&f);
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
            if let Split::Dccproc(_) = self.split {
                self.flush_header();
            }
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
            if let Split::Dccifd(ifd) = &mut self.split {
                // the end of the input ends the header, with a complaint
                let (hdr, body) = (&mut self.hdr, &mut self.body);
                ifd.finish(&mut |e| route(hdr, body, e, true));
                if ifd.missing_body {
                    self.error = Some("missing message body".to_string());
                }
                self.begin_body();
                self.body_in_split();
            } else if self.raw {
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
        let (hdr, body) = (&mut self.hdr, &mut self.body);
        match &mut self.split {
            Split::Dccproc(s) => s.push(bytes, &mut |e| route(hdr, body, e, false)),
            Split::Dccifd(s) => s.push(bytes, &mut |e| route(hdr, body, e, true)),
        }
    }

    fn flush_header(&mut self) -> bool {
        let (hdr, body) = (&mut self.hdr, &mut self.body);
        match &mut self.split {
            Split::Dccproc(s) => s.flush(&mut |e| route(hdr, body, e, false)),
            Split::Dccifd(_) => false,
        }
    }

    /// `dccifd` has read body bytes into its buffer with the header; its
    /// body checksums begin with the empty line that ended the header.
    fn body_in_split(&mut self) {
        if let Split::Dccifd(s) = &self.split {
            self.body.separator(s.separator());
            let b = s.body_start();
            if !b.is_empty() {
                self.body.body(b);
            }
        }
    }

    fn begin_body(&mut self) {
        if self.phase == Phase::Body {
            return;
        }
        self.phase = Phase::Body;
        let dccproc = self.dccproc_raw();
        if dccproc && !self.hdr.seen_hdr {
            self.error
                .get_or_insert_with(|| "missing SMTP header lines".to_string());
        }
        // only dccproc gives up on a message without a header line
        if self.hdr.seen_hdr || !dccproc {
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
            fields: match &self.split {
                Split::Dccifd(s) => Some(s.counts),
                Split::Dccproc(_) => None,
            },
            entries: Vec::new(),
            url_hosts: Vec::new(),
        };
        // dccproc gives up; dccifd complains and goes on
        if out.error.is_some() && self.dccproc_raw() {
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
/// not consume, to the body's MIME parser (`whole`: the field is not cut
/// there as dccproc cuts it).
fn route(hdr: &mut HeaderCks, body: &mut BodyCks, e: Event<'_>, whole: bool) {
    match e {
        Event::Field(f) => {
            if let FieldUse::ToBody = hdr.field(f) {
                if whole {
                    body.header_field_whole(f);
                } else {
                    body.header_field(f);
                }
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

    fn sums(framing: Framing, msg: &[u8]) -> (Option<Sum>, Option<Sum>) {
        let mut m = MessageCks::with_framing(&CkConfig::default(), &Envelope::default(), framing);
        m.feed(msg);
        let c = m.finish();
        assert!(c.error.is_none(), "{:?}", c.error);
        let get = |t| c.get(t).map(|e| e.sum);
        (get(CkType::Body), get(CkType::Fuz1))
    }

    fn with_body(body: &[u8], crlf: bool) -> Vec<u8> {
        let mut m = b"From: alice@example.com\nSubject: test\n\n".to_vec();
        m.extend_from_slice(body);
        if crlf {
            let mut out = Vec::new();
            for &b in &m {
                if b == b'\n' {
                    out.push(b'\r');
                }
                out.push(b);
            }
            m = out;
        }
        m
    }

    #[test]
    fn dccifd_fuz1_sees_the_empty_line_before_the_body() {
        // the body of the DNS list recordings 10a/10b: the original dccifd
        // passes the empty line ending the header to the body checksums,
        // so Fuz1 has a line end before "Hello Bob," and drops that line as
        // a greeting: 23 letters remain, fewer than 30, and no Fuz1;
        // dccproc keeps the line (31 letters) and has one
        let body = b"Hello Bob,\n\nnothing special here.\n\nAlice\n";
        for crlf in [false, true] {
            let msg = with_body(body, crlf);
            let (proc_body, proc_fuz1) = sums(Framing::Dccproc, &msg);
            assert!(proc_fuz1.is_some());
            for start in [IfdStart::default(), IfdStart::proxy()] {
                let (ifd_body, ifd_fuz1) = sums(Framing::Dccifd(start), &msg);
                assert_eq!(ifd_fuz1, None, "crlf {crlf} {start:?}");
                // Body ignores line ends
                assert_eq!(ifd_body, proc_body);
                assert!(ifd_body.is_some());
            }
        }
    }

    #[test]
    fn dccifd_body_sums_are_dccprocs_with_an_empty_first_line() {
        // a longer greeting body: dccifd's Fuz1 is dccproc's for the body
        // after an empty line, which differs from dccproc's for the body
        let body = b"Dear friend,\nthis text has more than thirty letters in it\nbye\n";
        let mut blank = b"\n".to_vec();
        blank.extend_from_slice(body);
        let ifd = sums(
            Framing::Dccifd(IfdStart::default()),
            &with_body(body, false),
        );
        assert_eq!(ifd, sums(Framing::Dccproc, &with_body(&blank, false)));
        assert!(ifd.1.is_some());
        assert_ne!(ifd.1, sums(Framing::Dccproc, &with_body(body, false)).1);
        // without a greeting first line the empty line changes nothing,
        // as for every other recorded dccifd message ("Hi Bob,")
        let body = b"Hi Bob,\n\nthis text has more than thirty letters in it\n";
        let ifd = sums(
            Framing::Dccifd(IfdStart::default()),
            &with_body(body, false),
        );
        assert_eq!(ifd, sums(Framing::Dccproc, &with_body(body, false)));
        assert!(ifd.1.is_some());
    }
}
