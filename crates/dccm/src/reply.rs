//! SMTP replies of dccm: the `-r` rejection messages, the texts sendmail
//! gives in `${dcc_isspam}`, and the fixed temporary failures.
//!
//! A template optionally starts with an RFC 1893 status code and an
//! RFC 2821 reply code in that order (`5.7.1 550 text`); without both the
//! defaults of the message kind are used and the whole string is the text.
//! `%ID` becomes the sendmail queue ID and `%CIP` the SMTP client's
//! address, the obsolete `%s` the first and second of them; `%%` is a
//! single `%`. Other `%` sequences stay as they are, as the original
//! leaves them. A template is the one dccifd's `-r` and the DNS lists'
//! rejection texts use ([`tally_dnsbl::reply::Template`]), with the
//! original's limits: a pattern of at most 255 bytes (a `%` taking two),
//! control and non-ASCII bytes as `.`, the finished text cut at 255 bytes.

use tally_dnsbl::reply::{is_ws, split_codes, unquoted_start, Names};

/// A reply template: its codes and its text, the `%` macros not yet
/// replaced, as dccifd's and the DNS lists' texts are read.
pub use tally_dnsbl::reply::Template;

/// A finished reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// SMTP reply code.
    pub rcode: String,
    /// Enhanced status code.
    pub xcode: String,
    /// Text.
    pub text: String,
}

impl Reply {
    /// The reply of `t` for a message with queue ID `id` from client `cip`.
    pub fn of(t: &Template, id: &str, cip: &str) -> Reply {
        Reply {
            rcode: t.rcode.clone(),
            xcode: t.xcode.clone(),
            text: t.fill(id, cip),
        }
    }

    /// Whether the reply is a temporary failure (4yz).
    pub fn is_temp(&self) -> bool {
        self.rcode.starts_with('4')
    }
}

/// The default bulk mail rejection.
pub use tally_engine::dnsbl::DEFAULT_REJECT;
/// The default greylist embargo.
pub const DEFAULT_GREY: &str = "4.2.1 452 mail %ID from %CIP temporary greylist embargoed";
/// The default rejection for bad reputations.
pub const DEFAULT_REP: &str = "5.7.1 550 %ID bulk mail reputation; see https://commercial-dcc.rhyolite.com/cgi-bin/reps.cgi?tgt=%CIP";
/// The reply when DCC failed and `-x` asks for a temporary failure.
pub const DCC_FAILURE: (&str, &str, &str) = ("451", "4.4.0", "DCC failure");
/// The reply refusing a recipient whose whitelists conflict with earlier ones.
pub const INCOMPAT_WLIST: (&str, &str, &str) = (
    "452",
    "4.5.3",
    "reject temporarily for incompatible whitelists",
);
/// The reply refusing a recipient whose thresholds conflict with earlier ones.
pub const INCOMPAT_THOLD: (&str, &str, &str) = (
    "452",
    "4.5.3",
    "reject temporarily for DCC threshold conflict",
);
/// The reply refusing recipients beyond the per-message limit.
pub const TOO_MANY_RCPTS: (&str, &str, &str) =
    ("452", "4.5.3", "reject temporarily for too many recipients");

/// A fixed reply from its (rcode, xcode, text).
pub fn fixed(r: (&str, &str, &str)) -> Reply {
    Reply {
        rcode: r.0.to_string(),
        xcode: r.1.to_string(),
        text: r.2.to_string(),
    }
}

/// Read a `-r` template; without both codes of its own (`5.7.1 550
/// text`) it takes those of `default`, itself a text with codes (such as
/// [`DEFAULT_GREY`]). Leading blanks and double quotes are skipped, as the
/// original does.
pub fn template(arg: &str, default: &str) -> Template {
    Template::parse_or(arg, Names::Reject, default)
}

/// Read the value of `${dcc_isspam}`: `DISCARD` and `REJECT` words are
/// handled by the caller. As the original's `make_tplt` reads it: leading
/// blanks and double quotes skipped, then the codes, either sendmail's
/// error mailer form (`ERROR:x.y.z:nnn text`, or `ERROR:nnn text` with the
/// default `5.7.1`) or the usual `x.y.z nnn text`, counting only when the
/// classes agree (4 or 5), so `ERROR:451 text` keeps the defaults and its
/// whole text; then every double quote of the text goes, as sendmail needs
/// them around a text with blanks in its rules (recorded, j1.5).
pub fn from_mta(s: &str) -> Template {
    let (rcode, xcode, text) = mta_parts(s);
    Template::from_parts(&xcode, &rcode, &text, Names::Reject)
}

