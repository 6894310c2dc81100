//! Loopback ports for tests.

use std::net::{SocketAddr, UdpSocket};

/// A UDP address on 127.0.0.1 on which nothing listens (free right now):
/// a "dead" DCC server, whose requests go unanswered or are refused.
pub fn closed_port() -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind a loopback UDP port");
    s.local_addr().expect("local address")
}
