//! The SMTP client address, host name and HELO value found in a
//! `Received:` header, as `dccproc -R` finds them.
//!
//! Recognised forms (the value after `Received:`):
//!
//! 1. `from HELO (name [addr]) ...` and `from HELO ([addr]) ...`
//! 2. `from name [addr] ...` and `from [addr] ...`
//! 3. `from name (addr) ...` (qmail, host name and HELO the same)
//! 4. `from name (HELO helo) (addr) ...` or `... (HELO helo) ([addr]) ...`
//!    (qmail, host name and HELO different)
//!
//! Forms known to carry no client address, after which the next
//! `Received:` header is examined instead:
//!
//! - `from localhost by host with LMTP`
//! - `(qmail N invoked by uid U)` and `(qmail N invoked from network)`
//! - `(from user@host) by host (.../Submit) ...` (sendmail submission)
//! - `by host (Postfix) ...` and `by host with SMTP id ...`
//!
//! Anything else is unrecognised, and `dccproc` stops looking, so that a
//! forged header cannot push it further down the chain.

use super::addr::{get_ipaddr, Addr};
use super::util::{at, contains, find_any, span, starts_with_ci, tail, WHITESPACE};
use std::net::IpAddr;

/// Host name limit (`DCC_MAXDOMAINLEN`).
const MAX_DOMAIN: usize = 256;
/// HELO value limit (`HELO_MAX`).
const HELO_MAX: usize = MAX_DOMAIN + 8;

/// What a `Received:` header says about the SMTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Not a form DCC understands: stop looking at further headers.
    Unrecognized,
    /// A known form without a client address (its kind: "qmail",
    /// "sendmail Submit", "postfix", "gmail", "LMTP"): look at the next one.
    Skip(&'static str),
    /// The SMTP client that delivered the message to the host that added
    /// the header.
    Client {
        /// Client address.
        ip: IpAddr,
        /// Client host name, or the address literal (`[addr]`) when the
        /// header gives none.
        name: String,
        /// HELO value, possibly empty.
        helo: String,
    },
}

/// Parse the value of a `Received:` header (the text after the colon; a
/// leading `Received:` is tolerated as in the original).
pub fn parse_received(value: &[u8]) -> Received {
    parse_received_raw(value).0
}

/// [`parse_received`], and for a client the HELO value as the header's
/// bytes (at most `HELO_MAX - 1`): its substitute checksum is of those
/// bytes, which need not be UTF-8.
pub(crate) fn parse_received_raw(value: &[u8]) -> (Received, &[u8]) {
    parse(value).unwrap_or((Received::Unrecognized, &[]))
}

