//! The system log of the DCC programs: the `-L ltype,facility.level` option
//! and messages sent to the local syslog socket, shared by the clients
//! (dccproc, dccm, dccifd) and the server (dccd).
//!
//! - [`logopt`]: parsing `-L`.
//! - [`syslog`]: formatting and sending messages.
//! - [`civil`]: UTC calendar time for time stamps.
//! - [`errtext`]: a system error's words as C's `strerror()` gives them
//!   ([`os_text`]), for the complaints of every program.

pub mod civil;
pub mod errtext;
pub mod logopt;
pub mod syslog;

pub use errtext::os_text;
pub use syslog::Syslog;
