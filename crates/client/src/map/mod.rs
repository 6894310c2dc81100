//! The client's map of DCC servers: what `cdcc` manages with `add`,
//! `delete`, `load` and shows with `info`.
//!
//! The reference keeps this in a binary file shared through `mmap`. Here
//! the map file is the text `cdcc info` prints, which `cdcc load` also
//! reads: the server lines (`host,port [Greylist] [RTT+adj ms] ID passwd`)
//! are the configuration, and the `#` comment lines that follow carry the
//! measured state (addresses, brands, server-IDs, RTTs, answer rates,
//! back-off after failures, when names are resolved again). A map read
//! from such a file prints back the same text.
//!
//! - [`parse`](mod@parse): text to [`Map`]; [`print`](mod@print): [`Map`] to text (pure).
//! - [`file`](mod@file): reading and writing map files.

pub mod file;
pub mod parse;
pub mod print;

use crate::timing::{FailState, RTT_BAD};
use std::net::IpAddr;
use std::net::SocketAddr;
use tally_wire::Passwd;

/// Default UDP port of DCC servers.
pub const DCC_PORT: u16 = 6277;
/// Default UDP port of greylist servers.
pub const GREY_PORT: u16 = 6276;
/// Most server names per class.
pub const MAX_NAMES: usize = 8;
/// Most server addresses per class.
pub const MAX_ADDRS: usize = 12;
/// Longest host name.
pub const MAX_HOST_LEN: usize = 255;
/// The version number of the text form (`version=3`).
pub const TEXT_VERSION: u32 = 3;

/// The two sets of servers a client knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClassKind {
    /// Ordinary DCC servers (default port 6277).
    Dcc,
    /// Greylist servers (default port 6276).
    Grey,
}

impl ClassKind {
    /// The default port of the class.
    pub fn default_port(self) -> u16 {
        match self {
            ClassKind::Dcc => DCC_PORT,
            ClassKind::Grey => GREY_PORT,
        }
    }

    /// The word the reference uses in its messages.
    pub fn name(self) -> &'static str {
        match self {
            ClassKind::Dcc => "DCC",
            ClassKind::Grey => "greylist",
        }
    }
}

/// Which IP versions to use (`IPv6 on|off|only`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ipv6Mode {
    /// IPv4 and IPv6.
    #[default]
    On,
    /// IPv4 only.
    Off,
    /// IPv6 only.
    Only,
}

/// One configured server: a host name or address with its port, the
/// client-ID and password to use with it and a manual RTT adjustment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerName {
    /// Host name or IP address as written.
    pub host: String,
    /// UDP port.
    pub port: u16,
    /// Added to the measured RTT when picking a server, in microseconds
    /// (written in milliseconds, at most ±2000).
    pub rtt_adj: i64,
    /// Client-ID (1 = anonymous).
    pub client_id: u32,
    /// Password; `None` for the anonymous client.
    pub passwd: Option<Passwd>,
    /// The name resolved to at least one usable address.
    pub defined: bool,
}

impl ServerName {
    /// An entry with defaults: anonymous, no adjustment, not yet resolved.
    pub fn new(host: &str, port: u16) -> ServerName {
        ServerName {
            host: host.to_string(),
            port,
            rtt_adj: 0,
            client_id: tally_wire::header::ID_ANON,
            passwd: None,
            defined: true,
        }
    }

    /// Requests are sent anonymously (ID 1 or no password).
    pub fn is_anon(&self) -> bool {
        self.client_id == tally_wire::header::ID_ANON || self.passwd.is_none()
    }
}

/// What the client knows about one address of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddr {
    /// Address and port.
    pub addr: SocketAddr,
    /// Index of the [`ServerName`] this address belongs to.
    pub name: usize,
    /// Averaged RTT in microseconds, [`RTT_BAD`] when not answering.
    pub rtt: i64,
    /// When the RTT was last averaged (seconds since the epoch).
    pub rtt_updated: u64,
    /// Delay the server announced for our requests, in microseconds.
    pub srvr_wait: i64,
    /// The server's ID from its answers, if it ever answered.
    pub srvr_id: Option<u32>,
    /// Protocol version the server speaks with us.
    pub pkt_vers: u8,
    /// The server's brand from its NOP answer.
    pub brand: String,
    /// Transmissions counted for the answer rate (at most 32).
    pub total_xmits: u8,
    /// Of those, how many were answered.
    pub total_resps: u8,
    /// One bit per recent transmission, 1 = answered (newest lowest).
    pub resp_mem: u32,
    /// A name for the address shown by `info` (reverse DNS), if known.
    pub rdns: String,
}

impl ServerAddr {
    /// A newly resolved address with nothing measured.
    pub fn new(addr: SocketAddr, name: usize) -> ServerAddr {
        ServerAddr {
            addr,
            name,
            rtt: RTT_BAD,
            rtt_updated: 0,
            srvr_wait: 0,
            srvr_id: None,
            pkt_vers: tally_wire::header::VERS_CUR,
            brand: String::new(),
            total_xmits: 0,
            total_resps: 0,
            resp_mem: 0,
            rdns: String::new(),
        }
    }
}