fn parse(v: &[u8]) -> Option<(Received, &[u8])> {
    let mut s = v;
    if starts_with_ci(s, b"Received:") {
        // The original skips the name but not its colon, so such a value
        // is never recognised; keep that.
        s = &s[b"Received".len()..];
    }
    s = &s[span(s, b" \t\r\n")..];

    if !starts_with_ci(s, b"from") {
        let r = no_from(s).map_or(Received::Unrecognized, Received::Skip);
        return Some((r, &[]));
    }
    s = &s[4..];
    let ws = span(s, WHITESPACE);
    if ws == 0 {
        return None;
    }
    s = &s[ws..];

    // host name or HELO value before '(' or '[' (forms 1, 2, 3, and LMTP)
    let h = s;
    let mut p = find_any(h, b" \t\n\r([")?;
    // a missing HELO is allowed, but not a HELO such as "[127.0.0.1]"
    if p == 0 && at(h, 0) == b'[' {
        if let Some(p1) = find_any(tail(h, 1), b" \t\n\r([") {
            p = 1 + p1;
        }
    }
    let mut helo: &[u8] = &h[..p];
    let mut rest = &h[p..];
    rest = &rest[span(rest, WHITESPACE)..];

    let name: &[u8];
    let addr: Addr;
    match at(rest, 0) {
        b'(' => {
            rest = &rest[1..];
            match get_ipaddr(rest) {
                Some(a) if at(rest, a.len) == b')' => {
                    // form 3
                    name = helo;
                    addr = a;
                }
                _ if rest.starts_with(b"HELO ") && at(rest, 5) != b'[' => {
                    // form 4
                    name = helo;
                    let hv = &rest[5..];
                    let e = find_any(hv, b" \t'\"()[]")?;
                    helo = &hv[..e];
                    let after = &hv[e..];
                    if helo.is_empty() || !after.starts_with(b") (") {
                        return None;
                    }
                    let a = &after[3..];
                    addr = match get_ipaddr(a) {
                        Some(x) if at(a, x.len) == b')' => x,
                        _ => {
                            if at(a, 0) != b'[' {
                                return None;
                            }
                            let x = get_ipaddr(&a[1..])?;
                            if at(a, 1 + x.len) != b']' || at(a, 2 + x.len) != b')' {
                                return None;
                            }
                            x
                        }
                    };
                }
                _ => {
                    // form 1: reverse DNS name, then [addr]
                    let e = find_any(rest, b" \t\n\r[")?;
                    name = &rest[..e];
                    let r = &rest[e..];
                    let r = &r[span(r, WHITESPACE)..];
                    if at(r, 0) != b'[' {
                        return None;
                    }
                    addr = get_ipaddr(&r[1..])?;
                }
            }
        }
        b'[' => {
            // form 2: possibly empty host name and no HELO
            name = helo;
            helo = &[];
            addr = get_ipaddr(&rest[1..])?;
        }
        _ if starts_with_ci(rest, b"by ") => {
            let r = &rest[3..];
            let sp = r.iter().position(|&b| b == b' ')?;
            if sp > MAX_DOMAIN {
                return None;
            }
            return starts_with_ci(&r[sp..], b" with LMTP")
                .then_some((Received::Skip("LMTP"), &[]));
        }
        _ => return None,
    }

    let name = if name.is_empty() {
        addr.literal.clone()
    } else {
        lossy(name, MAX_DOMAIN - 1)
    };
    let helo = &helo[..helo.len().min(HELO_MAX - 1)];
    let client = Received::Client {
        ip: addr.ip,
        name,
        helo: lossy(helo, HELO_MAX - 1),
    };
    Some((client, helo))
}

/// Headers that do not start with "from": the qmail, sendmail submission,
/// Postfix and Gmail forms that carry no client address.
fn no_from(s: &[u8]) -> Option<&'static str> {
    if let Some(r) = s.strip_prefix(b"(qmail ") {
        let d = span(r, b"0123456789");
        if d == 0 {
            return None;
        }
        let r = &r[d..];
        return (r.starts_with(b" invoked from network)") || r.starts_with(b" invoked by uid "))
            .then_some("qmail");
    }
    if let Some(r) = s.strip_prefix(b"(from ") {
        let i = find_any(r, b" \t\n\r@")?;
        if r[i] != b'@' {
            return None;
        }
        let r = &r[i..];
        let i = find_any(r, b" \t\n\r)")?;
        if r[i] != b')' {
            return None;
        }
        let r = &r[i + 1..];
        let r = &r[span(r, WHITESPACE)..];
        let r = r.strip_prefix(b"by ")?;
        return contains(r, b"/Submit").then_some("sendmail Submit");
    }
    if let Some(r) = s.strip_prefix(b"by ") {
        let i = find_any(r, WHITESPACE)?;
        let r = &r[i + 1..];
        if r.starts_with(b"(Postfix)") {
            return Some("postfix");
        }
        if r.starts_with(b"with SMTP id") {
            return Some("gmail");
        }
    }
    None
}