/// Whether a `${dcc_isspam}` text is sendmail's report of a relay attack:
/// after its codes (and quotes), the text starts with `DISCARD: Relaying
/// denied` or `REJECT: Relaying denied` in any case, as the rules of the
/// original's `hackmc -R` and `-r` write it. The original then keeps that
/// answer for the message (later `${dcc_isspam}` values are ignored).
pub fn relay_denied(isspam: &str, id: &str, cip: &str) -> bool {
    let text = from_mta(isspam).fill(id, cip);
    ["DISCARD: Relaying denied", "REJECT: Relaying denied"]
        .iter()
        .any(|p| {
            text.get(..p.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(p))
        })
}

/// The codes and the text of a `${dcc_isspam}` value ([`from_mta`]).
fn mta_parts(s: &str) -> (String, String, String) {
    let arg = unquoted_start(s);
    let (rcode, xcode, text) = match mta_codes(arg) {
        Some((x, r, text)) => (r, x, text),
        None => ("550".to_string(), "5.7.1".to_string(), arg),
    };
    (rcode, xcode, text.chars().filter(|&c| c != '"').collect())
}

/// The codes at the start of a `${dcc_isspam}` value (after its leading
/// blanks and quotes): `(xcode, rcode, text after them)`.
fn mta_codes(arg: &str) -> Option<(String, String, &str)> {
    let error = arg
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("ERROR:"))
        .and_then(|_| arg.get(6..));
    let Some(rest) = error else {
        let (x, r, text) = split_codes(arg)?;
        return Some((x.to_string(), r.to_string(), text));
    };
    // one word of at most 9 bytes: `x.y.z:nnn` or `nnn`
    let rest = rest.trim_start_matches(is_ws);
    let end = rest.find(is_ws).unwrap_or(rest.len());
    let (word, text) = rest.split_at(end);
    let (x, r) = match (word.len(), word.as_bytes().get(5)) {
        (9, Some(b':')) => (word.get(..5)?, word.get(6..)?),
        (3, _) => ("5.7.1", word),
        _ => return None,
    };
    // the same test of the pair as for `x.y.z nnn text`
    split_codes(&format!("{x} {r}"))?;
    Some((x.to_string(), r.to_string(), text.trim_start_matches(is_ws)))
}