/// One class of servers (DCC or greylist) with its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerClass {
    /// DCC or greylist.
    pub kind: ClassKind,
    /// The configured servers, at most [`MAX_NAMES`].
    pub names: Vec<ServerName>,
    /// Their addresses, at most [`MAX_ADDRS`].
    pub addrs: Vec<ServerAddr>,
    /// Index in `addrs` of the server in use.
    pub chosen: Option<usize>,
    /// When to resolve the names again (0 = now).
    pub resolve_at: u64,
    /// When to measure the RTTs again (0 = now).
    pub measure_at: u64,
    /// Back-off after failures.
    pub fail: FailState,
    /// RTT (µs) of the chosen server plus the usual server delay.
    pub base_rtt: i64,
    /// RTT (µs) of the second best server: switch when the chosen one
    /// gets slower than the long-term average of this.
    pub thold_rtt: i64,
    /// Long-term threshold (µs) for switching servers.
    pub avg_thold_rtt: i64,
    /// Incremented whenever the address list changes.
    pub gen: u32,
}

impl ServerClass {
    /// An empty class.
    pub fn new(kind: ClassKind) -> ServerClass {
        ServerClass {
            kind,
            names: Vec::new(),
            addrs: Vec::new(),
            chosen: None,
            resolve_at: 0,
            measure_at: 0,
            fail: FailState::default(),
            base_rtt: RTT_BAD,
            thold_rtt: RTT_BAD,
            avg_thold_rtt: RTT_BAD,
            gen: 0,
        }
    }

    /// Number of addresses that answer.
    pub fn working(&self) -> usize {
        self.addrs.iter().filter(|a| a.rtt < RTT_BAD).count()
    }

    /// Note that no server of the class could be reached at `now`: back
    /// off (see [`FailState::fail_more`]) and measure the RTTs of all
    /// servers again before the first request after the back-off, as the
    /// reference client does, rather than sending it to the server that
    /// just failed.
    pub fn fail_more(&mut self, now: u64) {
        self.fail.fail_more(now);
        self.measure_at = 0;
    }

    /// Forget measurements so that names are resolved and RTTs measured
    /// before the next request, as `cdcc RTT` and changes to the map do.
    pub fn force_measure(&mut self) {
        self.fail.reset();
        self.resolve_at = 0;
        self.measure_at = 0;
        self.chosen = None;
    }

    /// Add a server, replacing an entry with the same host and port.
    pub fn add(&mut self, name: ServerName) -> Result<(), String> {
        if let Some(old) = self
            .names
            .iter_mut()
            .find(|n| n.host.eq_ignore_ascii_case(&name.host) && n.port == name.port)
        {
            *old = name;
        } else if self.names.len() >= MAX_NAMES {
            return Err(format!("too many {} server names", self.kind.name()));
        } else {
            self.names.push(name);
        }
        self.addrs.clear();
        self.gen = self.gen.wrapping_add(1);
        self.force_measure();
        Ok(())
    }

    /// Delete the server with this host and port; true if it existed.
    pub fn delete(&mut self, host: &str, port: u16) -> bool {
        let before = self.names.len();
        self.names
            .retain(|n| !(n.host.eq_ignore_ascii_case(host) && n.port == port));
        let found = self.names.len() != before;
        if found {
            self.addrs.clear();
            self.gen = self.gen.wrapping_add(1);
            self.force_measure();
        }
        found
    }
}

/// The whole map: global switches and the two classes of servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Map {
    /// The name shown in the heading of `info` (the map file's path).
    pub label: String,
    /// IPv4/IPv6 use.
    pub ipv6: Ipv6Mode,
    /// Use SOCKS (recorded only; this client does not speak SOCKS).
    pub socks: bool,
    /// Source address(es) to send from, as written after `src=`.
    pub src: Option<String>,
    /// DCC servers.
    pub dcc: ServerClass,
    /// Greylist servers.
    pub grey: ServerClass,
}

impl Default for Map {
    fn default() -> Self {
        Map::new("map")
    }
}

impl Map {
    /// The `src=` address to send from to a server of this family
    /// (`v6`), if the map names one: `src=A` or `src=A,B`, IPv4 and IPv6
    /// in either order; a value marked `but unused` still counts.
    pub fn src_for(&self, v6: bool) -> Option<IpAddr> {
        let src = self.src.as_deref()?;
        let list = src.split_whitespace().next()?;
        list.split(',')
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .find(|a| a.is_ipv6() == v6)
    }

    /// An empty map.
    pub fn new(label: &str) -> Map {
        Map {
            label: label.to_string(),
            ipv6: Ipv6Mode::On,
            socks: false,
            src: None,
            dcc: ServerClass::new(ClassKind::Dcc),
            grey: ServerClass::new(ClassKind::Grey),
        }
    }

    /// A map with one server, as `cdcc` builds for its `host`, `port`,
    /// `id` and `password` commands.
    pub fn single(
        kind: ClassKind,
        host: &str,
        port: u16,
        client_id: u32,
        passwd: Option<Passwd>,
    ) -> Map {
        let mut m = Map::new("");
        let mut n = ServerName::new(host, port);
        n.client_id = client_id;
        n.passwd = passwd;
        // A single name never exceeds the limit.
        let _ = m.class_mut(kind).add(n);
        m
    }

    /// The class of this kind.
    pub fn class(&self, kind: ClassKind) -> &ServerClass {
        match kind {
            ClassKind::Dcc => &self.dcc,
            ClassKind::Grey => &self.grey,
        }
    }

    /// The class of this kind, mutable.
    pub fn class_mut(&mut self, kind: ClassKind) -> &mut ServerClass {
        match kind {
            ClassKind::Dcc => &mut self.dcc,
            ClassKind::Grey => &mut self.grey,
        }
    }
}
