//! The SMTP replies of proxy mode (`-o`) that `-r` can replace: the
//! first `-r` the bulk mail rejection, the second the greylist embargo
//! (which must stay a temporary 4yz reply), each `x.y.z NNN text` (codes
//! first, as the original wants them) or only a text, with `%ID` (the
//! log file's unique part) and `%CIP` (the SMTP client's address)
//! replaced.
//!
//! The original reads dccifd's `-r` texts with the code dccm's `-r` texts
//! go through (its shared `parse_reply_arg` and `make_tplt`): leading
//! blanks and double quotes skipped; the codes only in the exact form
//! `D.D.D DDD` of one class (4 or 5), else the default's and the whole
//! text; `%ID`, `%CIP` and the obsolete `%s` as macros, the buffer limits
//! of the pattern and of the finished text. So the text is scanned by the
//! scanner dccm and the DNS lists' texts share
//! ([`tally_dnsbl::reply::Pattern`], [`Names::Reject`]).

use tally_dnsbl::reply::Names;

/// The default bulk rejection (replaced by the first `-r`), the same as
/// that of DNS blacklist hits.
pub use tally_engine::dnsbl::DEFAULT_REJECT;
/// The default greylist embargo (replaced by the second `-r`).
pub const DEFAULT_GREY: &str = "4.2.1 452 mail %ID from %CIP temporary greylist embargoed";

/// A `-r` text read: its codes and its pattern, as dccm's and the DNS
/// lists' texts are read.
pub use tally_dnsbl::reply::Template;

/// The `-r` text `msg`, or `default` when it is absent or blank (as the
/// original, a blank `-r` keeps the default); without codes of its own
/// it takes the default's.
pub fn template(msg: Option<&str>, default: &str) -> Template {
    let m = msg
        .filter(|m| !m.trim_start_matches(tally_dnsbl::reply::is_ws).is_empty())
        .unwrap_or(default);
    Template::parse_or(m, Names::Reject, default)
}

/// The reply line of a template, `rcode xcode text` and CRLF, with `%ID`
/// and `%CIP` filled in.
pub fn line(t: &Template, id: &str, cip: &str) -> String {
    format!("{} {} {}\r\n", t.rcode, t.xcode, t.fill(id, cip))
}

/// Whether a `-r` text can be the greylist reply: its codes, its own or
/// the default's, must be temporary (4yz), as the original checks.
pub fn valid_grey_msg(m: &str) -> bool {
    Template::parse_or(m, Names::Reject, DEFAULT_GREY).is_temp()
}

/// An SMTP reply from a `-r` template (codes first, as the original
/// wants them; an empty or absent one means `default`), with `%ID` and
/// `%CIP` replaced.
pub fn smtp_reply(msg: Option<&str>, default: &str, id: &str, cip: &str) -> String {
    line(&template(msg, default), id, cip)
}

