//! The flooding state of a running server: the peers of the `flod` file
//! (re-read when it changes), the reports already received (so that one
//! arriving again by another path is not counted twice), and what each
//! peer's streams are doing, for logs and `cdcc "flood list"`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::SystemTime;

use tally_store::{Ck, Pos, Store};

use super::file::{parse, Peer};
use super::proto::seen_key;
use crate::trace::log;

/// What one peer's streams are doing.
#[derive(Debug, Clone, Default)]
pub struct PeerStatus {
    /// Our outgoing stream is up.
    pub out_up: bool,
    /// Its incoming streams that are up (a peer that reconnects before
    /// its old stream has broken has two for a while; what both carry is
    /// counted once).
    pub in_up: u32,
    /// Records sent on the outgoing stream since start.
    pub sent: u64,
    /// Records received.
    pub received: u64,
    /// Records received and counted.
    pub accepted: u64,
    /// The peer announced reputations.
    pub rep: bool,
    /// The last error of the outgoing stream.
    pub out_err: String,
    /// The last error of the incoming stream.
    pub in_err: String,
    /// Records received again (by another path or stream) and not counted.
    pub dup: u64,
    /// Records too old or dated in the future, acknowledged and not counted.
    pub stale: u64,
    /// Deletions received and applied.
    pub deleted: u64,
    /// Reports received whose checksums are whitelisted here, not counted
    /// (the original's "bad whitelist").
    pub white: u64,
    /// When the figures were last cleared (seconds since the epoch; 0 =
    /// when the server started).
    pub cleared: u64,
    /// When the outgoing stream came up.
    pub out_since: u64,
    /// When the incoming stream came up.
    pub in_since: u64,
    /// Last record sent.
    pub out_alive: u64,
    /// Last record received.
    pub in_alive: u64,
    /// Seconds the outgoing stream was up, before its current connection.
    pub out_total: u64,
    /// Seconds the incoming stream was up, before its current connection.
    pub in_total: u64,
    /// When the peer last refused our reputations version string
    /// (`unrecognized flod version`): it gets the plain one for a day.
    pub reps_rejected: Option<std::time::Instant>,
    /// An outgoing stream to the peer exists (from our connect until its
    /// end, made by us or turned around): there is only one at a time.
    pub out_busy: bool,
    /// The outgoing stream is, or was last, a connection the peer made
    /// and we turned around (the original's "forced passive" when we are
    /// not `passive` for it); cleared when we connect ourselves.
    pub out_srvr: bool,
    /// The incoming stream is, or was last, one the peer connected for
    /// (not the connection we make for a `SOCKS` or `NAT` peer).
    pub in_srvr: bool,
    /// The address of the current outgoing stream.
    pub out_addr: Option<std::net::SocketAddr>,
    /// The address of the current incoming stream.
    pub in_addr: Option<std::net::SocketAddr>,
}

impl PeerStatus {
    /// The outgoing stream came up (`up`) or went down at `now`.
    pub fn out_state(&mut self, up: bool, now: u64) {
        if up && !self.out_up {
            self.out_since = now;
        } else if !up && self.out_up {
            self.out_total += now.saturating_sub(self.out_since);
        }
        self.out_up = up;
    }

    /// An incoming stream came up (`up`) or went down at `now`.
    pub fn in_state(&mut self, up: bool, now: u64) {
        if up {
            if self.in_up == 0 {
                self.in_since = now;
            }
            self.in_up += 1;
        } else if self.in_up > 0 {
            self.in_up -= 1;
            if self.in_up == 0 {
                self.in_total += now.saturating_sub(self.in_since);
            }
        }
    }
}