fn lossy(s: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&s[..s.len().min(max)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(v: &str) -> (String, String, String) {
        match parse_received(v.as_bytes()) {
            Received::Client { ip, name, helo } => (ip.to_string(), name, helo),
            other => panic!("{v:?} gave {other:?}"),
        }
    }

    #[test]
    fn form1() {
        assert_eq!(
            client(" from mail.example.com (relay.example.net [192.0.2.7])\r\n\tby mx (Postfix)"),
            (
                "192.0.2.7".into(),
                "relay.example.net".into(),
                "mail.example.com".into()
            )
        );
        assert_eq!(
            client(" from helo ([192.0.2.7]) by x"),
            ("192.0.2.7".into(), "[192.0.2.7]".into(), "helo".into())
        );
        assert_eq!(
            client(" from CM-vtr0.net (unknown [200.83.104.67])\n\tby x"),
            (
                "200.83.104.67".into(),
                "unknown".into(),
                "CM-vtr0.net".into()
            )
        );
        assert_eq!(
            client(" from h (n [IPv6:2001:db8::1]) by x"),
            ("2001:db8::1".into(), "n".into(), "h".into())
        );
    }

    #[test]
    fn form2() {
        assert_eq!(
            client(" from mail.example.com [192.0.2.8] by x"),
            ("192.0.2.8".into(), "mail.example.com".into(), "".into())
        );
        // a bare address literal only counts at the end of the value; when
        // followed by more text it is taken for a HELO value
        assert_eq!(
            client(" from  [10.0.0.1]"),
            ("10.0.0.1".into(), "[10.0.0.1]".into(), "".into())
        );
        assert_eq!(
            client(" from [IPv6:2001:db8::2]"),
            ("2001:db8::2".into(), "[IPv6:2001:db8::2]".into(), "".into())
        );
        assert_eq!(
            parse_received(b" from  [10.0.0.1] by x"),
            Received::Unrecognized
        );
        // a HELO that looks like an address literal is not taken for one
        assert_eq!(
            client(" from [127.0.0.1] (evil [192.0.2.9]) by x"),
            ("192.0.2.9".into(), "evil".into(), "[127.0.0.1]".into())
        );
    }

    #[test]
    fn form3_and_4() {
        assert_eq!(
            client(" from mx.example.org (192.0.2.4)\n  by x with SMTP"),
            (
                "192.0.2.4".into(),
                "mx.example.org".into(),
                "mx.example.org".into()
            )
        );
        assert_eq!(
            client(" from email.example.com (HELO example.com) (192.0.2.4)\n  by x"),
            (
                "192.0.2.4".into(),
                "email.example.com".into(),
                "example.com".into()
            )
        );
        assert_eq!(
            client(" from a.b (HELO c.d) ([192.0.2.5]) by x"),
            ("192.0.2.5".into(), "a.b".into(), "c.d".into())
        );
        assert_eq!(
            parse_received(b" from a.b (HELO c.d) (junk) by x"),
            Received::Unrecognized
        );
        assert_eq!(
            parse_received(b" from a.b (HELO ) (1.2.3.4) by x"),
            Received::Unrecognized
        );
    }

    #[test]
    fn skipped_forms() {
        assert_eq!(
            parse_received(b" from localhost by mx.example.com with LMTP; x"),
            Received::Skip("LMTP")
        );
        assert_eq!(
            parse_received(b" from localhost by mx.example.com with SMTP"),
            Received::Unrecognized
        );
        assert_eq!(
            parse_received(b" (qmail 4824 invoked by uid 1000); 8 Nov 2005"),
            Received::Skip("qmail")
        );
        assert_eq!(
            parse_received(b" (qmail 21530 invoked from network); 29 Aug"),
            Received::Skip("qmail")
        );
        assert_eq!(
            parse_received(b" (qmail x invoked from network)"),
            Received::Unrecognized
        );
        assert_eq!(
            parse_received(b" (from user@localhost)\n\tby h (8.12.10/8.12.10/Submit) id x"),
            Received::Skip("sendmail Submit")
        );
        assert_eq!(
            parse_received(b" (from user@localhost) by h (8.12.10) id x"),
            Received::Unrecognized
        );
        assert_eq!(
            parse_received(b" by mx.example.com (Postfix) id 1"),
            Received::Skip("postfix")
        );
        assert_eq!(
            parse_received(b" by 10.0.0.1 with SMTP id abc;"),
            Received::Skip("gmail")
        );
        assert_eq!(
            parse_received(b" by x with ESMTP id abc;"),
            Received::Unrecognized
        );
    }

    #[test]
    fn unrecognized() {
        for v in [
            &b" from mx7.mail.testler.ru ([] verified)"[..],
            b" from x (y [])",
            b" from",
            b" fromx (y [1.2.3.4])",
            b" from x y z",
            b"Received: from x (y [1.2.3.4])",
            b"",
            b" from 196.170.26.200 by 200.83.104.67; Thu",
        ] {
            assert_eq!(
                parse_received(v),
                Received::Unrecognized,
                "{:?}",
                String::from_utf8_lossy(v)
            );
        }
    }
}
