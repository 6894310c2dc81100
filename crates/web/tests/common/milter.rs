//! The MTA's side of the milter protocol (version 6), enough to hand a
//! message to dccm with the recipient's `{rcpt_mailer}` and `{rcpt_addr}`
//! macros (which pick the per-user directory). Every read and write is
//! bounded by a timeout.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

fn z(d: &mut Vec<u8>, s: &str) {
    d.extend(s.bytes().filter(|&b| b != 0));
    d.push(0);
}

/// One milter connection.
pub struct Mta {
    s: UnixStream,
    /// the steps the milter asked to leave out or not answer
    flags: u32,
}

fn bad(w: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, w.to_string())
}

/// (leave out, no reply) bits of a step.
fn step_flags(cmd: u8) -> (u32, u32) {
    match cmd {
        b'C' => (0x1, 0x1000),
        b'H' => (0x2, 0x2000),
        b'M' => (0x4, 0x4000),
        b'R' => (0x8, 0x8000),
        b'B' => (0x10, 0x8_0000),
        b'L' => (0x20, 0x80),
        b'N' => (0x40, 0x4_0000),
        _ => (0, 0),
    }
}

impl Mta {
    /// Connect, negotiate, send the client's connection and HELO.
    pub fn connect(path: &Path) -> io::Result<Mta> {
        let s = UnixStream::connect(path)?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        s.set_write_timeout(Some(Duration::from_secs(20)))?;
        let mut m = Mta { s, flags: 0 };
        let mut o = Vec::new();
        o.extend_from_slice(&6u32.to_be_bytes());
        o.extend_from_slice(&0x1ffu32.to_be_bytes());
        o.extend_from_slice(&0x1f_ffffu32.to_be_bytes());
        m.send(b'O', &o)?;
        let (cmd, d) = m.packet()?;
        match (cmd, d.get(8..12)) {
            (b'O', Some(&[a, b, c, e])) => m.flags = u32::from_be_bytes([a, b, c, e]),
            _ => return Err(bad("option negotiation")),
        }
        let mut c = Vec::new();
        z(&mut c, "mail.example.com");
        c.push(b'4');
        c.extend_from_slice(&25u16.to_be_bytes());
        z(&mut c, "203.0.113.80");
        m.step(b'C', &c)?;
        m.step(b'H', b"mail.example.com\0")?;
        Ok(m)
    }

    fn send(&mut self, cmd: u8, data: &[u8]) -> io::Result<()> {
        let mut b = ((data.len() + 1) as u32).to_be_bytes().to_vec();
        b.push(cmd);
        b.extend_from_slice(data);
        self.s.write_all(&b)
    }

    fn packet(&mut self) -> io::Result<(u8, Vec<u8>)> {
        let mut l = [0u8; 4];
        self.s.read_exact(&mut l)?;
        let n = u32::from_be_bytes(l) as usize;
        if n == 0 || n > 1 << 20 {
            return Err(bad("packet length"));
        }
        let mut b = vec![0u8; n];
        self.s.read_exact(&mut b)?;
        Ok((b[0], b[1..].to_vec()))
    }

    /// Send a step and read its final answer (`c`, `a`, `r`, `t`, `d`, or
    /// `y` with its reply text).
    fn step(&mut self, cmd: u8, data: &[u8]) -> io::Result<(u8, String)> {
        let (skip, no_reply) = step_flags(cmd);
        if self.flags & skip != 0 {
            return Ok((b'c', String::new()));
        }
        self.send(cmd, data)?;
        if self.flags & no_reply != 0 {
            return Ok((b'c', String::new()));
        }
        loop {
            let (c, d) = self.packet()?;
            match c {
                b'c' | b'a' | b'r' | b't' | b'd' => return Ok((c, String::new())),
                b'y' => {
                    let t = d.split(|&x| x == 0).next().unwrap_or(&[]);
                    return Ok((c, String::from_utf8_lossy(t).into_owned()));
                }
                _ => {}
            }
        }
    }

    /// A whole message to local user `user`: the final answer.
    pub fn message(
        &mut self,
        id: &str,
        from: &str,
        user: &str,
        raw: &str,
    ) -> io::Result<(u8, String)> {
        let mut mac = b"M".to_vec();
        z(&mut mac, "i");
        z(&mut mac, id);
        self.send(b'D', &mac)?;
        let mut d = Vec::new();
        z(&mut d, &format!("<{from}>"));
        let a = self.step(b'M', &d)?;
        if a.0 != b'c' {
            return Ok(a);
        }
        let mut mac = b"R".to_vec();
        for (k, v) in [("{rcpt_mailer}", "local"), ("{rcpt_addr}", user)] {
            z(&mut mac, k);
            z(&mut mac, v);
        }
        self.send(b'D', &mac)?;
        d.clear();
        z(&mut d, &format!("<{user}@example.net>"));
        let a = self.step(b'R', &d)?;
        if a.0 != b'c' {
            return Ok(a);
        }
        let text = raw.replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        for line in head.lines() {
            if let Some((n, v)) = line.split_once(':') {
                d.clear();
                z(&mut d, n);
                z(&mut d, v.trim_start());
                let a = self.step(b'L', &d)?;
                if a.0 != b'c' {
                    return Ok(a);
                }
            }
        }
        let a = self.step(b'N', b"")?;
        if a.0 != b'c' {
            return Ok(a);
        }
        let body = body.replace('\n', "\r\n");
        for c in body.as_bytes().chunks(4096) {
            let a = self.step(b'B', c)?;
            if a.0 != b'c' {
                return Ok(a);
            }
        }
        self.step(b'E', b"")
    }
}
