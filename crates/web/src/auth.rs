//! The htpasswd file the original's CGI scripts were protected with
//! (`userdirs/webusers` by default): one `user:hash` line per user, as
//! Apache's `htpasswd` writes them, and the checks of each hash form:
//! bcrypt (`$2y$`, `$2a$`, `$2b$`), Apache MD5 (`$apr1$`), MD5 crypt
//! (`$1$`), SHA-1 (`{SHA}`) and the traditional DES `crypt` form.
//! Plain-text passwords are never accepted.

use base64::Engine;
use sha1::{Digest, Sha1};
use std::collections::HashMap;

/// A parsed htpasswd file: user names and their hashes.
#[derive(Debug, Default, Clone)]
pub struct Htpasswd {
    users: HashMap<String, String>,
    /// Problems found, each naming its line, e.g.
    /// `line 3 of webusers: no ':' after the user name`.
    pub errors: Vec<String>,
}

/// Longest line accepted (a bcrypt line is about 70 bytes).
pub const MAX_LINE: usize = 1024;

impl Htpasswd {
    /// Parse the text of the file `name`. Blank lines and lines starting
    /// with `#` are skipped; a bad line is reported in
    /// [`Htpasswd::errors`] and skipped; the first line of a user wins.
    pub fn parse(name: &str, text: &[u8]) -> Htpasswd {
        let mut out = Htpasswd::default();
        for (i, raw) in text.split(|&c| c == b'\n').enumerate() {
            let n = i + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.len() > MAX_LINE {
                out.errors
                    .push(format!("line {n} of {name}: longer than {MAX_LINE} bytes"));
                continue;
            }
            let Ok(line) = std::str::from_utf8(raw) else {
                out.errors.push(format!("line {n} of {name}: not UTF-8"));
                continue;
            };
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let Some((user, hash)) = t.split_once(':') else {
                out.errors
                    .push(format!("line {n} of {name}: no ':' after the user name"));
                continue;
            };
            if user.is_empty() || hash.is_empty() {
                out.errors
                    .push(format!("line {n} of {name}: empty user name or hash"));
                continue;
            }
            // Apache allows more fields after the hash; they are not ours
            let hash = hash.split(':').next().unwrap_or(hash);
            out.users
                .entry(user.to_string())
                .or_insert_with(|| hash.to_string());
        }
        out
    }

    /// The number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the file names no user.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The hash of `user` (from the user's first line).
    pub fn hash_of(&self, user: &str) -> Option<&str> {
        self.users.get(user).map(String::as_str)
    }

    /// The user names, in no order.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    /// Whether `user` is listed with a hash of `password`. An unknown
    /// user costs a bcrypt check too, so that the time taken does not
    /// tell which names exist.
    pub fn check(&self, user: &str, password: &str) -> bool {
        match self.users.get(user) {
            Some(h) => verify(h, password),
            None => {
                let _ = verify(dummy_bcrypt(), password);
                false
            }
        }
    }
}

/// A bcrypt hash (cost 5, as `htpasswd -B` writes) of nothing anybody
/// types, for unknown users.
fn dummy_bcrypt() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| bcrypt::hash(crate::session::token(), 5).unwrap_or_default())
}

/// The largest bcrypt cost accepted (Apache's htpasswd allows 4 to 17).
pub const MAX_BCRYPT_COST: u32 = 17;

/// Which form a hash has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Bcrypt,
    Apr1,
    Md5Crypt,
    Sha1,
    Crypt,
    Unknown,
}

/// The form of an htpasswd hash.
pub fn form(hash: &str) -> Form {
    if hash.starts_with("$2y$") || hash.starts_with("$2a$") || hash.starts_with("$2b$") {
        Form::Bcrypt
    } else if hash.starts_with("$apr1$") {
        Form::Apr1
    } else if hash.starts_with("$1$") {
        Form::Md5Crypt
    } else if hash.starts_with("{SHA}") {
        Form::Sha1
    } else if hash.len() == 13
        && hash
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'/')
    {
        Form::Crypt
    } else {
        Form::Unknown
    }
}

/// Whether `hash` (one of the forms of [`form`]) is the hash of `password`.
pub fn verify(hash: &str, password: &str) -> bool {
    match form(hash) {
        Form::Bcrypt => {
            // htpasswd -B writes costs 4 to 17; a larger one would take
            // hours and is no hash a site made
            let cost: u32 = hash.get(4..6).and_then(|c| c.parse().ok()).unwrap_or(99);
            cost <= MAX_BCRYPT_COST && bcrypt::verify(password, hash).unwrap_or(false)
        }
        Form::Apr1 | Form::Md5Crypt => crate::apr1::verify(hash, password.as_bytes()),
        Form::Sha1 => {
            let d = Sha1::digest(password.as_bytes());
            let mine = base64::engine::general_purpose::STANDARD.encode(d);
            same(mine.as_bytes(), &hash.as_bytes()[5..])
        }
        Form::Crypt => {
            // traditional crypt uses only the first 8 bytes; pwhash's
            // DES crypt refuses none of the 13-character forms
            pwhash::unix_crypt::verify(password, hash)
        }
        Form::Unknown => false,
    }
}

/// Byte strings equal, in time that depends only on their lengths.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(deprecated)] // DES crypt is made here only to check it
    fn forms_and_lines() {
        let bc = bcrypt::hash("secret", 4).unwrap();
        let sha = format!(
            "{{SHA}}{}",
            base64::engine::general_purpose::STANDARD.encode(Sha1::digest(b"secret"))
        );
        let crypt = pwhash::unix_crypt::hash_with("ab", "secret").unwrap();
        let text = format!(
            "# users\nbob:{bc}\nann:$apr1$xxxxxxxx$dxHfLAsjHkDRmG83UXe8K0\n\
             cy:{sha}\ndee:{crypt}\nbad line\n\nbob:{{SHA}}other\n"
        );
        let h = Htpasswd::parse("webusers", text.as_bytes());
        assert_eq!(h.len(), 4);
        assert_eq!(h.errors, ["line 6 of webusers: no ':' after the user name"]);
        assert!(h.check("bob", "secret"));
        assert!(!h.check("bob", "Secret"));
        assert!(h.check("ann", "password"));
        assert!(h.check("cy", "secret"));
        assert!(!h.check("cy", "secreT"));
        assert!(h.check("dee", "secret"));
        assert!(!h.check("dee", "secrex"));
        assert!(!h.check("nobody", "secret"));
        assert_eq!(form("plaintext"), Form::Unknown);
        assert!(!verify("plaintext", "plaintext"));
    }
}
