//! A user changing their own password, as the original's `chgpasswd`
//! script let them: the new password (twice) replaces the user's hash in
//! the htpasswd file, every other line of which is kept byte for byte.
//!
//! Unlike the original (which ran `htpasswd -b` with the password on its
//! command line), the current password is asked for again, the new one is
//! hashed here with bcrypt, and the file is replaced atomically (see
//! [`crate::write`]). Changes are serialised by a lock on `htpasswd.lock`
//! beside the file, the lock file the original's script held around
//! `htpasswd`; a change while it is held is refused as busy.

use crate::auth::{Htpasswd, MAX_LINE};
use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Fewest characters of a new password (the original asked for 4).
pub const MIN_LEN: usize = 8;
/// Most bytes of a new password: bcrypt uses only the first 72.
pub const MAX_LEN: usize = 72;
/// The bcrypt cost of new hashes (about 50 ms per check here; `htpasswd
/// -B` writes 5).
pub const COST: u32 = 10;

/// Whether `new` may become a password, typed the same `again`.
pub fn check_new(new: &str, again: &str) -> Result<(), String> {
    if new != again {
        return Err("the two copies of the new password differ".into());
    }
    if new.chars().count() < MIN_LEN {
        return Err(format!(
            "the new password must have at least {MIN_LEN} characters"
        ));
    }
    if new.len() > MAX_LEN {
        return Err(format!(
            "the new password must have at most {MAX_LEN} bytes"
        ));
    }
    if new.chars().any(char::is_control) {
        return Err("the new password must not contain control characters".into());
    }
    Ok(())
}

/// A bcrypt hash of `password` in the form `htpasswd -B` writes (`$2y$`).
pub fn hash(password: &str) -> Result<String, String> {
    let h = bcrypt::hash(password, COST).map_err(|e| format!("bcrypt: {e}"))?;
    Ok(match h.strip_prefix("$2b$") {
        Some(rest) => format!("$2y${rest}"),
        None => h,
    })
}

/// The text of the htpasswd file with `user`'s hash replaced by `hash`:
/// the first line of the user (the one sign-in uses) gets the new hash,
/// keeping any fields after it and its line end; every other line stays as
/// it was, byte for byte.
pub fn replace_hash(text: &[u8], user: &str, hash: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() + hash.len());
    let mut done = false;
    for raw in text.split_inclusive(|&c| c == b'\n') {
        if !done {
            if let Some(line) = user_line(raw, user, hash) {
                out.extend_from_slice(&line);
                done = true;
                continue;
            }
        }
        out.extend_from_slice(raw);
    }
    if !done {
        return Err(format!("user {user:?} is not in the password file"));
    }
    Ok(out)
}

/// `raw` (one line with its end) rewritten with `hash`, if it is a line of
/// `user` as [`Htpasswd::parse`] reads it.
fn user_line(raw: &[u8], user: &str, hash: &str) -> Option<Vec<u8>> {
    // the line end as the parser takes it off: a line feed, then a CR
    let mut end_len = usize::from(raw.ends_with(b"\n"));
    end_len += usize::from(raw[..raw.len() - end_len].ends_with(b"\r"));
    let (body, end) = raw.split_at(raw.len() - end_len);
    if body.len() > MAX_LINE {
        return None;
    }
    let t = std::str::from_utf8(body).ok()?.trim();
    let (name, rest) = t.split_once(':')?;
    if name != user || rest.is_empty() {
        return None;
    }
    // fields after the hash are kept
    let extra = rest.find(':').map_or("", |i| &rest[i..]);
    let mut line = format!("{user}:{hash}{extra}").into_bytes();
    line.extend_from_slice(end);
    Some(line)
}

/// Why a change was not made.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The current password given is not the user's.
    Wrong,
    /// Another change holds the lock.
    Busy,
    /// The file could not be read, locked or written (said to the log,
    /// not to the user).
    Failed(String),
}

