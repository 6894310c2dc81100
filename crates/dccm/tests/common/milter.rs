//! A small MTA side of the milter protocol (version 6) for the tests.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// A reply packet from the milter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A final answer character (`c`, `a`, `r`, `t`, `d`).
    Final(char),
    /// `y`: SMTP reply text.
    Code(String),
    /// `h`: header added.
    AddHeader(String, String),
    /// `m`: header changed (index, name, value).
    ChgHeader(u32, String, String),
    /// `-`: recipient deleted.
    DelRcpt(String),
    /// Something else.
    Other(char, Vec<u8>),
}

impl Reply {
    /// Whether this ends the answer to a command.
    pub fn is_final(&self) -> bool {
        matches!(self, Reply::Final(_) | Reply::Code(_))
    }
}

/// Milter protocol options: no reply after a header, after the end of the
/// headers, after a body chunk.
pub const NR_HDR: u32 = 0x80;
/// See [`NR_HDR`].
pub const NR_EOH: u32 = 0x4_0000;
/// See [`NR_HDR`].
pub const NR_BODY: u32 = 0x8_0000;

/// A connection to the milter.
pub struct Client {
    s: UnixStream,
    /// The protocol options the milter asked for.
    pub opts: u32,
    /// The command sent last.
    last: u8,
}

