//! The MTA's side of the milter protocol (version 6), for the fault tests
//! that speak to dccm directly, without a mail system in between.
//!
//! Every read and write is bounded by the connection's timeout, so a milter
//! that never answers shows as an error (`TimedOut`/`WouldBlock`), not as a
//! hung test. All protocol steps are offered; steps the milter asks to
//! leave out are not sent, steps it asks not to answer are not waited for.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// How the milter ended a message (or a step before its end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The final answer: `c` continue, `a` accept, `r` reject, `t`
    /// temporary failure, `d` discard, `y` an SMTP reply (see `reply`).
    pub last: u8,
    /// The text of a `y` answer, e.g. `451 4.7.1 ...`.
    pub reply: String,
    /// The value of an `X-DCC...` header the milter added or changed.
    pub x_dcc: Option<String>,
}

impl Answer {
    fn go_on() -> Answer {
        Answer {
            last: b'c',
            reply: String::new(),
            x_dcc: None,
        }
    }

    /// The MTA would go on with (or deliver) the message.
    pub fn accepted(&self) -> bool {
        matches!(self.last, b'c' | b'a')
    }

    /// The MTA would answer with a 4yz temporary failure.
    pub fn tempfail(&self) -> bool {
        self.last == b't' || (self.last == b'y' && self.reply.starts_with('4'))
    }
}

/// A message as an MTA hands it to a milter: header fields and body.
#[derive(Debug, Clone)]
pub struct Parts {
    /// Header fields: name and value (continuation lines included).
    pub headers: Vec<(String, String)>,
    /// The body, CRLF line ends.
    pub body: Vec<u8>,
}

impl Parts {
    /// Split a raw message (LF or CRLF line ends).
    pub fn of(raw: &[u8]) -> Parts {
        let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = headers.last_mut() {
                    last.1.push_str("\r\n");
                    last.1.push_str(line);
                }
                continue;
            }
            if let Some((n, v)) = line.split_once(':') {
                headers.push((n.to_string(), v.trim_start().to_string()));
            }
        }
        Parts {
            headers,
            body: body.replace('\n', "\r\n").into_bytes(),
        }
    }
}

/// The flags that leave out a command and that say it gets no answer
/// (`SMFIP_NO...`, `SMFIP_NR_...`).
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

fn z(d: &mut Vec<u8>, s: &str) {
    d.extend(s.bytes().filter(|&b| b != 0));
    d.push(0);
}

/// One milter connection.
pub struct Mta {
    s: UnixStream,
    proto: u32,
    /// macros sent before each RCPT (e.g. `{rcpt_addr}`)
    rcpt_macros: Vec<(String, String)>,
}

impl Mta {
    /// Connect, negotiate and send the SMTP client's connection and HELO;
    /// each read and write waits at most `limit`.
    pub fn connect(path: &Path, limit: Duration) -> io::Result<Mta> {
        let s = UnixStream::connect(path)?;
        s.set_read_timeout(Some(limit))?;
        s.set_write_timeout(Some(limit))?;
        let mut m = Mta {
            s,
            proto: 0,
            rcpt_macros: Vec::new(),
        };
        let mut o = Vec::with_capacity(12);
        o.extend_from_slice(&6u32.to_be_bytes());
        o.extend_from_slice(&0x1ffu32.to_be_bytes());
        o.extend_from_slice(&0x1f_ffffu32.to_be_bytes());
        m.send(b'O', &o)?;
        let (cmd, d) = m.packet()?;
        match (cmd, d.get(8..12)) {
            (b'O', Some(&[a, b, c, e])) => m.proto = u32::from_be_bytes([a, b, c, e]),
            _ => return Err(bad("option negotiation")),
        }
        let mut c = Vec::new();
        z(&mut c, "client.example.com");
        c.push(b'4');
        c.extend_from_slice(&25u16.to_be_bytes());
        z(&mut c, "192.0.2.25");
        m.step(b'C', &c)?;
        m.step(b'H', b"client.example.com\0")?;
        Ok(m)
    }

    /// Send these macros before each later RCPT, as an MTA does with
    /// `{rcpt_mailer}` and `{rcpt_addr}` (which pick dccm's per-user
    /// directory).
    pub fn rcpt_macros(&mut self, pairs: &[(&str, &str)]) {
        self.rcpt_macros = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    }

