//! dccm(8): the DCC milter for sendmail and Postfix.
//!
//! The MTA hands each SMTP transaction to dccm over the milter protocol;
//! dccm computes the DCC checksums of the message, asks the whiteclnt
//! files and a DCC server through the shared engine (`tally-engine`),
//! adds the `X-DCC-<brand>-Metrics` header and has the MTA reject,
//! discard or deliver the message.
//!
//! - [`opts`]: the command line.
//! - [`config`]: what all connections share.
//! - [`conn`]: one connection as a state machine without sockets.
//! - [`msg`]: one message and its recipients.
//! - [`eom`]: the end of a message: answer and log file.
//! - [`grey`]: `-G`, greylisting through the engine.
//! - [`reply`]: `-r` messages and SMTP replies.
//! - [`white`]: whiteclnt lookups.
//! - [`log`]: per-message log files.
//! - [`daemon`]: the milter daemon on tokio with `indymilter`.
//! - [`fuzz`]: [`fuzz_connection`], arbitrary milter input through the
//!   state machine.

pub mod config;
pub mod conn;
pub mod daemon;
pub mod dnsbl;
pub mod eom;
pub mod fuzz;
pub mod grey;
pub mod jobs;
pub mod listen;
pub mod log;
pub mod milter_errors;
pub mod msg;
pub mod opts;
pub mod reply;
pub mod stats;
pub mod white;
pub mod xfltr;

pub use fuzz::fuzz_connection;

/// The version `-V` prints (on standard error, as the original's), also
/// at the head of the start line in the system log.
pub use tally_getopt::version::VERSION;
