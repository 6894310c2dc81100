//! Looking up the user and group of `-I`, and becoming them for good.
//!
//! The order is the safe one: the supplementary groups first and the
//! group next, while the process may still change them, and the user
//! last. Then the result is checked: all three user IDs (real, effective,
//! saved) and all three group IDs are the new ones, and asking for root
//! back fails.

use std::ffi::CString;
use std::fmt;
use std::path::Path;

use nix::errno::Errno;
use nix::unistd::{self, AccessFlags, Gid, Group, Uid, User};

use crate::spec::{numeric_id, Spec};
use crate::Error;

/// Who the process is to become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The user's name in the password file, or the number as given for
    /// a user ID without an entry there.
    pub name: String,
    /// The user ID.
    pub uid: u32,
    /// The group ID: the group given after the comma, else the user's.
    pub gid: u32,
    /// The user has an entry in the password file, so its memberships in
    /// the group file become the supplementary groups; otherwise the only
    /// supplementary group is `gid`.
    pub listed: bool,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (uid {}, gid {})", self.name, self.uid, self.gid)
    }
}

/// A user found by name or number.
enum Found {
    /// An entry of the password file.
    Entry(User),
    /// A number without an entry.
    Number(u32),
}

/// "Not found" as some name services report it instead of an empty
/// answer.
fn not_found(e: Errno) -> bool {
    matches!(e, Errno::ENOENT | Errno::ESRCH)
}

fn lookup_user(name: &str) -> Result<Found, Error> {
    let lookup_err = |call: String, errno| Error::Lookup { call, errno };
    match User::from_name(name) {
        Ok(Some(u)) => return Ok(Found::Entry(u)),
        Ok(None) => {}
        Err(e) if not_found(e) => {}
        Err(e) => return Err(lookup_err(format!("getpwnam({name})"), e)),
    }
    let Some(n) = numeric_id(name) else {
        return Err(Error::NoUser(name.to_string()));
    };
    match User::from_uid(Uid::from_raw(n)) {
        Ok(Some(u)) => Ok(Found::Entry(u)),
        Ok(None) => Ok(Found::Number(n)),
        Err(e) if not_found(e) => Ok(Found::Number(n)),
        Err(e) => Err(lookup_err(format!("getpwuid({n})"), e)),
    }
}

fn lookup_group(name: &str) -> Result<u32, Error> {
    match Group::from_name(name) {
        Ok(Some(g)) => return Ok(g.gid.as_raw()),
        Ok(None) => {}
        Err(e) if not_found(e) => {}
        Err(errno) => {
            return Err(Error::Lookup {
                call: format!("getgrnam({name})"),
                errno,
            })
        }
    }
    // a number needs no entry in the group file
    numeric_id(name).ok_or_else(|| Error::NoGroup(name.to_string()))
}

/// Find the user and group named by `spec`. A user given by number needs
/// an entry in the password file unless a group is given too.
pub fn resolve(spec: &Spec) -> Result<Target, Error> {
    let user = lookup_user(&spec.user)?;
    let group = match &spec.group {
        Some(g) => Some(lookup_group(g)?),
        None => None,
    };
    match (user, group) {
        (Found::Entry(u), g) => Ok(Target {
            gid: g.unwrap_or(u.gid.as_raw()),
            uid: u.uid.as_raw(),
            name: u.name,
            listed: true,
        }),
        (Found::Number(n), Some(g)) => Ok(Target {
            name: n.to_string(),
            uid: n,
            gid: g,
            listed: false,
        }),
        (Found::Number(_), None) => Err(Error::NoUser(spec.user.clone())),
    }
}

/// The process already is `uid`/`gid` in all three of its IDs each.
fn already(uid: Uid, gid: Gid) -> bool {
    let (Ok(u), Ok(g)) = (unistd::getresuid(), unistd::getresgid()) else {
        return false;
    };
    [u.real, u.effective, u.saved] == [uid; 3] && [g.real, g.effective, g.saved] == [gid; 3]
}

/// Become `t` for good: supplementary groups, group, then user, then check
/// that there is no way back. A process that already runs as `t` (not
/// root) is left as it is, so a daemon that starts itself again in the
/// background can pass its `-I` on.
///
/// The daemons call it before they start any thread (on Linux the C
/// library would change the IDs of every thread anyway).
pub fn switch(t: &Target) -> Result<(), Error> {
    let (uid, gid) = (Uid::from_raw(t.uid), Gid::from_raw(t.gid));
    if t.uid != 0 && already(uid, gid) {
        return Ok(());
    }
    let call = |call: String| move |errno| Error::Call { call, errno };
    // Only root may set the supplementary groups; without root the
    // set-ID calls below fail and say why in the original's words.
    if unistd::geteuid().is_root() {
        if t.listed {
            let name = CString::new(t.name.as_str()).map_err(|_| Error::Syntax(t.name.clone()))?;
            unistd::initgroups(&name, gid)
                .map_err(call(format!("initgroups({}, {})", t.name, t.gid)))?;
        } else {
            unistd::setgroups(&[gid]).map_err(call(format!("setgroups({})", t.gid)))?;
        }
    }
    unistd::setgid(gid).map_err(call(format!("setgid({} {})", t.gid, t.name)))?;
    unistd::setuid(uid).map_err(call(format!("setuid({} {})", t.uid, t.name)))?;
    verify(t, uid, gid)
}

