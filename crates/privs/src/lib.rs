//! The `-I` option of the DCC daemons (dccm(8), dccifd(8), dccd(8)): the
//! daemon, started as root, gives up root for good and runs as an ordinary
//! user.
//!
//! The original looks the user up in the password file and changes the
//! group and then the user the moment it meets `-I` on the command line,
//! before it goes to its home directory, opens its sockets, forks into the
//! background or writes its pid file, so that everything the daemon
//! creates belongs to that user. The programs of this workspace switch at
//! the same point: right after reading their options.
//!
//! This crate differs from the original in three ways (all recorded in
//! `docs/compatibility.md`):
//!
//! * a failure is fatal: the original complains and goes on running as
//!   root, which is not what `-I` asked for;
//! * the supplementary groups are set to the user's own (the original
//!   keeps root's);
//! * `user` may be a number, and `user,group` names a group other than
//!   the user's own.
//!
//! Modules:
//! - [`spec`]: the `user[,group]` argument.
//! - [`switch`]: looking the names up and changing the process's
//!   credentials, then checking that root cannot be taken back.

pub mod spec;
pub mod switch;

pub use spec::Spec;
pub use switch::{preflight, prepare, resolve, switch, switch_to, writable_dir, Target};

use std::fmt;

use nix::errno::Errno;

/// sysexits(3) `EX_NOUSER`: the user or group named by `-I` is unknown.
pub const EX_NOUSER: i32 = 67;
/// sysexits(3) `EX_OSERR`: a system call failed.
pub const EX_OSERR: i32 = 71;
/// sysexits(3) `EX_NOPERM`: the process may not change its credentials
/// (it was not started as root).
pub const EX_NOPERM: i32 = 77;

/// Why `-I` could not be honoured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The argument is not `user` or `user,group`.
    Syntax(String),
    /// No such user (by name, or by number without a group to go with it).
    NoUser(String),
    /// No such group.
    NoGroup(String),
    /// The password or group database could not be read.
    Lookup {
        /// The call, as `getpwnam(name)`.
        call: String,
        /// What the system said.
        errno: Errno,
    },
    /// A call changing the credentials failed.
    Call {
        /// The call, as `setuid(65534 nobody)`.
        call: String,
        /// What the system said.
        errno: Errno,
    },
    /// After the switch the process still could become root again, or its
    /// credentials are not the ones asked for.
    NotDropped(String),
}

impl Error {
    /// The exit status a daemon refusing to start for this reason uses.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Syntax(_) | Error::NoUser(_) | Error::NoGroup(_) => EX_NOUSER,
            Error::Call {
                errno: Errno::EPERM,
                ..
            } => EX_NOPERM,
            _ => EX_OSERR,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syntax(arg) => write!(f, "\"{arg}\" is neither user nor user,group"),
            Error::NoUser(name) => write!(f, "getpwnam({name}): no such user"),
            Error::NoGroup(name) => write!(f, "getgrnam({name}): no such group"),
            Error::Lookup { call, errno } | Error::Call { call, errno } => {
                write!(f, "{call}: {}", errno.desc())
            }
            Error::NotDropped(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for Error {}
