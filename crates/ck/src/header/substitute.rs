//! Substitute ("locally configured") header checksums, `dccproc -S`.
//!
//! Each configured name selects a header field whose value is checksummed
//! with the lower-case field name hashed in front of it. By default the last
//! instance of the field counts; a name given as `+name` keeps the first.
//! Two names do not come from headers: `mail_host`, the domain of the
//! envelope sender, and `HELO`, the SMTP HELO value.
//!
//! The original keeps the checksums in a fixed table: the first substitute
//! found takes the table's `substitute` slot (printed between `From` and
//! `Message-ID`, and the only one sent to servers) and later ones take spare
//! slots printed after all other types. [`SubSlots`] keeps that order.

use super::util::starts_with_ci;
use crate::simple::str_sum;
use crate::Sum;

/// A validated substitute header name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubName {
    /// Lower-case field name, as hashed and printed (`substitute list-id`).
    pub name: String,
    /// `+name`: keep the first instance of the field instead of the last.
    pub first: bool,
}

impl SubName {
    /// Check a name as `dccproc -S` does.
    pub fn parse(arg: &str) -> Result<SubName, String> {
        let (first, rest) = match arg.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, arg),
        };
        let bytes = rest.as_bytes();
        let mut len = bytes.len();
        for (i, &c) in bytes.iter().enumerate() {
            if c == b':' && i + 1 == bytes.len() {
                // A trailing colon is allowed and dropped ("List-ID:" is
                // List-ID). The original steps back one byte too many and
                // makes it "List-I", a bug not copied (docs/compatibility.md).
                len = i;
                break;
            }
            if c <= b' ' || c >= 0x7f || c == b':' {
                return Err(format!("illegal SMTP field name character in \"{rest}\""));
            }
        }
        if len == 0 {
            return Err("illegal empty field name".to_string());
        }
        let name = rest[..len].to_ascii_lowercase();
        Ok(SubName { name, first })
    }
}

/// The distinct valid names of a list of `-S` arguments, at most 8, in order.
pub(crate) fn parse_sub_names(args: &[String]) -> Vec<SubName> {
    let mut out: Vec<SubName> = Vec::new();
    for a in args {
        if out.len() >= super::MAX_SUB_CKS {
            break;
        }
        if let Ok(s) = SubName::parse(a) {
            if !out.iter().any(|o| o.name == s.name) {
                out.push(s);
            }
        }
    }
    out
}

/// Substitute checksums in the order of their table slots.
#[derive(Debug, Clone, Default)]
pub(crate) struct SubSlots {
    names: Vec<SubName>,
    /// (index into `names`, checksum), first-come order.
    got: Vec<(usize, Sum)>,
}

impl SubSlots {
    pub(crate) fn new(names: Vec<SubName>) -> Self {
        SubSlots {
            names,
            got: Vec::new(),
        }
    }

    /// The configured name matching a header field that starts with
    /// `name:` or is exactly `name` (case-insensitive).
    fn lookup(&self, field: &[u8]) -> Option<usize> {
        self.names.iter().position(|s| {
            let n = s.name.as_bytes();
            starts_with_ci(field, n) && matches!(field.get(n.len()), None | Some(b':'))
        })
    }

    /// Offer a whole header field (`Name: value...`). Returns true when it
    /// is one of the configured substitute headers and was checksummed.
    pub(crate) fn offer_field(&mut self, field: &[u8]) -> bool {
        let Some(idx) = self.lookup(field) else {
            return false;
        };
        let n = self.names[idx].name.len();
        let value = field.get(n + 1..).unwrap_or(&[]);
        self.store(idx, value)
    }

    /// Offer an envelope value under one of the special names
    /// (`mail_host`, `helo`).
    pub(crate) fn offer_named(&mut self, name: &str, value: &[u8]) -> bool {
        match self.lookup(name.as_bytes()) {
            Some(idx) => self.store(idx, value),
            None => false,
        }
    }

    fn store(&mut self, idx: usize, value: &[u8]) -> bool {
        let sum = str_sum(Some(self.names[idx].name.as_bytes()), value);
        if let Some(slot) = self.got.iter_mut().find(|(i, _)| *i == idx) {
            if self.names[idx].first {
                return false;
            }
            slot.1 = sum;
        } else {
            self.got.push((idx, sum));
        }
        true
    }

    /// (name, checksum) in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, Sum)> + '_ {
        self.got
            .iter()
            .map(|(i, s)| (self.names[*i].name.as_str(), *s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            SubName::parse("+List-ID").unwrap(),
            SubName {
                name: "list-id".into(),
                first: true
            }
        );
        assert_eq!(SubName::parse("X-Mailer:").unwrap().name, "x-mailer");
        assert!(SubName::parse(":").is_err());
        assert_eq!(SubName::parse("a:").unwrap().name, "a");
        assert_eq!(SubName::parse("ab:").unwrap().name, "ab");
        assert!(SubName::parse("A:B").is_err());
        assert!(SubName::parse("A B").is_err());
    }

    #[test]
    fn first_and_last() {
        let names = parse_sub_names(&["+Sender".into(), "List-ID".into()]);
        let mut s = SubSlots::new(names);
        assert!(!s.offer_field(b"Senders: x\n"));
        assert!(!s.offer_field(b"Sender : x\n"));
        assert!(s.offer_field(b"list-id: <b>\n"));
        assert!(s.offer_field(b"Sender: one\n"));
        assert!(!s.offer_field(b"Sender: two\n"));
        assert!(s.offer_field(b"List-Id: <c>\n"));
        let got: Vec<_> = s.iter().collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], ("list-id", str_sum(Some(b"list-id"), b" <c>\n")));
        assert_eq!(got[1], ("sender", str_sum(Some(b"sender"), b"one")));
        assert!(!s.offer_named("mail_host", b"example.com"));
    }
}