fn cstrs(b: &[u8]) -> Vec<String> {
    b.split(|&c| c == 0)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

impl Client {
    /// Connect and negotiate, offering every protocol option as Postfix
    /// and sendmail do.
    pub fn connect(path: &Path) -> std::io::Result<Client> {
        Client::connect_offering(path, 0x1f_ffff)
    }

    /// Connect and negotiate, offering the protocol options `offer`.
    pub fn connect_offering(path: &Path, offer: u32) -> std::io::Result<Client> {
        let s = UnixStream::connect(path)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut c = Client {
            s,
            opts: 0,
            last: 0,
        };
        let mut o = Vec::new();
        o.extend_from_slice(&6u32.to_be_bytes());
        o.extend_from_slice(&0x1ffu32.to_be_bytes());
        o.extend_from_slice(&offer.to_be_bytes());
        c.send(b'O', &o)?;
        let (cmd, d) = c.read_pkt()?;
        assert_eq!(cmd, b'O', "option negotiation");
        if let Some(p) = d.get(8..12) {
            c.opts = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
        }
        Ok(c)
    }

    /// Whether the milter asked for no reply after command `cmd`.
    fn quiet(&self, cmd: u8) -> bool {
        let bit = match cmd {
            b'L' => NR_HDR,
            b'N' => NR_EOH,
            b'B' => NR_BODY,
            _ => 0,
        };
        self.opts & bit != 0
    }

    /// Send one packet.
    pub fn send(&mut self, cmd: u8, data: &[u8]) -> std::io::Result<()> {
        self.last = cmd;
        let len = (data.len() + 1) as u32;
        let mut b = len.to_be_bytes().to_vec();
        b.push(cmd);
        b.extend_from_slice(data);
        self.s.write_all(&b)
    }

    fn read_pkt(&mut self) -> std::io::Result<(u8, Vec<u8>)> {
        let mut l = [0u8; 4];
        self.s.read_exact(&mut l)?;
        let n = u32::from_be_bytes(l) as usize;
        let mut b = vec![0u8; n];
        self.s.read_exact(&mut b)?;
        let cmd = b.first().copied().unwrap_or(0);
        Ok((cmd, b.get(1..).unwrap_or(&[]).to_vec()))
    }

    /// Read replies up to and including the final one. After a command the
    /// milter asked not to answer, that is "continue", as for the MTA.
    pub fn replies(&mut self) -> std::io::Result<Vec<Reply>> {
        if self.quiet(self.last) {
            return Ok(vec![Reply::Final('c')]);
        }
        let mut out = Vec::new();
        loop {
            let (cmd, d) = self.read_pkt()?;
            let r = match cmd {
                b'c' | b'a' | b'r' | b't' | b'd' => Reply::Final(cmd as char),
                b'y' => Reply::Code(cstrs(&d).remove(0)),
                b'h' => {
                    let v = cstrs(&d);
                    Reply::AddHeader(v[0].clone(), v[1].clone())
                }
                b'm' => {
                    let idx = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
                    let v = cstrs(&d[4..]);
                    Reply::ChgHeader(idx, v[0].clone(), v.get(1).cloned().unwrap_or_default())
                }
                b'-' => Reply::DelRcpt(cstrs(&d).remove(0)),
                b'p' => continue,
                c => Reply::Other(c as char, d),
            };
            let fin = r.is_final();
            out.push(r);
            if fin {
                return Ok(out);
            }
        }
    }
}

/// The data of a macro packet (`D`) for command `stage`.
#[allow(dead_code)]
pub fn macro_pkt(stage: u8, pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut d = vec![stage];
    for (k, v) in pairs {
        d.extend_from_slice(k.as_bytes());
        d.push(0);
        d.extend_from_slice(v.as_bytes());
        d.push(0);
    }
    d
}

/// The data of the connect command (`C`): the SMTP client's host name
/// and its IPv4 address `ip` on port 25.
pub fn connect_data(host: &str, ip: &str) -> Vec<u8> {
    let mut d = host.as_bytes().to_vec();
    d.push(0);
    d.push(b'4');
    d.extend_from_slice(&25u16.to_be_bytes());
    d.extend_from_slice(ip.as_bytes());
    d.push(0);
    d
}

/// A connection to dccm at `sock`, tried for up to 5 s.
pub fn retry_connect(sock: &Path) -> Client {
    for _ in 0..250 {
        if let Ok(c) = Client::connect(sock) {
            return c;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("cannot connect to dccm");
}

/// The connect step (`C`) of an SMTP client `mail.example.com` at `ip`:
/// its answers.
pub fn send_connect(c: &mut Client, ip: &str) -> Vec<Reply> {
    c.send(b'C', &connect_data("mail.example.com", ip)).unwrap();
    c.replies().unwrap()
}

/// A connection to dccm at `sock` (tried for up to 5 s) from an SMTP
/// client at `ip`, its connect step answered with continue.
pub fn connect(sock: &Path, ip: &str) -> Client {
    let mut c = retry_connect(sock);
    assert_eq!(send_connect(&mut c, ip), vec![Reply::Final('c')]);
    c
}

/// MAIL from alice after the macros `macros`, answered with continue.
pub fn mail(c: &mut Client, macros: &[(&str, &str)]) {
    c.send(b'D', &macro_pkt(b'M', macros)).unwrap();
    c.send(b'M', b"<alice@example.com>\0").unwrap();
    assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
}

/// RCPT to `<user@example.net>`, after the macros `macros` when there
/// are some: the answers.
pub fn rcpt(c: &mut Client, user: &str, macros: &[(&str, &str)]) -> Vec<Reply> {
    if !macros.is_empty() {
        c.send(b'D', &macro_pkt(b'R', macros)).unwrap();
    }
    c.send(b'R', format!("<{user}@example.net>\0").as_bytes())
        .unwrap();
    c.replies().unwrap()
}

/// MAIL from alice with queue ID `id` (answered with continue), then the
/// recipients (local user names, with their `{rcpt_addr}`): the answers
/// to each RCPT.
pub fn envelope(c: &mut Client, id: &str, users: &[&str]) -> Vec<Vec<Reply>> {
    mail(c, &[("i", id)]);
    users
        .iter()
        .map(|u| rcpt(c, u, &[("{rcpt_mailer}", "local"), ("{rcpt_addr}", *u)]))
        .collect()
}

/// The header fields, end of header, `body` and end of message: the
/// replies to the end of the message.
pub fn content<K: AsRef<str>, V: AsRef<str>>(
    c: &mut Client,
    fields: &[(K, V)],
    body: &[u8],
) -> Vec<Reply> {
    content_eom(c, fields, body, &[])
}

/// [`content`] with the macros `eom` before the end of the message when
/// there are some.
pub fn content_eom<K: AsRef<str>, V: AsRef<str>>(
    c: &mut Client,
    fields: &[(K, V)],
    body: &[u8],
    eom: &[(&str, &str)],
) -> Vec<Reply> {
    for (n, v) in fields {
        c.send(b'L', format!("{}\0{}\0", n.as_ref(), v.as_ref()).as_bytes())
            .unwrap();
        c.replies().unwrap();
    }
    c.send(b'N', b"").unwrap();
    c.replies().unwrap();
    c.send(b'B', body).unwrap();
    c.replies().unwrap();
    if !eom.is_empty() {
        c.send(b'D', &macro_pkt(b'E', eom)).unwrap();
    }
    c.send(b'E', b"").unwrap();
    c.replies().unwrap()
}

/// The short message several tests send: from alice, `subject`, two body
/// lines; the replies to its end.
pub fn short_content(c: &mut Client, subject: &str) -> Vec<Reply> {
    short_content_eom(c, subject, &[])
}

/// [`short_content`] with the macros `eom` before the end of the message
/// when there are some.
pub fn short_content_eom(c: &mut Client, subject: &str, eom: &[(&str, &str)]) -> Vec<Reply> {
    content_eom(
        c,
        &[("From", "alice@example.com"), ("Subject", subject)],
        b"Hello Bob,\r\nsee you tomorrow.\r\n",
        eom,
    )
}

/// The header fields (continuation lines kept, after a newline) and the
/// body of a message file.
pub fn eml_parts(eml: &str) -> (Vec<(String, String)>, String) {
    let (head, body) = eml.split_once("\n\n").unwrap_or((eml, ""));
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(f) = fields.last_mut() {
                f.1.push('\n');
                f.1.push_str(line);
            }
        } else if let Some((n, v)) = line.split_once(':') {
            fields.push((n.to_string(), v.trim_start().to_string()));
        }
    }
    (fields, body.to_string())
}
