//! The interface between the per-message decision and a DCC server.
//!
//! The decision itself does no I/O: [`crate::ask::Decision::dcc_request`]
//! says what to ask and [`crate::ask::Decision::apply_answer`] takes the
//! outcome, so that asynchronous front ends can send the request their own
//! way. [`DccServer`] is the blocking interface used between the two by
//! [`crate::ask::Decision::ask_dcc`]; [`crate::dcc_client`] implements it
//! over UDP. [`NoServer`] stands for an installation without a usable
//! server, and reproduces what the original does then.

use crate::tgts::Tgts;
use std::path::{Path, PathBuf};
use tally_ck::{CkType, Sum};

/// Query (count only) or report (count and add our targets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Ask for the counts without adding to them.
    Query,
    /// Add `tgts` to the counts and ask for the totals.
    Report,
}

/// One request: the checksums to report, in slot order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Query or report.
    pub op: Op,
    /// Targets of the report, with the spam flags of the protocol.
    pub tgts: Tgts,
    /// The checksums.
    pub cks: Vec<(CkType, Sum)>,
}

/// The server's counts for one checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Total before this report.
    pub prev: Tgts,
    /// Total including this report.
    pub cur: Tgts,
}

/// A server's answer: one count per requested checksum, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The answering server's ID.
    pub srvr_id: u32,
    /// The counts.
    pub counts: Vec<Count>,
}

/// The client side before asking: what goes into the X-DCC header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// This host's name as the original puts it in X-DCC headers.
    pub hostname: String,
    /// Brand of the current server (for the header field name).
    pub brand: String,
}

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskError {
    /// The complaint, as the original words it.
    pub msg: String,
    /// Server-ID of the server that was tried, 0 when none.
    pub srvr_id: u32,
}

/// A DCC server as seen by the per-message decision.
pub trait DccServer {
    /// Get ready to talk to a server. `Err` (with the complaint) means no
    /// client context at all: the original then adds no X-DCC header.
    fn start(&mut self) -> Result<ClientInfo, String>;

    /// Send a query or report and wait for the counts.
    fn ask(&mut self, req: &Request) -> Result<Answer, AskError>;

    /// The client information after a request, when asking changed it
    /// (the header carries the brand of the server in use, which may
    /// differ from the one known at [`DccServer::start`]). `None`: as
    /// returned by `start`.
    fn current_info(&self) -> Option<ClientInfo> {
        None
    }
}

/// No usable DCC server.
///
/// Without the parameter ("map") file the original cannot start a client
/// and complains that it cannot open it; with a map file but no reachable
/// server every request fails. Both cases are reproduced.
#[derive(Debug, Clone)]
pub struct NoServer {
    map: PathBuf,
    hostname: String,
}

impl NoServer {
    /// No server, for the parameter file `map` (absolute path) and this host name.
    pub fn new(map: &Path, hostname: &str) -> NoServer {
        NoServer {
            map: map.to_path_buf(),
            hostname: hostname.to_string(),
        }
    }
}

impl DccServer for NoServer {
    fn start(&mut self) -> Result<ClientInfo, String> {
        match std::fs::metadata(&self.map) {
            Err(e) => Err(format!(
                "open({}): {}",
                self.map.display(),
                crate::errno_str(&e)
            )),
            Ok(_) => Ok(ClientInfo {
                hostname: self.hostname.clone(),
                brand: String::new(),
            }),
        }
    }

    fn ask(&mut self, _req: &Request) -> Result<Answer, AskError> {
        Err(AskError {
            msg: "no working DCC servers".into(),
            srvr_id: 0,
        })
    }
}
