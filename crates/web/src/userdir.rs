//! A user name to its one directory under userdirs, as the original's
//! scripts mapped htpasswd names: `name` is `userdirs/local/name` (what
//! dccm makes of a local mailbox, `{rcpt_mailer}/{rcpt_addr}`), and
//! `mailer/addr` (e.g. `esmtp/bob@example.com`) is `userdirs/mailer/addr`.
//! Names are lower-cased as dccm and dccifd lower-case directories.
//!
//! Refused: an empty name, more than one `/`, an empty part, a part that
//! starts with `.` (so no `..`), NUL, `\`, control characters, and a
//! directory that is missing or whose real path (symbolic links followed)
//! is not inside userdirs.

use std::path::{Path, PathBuf};

/// Longest user name accepted.
pub const MAX_NAME: usize = 256;

/// Check a user name; its two parts (mailer, address), lower-cased.
pub fn parts(user: &str) -> Result<(String, String), String> {
    if user.is_empty() {
        return Err("empty user name".to_string());
    }
    if user.len() > MAX_NAME {
        return Err(format!("user name longer than {MAX_NAME} bytes"));
    }
    if let Some(c) = user
        .chars()
        .find(|c| c.is_control() || *c == '\\' || c.is_whitespace())
    {
        return Err(format!("user name contains the character {c:?}"));
    }
    let (mailer, addr) = match user.split_once('/') {
        None => ("local", user),
        Some((m, a)) => (m, a),
    };
    if addr.contains('/') {
        return Err("user name has more than one '/'".to_string());
    }
    for p in [mailer, addr] {
        if p.is_empty() {
            return Err("user name has an empty part".to_string());
        }
        if p.starts_with('.') {
            return Err("a part of the user name starts with '.'".to_string());
        }
    }
    Ok((mailer.to_ascii_lowercase(), addr.to_ascii_lowercase()))
}

/// The canonical directory of `user` under the canonical `userdirs`.
pub fn resolve(userdirs: &Path, user: &str) -> Result<PathBuf, String> {
    let (mailer, addr) = parts(user)?;
    let base = userdirs
        .canonicalize()
        .map_err(|e| format!("userdirs {}: {e}", userdirs.display()))?;
    let dir = base.join(&mailer).join(&addr);
    let real = dir
        .canonicalize()
        .map_err(|_| format!("no directory for user {user:?}"))?;
    if !real.starts_with(&base) || real == base {
        return Err(format!(
            "the directory of user {user:?} is outside userdirs"
        ));
    }
    if !real.is_dir() {
        return Err(format!("no directory for user {user:?}"));
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parts("Bob").unwrap(), ("local".into(), "bob".into()));
        assert_eq!(
            parts("esmtp/Bob@Example.com").unwrap(),
            ("esmtp".into(), "bob@example.com".into())
        );
        for bad in [
            "", "..", "a/..", "../x", ".hidden", "a/b/c", "a\0b", "a\\b", "/x", "x/", "a b",
        ] {
            assert!(parts(bad).is_err(), "{bad:?}");
        }
    }
}
