//! The system log of the DCC programs: the `-L ltype,facility.level` option
//! and messages sent to the local syslog socket, shared by the clients
//! (dccproc, dccm, dccifd) and the server (dccd).
//!
//! - [`logopt`]: parsing `-L`.
//! - [`syslog`]: formatting and sending messages.
//! - [`civil`]: UTC calendar time for time stamps.

pub mod civil;
pub mod logopt;
pub mod syslog;

pub use syslog::Syslog;
