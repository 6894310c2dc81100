//! SMTP replies of dccm: the `-r` rejection messages, the texts sendmail
//! gives in `${dcc_isspam}`, and the fixed temporary failures.
//!
//! A template optionally starts with an RFC 1893 status code and an
//! RFC 2821 reply code in that order (`5.7.1 550 text`); without both the
//! defaults of the message kind are used and the whole string is the text.
//! `%ID` becomes the sendmail queue ID and `%CIP` the SMTP client's
//! address; `%%` is a single `%`. Other `%` sequences stay as they are,
//! as the original leaves them.

/// A reply template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// SMTP reply code, e.g. `550`.
    pub rcode: String,
    /// Enhanced status code, e.g. `5.7.1`.
    pub xcode: String,
    /// Text with `%` sequences not yet replaced.
    pub text: String,
}

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
pub const DEFAULT_REP: &str = "5.7.1 550 %ID bad reputation; see http://commercial-dcc.rhyolite.com/cgi-bin/reps.cgi?tgt=%CIP";
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
    "reject temporarily for incompatible thresholds",
);
/// The reply refusing recipients beyond the per-message limit.
pub const TOO_MANY_RCPTS: (&str, &str, &str) = ("452", "4.5.3", "too many recipients");

/// A fixed reply from its (rcode, xcode, text).
pub fn fixed(r: (&str, &str, &str)) -> Reply {
    Reply {
        rcode: r.0.to_string(),
        xcode: r.1.to_string(),
        text: r.2.to_string(),
    }
}

fn is_xcode(w: &str) -> bool {
    let parts: Vec<&str> = w.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
        && matches!(parts[0], "2" | "4" | "5")
}

fn is_rcode(w: &str) -> bool {
    w.len() == 3 && w.bytes().all(|b| b.is_ascii_digit()) && matches!(w.as_bytes()[0], b'4' | b'5')
}

impl Template {
    /// Parse a template; `default` gives the codes used when the string
    /// does not start with both.
    pub fn parse(s: &str, default: &Template) -> Template {
        let mut words = s.splitn(3, ' ');
        let a = words.next().unwrap_or("");
        let b = words.next().unwrap_or("");
        let rest = words.next().unwrap_or("");
        if is_xcode(a) && is_rcode(b) && a.as_bytes().first() == b.as_bytes().first() {
            return Template {
                rcode: b.to_string(),
                xcode: a.to_string(),
                text: rest.trim_start().to_string(),
            };
        }
        Template {
            rcode: default.rcode.clone(),
            xcode: default.xcode.clone(),
            text: s.to_string(),
        }
    }

    /// A template from its default string.
    pub fn builtin(s: &str) -> Template {
        let fallback = Template {
            rcode: "550".into(),
            xcode: "5.7.1".into(),
            text: String::new(),
        };
        Template::parse(s, &fallback)
    }

    /// Parse the value of `${dcc_isspam}`: `DISCARD` and `REJECT` words
    /// are handled by the caller; `ERROR:x.y.z:nnn text` and `ERROR:nnn
    /// text` (sendmail's error mailer form) give codes, as does the usual
    /// `x.y.z nnn text`.
    pub fn from_mta(s: &str) -> Template {
        let dflt = Template::builtin(DEFAULT_REJECT);
        let Some(rest) = s.strip_prefix("ERROR:") else {
            return Template::parse(s, &dflt);
        };
        let (codes, text) = match rest.find(' ') {
            Some(i) => (&rest[..i], rest[i + 1..].trim_start()),
            None => (rest, ""),
        };
        let mut xcode = dflt.xcode.clone();
        let mut rcode = dflt.rcode.clone();
        for c in codes.split(':') {
            if is_xcode(c) {
                xcode = c.to_string();
            } else if is_rcode(c) {
                rcode = c.to_string();
            }
        }
        Template {
            rcode,
            xcode,
            text: text.to_string(),
        }
    }

    /// The reply for a message with queue ID `id` from client `cip`.
    pub fn reply(&self, id: &str, cip: &str) -> Reply {
        Reply {
            rcode: self.rcode.clone(),
            xcode: self.xcode.clone(),
            text: substitute(&self.text, id, cip),
        }
    }
}

/// Replace `%ID`, `%CIP` and `%%`.
pub fn substitute(text: &str, id: &str, cip: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix("ID") {
            out.push_str(id);
            rest = r;
        } else if let Some(r) = after.strip_prefix("CIP") {
            out.push_str(cip);
            rest = r;
        } else if let Some(r) = after.strip_prefix('%') {
            out.push('%');
            rest = r;
        } else {
            out.push('%');
            rest = after;
        }
    }
    out.push_str(rest);
    out
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
            reject: Template::builtin(DEFAULT_REJECT),
            grey: Template::builtin(DEFAULT_GREY),
            rep: Template::builtin(DEFAULT_REP),
            count: 0,
            first: None,
        }
    }
}

impl RejectMsgs {
    /// Take one `-r` argument; the complaint for a fourth one.
    pub fn add(&mut self, arg: &str) -> Result<(), String> {
        self.count += 1;
        if arg.is_empty() {
            return if self.count > 3 {
                Err(format!("more than 3 -r settings; \"{arg}\" ignored"))
            } else {
                Ok(())
            };
        }
        match self.count {
            1 => {
                self.reject = Template::parse(arg, &Template::builtin(DEFAULT_REJECT));
                self.first = Some(arg.to_string());
            }
            2 => {
                let t = Template::parse(arg, &Template::builtin(DEFAULT_GREY));
                if !t.rcode.starts_with('4') || !t.xcode.starts_with('4') {
                    return Err(format!("invalid greylist message: {arg}"));
                }
                self.grey = t;
            }
            3 => self.rep = Template::parse(arg, &Template::builtin(DEFAULT_REP)),
            _ => return Err(format!("more than 3 -r settings; \"-r {arg}\" ignored")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let d = Template::builtin(DEFAULT_REJECT);
        assert_eq!(
            d.reply("B1", "192.0.2.10").text,
            "mail B1 from 192.0.2.10 rejected by DCC"
        );
        let t = Template::parse("5.7.0 554 custom %ID 100%% %s %X", &d);
        let r = t.reply("X", "1.2.3.4");
        assert_eq!((r.rcode.as_str(), r.xcode.as_str()), ("554", "5.7.0"));
        assert_eq!(r.text, "custom X 100% %s %X");
        let t = Template::parse("554 5.7.0 rcode first", &d);
        assert_eq!(t.rcode, "550");
        assert_eq!(t.text, "554 5.7.0 rcode first");
        let t = Template::from_mta("ERROR:5.7.2:553 blocked by local rules");
        assert_eq!((t.rcode.as_str(), t.xcode.as_str()), ("553", "5.7.2"));
        assert_eq!(t.text, "blocked by local rules");
        let t = Template::parse("4.7.1 451 Access denied", &d);
        assert!(t.reply("", "").is_temp());
    }
}
