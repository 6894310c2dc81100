//! The shared DCC client engine: the per-message decision used by dccproc,
//! dccm and dccifd.
//!
//! - [`tgts`]: target counts and their special values.
//! - [`tholds`]: `-c`/`-t` thresholds and `-g` choices.
//! - [`cks`]: the checksums of a message in the original's slot order, and
//!   the checksum table of `-C` output and log files.
//! - [`xhdr`]: the `X-DCC-<brand>-Metrics` header.
//! - [`server`]: the interface to a DCC server and [`server::NoServer`].
//! - [`dcc_client`]: DCC servers over UDP with `tally-client`.
//! - [`map_save`]: saving the servers' state back to the map file.
//! - [`dnsbl`]: DNS white- and blacklists (`-B`) in the decision.
//! - [`state`]: decision flags and filter switches.
//! - [`ask`]: the decision itself.
//! - [`grey`]: greylisting in the client (requests, answers, embargo).
//! - [`grey_udp`]: greylist requests over UDP ([`dcc_client::DccClient::grey`]).
//! - [`home`]: the DCC home directory and this host's name.
//! - [`jobs`]: `-j` of dccm and dccifd, bounded by the open-file limit.
//! - [`logfile`]: per-message log files.
//! - [`spool`]: the temporary file holding a message while it is checked.
//! - [`logopt`]: the `-L` system log option.
//! - [`syslog`]: sending complaints to the system log.
//! - [`message`]: reading a message from a stream, copying it with the
//!   X-DCC header inserted.
//! - [`rcpts_if`]: several recipients sharing one decision (dccifd).
//! - [`rcpts_milter`]: several recipients in one milter transaction (dccm).
//! - [`xfltr`]: the `-X` external filter of dccm, dccifd and dccproc.

pub mod ask;
pub mod cks;
pub mod dcc_client;
pub mod dnsbl;
pub mod grey;
pub mod grey_udp;
pub mod home;
pub mod jobs;
pub mod logfile;
pub mod map_save;
pub mod message;
pub mod mx;
pub mod rcpts_if;
pub mod rcpts_milter;
pub mod server;
pub mod spool;
pub mod state;
pub mod tgts;
pub mod tholds;
pub mod white_verdict;
pub mod whitefiles;
pub mod xfltr;
pub mod xhdr;

/// `-L` and the system log live in their own crate, shared with dccd.
pub use tally_syslog::{logopt, syslog};

/// The text of an I/O error without Rust's "(os error N)" suffix, as C's
/// `strerror()` prints it.
pub use tally_syslog::os_text as errno_str;

/// The size of the original's buffer for a complaint (`LOGBUF_SIZE`).
pub const COMPLAINT_BUF: usize = 512;

/// A complaint as the original's buffer holds it (dccproc, dccsight): one
/// that does not fit is cut and ends with `...`.
pub fn clip_complaint(msg: &str) -> std::borrow::Cow<'_, str> {
    if msg.len() < COMPLAINT_BUF {
        return std::borrow::Cow::Borrowed(msg);
    }
    let mut cut = COMPLAINT_BUF - 4;
    while !msg.is_char_boundary(cut) {
        cut -= 1;
    }
    std::borrow::Cow::Owned(format!("{}...", &msg[..cut]))
}

/// The resolver's own text for a failed lookup, as the original prints
/// `gai_strerror()` (e.g. `Name or service not known`): std puts
/// `failed to lookup address information: ` before it, and for
/// `EAI_SYSTEM` hands back the system error instead, whose
/// `gai_strerror()` text is `System error`.
pub fn lookup_text(e: &std::io::Error) -> String {
    if e.raw_os_error().is_some() {
        return "System error".to_string();
    }
    let s = e.to_string();
    match s.strip_prefix("failed to lookup address information: ") {
        Some(rest) => rest.to_string(),
        None => errno_str(e),
    }
}
