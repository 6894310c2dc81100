//! What `dccproc` and `dccifd` do with each header field (and `dccm`, in
//! [`HeaderCks::milter_field`]), and the envelope checksums computed once
//! the header is complete.
//!
//! For each field, in this order of precedence:
//!
//! 1. `From:` and `Message-ID:` are checksummed (the last one wins);
//! 2. before any real header, a UNIX `From ` line gives the envelope sender
//!    when none was given;
//! 3. the first `Return-Path:` gives the envelope sender when none was given;
//! 4. `Received:` is checksummed (the last one wins) and, with `-R`, parsed
//!    for the SMTP client address;
//! 5. any other field is offered to the MIME parser of the body checksums
//!    and to the substitute checksums.

use super::envelope::{parse_mail_host, parse_return_path, parse_unix_from};
use super::received::{parse_received_raw, Received};
use super::substitute::{parse_sub_names, SubSlots};
use super::util::starts_with_ci;
use super::{CkConfig, Envelope};
use crate::md5_many::md5_many;
use crate::simple::{ip_sum, str_ck_bytes, str_sum, STR_CK_MAX};
use crate::Sum;
use std::net::IpAddr;

/// Decides whether a `Received:` header added for this address came from a
/// trusted relay (MX or MXDCC in the whitelist), so the next one counts.
pub type RelayFilter = Box<dyn FnMut(IpAddr) -> bool + Send>;

/// Told the name of the local form (`qmail`, `LMTP`, ...) of a
/// `Received:` header passed over without an address while looking for
/// the client, for the original's note `skip NAME Received: header`.
pub type SkipNote = Box<dyn FnMut(&'static str) + Send>;

/// A checksum with its reporting flag.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Got {
    pub(crate) sum: Sum,
    pub(crate) report: bool,
}

/// The normalised bytes of a header checksum whose field may come again
/// (the last one wins): hashed only once the header is complete.
#[derive(Default)]
struct Kept {
    /// Empty until the field is seen, then `STR_CK_MAX` bytes (zeroed
    /// once) of which the first `len` count.
    buf: Vec<u8>,
    len: usize,
    seen: bool,
}

impl Kept {
    fn set(&mut self, value: &[u8]) {
        if self.buf.len() != STR_CK_MAX {
            self.buf = vec![0; STR_CK_MAX];
        }
        if let Ok(buf) = <&mut [u8; STR_CK_MAX]>::try_from(self.buf.as_mut_slice()) {
            self.len = str_ck_bytes(value, buf);
            self.seen = true;
        }
    }

    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// Header checksum state of one message.
pub(crate) struct HeaderCks {
    subs: SubSlots,
    /// Position of the next `Received:` header to parse for the client
    /// address, counting from 1 (0: done or not wanted).
    want_received: u32,
    relay_filter: Option<RelayFilter>,
    skip_note: Option<SkipNote>,
    pub(crate) seen_hdr: bool,
    pub(crate) ip: Option<(IpAddr, bool)>,
    pub(crate) client_name: Option<String>,
    pub(crate) helo: Option<String>,
    /// The HELO value of the Received header that gave the client, as
    /// its bytes (for the substitute checksum).
    helo_raw: Option<Vec<u8>>,
    /// Envelope sender bytes: given, or found in the message.
    pub(crate) env_from: Option<Vec<u8>>,
    pub(crate) mail_host: Option<Vec<u8>>,
    env_mail_host: Option<String>,
    env_helo: Option<String>,
    helo_from_received: bool,
    pub(crate) env_to: Vec<Sum>,
    from_bytes: Kept,
    message_id_bytes: Kept,
    received_bytes: Kept,
    /// Set by [`HeaderCks::end_of_headers`].
    pub(crate) from: Option<Got>,
    pub(crate) message_id: Option<Got>,
    pub(crate) received: Option<Got>,
    pub(crate) env_from_sum: Option<Got>,
}

/// What the driver should do with a field after the header part saw it.
pub(crate) enum FieldUse {
    /// Consumed by one of the header checksums.
    Consumed,
    /// Also hand it to the MIME parser of the body checksums.
    ToBody,
}

impl HeaderCks {
    pub(crate) fn new(cfg: &CkConfig, env: &Envelope) -> Self {
        let ip = env.client_ip.map(|ip| (ip, true));
        HeaderCks {
            subs: SubSlots::new(parse_sub_names(&cfg.substitutes)),
            want_received: if cfg.use_received && ip.is_none() {
                cfg.received_index.max(1)
            } else {
                0
            },
            relay_filter: None,
            skip_note: None,
            seen_hdr: false,
            ip,
            client_name: env.client_name.clone(),
            helo: None,
            helo_raw: None,
            env_from: env.env_from.as_ref().map(|s| s.as_bytes().to_vec()),
            mail_host: None,
            env_mail_host: env.mail_host.clone(),
            env_helo: env.helo.clone(),
            helo_from_received: cfg.helo_from_received,
            env_to: env
                .env_to
                .iter()
                .map(|r| str_sum(None, r.as_bytes()))
                .collect(),
            from_bytes: Kept::default(),
            message_id_bytes: Kept::default(),
            received_bytes: Kept::default(),
            from: None,
            message_id: None,
            received: None,
            env_from_sum: None,
        }
    }

