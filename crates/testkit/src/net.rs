//! Loopback ports for tests.

use std::net::{SocketAddr, UdpSocket};

/// A UDP address on 127.0.0.1 on which nothing listens (free right now):
/// a "dead" DCC server, whose requests go unanswered or are refused.
pub fn closed_port() -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind a loopback UDP port");
    s.local_addr().expect("local address")
}

/// A port of 127.0.0.1 free for both UDP and TCP right now, for a server
/// the test starts (and may stop and start again on the same port).
///
/// It is taken below the kernel's range of ephemeral ports
/// (`/proc/sys/net/ipv4/ip_local_port_range`), from which every socket
/// bound to port 0 gets its port: the clients under test bind one per
/// request, so while a server is down between a stop and a restart, one
/// of them could otherwise take the server's port and make the restart
/// fail ("Address already in use"). The ports of that band are walked in
/// an order that starts where the process's ID and start time say, so
/// that concurrent test programs rarely look at the same ports, and each
/// call of a process goes on where the one before stopped, so that a
/// process never gets a port twice. Without a free port there (or the
/// range unknown), one the kernel picks.
pub fn server_port() -> u16 {
    use std::sync::Mutex;
    /// Where the walk is: the next position, and the walk's start.
    static WALK: Mutex<Option<(u32, u32)>> = Mutex::new(None);
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768)
        .clamp(2048, 65536);
    // the band [low / 2, low), above the privileged ports
    let base = (low / 2).max(1024);
    let span = low - base;
    // a step prime to the span, so that the walk visits every port once
    let mut step = 7919;
    while gcd(step, span) != 1 {
        step += 2;
    }
    let mut walk = WALK.lock().unwrap_or_else(|e| e.into_inner());
    let (next, start) = *walk.get_or_insert_with(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        (0, std::process::id().wrapping_mul(2_654_435_761) ^ nanos)
    });
    for pos in next..next.saturating_add(span) {
        let off = (u64::from(start) + u64::from(pos) * u64::from(step)) % u64::from(span);
        let Ok(port) = u16::try_from(u64::from(base) + off) else {
            continue;
        };
        let udp = UdpSocket::bind(("127.0.0.1", port));
        let tcp = std::net::TcpListener::bind(("127.0.0.1", port));
        if udp.is_ok() && tcp.is_ok() {
            *walk = Some((pos + 1, start));
            return port;
        }
    }
    closed_port().port()
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_ports_are_free_distinct_and_not_ephemeral() {
        let low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(32768);
        let ports: Vec<u16> = (0..200).map(|_| server_port()).collect();
        for &p in &ports {
            assert!(p < low, "port {p} is in the ephemeral range (from {low})");
            UdpSocket::bind(("127.0.0.1", p)).expect("free for UDP");
            std::net::TcpListener::bind(("127.0.0.1", p)).expect("free for TCP");
        }
        let mut uniq = ports.clone();
        uniq.sort_unstable();
        uniq.dedup();
        assert_eq!(uniq.len(), ports.len(), "{ports:?}");
    }
}
