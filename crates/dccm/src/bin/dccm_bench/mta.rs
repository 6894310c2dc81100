//! The MTA's side of the milter protocol (version 6) for the benchmark,
//! over a unix or TCP socket, kept cheap so that the figures are dccm's:
//! each command is one write (TCP_NODELAY set, as MTAs do), replies are
//! read through a buffer, and only what the benchmark counts is decoded
//! (the final answer and whether an X-DCC header was added).

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
        };
        let mut o = Vec::with_capacity(12);
        o.extend_from_slice(&6u32.to_be_bytes());
        o.extend_from_slice(&0x1ffu32.to_be_bytes());
        o.extend_from_slice(&0x1f_ffffu32.to_be_bytes());
        c.queue(b'O', &o);
        c.flush()?;
        let (cmd, _) = c.packet()?;
        if cmd != b'O' {
            return Err(bad("option negotiation"));
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

    /// Send one command and read the answer to it.
    pub fn cmd(&mut self, cmd: u8, data: &[u8]) -> io::Result<Answer> {
        self.queue(cmd, data);
        self.flush()?;
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