/// The text of a `${dcc_isspam}` or `${dcc_notspam}` value as dccm's log
/// file shows it (`sendmail.cf-->{dcc_isspam}: "..."`): after its codes,
/// without double quotes, a byte outside printable ASCII as `.`, at most
/// 255 bytes.
pub fn mta_log_text(s: &str) -> String {
    let (_, _, text) = mta_parts(s);
    text.bytes()
        .take(255)
        .map(|b| {
            if (b' '..=b'~').contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

/// The three `-r` messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectMsgs {
    /// Bulk mail rejection.
    pub reject: Template,
    /// Greylist embargo.
    pub grey: Template,
    /// Bad reputation.
    pub rep: Template,
    /// How many `-r` were given.
    pub count: usize,
    /// The first `-r` text as given: the default rejection of DNS
    /// blacklist hits (`-B`).
    pub first: Option<String>,
}

impl Default for RejectMsgs {
    fn default() -> RejectMsgs {
        RejectMsgs {
            reject: template(DEFAULT_REJECT, DEFAULT_REJECT),
            grey: template(DEFAULT_GREY, DEFAULT_GREY),
            rep: template(DEFAULT_REP, DEFAULT_REP),
            count: 0,
            first: None,
        }
    }
}

impl RejectMsgs {
    /// Take one `-r` argument; the complaint for a fourth one.
    pub fn add(&mut self, arg: &str) -> Result<(), String> {
        self.count += 1;
        if self.count > 3 {
            return Err("more than 3 -r settings".to_string());
        }
        // a blank text keeps the default
        if arg.trim_start_matches(is_ws).is_empty() {
            return Ok(());
        }
        match self.count {
            1 => {
                self.reject = template(arg, DEFAULT_REJECT);
                // the DNS blacklists' default rejection (-B)
                self.first = Some(arg.to_string());
            }
            2 => {
                let t = template(arg, DEFAULT_GREY);
                if !t.is_temp() {
                    return Err(format!("invalid greylist message: {arg}"));
                }
                self.grey = t;
            }
            3 => self.rep = template(arg, DEFAULT_REP),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_dnsbl::reply::Macro;

    #[test]
    fn templates() {
        let d = DEFAULT_REJECT;
        assert_eq!(
            Reply::of(&template(d, d), "B1", "192.0.2.10").text,
            "mail B1 from 192.0.2.10 rejected by DCC"
        );
        let t = template("5.7.0 554 custom %ID 100%% %s %X", d);
        let r = Reply::of(&t, "X", "1.2.3.4");
        assert_eq!((r.rcode.as_str(), r.xcode.as_str()), ("554", "5.7.0"));
        assert_eq!(r.text, "custom X 100% 1.2.3.4 %X");
        // the obsolete %s: the queue ID, then the client
        let r = Reply::of(&template("%s from %s %s", d), "Q", "192.0.2.1");
        assert_eq!(r.text, "Q from 192.0.2.1 %s");
        // leading blanks and quotes go, control characters become dots
        let t = template(" \"4.7.1 451 tab\there\u{e9}", d);
        assert_eq!((t.rcode.as_str(), t.xcode.as_str()), ("451", "4.7.1"));
        // each byte of the two of U+00E9, as the original counts bytes
        assert_eq!(t.fill("", ""), "tab.here..");
        // codes must be D.D.D and DDD
        let t = template("5.7.10 550 long", d);
        assert_eq!(
            (t.rcode.as_str(), t.fill("", "").as_str()),
            ("550", "5.7.10 550 long")
        );
        // a seventh macro is a literal '%' that loses its next letter
        let r = Reply::of(&template("%ID%ID%ID%ID%ID%ID %ID %%x", d), "i", "");
        assert_eq!(r.text, "iiiiii %D %x");
        // 255 bytes at most
        let long = "x".repeat(400);
        assert_eq!(template(&long, d).fill("", "").len(), 255);
        let t = template("554 5.7.0 rcode first", d);
        assert_eq!(t.rcode, "550");
        assert_eq!(t.fill("", ""), "554 5.7.0 rcode first");
        let q = Reply::of(
            &from_mta("\"refused by a \"local\" rule\""),
            "Q1",
            "192.0.2.1",
        );
        assert_eq!(
            (q.rcode.as_str(), q.xcode.as_str(), q.text.as_str()),
            ("550", "5.7.1", "refused by a local rule")
        );
        let q = Reply::of(&from_mta(" \"error:553 quoted\""), "Q1", "192.0.2.1");
        assert_eq!((q.rcode.as_str(), q.text.as_str()), ("553", "quoted"));
        let t = from_mta("ERROR:5.7.2:553 blocked by local rules");
        assert_eq!((t.rcode.as_str(), t.xcode.as_str()), ("553", "5.7.2"));
        assert_eq!(t.fill("", ""), "blocked by local rules");
        let t = template("4.7.1 451 Access denied", d);
        assert!(Reply::of(&t, "", "").is_temp());
    }

    /// The original's limits: a pattern of 255 bytes in which a `%` takes
    /// two and is dropped when fewer than three remain; the finished text
    /// cut at 255 bytes.
    #[test]
    fn limits() {
        let d = DEFAULT_REJECT;
        let x = |n: usize| "x".repeat(n);
        let r = template(&format!("{}%ID", x(252)), d).fill("Q1", "");
        assert_eq!(r, format!("{}Q1", x(252)));
        let r = template(&format!("{}%ID!", x(253)), d).fill("Q1", "");
        assert_eq!(r, format!("{}ID", x(253)));
        let r = template(&format!("{} %CIP", x(250)), d).fill("", "192.0.2.66");
        assert_eq!(r, format!("{} 192.", x(250)));
        // a long queue ID fills the rest
        let r = template("%ID %ID", d).fill(&x(200), "");
        assert_eq!(r.len(), 255);
        let r = from_mta(&format!("ERROR:553 {}", x(300))).fill("", "");
        assert_eq!(r, x(255));
    }

    /// The first `-r` text, the default rejection of DNS list hits, is
    /// read by the same scanner: the same text either way.
    #[test]
    fn shared_with_dns_lists() {
        let d = DEFAULT_REJECT;
        for arg in [
            "5.7.0 554 %s from %s %BTGT 100%% %q",
            &format!("{}%ID", "y".repeat(252)),
            "caf\u{e9} %ID%ID%ID%ID%ID%ID %ID",
        ] {
            let ours = Reply::of(&template(arg, d), "Q1", "192.0.2.9");
            let theirs = Template::parse_reject(arg).reply(|m| match m {
                Macro::Id => "Q1".into(),
                Macro::ClientIp => "192.0.2.9".into(),
                _ => "?".into(),
            });
            assert_eq!(
                format!("{} {} {}", ours.rcode, ours.xcode, ours.text),
                theirs
            );
        }
    }

    /// `ERROR:` codes count only as the original's `make_tplt` takes
    /// them: `ERROR:nnn` gets the default `5.7.1` and so needs a 5yz code;
    /// a 4yz code, a class mismatch or a malformed word leave the defaults
    /// `550 5.7.1` and the whole text, `ERROR:` included.
    #[test]
    fn mta_error_codes() {
        let got = |s: &str| {
            let r = Reply::of(&from_mta(s), "Q1", "192.0.2.1");
            format!("{} {} {}", r.rcode, r.xcode, r.text)
        };
        assert_eq!(got("ERROR:553 blocked"), "553 5.7.1 blocked");
        assert_eq!(got("error: 554 blank before"), "554 5.7.1 blank before");
        assert_eq!(got("ERROR:451 try later"), "550 5.7.1 ERROR:451 try later");
        assert_eq!(got("\"ERROR:452 \"full\"\""), "550 5.7.1 ERROR:452 full");
        assert_eq!(got("ERROR:4.2.0:451 later"), "451 4.2.0 later");
        assert_eq!(
            got("ERROR:4.2.0:551 mixed"),
            "550 5.7.1 ERROR:4.2.0:551 mixed"
        );
        assert_eq!(got("ERROR:5.7.1;553 x"), "550 5.7.1 ERROR:5.7.1;553 x");
        assert_eq!(got("ERROR:5531 x"), "550 5.7.1 ERROR:5531 x");
        assert_eq!(got("ERROR:"), "550 5.7.1 ERROR:");
        assert_eq!(got("ERROR:553"), "553 5.7.1 ");
        assert_eq!(got("4.7.1 451 temporary"), "451 4.7.1 temporary");
        // the codes come before the quotes are removed, as in the original
        assert_eq!(got("\"5.7.0\" 554 x"), "550 5.7.1 5.7.0 554 x");
    }

    /// The text the log file shows: after the codes, without quotes.
    #[test]
    fn mta_log_texts() {
        assert_eq!(mta_log_text("REJECT: go away"), "REJECT: go away");
        assert_eq!(
            mta_log_text("5.7.0 554 \"Spam\" %ID from %CIP 100%"),
            "Spam %ID from %CIP 100%"
        );
        assert_eq!(mta_log_text("ERROR:553 blocked"), "blocked");
        assert_eq!(mta_log_text("ERROR:451 later"), "ERROR:451 later");
        assert_eq!(mta_log_text(" caf\u{e9}\t"), "caf...");
        assert_eq!(mta_log_text(&"y".repeat(300)).len(), 255);
    }

    #[test]
    fn relay_texts() {
        for t in [
            "DISCARD: Relaying denied",
            "\"REJECT: Relaying denied. Proper authentication required.\"  Sent to DCC",
            "5.7.1 550 reject: relaying DENIED",
            "ERROR:553 DISCARD: Relaying denied",
        ] {
            assert!(relay_denied(t, "Q1", "192.0.2.1"), "{t}");
        }
        for t in [
            "Relaying denied",
            "REJECT:Relaying denied",
            "DISCARD: Relaying",
            "REJECT: spam",
            "",
        ] {
            assert!(!relay_denied(t, "Q1", "192.0.2.1"), "{t}");
        }
    }

    #[test]
    fn r_args() {
        let mut r = RejectMsgs::default();
        // a blank first -r keeps the default and counts
        assert_eq!(r.add("  "), Ok(()));
        assert_eq!(r.reject, template(DEFAULT_REJECT, DEFAULT_REJECT));
        assert_eq!(r.first, None);
        assert!(r.add("5.7.1 550 not grey").is_err());
        assert_eq!(r.grey, template(DEFAULT_GREY, DEFAULT_GREY));
        assert_eq!(r.add(""), Ok(()));
        let rep = Reply::of(&r.rep, "Q1", "192.0.2.1");
        assert_eq!(
            format!("{} {} {}", rep.rcode, rep.xcode, rep.text),
            "550 5.7.1 Q1 bulk mail reputation; \
             see https://commercial-dcc.rhyolite.com/cgi-bin/reps.cgi?tgt=192.0.2.1"
        );
        assert_eq!(r.add("x"), Err("more than 3 -r settings".to_string()));
        assert_eq!(r.add(""), Err("more than 3 -r settings".to_string()));
    }
}
