//! The argument of `-I`: `user` or `user,group`.
//!
//! dccm(8) and dccifd(8) take `-I user`; dccd(8) takes
//! `-I [host-ID][,user]`, whose part after the first comma is handed here.
//! Each of `user` and `group` is a name from the password or group file,
//! or a number.

use std::fmt;

use crate::Error;

/// A user and an optional group, as written on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The user: a name or a number.
    pub user: String,
    /// The group, when given after a comma: a name or a number. Without
    /// it the user's group from the password file is used.
    pub group: Option<String>,
}

impl Spec {
    /// Read `user` or `user,group`. Both parts must be non-empty, and
    /// neither may hold a second comma or a NUL byte.
    pub fn parse(arg: &str) -> Result<Spec, Error> {
        let bad = || Error::Syntax(arg.to_string());
        if arg.contains('\0') {
            return Err(bad());
        }
        let (user, group) = match arg.split_once(',') {
            Some((u, g)) => (u, Some(g)),
            None => (arg, None),
        };
        if user.is_empty() {
            return Err(bad());
        }
        if let Some(g) = group {
            if g.is_empty() || g.contains(',') {
                return Err(bad());
            }
        }
        Ok(Spec {
            user: user.to_string(),
            group: group.map(str::to_string),
        })
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.group {
            Some(g) => write!(f, "{},{g}", self.user),
            None => f.write_str(&self.user),
        }
    }
}

/// A decimal number that fits an ID (`uid_t`, `gid_t`), as `-I 65534`.
pub(crate) fn numeric_id(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(arg: &str, user: &str, group: Option<&str>) {
        let s = Spec::parse(arg).unwrap();
        assert_eq!(s.user, user, "{arg}");
        assert_eq!(s.group.as_deref(), group, "{arg}");
        assert_eq!(s.to_string(), arg);
    }

    #[test]
    fn user_alone_and_with_group() {
        ok("nobody", "nobody", None);
        ok("dcc", "dcc", None);
        ok("65534", "65534", None);
        ok("nobody,nogroup", "nobody", Some("nogroup"));
        ok("dcc,65534", "dcc", Some("65534"));
        ok("1000,1000", "1000", Some("1000"));
    }

    #[test]
    fn malformed() {
        for bad in ["", ",", ",wheel", "nobody,", "a,b,c", "no\0body", "a,b\0"] {
            let e = Spec::parse(bad).unwrap_err();
            assert!(matches!(e, Error::Syntax(_)), "{bad:?}: {e:?}");
            assert_eq!(e.exit_code(), crate::EX_NOUSER);
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(numeric_id("0"), Some(0));
        assert_eq!(numeric_id("65534"), Some(65534));
        assert_eq!(numeric_id("4294967295"), Some(u32::MAX));
        assert_eq!(numeric_id("4294967296"), None);
        assert_eq!(numeric_id("99999999999999999999"), None);
        assert_eq!(numeric_id("+1"), None);
        assert_eq!(numeric_id("-1"), None);
        assert_eq!(numeric_id("1a"), None);
        assert_eq!(numeric_id(""), None);
    }
}