/// The bulk rejection reply from the first `-r`.
pub fn reject_reply(msg: Option<&str>, id: &str, cip: &str) -> String {
    smtp_reply(msg, DEFAULT_REJECT, id, cip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        assert_eq!(
            reject_reply(None, "AB12", "192.0.2.1"),
            "550 5.7.1 mail AB12 from 192.0.2.1 rejected by DCC\r\n"
        );
        assert_eq!(
            reject_reply(Some("4.7.1 451 Access denied by DCC"), "", ""),
            "451 4.7.1 Access denied by DCC\r\n"
        );
        assert_eq!(
            reject_reply(Some("go away"), "", ""),
            "550 5.7.1 go away\r\n"
        );
        assert_eq!(
            smtp_reply(None, DEFAULT_GREY, "L1", "198.51.100.201"),
            "452 4.2.1 mail L1 from 198.51.100.201 temporary greylist embargoed\r\n"
        );
        assert_eq!(
            smtp_reply(
                Some("4.7.0 451 Greylisted %ID from %CIP, retry later"),
                DEFAULT_GREY,
                "L4",
                "198.51.100.241"
            ),
            "451 4.7.0 Greylisted L4 from 198.51.100.241, retry later\r\n"
        );
        assert!(valid_grey_msg("try again later"));
        assert!(!valid_grey_msg("5.7.1 550 no"));
    }

    /// Codes as the original reads them: `D.D.D DDD` of one class after
    /// leading blanks and quotes, else the default's and the whole text.
    #[test]
    fn codes() {
        assert_eq!(
            reject_reply(Some(" \"5.7.0 554 \"quoted\" %ID"), "Q1", ""),
            "554 5.7.0 \"quoted\" Q1\r\n"
        );
        // classes differ, or not the exact form: the default codes
        for t in ["4.7.1 550 mixed", "5.7.10 550 long", "554 5.7.0 swapped"] {
            assert_eq!(
                reject_reply(Some(t), "", ""),
                format!("550 5.7.1 {t}\r\n"),
                "{t}"
            );
        }
        // a greylist text with a 5yz-looking start that is no code stays
        // temporary (the default's codes)
        assert!(valid_grey_msg("4.7.1 550 mixed"));
        assert!(!valid_grey_msg("5.7.0 554 permanent"));
        // a blank text keeps the default
        assert_eq!(
            smtp_reply(Some("  "), DEFAULT_GREY, "L1", "192.0.2.1"),
            "452 4.2.1 mail L1 from 192.0.2.1 temporary greylist embargoed\r\n"
        );
    }

    /// The macros of `-r` texts: %ID, %CIP, the obsolete %s (the first
    /// the ID, the second the client), `%%`; DNS list macros and other
    /// `%x` stay as written; at most six macros.
    #[test]
    fn macros() {
        let r = |t: &str| reject_reply(Some(t), "Q1", "192.0.2.9");
        assert_eq!(
            r("%s from %s %s 100%% %BTGT %q"),
            "550 5.7.1 Q1 from 192.0.2.9 %s 100% %BTGT %q\r\n"
        );
        assert_eq!(
            r("%ID%ID%ID%ID%ID%ID %CIP"),
            "550 5.7.1 Q1Q1Q1Q1Q1Q1 %IP\r\n"
        );
    }

    /// The original's buffers: a pattern of at most 255 bytes in which a
    /// `%` takes two and is dropped when fewer than three remain; the
    /// finished text cut at 255 bytes; bytes outside printable ASCII as
    /// dots.
    #[test]
    fn limits() {
        let x = |n: usize| "x".repeat(n);
        let text = |r: String| {
            r.strip_prefix("550 5.7.1 ")
                .and_then(|t| t.strip_suffix("\r\n"))
                .unwrap_or("")
                .to_string()
        };
        let r = |t: &str| text(reject_reply(Some(t), "Q1", "192.0.2.66"));
        assert_eq!(r(&x(400)), x(255));
        // "%ID" starting at byte 252 still fits ("%s" and the end)
        assert_eq!(r(&format!("{}%ID", x(252))), format!("{}Q1", x(252)));
        // at byte 253 its '%' is dropped and "ID" is text while room remains
        assert_eq!(r(&format!("{}%ID!", x(253))), format!("{}ID", x(253)));
        // "%%" takes two bytes of the pattern and gives one
        assert_eq!(r(&format!("{}%%yz", x(252))), format!("{}%y", x(252)));
        // the expanded text is cut at 255 bytes
        assert_eq!(r(&format!("{} %CIP", x(250))), format!("{} 192.", x(250)));
        let long = text(reject_reply(Some("%ID %ID"), &x(200), ""));
        assert_eq!(long.len(), 255);
        // each byte of a two-byte character is a dot, controls too
        assert_eq!(r("caf\u{e9}\ttab\u{7f}"), "caf...tab.");
        // with codes, the 255 bytes count after them
        let t = reject_reply(Some(&format!("4.7.1 451 {}", x(300))), "", "");
        assert_eq!(t, format!("451 4.7.1 {}\r\n", x(255)));
    }

    /// The first `-r` text, also the default rejection of DNS list hits,
    /// reads the same through either path.
    #[test]
    fn shared_with_dns_lists() {
        for arg in [
            "5.7.0 554 %s from %s %BTGT 100%% %q",
            &format!("{}%ID", "y".repeat(252)),
            "caf\u{e9} %ID%ID%ID%ID%ID%ID %ID",
            "\"4.7.1 451 quoted",
        ] {
            let ours = reject_reply(Some(arg), "Q1", "192.0.2.9");
            let theirs = tally_dnsbl::reply::Template::parse_reject(arg).reply(|m| match m {
                tally_dnsbl::reply::Macro::Id => "Q1".into(),
                tally_dnsbl::reply::Macro::ClientIp => "192.0.2.9".into(),
                _ => "?".into(),
            });
            assert_eq!(ours, format!("{theirs}\r\n"), "{arg}");
        }
    }
}
