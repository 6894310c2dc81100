//! The MTA's side of the milter protocol (version 6) for the benchmark,
//! over a unix or TCP socket, kept cheap so that the figures are dccm's:
//! each command is one write (TCP_NODELAY set, as MTAs do), replies are
//! read through a buffer, and only what the benchmark counts is decoded
//! (the final answer and whether an X-DCC header was added). All protocol
//! steps are offered; steps the milter asks to leave out are not sent,
//! and steps it asks not to answer are not waited for (protocol 6).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Where dccm listens.
#[derive(Clone, Debug)]
pub enum Addr {
    Unix(std::path::PathBuf),
    Tcp(std::net::SocketAddr),
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn io(&mut self) -> &mut dyn ReadWrite {
        match self {
            Stream::Unix(s) => s,
            Stream::Tcp(s) => s,
        }
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// What dccm answered to one command.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The final answer character (`c`, `a`, `r`, `t`, `d`, `y`).
    pub last: u8,
    /// An `X-DCC...` header was added.
    pub x_dcc: bool,
}

/// One milter connection.
pub struct Conn {
    s: Stream,
    buf: Vec<u8>,
    /// Start and end of the unread bytes in `buf`.
    at: usize,
    end: usize,
    out: Vec<u8>,
    /// The protocol flags the milter asked for.
    proto: u32,
}

/// The protocol flags that leave out a command and that say it gets no
/// answer (`SMFIP_NO...`, `SMFIP_NR_...`).
fn step_flags(cmd: u8) -> (u32, u32) {
    match cmd {
        b'C' => (0x1, 0x1000),
        b'H' => (0x2, 0x2000),
        b'M' => (0x4, 0x4000),
        b'R' => (0x8, 0x8000),
        b'B' => (0x10, 0x8_0000),
        b'L' => (0x20, 0x80),
        b'N' => (0x40, 0x4_0000),
        b'U' => (0x100, 0x2_0000),
        b'T' => (0x200, 0x1_0000),
        _ => (0, 0),
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

impl Conn {
    /// Connect and negotiate (all actions, no protocol steps left out).
    pub fn connect(addr: &Addr) -> io::Result<Conn> {
        let s = match addr {
            Addr::Unix(p) => {
                let s = UnixStream::connect(p)?;
                s.set_read_timeout(Some(Duration::from_secs(60)))?;
                Stream::Unix(s)
            }
            Addr::Tcp(a) => {
                let s = TcpStream::connect(a)?;
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(Duration::from_secs(60)))?;
                Stream::Tcp(s)
            }
        };
        let mut c = Conn {
            s,
            buf: vec![0; 64 * 1024],
            at: 0,
            end: 0,
            out: Vec::with_capacity(64 * 1024),
            proto: 0,
        };
        let mut o = Vec::with_capacity(12);
        o.extend_from_slice(&6u32.to_be_bytes());
        o.extend_from_slice(&0x1ffu32.to_be_bytes());
        o.extend_from_slice(&0x1f_ffffu32.to_be_bytes());
        c.queue(b'O', &o);
        c.flush()?;
        let (cmd, data) = c.packet()?;
        let flags = c.buf.get(data.start + 8..data.start + 12);
        match (cmd, flags) {
            (b'O', Some(&[a, b, d, e])) => c.proto = u32::from_be_bytes([a, b, d, e]),
            _ => return Err(bad("option negotiation")),
        }
        Ok(c)
    }

    /// Add a packet to what the next [`Conn::flush`] sends.
    pub fn queue(&mut self, cmd: u8, data: &[u8]) {
        let len = u32::try_from(data.len() + 1).unwrap_or(u32::MAX);
        self.out.extend_from_slice(&len.to_be_bytes());
        self.out.push(cmd);
        self.out.extend_from_slice(data);
    }

    /// Send the queued packets in one write.
    pub fn flush(&mut self) -> io::Result<()> {
        let r = self.s.io().write_all(&self.out);
        self.out.clear();
        r
    }

    /// Send one command and read the answer to it; a command the milter
    /// asked to leave out or not to answer counts as "continue".
    pub fn cmd(&mut self, cmd: u8, data: &[u8]) -> io::Result<Answer> {
        let (skip, no_reply) = step_flags(cmd);
        let go_on = Answer {
            last: b'c',
            x_dcc: false,
        };
        if self.proto & skip != 0 {
            return Ok(go_on);
        }
        self.queue(cmd, data);
        self.flush()?;
        if self.proto & no_reply != 0 {
            return Ok(go_on);
        }
        self.answer()
    }

    /// Read packets up to the final one of an answer.
    pub fn answer(&mut self) -> io::Result<Answer> {
        let mut a = Answer::default();
        loop {
            let (cmd, range) = self.packet()?;
            match cmd {
                b'c' | b'a' | b'r' | b't' | b'd' | b'y' => {
                    a.last = cmd;
                    return Ok(a);
                }
                b'h' => {
                    let d = self.buf.get(range).unwrap_or(&[]);
                    a.x_dcc |= d.starts_with(b"X-DCC");
                }
                _ => {}
            }
        }
    }

    /// The next packet: its command and where its data is in `buf`.
    fn packet(&mut self) -> io::Result<(u8, std::ops::Range<usize>)> {
        self.fill(5)?;
        let b = &self.buf[self.at..];
        let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if len == 0 || len > self.buf.len() - 4 {
            return Err(bad("packet length"));
        }
        self.fill(4 + len)?;
        let cmd = self.buf[self.at + 4];
        let data = self.at + 5..self.at + 4 + len;
        self.at += 4 + len;
        Ok((cmd, data))
    }

    /// Make sure `n` unread bytes are in the buffer.
    fn fill(&mut self, n: usize) -> io::Result<()> {
        if self.end - self.at >= n {
            return Ok(());
        }
        if self.at + n > self.buf.len() {
            self.buf.copy_within(self.at..self.end, 0);
            self.end -= self.at;
            self.at = 0;
        }
        while self.end - self.at < n {
            let got = self.s.io().read(&mut self.buf[self.end..])?;
            if got == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.end += got;
        }
        Ok(())
    }

    /// Say goodbye (the MTA's QUIT).
    pub fn quit(mut self) {
        self.queue(b'Q', b"");
        let _ = self.flush();
    }
}
