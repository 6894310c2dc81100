//! Envelope and header checksums.
//!
//! DCC computes, besides the body checksums, a handful of "simple" checksums
//! from the SMTP envelope and from a few header fields:
//!
//! - `IP`: the SMTP client address, given by the MTA or, with `dccproc -R`,
//!   taken from the first trustworthy `Received:` header ([`received`]).
//! - `env_From`: the envelope sender, given by the MTA or, for `dccproc`
//!   without `-f`, taken from a leading UNIX `From ` line or the first
//!   `Return-Path:` header ([`envelope`]).
//! - `From`, `Message-ID`: the last such header field; a message without a
//!   `Message-ID:` field gets the checksum of an empty value that is not
//!   reported to servers.
//! - `Received`: the last `Received:` field of the message.
//! - substitute checksums (`-S`): up to 8 locally chosen header fields, plus
//!   the special names `mail_host` (domain of the envelope sender) and `HELO`
//!   ([`substitute`]).
//! - `env_To`: one per recipient, used by whitelists only.
//!
//! The per-field logic lives in [`fields`]; the split of a raw message into
//! header fields, with `dccproc`'s line-length limits, in [`split`], and
//! as `dccifd` reads it, through its socket buffer, in [`ifd`]. `dccm`
//! gets whole fields from the MTA.

pub(crate) mod addr;
pub mod envelope;
pub(crate) mod fields;
pub mod ifd;
pub mod received;
pub(crate) mod split;
pub mod substitute;
pub(crate) mod util;

#[cfg(test)]
mod tests;

pub use envelope::{parse_mail_host, parse_return_path, parse_unix_from};
pub use ifd::{FieldCounts, IfdStart};
pub use received::{parse_received, Received};
pub use substitute::SubName;

use std::net::IpAddr;

/// Most bytes of a header field that take part in a checksum (`HDR_CK_MAX`).
pub const HDR_CK_MAX: usize = 1024;

/// Most substitute header names (`MAX_SUB_CKS`).
pub const MAX_SUB_CKS: usize = 8;

/// What the MTA knows about the SMTP transaction of a message.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// SMTP client address (`dccproc -a`, the milter connect callback).
    pub client_ip: Option<IpAddr>,
    /// SMTP client host name, when known.
    pub client_name: Option<String>,
    /// HELO/EHLO value; checksummed as the substitute `HELO` when configured.
    pub helo: Option<String>,
    /// Envelope sender (`dccproc -f`, milter MAIL FROM), exactly as given.
    pub env_from: Option<String>,
    /// Sendmail's `{mail_host}`; when absent it is derived from the envelope
    /// sender as the original does ([`parse_mail_host`]).
    pub mail_host: Option<String>,
    /// Envelope recipients, each giving an `env_To` checksum.
    pub env_to: Vec<String>,
}

/// Which checksums to compute beyond the fixed set.
#[derive(Debug, Clone, Default)]
pub struct CkConfig {
    /// Substitute header names as given to `-S` (at most 8 distinct ones;
    /// a leading `+` asks for the first instance of the field instead of
    /// the last). Use [`CkConfig::add_substitute`] to validate them.
    pub substitutes: Vec<String>,
    /// `dccproc -R`: take the SMTP client address from the `Received:`
    /// headers when the envelope has none.
    pub use_received: bool,
    /// `dccproc -E`: also checksum the HELO value found in a `Received:`
    /// header as the substitute `HELO` (without it, `dccproc` only knows
    /// an envelope HELO when one is given, as a milter does).
    pub helo_from_received: bool,
    /// `dccproc -r N`: with `use_received`, start at the Nth `Received:`
    /// header instead of the first (0 and 1 both mean the first).
    pub received_index: u32,
    /// `dccproc -A`: keep DCC's own `X-DCC-...-Metrics:` headers found in
    /// the message instead of dropping them before checksumming.
    pub keep_xdcc: bool,
}

impl CkConfig {
    /// Add a substitute header name, checked as `dccproc -S` checks it:
    /// at most 8 distinct names, each made of printable ASCII other than
    /// `:` (one trailing `:` is tolerated). A name already present
    /// (ignoring case) is accepted and ignored.
    pub fn add_substitute(&mut self, name: &str) -> Result<(), String> {
        let parsed = substitute::parse_sub_names(&self.substitutes);
        if parsed.len() >= MAX_SUB_CKS {
            return Err(format!("too many substitute headers with \"{name}\""));
        }
        let new = SubName::parse(name)?;
        if parsed.iter().any(|s| s.name == new.name) {
            return Ok(());
        }
        self.substitutes.push(name.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;

    #[test]
    fn add_substitute_limits() {
        let mut cfg = CkConfig::default();
        for i in 0..8 {
            cfg.add_substitute(&format!("X-H{i}")).unwrap();
        }
        assert!(cfg.add_substitute("X-More").is_err());
        // even a duplicate is refused once the table is full, as in the original
        assert!(cfg.add_substitute("x-h0").is_err());

        let mut cfg = CkConfig::default();
        cfg.add_substitute("List-ID").unwrap();
        cfg.add_substitute("list-id").unwrap();
        assert_eq!(cfg.substitutes.len(), 1);
        assert!(cfg.add_substitute("").is_err());
        assert!(cfg.add_substitute("+").is_err());
        assert!(cfg.add_substitute("a b").is_err());
        assert!(cfg.add_substitute("a:b").is_err());
        assert!(cfg.add_substitute("caf\u{e9}").is_err());
        cfg.add_substitute("+Sender").unwrap();
        assert_eq!(cfg.substitutes, vec!["List-ID", "+Sender"]);
    }
}
