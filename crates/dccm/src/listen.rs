//! The TCP listener for `-p inet:port@host` and `inet6:`.
//!
//! dccm answers the end of a message with several packets in a row (the
//! added X-DCC header, recipient removals, then the verdict). With Nagle's
//! algorithm on, the kernel holds the last one until the MTA acknowledges
//! the first, which on loopback costs about 40 ms per message; so every
//! accepted connection has `TCP_NODELAY` set.

use indymilter::Listener;
use std::io;
use std::task::{Context, Poll};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections send each packet at once.
pub struct NoDelay(pub TcpListener);

impl Listener for NoDelay {
    type Io = TcpStream;

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<TcpStream>> {
        self.0.poll_accept(cx).map(|r| {
            r.map(|(stream, _peer)| {
                // a failure only costs speed, never mail
                let _ = stream.set_nodelay(true);
                stream
            })
        })
    }
}
