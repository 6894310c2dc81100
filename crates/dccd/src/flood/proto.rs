//! The flooding protocol's checks of a connection, without I/O: whether a
//! version header is accepted (and the END text when not), how peers and
//! reports are named in END texts and logs. What records go to a peer and
//! what an incoming record does are in [`super::records`] (re-exported
//! here).
//!
//! END texts are the original's (dccd 2.3.167), so that a peer's log shows
//! the same reasons whichever server it talks to.

use tally_wire::flood::{FlodVersion, Ts as WireTs, VersionHeader, OK_PREFIX, VERS7, VERS_BASE};
use tally_wire::ids::Ids;

use super::file::Peer;

pub use super::records::{decode_in, incoming, seen_key, to_wire, wire_path, Incoming};

/// Reports with fewer targets than this are not flooded (dccd(8): only
/// "checksums with total counts exceeding thresholds").
pub const FLOD_THRESHOLD: u32 = 10;
/// Seconds without a word from the sender before the listener repeats its
/// position (and the sender gives up, plus a little).
pub const KEEPALIVE_SECS: u64 = 600;

/// The key under which the store keeps the position a peer has sent us
/// (its own numbering), beside our position for that peer under its
/// server-ID: server-IDs are below 32768, so the high bit separates them.
pub fn in_key(peer: u16) -> u16 {
    peer | 0x8000
}

/// A header accepted: the peer's index in the flod file and whether it
/// exchanges reputations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// Index in the peer list.
    pub peer: usize,
    /// The peer announced reputations (`DCC flod version rep 7`).
    pub rep: bool,
}

/// The END text of a version string we do not speak.
pub fn bad_vers_text(h: &VersionHeader) -> String {
    let s = h.vers_str();
    let s = &s[..s.len().min(VERS_BASE.len() + 10)];
    format!(
        "unrecognized flod version; expected \"{VERS7}\" not \"{}\"",
        String::from_utf8_lossy(s)
    )
}

/// Check the 256 bytes that open an incoming flood, in the original's
/// order: junk versions at once, then the claimed server-ID, then the
/// signature, then a version of the right family but another number.
/// `Err` carries the END text.
pub fn check_header(
    h: &VersionHeader,
    peers: &[Peer],
    ids: &Ids,
    flod_file: &str,
) -> Result<Accepted, String> {
    let vers = h.version();
    if vers == FlodVersion::Garbage {
        return Err(bad_vers_text(h));
    }
    let id = h.sender_srvr_id;
    let Some(idx) = peers
        .iter()
        .position(|p| p.rem_id == id)
        .filter(|_| (100..=32767).contains(&id))
    else {
        return Err(format!("unauthorized ID {id}"));
    };
    let peer = &peers[idx];
    let pw_id = peer.passwd_id.unwrap_or(peer.rem_id);
    let Some(entry) = ids.get(u32::from(pw_id)) else {
        return Err(format!(
            "unknown passwd-ID {pw_id} in line {} of {flod_file}",
            peer.line
        ));
    };
    if !entry.passwords().any(|pw| h.verify(pw)) {
        return Err(format!("bad authentication for ID {pw_id}"));
    }
    match vers {
        FlodVersion::V7 => Ok(Accepted {
            peer: idx,
            rep: false,
        }),
        FlodVersion::V7Rep => Ok(Accepted {
            peer: idx,
            rep: true,
        }),
        _ => Err(bad_vers_text(h)),
    }
}

/// The graceful END text: `DCC flod ok: <who> EOF`.
pub fn ok_text(who: &str) -> String {
    format!("{OK_PREFIX}{who} EOF")
}

/// How the original names a peer: the flod file's host, its address when
/// that differs, and the port when it is not the default.
pub fn rem_str(host: &str, addr: std::net::SocketAddr, default_port: u16) -> String {
    let ip = addr.ip().to_string();
    let mut s = host.to_string();
    if s != ip {
        s.push(' ');
        s.push_str(&ip);
    }
    if addr.port() != default_port {
        s.push_str(&format!(",{}", addr.port()));
    }
    s
}

/// How the original names a report in its messages.
pub fn rpt_id(srvr_id: u16, ts: WireTs) -> String {
    format!("report {}.{:06} ID={srvr_id}", ts.secs(), ts.usecs())
}
