//! Relays of the main whiteclnt file (`mx`, `mxdcc`, `submit`, `ok`
//! addresses), as the original's `check_mx_listing()` treats the SMTP
//! client and each client found in a Received: header behind a relay:
//! the address is not reported to the DCC server, an `mx` or `mxdcc`
//! relay sends the search on to the next Received: header (the message
//! is then discarded rather than rejected and, for the SMTP client, not
//! greylisted), an `mxdcc` relay makes the message a query, and the log
//! file gets a note for each relay.

use crate::tgts::{self, Tgts};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// What the relay listings of the addresses checked so far say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MxCheck {
    /// The notes for the log file, in order, without line ends.
    pub notes: Vec<String>,
    /// An `mxdcc` relay: the DCC server is only queried.
    pub query: bool,
    /// An `mx` or `mxdcc` relay (`CMN_FG_VIA_MX`): spam is discarded
    /// rather than rejected, and recipients whose switches are set after
    /// it are not greylisted.
    pub via_mx: bool,
    /// A `submit` client (`CMN_FG_VIA_SUBMIT`).
    pub via_submit: bool,
    /// The last address checked is not reported to the DCC server.
    pub unreported: bool,
    /// The next Received: header names the client to check.
    pub search: bool,
}

/// An address as the original names it in its notes: IPv4 addresses
/// without their IPv6 prefix.
pub fn addr_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

impl MxCheck {
    /// Check one address with its listing in the main whiteclnt file
    /// (`None`: not listed, or no file); returns whether the search goes
    /// on to the next Received: header.
    pub fn check(&mut self, ip: IpAddr, listing: Option<Tgts>) -> bool {
        let name = addr_name(ip);
        let (unreported, search) = match listing {
            Some(tgts::OK) => (true, false),
            Some(tgts::SUBMIT_CLIENT) => {
                self.via_submit = true;
                self.notes
                    .push(format!("{name} is a listed 'submit' client"));
                (true, false)
            }
            Some(tgts::OK_MXDCC) => {
                self.notes
                    .push(format!("{name} is a whitelisted MX server with DCC client"));
                self.query = true;
                self.via_mx = true;
                (true, true)
            }
            Some(tgts::OK_MX) => {
                self.notes
                    .push(format!("{name} is a whitelisted MX server"));
                self.via_mx = true;
                (true, true)
            }
            _ => (false, false),
        };
        self.unreported = unreported;
        self.search = search;
        search
    }

    /// A Received: header of a known local form (`qmail`, `LMTP`, ...)
    /// without an address, passed over: the search goes on with the next
    /// one, after the original's note.
    pub fn skip(&mut self, form: &str) {
        self.notes.push(format!("skip {form} Received: header"));
    }

    /// The callback for `MessageCks::set_skip_note` that notes each
    /// passed-over header in the shared `seen` ([`MxCheck::skip`]).
    pub fn skip_noter(seen: &Arc<Mutex<MxCheck>>) -> Box<dyn FnMut(&'static str) + Send> {
        let seen = seen.clone();
        Box::new(move |form| {
            if let Ok(mut m) = seen.lock() {
                m.skip(form);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_of_relays() {
        let mut m = MxCheck::default();
        let a: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert!(m.check(a, Some(tgts::OK_MX)));
        assert!(m.via_mx && !m.query && m.unreported);
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(m.check(b, Some(tgts::OK_MXDCC)));
        assert!(m.query);
        let c: IpAddr = "2001:db8::3".parse().unwrap();
        assert!(!m.check(c, None));
        assert!(!m.unreported && !m.search && m.via_mx);
        assert_eq!(
            m.notes,
            [
                "192.0.2.1 is a whitelisted MX server",
                "192.0.2.2 is a whitelisted MX server with DCC client",
            ]
        );
    }

    #[test]
    fn skipped_headers_are_noted_in_order() {
        let mut m = MxCheck::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(m.check(a, Some(tgts::OK_MX)));
        m.skip("qmail");
        assert_eq!(
            m.notes,
            [
                "192.0.2.1 is a whitelisted MX server",
                "skip qmail Received: header",
            ]
        );
        // a skipped header does not change what the last address says
        assert!(m.unreported && m.search);
    }

    #[test]
    fn ok_and_submit_stop() {
        let mut m = MxCheck::default();
        let a: IpAddr = "192.0.2.9".parse().unwrap();
        assert!(!m.check(a, Some(tgts::OK)));
        assert!(m.unreported && m.notes.is_empty());
        assert!(!m.check(a, Some(tgts::SUBMIT_CLIENT)));
        assert!(m.via_submit && m.unreported);
        assert_eq!(m.notes, ["192.0.2.9 is a listed 'submit' client"]);
    }
}