/// The lock file of `htpasswd`: its name with `.lock` added.
pub fn lock_path(htpasswd: &Path) -> PathBuf {
    let mut p = htpasswd.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Change `user`'s password in the file `htpasswd` from `current` to `new`
/// (already accepted by [`check_new`]), holding the lock file meanwhile.
/// Blocking: bcrypt and file system work.
pub fn change(htpasswd: &Path, user: &str, current: &str, new: &str) -> Result<(), Refused> {
    let lock = lock_path(htpasswd);
    let f: File = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o660)
        .open(&lock)
        .map_err(|e| Refused::Failed(format!("{}: {e}", lock.display())))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(Refused::Busy),
        Err(TryLockError::Error(e)) => {
            return Err(Refused::Failed(format!("{}: {e}", lock.display())))
        }
    }
    let text = crate::server::read_limited(htpasswd, crate::server::MAX_HTPASSWD)
        .map_err(Refused::Failed)?;
    let h = Htpasswd::parse(&htpasswd.display().to_string(), &text);
    if !h.check(user, current) {
        return Err(Refused::Wrong);
    }
    let new_text =
        replace_hash(&text, user, &hash(new).map_err(Refused::Failed)?).map_err(Refused::Failed)?;
    crate::write::replace(htpasswd, &new_text).map_err(Refused::Failed)?;
    // the lock ends when `f` is closed, after the new file is in place
    drop(f);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::verify;

    #[test]
    fn new_passwords() {
        assert!(check_new("long enough", "long enough").is_ok());
        assert!(check_new("long enough", "long enougH")
            .unwrap_err()
            .contains("differ"));
        assert!(check_new("short", "short")
            .unwrap_err()
            .contains("at least 8"));
        // characters, not bytes, count towards the least length
        assert!(check_new("éééééééé", "éééééééé").is_ok());
        let long = "x".repeat(73);
        assert!(check_new(&long, &long).unwrap_err().contains("at most 72"));
        assert!(check_new("tab\there!", "tab\there!")
            .unwrap_err()
            .contains("control"));
    }

    #[test]
    fn only_the_users_first_line_changes() {
        let text = b"# users\r\nann:$apr1$x$y\nbob:{SHA}old:extra field\r\n\
                     \xff not utf-8\nbob:second\ncarol:$1$a$b";
        let new = replace_hash(text, "bob", "$2y$10$NEW").unwrap();
        let want: &[u8] = b"# users\r\nann:$apr1$x$y\nbob:$2y$10$NEW:extra field\r\n\
                            \xff not utf-8\nbob:second\ncarol:$1$a$b";
        assert_eq!(new, want);
        // the last line, without a line end
        let new = replace_hash(text, "carol", "H").unwrap();
        assert!(new.ends_with(b"\ncarol:H"));
        assert!(replace_hash(text, "nobody", "H")
            .unwrap_err()
            .contains("not in the password file"));
        // a name is matched whole
        assert!(replace_hash(b"bobby:x\n", "bob", "H").is_err());
        assert!(replace_hash(b"# bob:x\n", "bob", "H").is_err());
    }

    #[test]
    fn hashes_are_htpasswd_bcrypt() {
        let h = hash("new secret").unwrap();
        assert!(h.starts_with("$2y$10$"), "{h}");
        assert!(verify(&h, "new secret"));
        assert!(!verify(&h, "new secreT"));
    }

    #[test]
    fn change_checks_the_current_password_and_holds_the_lock() {
        let d = std::env::temp_dir().join(format!("dcc-web-pw-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let pw = d.join("webusers");
        let old = bcrypt::hash("old secret", 4).unwrap();
        std::fs::write(&pw, format!("ann:{{SHA}}x\nbob:{old}\n")).unwrap();
        assert_eq!(
            change(&pw, "bob", "wrong", "new secret"),
            Err(Refused::Wrong)
        );
        let held = File::open(lock_path(&pw)).unwrap();
        held.lock().unwrap();
        assert_eq!(
            change(&pw, "bob", "old secret", "new secret"),
            Err(Refused::Busy)
        );
        drop(held);
        change(&pw, "bob", "old secret", "new secret").unwrap();
        let h = Htpasswd::parse("webusers", &std::fs::read(&pw).unwrap());
        assert!(h.check("bob", "new secret"));
        assert!(!h.check("bob", "old secret"));
        assert!(std::fs::read(&pw)
            .unwrap()
            .starts_with(b"ann:{SHA}x\nbob:$2y$10$"));
        let _ = std::fs::remove_dir_all(&d);
    }
}