    fn send(&mut self, cmd: u8, data: &[u8]) -> io::Result<()> {
        let len = u32::try_from(data.len() + 1).map_err(|_| bad("packet too long"))?;
        let mut b = Vec::with_capacity(data.len() + 5);
        b.extend_from_slice(&len.to_be_bytes());
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
        let cmd = b.first().copied().unwrap_or(0);
        Ok((cmd, b.get(1..).unwrap_or(&[]).to_vec()))
    }

    /// Send one command and read its answer (continue for a step left out
    /// or not answered).
    pub fn step(&mut self, cmd: u8, data: &[u8]) -> io::Result<Answer> {
        let (skip, no_reply) = step_flags(cmd);
        if self.proto & skip != 0 {
            return Ok(Answer::go_on());
        }
        self.send(cmd, data)?;
        if self.proto & no_reply != 0 {
            return Ok(Answer::go_on());
        }
        self.answer()
    }

    fn answer(&mut self) -> io::Result<Answer> {
        let mut a = Answer::go_on();
        loop {
            let (cmd, d) = self.packet()?;
            let strs: Vec<String> = d
                .split(|&c| c == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            match cmd {
                b'c' | b'a' | b'r' | b't' | b'd' => {
                    a.last = cmd;
                    return Ok(a);
                }
                b'y' => {
                    a.last = cmd;
                    a.reply = strs.into_iter().next().unwrap_or_default();
                    return Ok(a);
                }
                b'h' | b'i' if strs.first().is_some_and(|n| n.starts_with("X-DCC")) => {
                    a.x_dcc = strs.get(1).cloned();
                }
                b'm' => {
                    let s: Vec<String> = d
                        .get(4..)
                        .unwrap_or(&[])
                        .split(|&c| c == 0)
                        .map(|p| String::from_utf8_lossy(p).into_owned())
                        .collect();
                    if s.first().is_some_and(|n| n.starts_with("X-DCC")) {
                        a.x_dcc = s.get(1).cloned();
                    }
                }
                _ => {}
            }
        }
    }

    /// The envelope and header of a message (MAIL, RCPT, each header
    /// field, end of header); an answer other than continue ends it early.
    pub fn head(&mut self, id: &str, from: &str, to: &str, parts: &Parts) -> io::Result<Answer> {
        let mut mac = b"M".to_vec();
        z(&mut mac, "i");
        z(&mut mac, id);
        self.send(b'D', &mac)?;
        let mut d = Vec::new();
        z(&mut d, &format!("<{from}>"));
        let a = self.step(b'M', &d)?;
        if a.last != b'c' {
            return Ok(a);
        }
        if !self.rcpt_macros.is_empty() {
            let mut mac = b"R".to_vec();
            for (k, v) in &self.rcpt_macros {
                z(&mut mac, k);
                z(&mut mac, v);
            }
            self.send(b'D', &mac)?;
        }
        d.clear();
        z(&mut d, &format!("<{to}>"));
        let a = self.step(b'R', &d)?;
        if a.last != b'c' {
            return Ok(a);
        }
        for (n, v) in &parts.headers {
            d.clear();
            z(&mut d, n);
            z(&mut d, v);
            let a = self.step(b'L', &d)?;
            if a.last != b'c' {
                return Ok(a);
            }
        }
        self.step(b'N', b"")
    }

    /// The body in chunks of at most `chunk` bytes.
    pub fn body(&mut self, body: &[u8], chunk: usize) -> io::Result<Answer> {
        for c in body.chunks(chunk.max(1)) {
            let a = self.step(b'B', c)?;
            if a.last != b'c' {
                return Ok(a);
            }
        }
        Ok(Answer::go_on())
    }

    /// A whole message: head, body in chunks of 64 bytes and its end; the
    /// answer to the end (or the earlier answer that ended it).
    pub fn message(&mut self, id: &str, from: &str, to: &str, raw: &[u8]) -> io::Result<Answer> {
        let parts = Parts::of(raw);
        let a = self.head(id, from, to, &parts)?;
        if a.last != b'c' {
            return Ok(a);
        }
        let a = self.body(&parts.body, 64)?;
        if a.last != b'c' {
            return Ok(a);
        }
        self.step(b'E', b"")
    }

    /// Say goodbye (the MTA's QUIT).
    pub fn quit(mut self) {
        let _ = self.send(b'Q', b"");
    }
}
