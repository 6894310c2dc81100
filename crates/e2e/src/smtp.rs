//! A small SMTP client for sending test messages to the Postfix instance.
//!
//! It speaks just what the tests need: EHLO, optionally XCLIENT (so that the
//! milter sees a chosen client address and name instead of 127.0.0.1), MAIL,
//! RCPT for each recipient, DATA with CRLF line ends and dot-stuffing, QUIT.
//! Every read and write has a time limit, and replies are read in bounded
//! lines.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Longest reply line kept.
const LINE_MAX: u64 = 2048;
/// Most lines in one multi-line reply.
const REPLY_LINES_MAX: usize = 64;

/// One SMTP reply: the code and the text of its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text after the code of every line, joined with newlines.
    pub text: String,
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.text)
    }
}

/// The SMTP envelope of a test message.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// EHLO name.
    pub helo: String,
    /// MAIL FROM address (without brackets; empty for the null sender).
    pub from: String,
    /// RCPT TO addresses.
    pub rcpts: Vec<String>,
    /// XCLIENT ADDR and NAME, if the client should appear as another host.
    pub xclient: Option<(String, String)>,
}

impl Envelope {
    /// An envelope from `from` to `rcpts`, HELO `client.example.org`.
    pub fn new(from: &str, rcpts: &[&str]) -> Envelope {
        Envelope {
            helo: "client.example.org".into(),
            from: from.into(),
            rcpts: rcpts.iter().map(|r| r.to_string()).collect(),
            xclient: None,
        }
    }

    /// Pretend the message comes from `addr` named `name` (XCLIENT).
    pub fn client(mut self, addr: &str, name: &str) -> Envelope {
        self.xclient = Some((addr.into(), name.into()));
        self
    }
}

/// What happened to a message.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Reply to each RCPT TO, in order.
    pub rcpt_replies: Vec<Reply>,
    /// The last reply of the transaction: to the end of DATA, or the
    /// refusal that stopped it earlier.
    pub last: Reply,
}

impl Outcome {
    /// The queue id from "250 ... queued as ID".
    pub fn queue_id(&self) -> Option<String> {
        if self.last.code != 250 {
            return None;
        }
        let rest = self.last.text.split("queued as ").nth(1)?;
        let id: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        (!id.is_empty()).then_some(id)
    }
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(addr: SocketAddr, limit: Duration) -> std::io::Result<Conn> {
        let s = TcpStream::connect_timeout(&addr, limit)?;
        s.set_read_timeout(Some(limit))?;
        s.set_write_timeout(Some(limit))?;
        Ok(Conn {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    fn reply(&mut self) -> std::io::Result<Reply> {
        let mut text = Vec::new();
        for _ in 0..REPLY_LINES_MAX {
            let mut line = Vec::new();
            (&mut self.reader)
                .take(LINE_MAX)
                .read_until(b'\n', &mut line)?;
            if line.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed",
                ));
            }
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end();
            let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
            let Some(code) = code else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("bad reply line {line:?}"),
                ));
            };
            text.push(line.get(4..).unwrap_or("").to_string());
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(Reply {
                    code,
                    text: text.join("\n"),
                });
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "reply too long",
        ))
    }

    fn cmd(&mut self, line: &str) -> std::io::Result<Reply> {
        self.writer.write_all(line.as_bytes())?;
        self.writer.write_all(b"\r\n")?;
        self.reply()
    }
}

fn unexpected(what: &str, r: &Reply) -> std::io::Error {
    std::io::Error::other(format!("unexpected reply to {what}: {r}"))
}

/// The message as DATA content: CRLF line ends, leading dots doubled, a
/// final line end, then the terminating dot.
pub fn data_bytes(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 16 + 8);
    let mut lines: Vec<&[u8]> = message.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Send one message over one SMTP session to `addr`; every step waits at
/// most `limit`. Refusals are part of the outcome, not errors.
pub fn send(
    addr: SocketAddr,
    env: &Envelope,
    message: &[u8],
    limit: Duration,
) -> std::io::Result<Outcome> {
    let mut c = Conn::open(addr, limit)?;
    let greet = c.reply()?;
    if greet.code != 220 {
        return Err(unexpected("connect", &greet));
    }
    let r = c.cmd(&format!("EHLO {}", env.helo))?;
    if r.code != 250 {
        return Err(unexpected("EHLO", &r));
    }
    if let Some((ip, name)) = &env.xclient {
        let r = c.cmd(&format!("XCLIENT ADDR={ip} NAME={name}"))?;
        if r.code != 220 {
            return Err(unexpected("XCLIENT", &r));
        }
        let r = c.cmd(&format!("EHLO {}", env.helo))?;
        if r.code != 250 {
            return Err(unexpected("EHLO after XCLIENT", &r));
        }
    }
    let r = c.cmd(&format!("MAIL FROM:<{}>", env.from))?;
    let mut out = Outcome {
        rcpt_replies: Vec::new(),
        last: r.clone(),
    };
    if r.code != 250 {
        let _ = c.cmd("QUIT");
        return Ok(out);
    }
    for rcpt in &env.rcpts {
        let r = c.cmd(&format!("RCPT TO:<{rcpt}>"))?;
        out.last = r.clone();
        out.rcpt_replies.push(r);
    }
    if !out.rcpt_replies.iter().any(|r| r.code == 250) {
        let _ = c.cmd("QUIT");
        return Ok(out);
    }
    let r = c.cmd("DATA")?;
    if r.code != 354 {
        out.last = r;
        let _ = c.cmd("QUIT");
        return Ok(out);
    }
    c.writer.write_all(&data_bytes(message))?;
    out.last = c.reply()?;
    let _ = c.cmd("QUIT");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_crlf_and_dot_stuffed() {
        assert_eq!(data_bytes(b"a\n.b\n\nc"), b"a\r\n..b\r\n\r\nc\r\n.\r\n");
        assert_eq!(data_bytes(b"x\r\ny\r\n"), b"x\r\ny\r\n.\r\n");
        assert_eq!(data_bytes(b""), b".\r\n");
    }

    #[test]
    fn queue_id_from_reply() {
        let out = Outcome {
            rcpt_replies: Vec::new(),
            last: Reply {
                code: 250,
                text: "2.0.0 Ok: queued as 4AB12CD".into(),
            },
        };
        assert_eq!(out.queue_id().as_deref(), Some("4AB12CD"));
    }
}