/// The flooding state shared by the streams.
pub struct Flood {
    /// Our server-ID.
    pub own: u16,
    /// The `flod` or `grey_flod` file.
    pub file: PathBuf,
    /// The default TCP port of peers (6277, or 6276 for greylist servers).
    pub default_port: u16,
    /// A greylist server.
    pub grey: bool,
    /// The peers of the file.
    pub peers: Vec<Peer>,
    /// Bumped whenever the peers change.
    pub generation: u64,
    stamp: Option<(SystemTime, u64)>,
    /// Keys of the reports from other servers in the database.
    pub seen: HashSet<(u16, u64, Ck)>,
    /// Per peer server-ID.
    pub status: HashMap<u16, PeerStatus>,
    /// Flooding halted (`cdcc "flood halt"` or `"flood shutdown"`).
    pub halted: bool,
    /// Messages for the incoming stream of a peer (`flood rewind`,
    /// `flood ffwd in`).
    pub in_cmds: HashMap<u16, Vec<tally_wire::flood::ListenerMsg>>,
    /// Outgoing streams to skip to the end of the log (`flood ffwd out`).
    pub ffwd_out: HashSet<u16>,
    /// When the server started (seconds since the epoch), where the
    /// flooding figures begin.
    pub started: u64,
    /// Per peer: wakes its outgoing stream's wait before the next
    /// connection (an incoming flood from the peer says it is awake).
    rush: HashMap<u16, std::sync::Arc<tokio::sync::Notify>>,
}

impl Flood {
    /// The state of a server with server-ID `own` that reads `file`,
    /// knowing the reports already in `store`.
    pub fn new(own: u16, file: PathBuf, grey: bool, store: &dyn Store) -> Flood {
        let mut f = Flood {
            own,
            file,
            default_port: if grey {
                super::file::DEFAULT_GREY_PORT
            } else {
                super::file::DEFAULT_PORT
            },
            grey,
            peers: Vec::new(),
            generation: 0,
            stamp: None,
            seen: HashSet::new(),
            status: HashMap::new(),
            halted: false,
            in_cmds: HashMap::new(),
            ffwd_out: HashSet::new(),
            started: crate::server::unix_now(),
            rush: HashMap::new(),
        };
        f.rebuild_seen(store);
        f.reload(true);
        f
    }

    /// Learn again which reports from other servers the database holds
    /// (at start and after cleaning, which forgets expired ones).
    pub fn rebuild_seen(&mut self, store: &dyn Store) {
        self.seen.clear();
        let mut after = Pos::START;
        while let Ok(batch) = store.read_log(after, 1024) {
            let Some(last) = batch.last() else { break };
            after = last.pos;
            for e in &batch {
                if e.report.srvr_id != self.own {
                    if let Some(k) = seen_key(&e.report) {
                        self.seen.insert(k);
                    }
                }
            }
        }
        self.seen.shrink_to_fit();
    }

    /// Read the file again if it changed (or `force`); true when the
    /// peers changed. Bad lines are logged with the file and line and
    /// skipped.
    pub fn reload(&mut self, force: bool) -> bool {
        let meta = std::fs::metadata(&self.file).ok();
        let stamp = meta
            .as_ref()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        if !force && stamp == self.stamp {
            return false;
        }
        self.stamp = stamp;
        let peers = match std::fs::read(&self.file) {
            Ok(text) => {
                let (peers, errors) = parse(&text);
                for e in errors {
                    log(&format!("{e} of {}", self.file.display()));
                }
                peers
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                log(&format!("{}: {e}", self.file.display()));
                return false;
            }
        };
        if peers == self.peers {
            return false;
        }
        self.peers = peers;
        self.generation += 1;
        log(&format!(
            "{} flooding peers in {}",
            self.peers.len(),
            self.file.display()
        ));
        true
    }

    /// The peer with this server-ID.
    pub fn peer(&self, id: u16) -> Option<&Peer> {
        self.peers.iter().find(|p| p.rem_id == id)
    }

    /// What wakes the outgoing stream of a peer before its next try.
    pub fn rush(&mut self, id: u16) -> std::sync::Arc<tokio::sync::Notify> {
        self.rush.entry(id).or_default().clone()
    }

    /// The status entry of a peer.
    pub fn status_mut(&mut self, id: u16) -> &mut PeerStatus {
        self.status.entry(id).or_default()
    }
}