    pub(crate) fn set_relay_filter(&mut self, f: RelayFilter) {
        self.relay_filter = Some(f);
    }

    pub(crate) fn set_skip_note(&mut self, f: SkipNote) {
        self.skip_note = Some(f);
    }

    /// One complete header field, name included, as `dccproc` holds it.
    pub(crate) fn field(&mut self, f: &[u8]) -> FieldUse {
        const FROM: &[u8] = b"From:";
        const MSG_ID: &[u8] = b"Message-ID:";
        const RECEIVED: &[u8] = b"Received:";
        if starts_with_ci(f, FROM) {
            self.from_bytes.set(&f[FROM.len()..]);
            self.seen_hdr = true;
            return FieldUse::Consumed;
        }
        if starts_with_ci(f, MSG_ID) {
            self.message_id_bytes.set(&f[MSG_ID.len()..]);
            self.seen_hdr = true;
            return FieldUse::Consumed;
        }
        if !self.seen_hdr && self.env_from.is_none() {
            if let Some(v) = parse_unix_from(f) {
                self.env_from = Some(v.to_vec());
                self.seen_hdr = true;
                return FieldUse::Consumed;
            }
        }
        if self.env_from.is_none() {
            if let Some(v) = parse_return_path(f) {
                self.env_from = Some(v.to_vec());
                self.seen_hdr = true;
                return FieldUse::Consumed;
            }
        }
        if starts_with_ci(f, RECEIVED) {
            self.seen_hdr = true;
            let v = &f[RECEIVED.len()..];
            self.received_bytes.set(v);
            self.client_from_received(v);
            return FieldUse::Consumed;
        }
        FieldUse::ToBody
    }

    /// One field as a milter hands it over (the original dccm): `f` is
    /// the name, a colon and the whole value; the name alone says whether
    /// it is From, Message-ID or Received, and no envelope sender is
    /// looked for (the MTA gave it).
    pub(crate) fn milter_field(&mut self, name: &[u8], f: &[u8]) -> FieldUse {
        let v = f.get(name.len() + 1..).unwrap_or(&[]);
        if name.eq_ignore_ascii_case(b"From") {
            self.from_bytes.set(v);
        } else if name.eq_ignore_ascii_case(b"Message-ID") {
            self.message_id_bytes.set(v);
        } else if name.eq_ignore_ascii_case(b"Received") {
            self.received_bytes.set(v);
            self.client_from_received(v);
        } else {
            return FieldUse::ToBody;
        }
        self.seen_hdr = true;
        FieldUse::Consumed
    }

