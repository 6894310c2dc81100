//! User names of recipients that come without one (`-D local-domain`):
//! a mailbox without a domain is its own user name; otherwise the part
//! before the longest matching local domain (anchored at the end, and
//! starting at a `.` or `@`) is the user name, and for a `*domain`
//! wildcard only the part before the `@`. Without `-D` the local domain
//! is `@` followed by this host's name.

/// One `-D` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Domain {
    /// The name without a leading `*`.
    name: String,
    /// `*domain`: drop sub-domains from the user name.
    wildcard: bool,
    /// Length as given (with the `*`), for the ordering.
    given_len: usize,
}

/// The local domains, longest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalDomains(Vec<Domain>);

impl LocalDomains {
    /// From the `-D` arguments, or the host name when there are none.
    pub fn new(args: &[String], hostname: &str) -> Result<LocalDomains, String> {
        let mut v = Vec::new();
        for a in args {
            let bad = a.is_empty()
                || ((a.starts_with('@') || a.starts_with('*')) && a.len() < 2)
                || a.get(1..).is_some_and(|r| r.contains(['@', '*']));
            if bad {
                return Err(format!("invalid local-domain \"{a}\""));
            }
            let (name, wildcard) = match a.strip_prefix('*') {
                Some(n) => (n.to_string(), true),
                None => (a.clone(), false),
            };
            v.push(Domain {
                name,
                wildcard,
                given_len: a.len(),
            });
        }
        if v.is_empty() && !hostname.is_empty() {
            v.push(Domain {
                name: format!("@{hostname}"),
                wildcard: false,
                given_len: hostname.len() + 1,
            });
        }
        // longer first; a wildcard before the same name without one
        v.sort_by_key(|d| std::cmp::Reverse(d.given_len));
        Ok(LocalDomains(v))
    }

    /// The user name for a recipient mailbox, if one can be found.
    pub fn user_of(&self, mailbox: &str) -> Option<String> {
        let mut addr = mailbox.trim();
        if let Some(inner) = addr.strip_prefix('<').and_then(|a| a.strip_suffix('>')) {
            addr = inner;
        }
        // drop a source route
        if let Some(p) = addr.rfind(',') {
            addr = addr.get(p + 1..).unwrap_or("");
        }
        if addr.is_empty() {
            return None;
        }
        let Some(at) = addr.find('@') else {
            return Some(addr.to_string());
        };
        let b = addr.as_bytes();
        for d in &self.0 {
            let Some(mut i) = b.len().checked_sub(d.name.len()).filter(|&i| i > 0) else {
                continue;
            };
            let tail = b.get(i..).unwrap_or(&[]);
            if !tail.eq_ignore_ascii_case(d.name.as_bytes()) {
                continue;
            }
            if !(d.name.starts_with('@') || d.name.starts_with('.')) {
                if i < 2 || !matches!(b.get(i - 1), Some(b'.' | b'@')) {
                    continue;
                }
                i -= 1;
            }
            let end = if d.wildcard { at } else { i };
            return addr.get(..end).map(str::to_string);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(args: &[&str]) -> LocalDomains {
        let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        LocalDomains::new(&a, "mx.example.net").unwrap()
    }

    #[test]
    fn user_names() {
        let def = d(&[]);
        assert_eq!(def.user_of("<bob@mx.example.net>").as_deref(), Some("bob"));
        assert_eq!(def.user_of("<bob@example.net>"), None);
        assert_eq!(def.user_of("unknown").as_deref(), Some("unknown"));
        assert_eq!(def.user_of("<>"), None);
        let l = d(&["example.net", "*example.org"]);
        assert_eq!(l.user_of("<bob@example.net>").as_deref(), Some("bob"));
        assert_eq!(l.user_of("bob@sub.example.net").as_deref(), Some("bob@sub"));
        assert_eq!(l.user_of("bob@sub.example.org").as_deref(), Some("bob"));
        assert_eq!(l.user_of("bob@notexample.net"), None);
        // as the original, only the part up to the last comma of a route goes
        assert_eq!(
            l.user_of("<@relay.example:carol@example.net>").as_deref(),
            Some("@relay.example:carol")
        );
        assert_eq!(
            l.user_of("<@relay,carol@example.net>").as_deref(),
            Some("carol")
        );
        assert!(LocalDomains::new(&["*".to_string()], "h").is_err());
        assert!(LocalDomains::new(&["a@b".to_string()], "h").is_err());
    }
}