/// The switch holds: every ID is the new one, and root cannot be had back.
fn verify(t: &Target, uid: Uid, gid: Gid) -> Result<(), Error> {
    if !already(uid, gid) {
        return Err(Error::NotDropped(format!(
            "after switching to {t} the process's user or group IDs differ"
        )));
    }
    if t.uid == 0 {
        return Ok(());
    }
    let root = Uid::from_raw(0);
    if unistd::setuid(root).is_ok() || unistd::seteuid(root).is_ok() {
        return Err(Error::NotDropped(format!(
            "root is still available after switching to {t}"
        )));
    }
    if t.gid != 0 && unistd::setgid(Gid::from_raw(0)).is_ok() {
        return Err(Error::NotDropped(format!(
            "group 0 is still available after switching to {t}"
        )));
    }
    Ok(())
}

/// Whether [`switch`] can work: the process is root, or already is `t`.
/// A daemon that starts itself again in the background asks this before
/// it goes, so that an impossible `-I` is reported where it was typed; the
/// process left in the background switches.
pub fn preflight(t: &Target) -> Result<(), Error> {
    if unistd::geteuid().is_root() || already(Uid::from_raw(t.uid), Gid::from_raw(t.gid)) {
        return Ok(());
    }
    Err(Error::Call {
        call: format!("setgid({} {})", t.gid, t.name),
        errno: Errno::EPERM,
    })
}

/// Read the `-I` argument, find the user and group, and check that the
/// process can become them ([`preflight`]).
pub fn prepare(arg: &str) -> Result<Target, Error> {
    let t = resolve(&Spec::parse(arg)?)?;
    preflight(&t)?;
    Ok(t)
}

/// Read the `-I` argument, find the user and become it.
pub fn switch_to(arg: &str) -> Result<Target, Error> {
    let t = resolve(&Spec::parse(arg)?)?;
    switch(&t)?;
    Ok(t)
}

/// The process (as it now is) may create files in `dir`: the check a
/// daemon makes after switching, so that a log or temporary directory it
/// can no longer write is reported at start-up rather than message by
/// message. The error is what the system said, as `Permission denied`.
pub fn writable_dir(dir: &Path) -> Result<(), &'static str> {
    unistd::access(dir, AccessFlags::W_OK | AccessFlags::X_OK).map_err(Errno::desc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> Spec {
        Spec::parse(s).unwrap()
    }

    #[test]
    fn root_by_name_and_number() {
        for s in ["root", "0"] {
            let t = resolve(&spec(s)).unwrap();
            assert_eq!(
                (t.name.as_str(), t.uid, t.gid, t.listed),
                ("root", 0, 0, true)
            );
        }
        let t = resolve(&spec("root,0")).unwrap();
        assert_eq!((t.uid, t.gid), (0, 0));
        assert_eq!(t.to_string(), "root (uid 0, gid 0)");
    }

    #[test]
    fn unknown_user_and_group() {
        let e = resolve(&spec("no-such-user-of-tally")).unwrap_err();
        assert_eq!(e, Error::NoUser("no-such-user-of-tally".into()));
        assert_eq!(
            e.to_string(),
            "getpwnam(no-such-user-of-tally): no such user"
        );
        assert_eq!(e.exit_code(), crate::EX_NOUSER);
        let e = resolve(&spec("root,no-such-group-of-tally")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "getgrnam(no-such-group-of-tally): no such group"
        );
    }

    #[test]
    fn number_without_entry_needs_a_group() {
        // an ID no system lists
        let n = "4000000007";
        assert_eq!(resolve(&spec(n)).unwrap_err(), Error::NoUser(n.to_string()));
        let t = resolve(&spec(&format!("{n},4000000009"))).unwrap();
        assert_eq!(
            (t.uid, t.gid, t.listed),
            (4_000_000_007, 4_000_000_009, false)
        );
    }

    #[test]
    fn current_process_needs_no_switch_when_already_there() {
        let u = unistd::getresuid().unwrap();
        let g = unistd::getresgid().unwrap();
        let same = u.real == u.effective && u.effective == u.saved;
        let same = same && g.real == g.effective && g.effective == g.saved;
        assert_eq!(already(u.effective, g.effective), same);
        assert!(!already(Uid::from_raw(4_000_000_007), g.effective));
        let me = Target {
            name: "me".into(),
            uid: u.effective.as_raw(),
            gid: g.effective.as_raw(),
            listed: false,
        };
        if same {
            assert_eq!(preflight(&me), Ok(()));
        }
        let other = Target {
            name: "4000000007".into(),
            uid: 4_000_000_007,
            gid: 4_000_000_009,
            listed: false,
        };
        let root = unistd::geteuid().is_root();
        assert_eq!(preflight(&other).is_ok(), root);
        if !root {
            let e = preflight(&other).unwrap_err();
            assert_eq!(
                e.to_string(),
                "setgid(4000000009 4000000007): Operation not permitted"
            );
        }
    }

    #[test]
    fn error_wording() {
        let e = Error::Call {
            call: "setuid(65534 nobody)".into(),
            errno: Errno::EPERM,
        };
        assert_eq!(
            e.to_string(),
            "setuid(65534 nobody): Operation not permitted"
        );
        assert_eq!(e.exit_code(), crate::EX_NOPERM);
        assert_eq!(
            writable_dir(Path::new("/nonexistent-dir-of-tally")),
            Err("No such file or directory")
        );
    }
}