    /// The rest of the per-field work, after the body's MIME parser saw it.
    pub(crate) fn field_after_body(&mut self, f: &[u8]) {
        if self.subs.offer_field(f) {
            self.seen_hdr = true;
        }
        if !self.seen_hdr {
            for &c in f {
                if c == b':' {
                    self.seen_hdr = true;
                    break;
                }
                if c <= b' ' || c >= 0x7f {
                    break;
                }
            }
        }
    }

    /// `dccproc -R`: the client address from the first usable Received.
    fn client_from_received(&mut self, v: &[u8]) {
        if self.want_received == 0 {
            return;
        }
        self.want_received -= 1;
        if self.want_received > 0 {
            return;
        }
        let (found, helo_raw) = parse_received_raw(v);
        match found {
            // forged headers must not push the search further down
            Received::Unrecognized => self.want_received = 0,
            Received::Skip(form) => {
                if let Some(f) = self.skip_note.as_mut() {
                    f(form);
                }
                self.want_received = 1;
            }
            Received::Client { ip, name, helo } => {
                self.client_name = Some(name);
                self.helo = Some(helo);
                self.helo_raw = Some(helo_raw.to_vec());
                let relay = self.relay_filter.as_mut().is_some_and(|f| f(ip));
                // an MX relay's own address is not reported
                self.ip = Some((ip, !relay));
                self.want_received = u32::from(relay);
            }
        }
    }

    /// A milter learns the HELO value before the message: its substitute
    /// checksum (`-S HELO`) takes its slot then, ahead of header fields
    /// and the mail_host substitute (its value is offered again, to the
    /// same slot, at the end of the header).
    pub(crate) fn helo_first(&mut self) {
        if let Some(h) = self.env_helo.as_deref().filter(|h| !h.is_empty()) {
            self.subs.offer_named("helo", h.as_bytes());
        }
    }

    /// The header is complete: the From, Message-ID (or its default),
    /// Received and envelope sender checksums, hashed together, and the
    /// envelope substitutes.
    pub(crate) fn end_of_headers(&mut self) {
        let mut env_from = [0u8; STR_CK_MAX];
        let ef_len = match &self.env_from {
            Some(ef) => str_ck_bytes(ef, &mut env_from),
            None => 0,
        };
        // a missing Message-ID is the empty value's checksum, not reported
        let [from, message_id, received, env_from_sum] = md5_many([
            self.from_bytes.bytes(),
            self.message_id_bytes.bytes(),
            self.received_bytes.bytes(),
            &env_from[..ef_len],
        ])
        .map(Sum);
        let got = |kept: &Kept, sum| kept.seen.then_some(Got { sum, report: true });
        self.from = got(&self.from_bytes, from);
        self.received = got(&self.received_bytes, received);
        self.message_id = Some(Got {
            sum: message_id,
            report: self.message_id_bytes.seen,
        });
        self.env_from_sum = self.env_from.as_ref().map(|_| Got {
            sum: env_from_sum,
            report: true,
        });
        let host = match &self.env_mail_host {
            Some(h) => Some(h.as_bytes().to_vec()),
            None => self
                .env_from
                .as_deref()
                .and_then(parse_mail_host)
                .map(<[u8]>::to_vec),
        };
        if let Some(h) = &host {
            self.subs.offer_named("mail_host", h);
        }
        self.mail_host = host;
        let helo: Option<&[u8]> = match &self.env_helo {
            Some(h) => Some(h.as_bytes()),
            None if self.helo_from_received => self.helo_raw.as_deref(),
            None => None,
        };
        if let Some(h) = helo.filter(|h| !h.is_empty()) {
            self.subs.offer_named("helo", h);
        }
        if self.env_helo.is_some() {
            self.helo = self.env_helo.clone();
        }
    }

    pub(crate) fn ip_got(&self) -> Option<Got> {
        self.ip.map(|(ip, report)| Got {
            sum: ip_sum(ip),
            report,
        })
    }

    /// Substitute checksums in slot order.
    pub(crate) fn subs(&self) -> impl Iterator<Item = (&str, Sum)> + '_ {
        self.subs.iter()
    }
}
