//! What can go wrong when asking a DCC server.
//!
//! A mail filter must not hold mail because DCC is unreachable: when
//! [`ClientError::deliver_anyway`] is true the message is delivered
//! without DCC counts, as the reference clients do.

use crate::map::ClassKind;
use std::fmt;
use std::io;
use std::net::SocketAddr;

/// The text of an I/O error as C's `strerror()` prints it, without Rust's
/// " (os error N)" suffix: the original's words in complaints (one copy
/// for the workspace, in tally-syslog).
pub use tally_syslog::os_text;

/// Why no server could be asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoServerReason {
    /// The map lists no servers of the class.
    NoNames,
    /// No name resolved to a usable address.
    NoAddresses(String),
    /// No address answered the NOPs.
    NotAnswering,
    /// Servers failed recently; not asking again yet.
    BackingOff {
        /// Seconds left.
        secs: u64,
        /// Failures in a row.
        failures: u8,
    },
}

/// An error from a client operation.
#[derive(Debug)]
pub enum ClientError {
    /// No working server: deliver the mail without DCC.
    NoServer {
        /// DCC or greylist.
        class: ClassKind,
        /// Why.
        reason: NoServerReason,
    },
    /// The chosen server did not answer within the time budget.
    Timeout {
        /// DCC or greylist.
        class: ClassKind,
        /// The server asked.
        server: SocketAddr,
        /// Milliseconds waited.
        elapsed_ms: u64,
    },
    /// The server refused the request with an ERROR packet.
    Server {
        /// The server's ID.
        server_id: u32,
        /// Its explanation.
        message: String,
    },
    /// The answer does not fit the request.
    Protocol(String),
    /// The request cannot be sent (too many checksums, duplicate types...).
    BadRequest(String),
    /// A local socket error.
    Io(io::Error),
}

impl ClientError {
    /// True when the message should be delivered without DCC results
    /// (no server, no answer, local network trouble).
    pub fn deliver_anyway(&self) -> bool {
        matches!(
            self,
            ClientError::NoServer { .. } | ClientError::Timeout { .. } | ClientError::Io(_)
        )
    }

    /// True for "no working server" (including the back-off period).
    pub fn is_no_server(&self) -> bool {
        matches!(self, ClientError::NoServer { .. })
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NoServer { class, reason } => match reason {
                NoServerReason::NoNames => write!(f, "no {} server names", class.name()),
                NoServerReason::NoAddresses(why) => {
                    write!(f, "no {} server addresses: {why}", class.name())
                }
                NoServerReason::NotAnswering => write!(f, "no working {} server", class.name()),
                NoServerReason::BackingOff { secs, failures } => write!(
                    f,
                    "continue not asking {} {secs} seconds after {failures} failures",
                    class.name()
                ),
            },
            ClientError::Timeout {
                class,
                server,
                elapsed_ms,
            } => write!(
                f,
                "no {} answer from {server} after {elapsed_ms} ms",
                class.name()
            ),
            ClientError::Server { server_id, message } => {
                write!(f, "server {server_id} refused: {message}")
            }
            ClientError::Protocol(m) => write!(f, "protocol error: {m}"),
            ClientError::BadRequest(m) => write!(f, "bad request: {m}"),
            ClientError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        ClientError::Io(e)
    }
}
