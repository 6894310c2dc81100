//! The `X-DCC-<brand>-Metrics:` header line the DCC clients add to mail.
//!
//! Form: `X-DCC-<brand>-Metrics: <client-host> <server-ID>; [bulk] Body=N Fuz1=N ...`,
//! folded before column 78 with a single tab, as the original does.

use crate::tgts::{tgts_to_str, Tgts, TOO_MANY};
use tally_ck::CkType;

/// Lines are folded once they pass this column.
pub const MAX_HDR_LINE: usize = 78;
const START: &str = "X-DCC-";
const END: &str = "-Metrics";
/// Smallest server-ID of a real server; lower ones are special.
pub const SRVR_ID_MIN: u32 = 100;
/// Largest server-ID of a real server.
pub const SRVR_ID_MAX: u32 = 32767;

/// A header being built; `buf` always ends with `\n` once something was added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XHeader {
    buf: String,
    col: usize,
}

impl XHeader {
    /// The field name for a server brand (empty brand for no server).
    pub fn field_name(brand: &str) -> String {
        let b: String = brand.chars().take(64).collect();
        format!("{START}{b}{END}")
    }

    /// Start a header for an answer from server `srvr_id`; the brand is
    /// used only for real server-IDs, as in the original.
    pub fn new(brand: &str, client_host: &str, srvr_id: u32) -> XHeader {
        let brand = if (SRVR_ID_MIN..=SRVR_ID_MAX).contains(&srvr_id) {
            brand
        } else {
            ""
        };
        let name = Self::field_name(brand);
        let mut h = XHeader {
            col: name.len(),
            buf: name,
        };
        h.add_str(&format!(": {client_host} {srvr_id};"));
        h
    }

    /// The special header of a locally whitelisted message: no server-ID.
    pub fn whitelist(client_host: &str) -> XHeader {
        let mut h = XHeader::default();
        h.add_str(&format!("{START}{END}: {client_host}; whitelist"));
        h
    }

    /// Append a word, separated by a blank, folding the line when needed.
    pub fn add_str(&mut self, s: &str) {
        let mut after_blank = false;
        if self.buf.ends_with('\n') {
            self.buf.pop();
            self.buf.push(' ');
            self.col += 1;
            after_blank = true;
        }
        self.col += s.len();
        if self.col > MAX_HDR_LINE && after_blank {
            self.buf.pop();
            self.buf.push_str("\n\t");
            self.col = s.len() + 1 + 8;
        }
        self.buf.push_str(s);
        self.buf.push('\n');
    }

    /// Append `Type=count` for a checksum type.
    pub fn add_ck(&mut self, ty: CkType, tgts: Tgts) {
        if ty == CkType::GreyTriple && tgts < TOO_MANY {
            self.add_str(&format!("{}={}%", ty.name(), tgts as i32 - 1));
        } else {
            self.add_str(&format!("{}={}", ty.name(), tgts_to_str(tgts)));
        }
    }

    /// The header text with `\n` line ends, ending in `\n`.
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    /// The header with `\r\n` line ends when `crlf`.
    pub fn to_bytes(&self, crlf: bool) -> Vec<u8> {
        if crlf {
            self.buf.replace('\n', "\r\n").into_bytes()
        } else {
            self.buf.clone().into_bytes()
        }
    }
}

/// Whether a header field (name and value) is an `X-DCC-*-Metrics` field
/// that a client removes before adding its own.
pub fn is_xhdr(field: &[u8]) -> bool {
    let min = START.len() + END.len() + 1;
    if field.len() <= min || !field[..START.len()].eq_ignore_ascii_case(START.as_bytes()) {
        return false;
    }
    let rest = &field[START.len()..];
    let name = match rest.iter().position(|&c| c == b':') {
        Some(p) => &rest[..p],
        None => rest,
    };
    name.len() >= END.len() && name[name.len() - END.len()..].eq_ignore_ascii_case(END.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tgts::OK;

    #[test]
    fn basic() {
        let mut h = XHeader::new("brand", "vm", 1200);
        h.add_str("bulk");
        h.add_ck(CkType::Body, 51);
        h.add_ck(CkType::Fuz1, TOO_MANY);
        h.add_ck(CkType::Fuz2, OK);
        assert_eq!(
            h.as_str(),
            "X-DCC-brand-Metrics: vm 1200; bulk Body=51 Fuz1=many Fuz2=ok\n"
        );
        assert_eq!(
            h.to_bytes(true),
            b"X-DCC-brand-Metrics: vm 1200; bulk Body=51 Fuz1=many Fuz2=ok\r\n".to_vec()
        );
    }

    #[test]
    fn no_server_brand() {
        let mut h = XHeader::new("brand", "vm", 0);
        h.add_ck(CkType::Body, 1);
        assert_eq!(h.as_str(), "X-DCC--Metrics: vm 0; Body=1\n");
        assert_eq!(
            XHeader::whitelist("vm").as_str(),
            "X-DCC--Metrics: vm; whitelist\n"
        );
    }

    #[test]
    fn folding() {
        let host = "a-rather-long-host-name.mail.example.com";
        let mut h = XHeader::new("brand", host, 1200);
        for t in [
            CkType::Ip,
            CkType::EnvFrom,
            CkType::Body,
            CkType::Fuz1,
            CkType::Fuz2,
        ] {
            h.add_ck(t, 123456);
        }
        let s = h.as_str();
        assert!(s.contains("\n\t"));
        for line in s.lines() {
            assert!(line.len() <= MAX_HDR_LINE + 12, "{line}");
        }
        assert_eq!(s.replace("\n\t", " "), format!(
            "X-DCC-brand-Metrics: {host} 1200; IP=123456 env_From=123456 Body=123456 Fuz1=123456 Fuz2=123456\n"
        ));
        // the break falls before the word that passes column 78
        let first = s.lines().next().unwrap_or_default();
        assert!(first.len() <= MAX_HDR_LINE);
    }

    #[test]
    fn recognizes_headers() {
        assert!(is_xhdr(b"X-DCC-brand-Metrics: vm 1; Body=1\n"));
        assert!(is_xhdr(b"x-dcc--metrics: vm; whitelist\n"));
        assert!(!is_xhdr(b"X-DCC-Metrics: vm 1; Body=1\n"));
        assert!(!is_xhdr(b"X-DCC-brand-Info: x\n"));
        assert!(!is_xhdr(b"Subject: X-DCC-a-Metrics:\n"));
        assert!(!is_xhdr(b"X-DCC"));
    }
}
