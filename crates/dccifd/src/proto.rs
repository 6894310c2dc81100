//! The head of a dccifd ASCII request: the options line, the SMTP client
//! line, the HELO line, the sender line and the recipient lines up to an
//! empty line, after which the message follows until the client
//! half-closes the connection.
//!
//! Lines end with `\n`; a `\r` just before it is dropped, so CRLF
//! protocol lines work as they do with the original. Options are
//! case-insensitive and separated by blanks or tabs.

use std::io::{self, BufRead};
use std::net::IpAddr;
use tally_ck::header::IfdStart;

/// Longest protocol line accepted (the original reads into fixed buffers).
pub const MAX_LINE: usize = 8192;
/// Most recipients of one request.
pub const MAX_RCPTS: usize = 10_000;
/// Most bytes of the protocol lines before the message.
pub const MAX_HEAD: usize = 1024 * 1024;

/// Options of the first line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReqOpts {
    /// `spam`: report the message as spam.
    pub spam: bool,
    /// `body`: return the whole message with the X-DCC header.
    pub body: bool,
    /// `header`: return the X-DCC header.
    pub header: bool,
    /// `cksums`: return the header and the checksum table.
    pub cksums: bool,
    /// `query`: do not report.
    pub query: bool,
    /// `grey-off` (or `no-grey`).
    pub grey_off: bool,
    /// `grey-query`.
    pub grey_query: bool,
    /// `no-reject`: never an overall `R`.
    pub no_reject: bool,
    /// `log`: always keep a log file.
    pub log: bool,
    /// `rcvd-next` (or `rcvd-nxt`) count.
    pub rcvd_next: u32,
}

/// One recipient: the mailbox and the local user name (maybe empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rcpt {
    /// SMTP `Rcpt To` value.
    pub addr: String,
    /// Local user name, for per-user files.
    pub user: String,
}

/// The parsed head of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// The options line.
    pub opts: ReqOpts,
    /// SMTP client address (absent: from `Received:` headers).
    pub client_ip: Option<IpAddr>,
    /// Its host name (an address given as the name is written as an
    /// address literal, `[192.0.2.1]` or `[IPv6:2001:db8::1]`).
    pub client_name: Option<String>,
    /// The client line gave an address that could not be read: the
    /// client stays unknown; it is not taken from `Received:` headers.
    pub client_bad: bool,
    /// HELO value (empty: none).
    pub helo: String,
    /// Envelope sender (empty: from `Return-Path:`).
    pub sender: String,
    /// Recipients.
    pub rcpts: Vec<Rcpt>,
    /// Proxy mode: recipients refused at RCPT (by the downstream server
    /// or for incompatible whitelists), each with the number of accepted
    /// recipients before it. They are only listed in the main log file,
    /// as the original lists them.
    pub refused: Vec<(usize, Rcpt)>,
    /// Complaints about the request that do not stop it.
    pub warnings: Vec<String>,
    /// Where the original's read buffer stands when the message begins
    /// (it read the protocol lines through it), which decides how long
    /// header fields are cut.
    pub ifd_start: IfdStart,
}

/// Why a request could not be used; the connection is then closed.
#[derive(Debug)]
pub enum BadRequest {
    /// Malformed: the text to log.
    Malformed(String),
    /// The connection failed.
    Io(io::Error),
}

impl std::fmt::Display for BadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadRequest::Malformed(m) => f.write_str(m),
            BadRequest::Io(e) => write!(f, "read request: {}", tally_engine::errno_str(e)),
        }
    }
}

fn truncated() -> BadRequest {
    BadRequest::Malformed("truncated request".to_string())
}

/// Read one protocol line without its `\n` (and `\r\n`); `None` at end of
/// input before a complete line. The line's bytes go through `buf`.
fn read_line<R: BufRead>(r: &mut R, buf: &mut IfdStart) -> Result<Option<Vec<u8>>, BadRequest> {
    let mut line = Vec::new();
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(BadRequest::Io(e)),
        };
        if avail.is_empty() {
            return Ok(None);
        }
        let (n, done) = match avail.iter().position(|&c| c == b'\n') {
            Some(p) => (p + 1, true),
            None => (avail.len(), false),
        };
        if line.len() + n > MAX_LINE + 2 {
            return Err(BadRequest::Malformed(format!(
                "request line longer than {MAX_LINE} bytes"
            )));
        }
        line.extend_from_slice(&avail[..n]);
        r.consume(n);
        if done {
            buf.line(line.len());
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(line));
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parse the options line.
pub fn parse_opts(line: &str) -> Result<ReqOpts, String> {
    let mut o = ReqOpts::default();
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\r']);
        if rest.is_empty() {
            return Ok(o);
        }
        let end = rest.find([' ', '\t', '\r']).unwrap_or(rest.len());
        let (word, after) = rest.split_at(end);
        match word.to_ascii_lowercase().as_str() {
            "spam" => o.spam = true,
            "body" => o.body = true,
            "header" => o.header = true,
            "cksums" => o.cksums = true,
            "query" => o.query = true,
            "grey-off" | "no-grey" => o.grey_off = true,
            "grey-query" => o.grey_query = true,
            "no-reject" => o.no_reject = true,
            "log" => o.log = true,
            "rcvd-next" | "rcvd-nxt" => o.rcvd_next = o.rcvd_next.saturating_add(1),
            _ => return Err(format!("unrecognized option value: \"{rest}\"")),
        }
        rest = after;
    }
}

/// Parse the client line: `IP`, `IP\rname`, empty or `0.0.0.0`.
fn parse_client(h: &mut Head, line: &str) {
    let (ip, name) = match line.split_once('\r') {
        Some((i, n)) => (i.trim(), Some(n.trim())),
        None => (line.trim(), None),
    };
    if ip.is_empty() || ip == "0.0.0.0" || ip == "::" {
        return;
    }
    // a name that is itself an address becomes an address literal, as
    // the original writes it
    h.client_name = name
        .filter(|n| !n.is_empty())
        .map(|n| match n.parse::<IpAddr>() {
            Ok(IpAddr::V6(_)) => format!("[IPv6:{n}]"),
            Ok(_) => format!("[{n}]"),
            Err(_) => n.to_string(),
        });
    let ip_text = ip.trim_start_matches('[').trim_end_matches(']');
    let ip_text = ip_text
        .strip_prefix("IPv6:")
        .or_else(|| ip_text.strip_prefix("ipv6:"))
        .unwrap_or(ip_text);
    match ip_text.parse::<IpAddr>() {
        Ok(a) => h.client_ip = Some(a),
        Err(_) => {
            // as the original: the client is then unknown, and the
            // Received: headers are not searched for it
            h.client_bad = true;
            h.warnings.push(format!("unrecognized IP address \"{ip}\""));
        }
    }
}

/// Add the recipients of one line: `mailbox`, `mailbox\ruser`; several
/// mailboxes joined with `\r` (as some clients send them) are taken as
/// recipients without user names.
///
/// As the original, a line whose mailbox before a user name is empty or
/// `<>` makes the request malformed (`Err`: the text to log); a `<>`
/// line without a user name is an ordinary recipient.
fn parse_rcpt_line(h: &mut Head, line: &str) -> Result<(), String> {
    let line = line.trim_end_matches('\r');
    let mut parts = line.split('\r');
    let Some(first) = parts.next() else {
        return Ok(());
    };
    if line.contains('\r') {
        match first {
            "" => return Err("null recipient".to_string()),
            "<>" => return Err("null recipient address".to_string()),
            _ => {}
        }
    }
    h.rcpts.push(Rcpt {
        addr: first.to_string(),
        user: String::new(),
    });
    for p in parts {
        if p.contains('@') {
            h.rcpts.push(Rcpt {
                addr: p.to_string(),
                user: String::new(),
            });
        } else if let Some(last) = h.rcpts.last_mut() {
            if last.user.is_empty() {
                last.user = p.to_string();
            }
        }
    }
    Ok(())
}

/// Read and parse the head of a request; the reader is left at the first
/// byte of the message.
pub fn read_head<R: BufRead>(r: &mut R) -> Result<Head, BadRequest> {
    let mut h = Head::default();
    let b = &mut h.ifd_start;
    let line = read_line(r, b)?.ok_or_else(truncated)?;
    let opts = parse_opts(&text(&line)).map_err(BadRequest::Malformed)?;
    let client = read_line(r, b)?.ok_or_else(truncated)?;
    let helo = read_line(r, b)?.ok_or_else(truncated)?;
    let sender = read_line(r, b)?.ok_or_else(truncated)?;
    h.opts = opts;
    parse_client(&mut h, &text(&client));
    h.helo = text(&helo).trim().to_string();
    h.sender = text(&sender).trim().to_string();
    let mut head_len = 0usize;
    loop {
        let line = read_line(r, &mut h.ifd_start)?.ok_or_else(truncated)?;
        if line.is_empty() {
            break;
        }
        head_len += line.len() + 1;
        if head_len > MAX_HEAD {
            return Err(BadRequest::Malformed(format!(
                "recipient lines longer than {MAX_HEAD} bytes"
            )));
        }
        if h.rcpts.len() >= MAX_RCPTS {
            return Err(BadRequest::Malformed(format!(
                "more than {MAX_RCPTS} recipients"
            )));
        }
        parse_rcpt_line(&mut h, &text(&line)).map_err(BadRequest::Malformed)?;
    }
    if h.opts.spam && h.opts.query {
        h.warnings
            .push("spam and query are incompatible".to_string());
        h.opts.spam = false;
    }
    if h.rcpts.is_empty() {
        h.warnings.push("no recipients specified".to_string());
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(b: &[u8]) -> Result<Head, String> {
        read_head(&mut &b[..]).map_err(|e| e.to_string())
    }

    #[test]
    fn options() {
        let o = parse_opts("  HEADER \t Cksums  ").unwrap();
        assert!(o.header && o.cksums && !o.body);
        assert_eq!(
            parse_opts("ham header").unwrap_err(),
            "unrecognized option value: \"ham header\""
        );
        assert_eq!(
            parse_opts("header bogus").unwrap_err(),
            "unrecognized option value: \"bogus\""
        );
        assert_eq!(parse_opts("rcvd-next rcvd-nxt").unwrap().rcvd_next, 2);
    }

    #[test]
    fn spamassassin_lookup() {
        let h = head(b"cksums grey-off \n192.0.2.1\rmx.example.com\nhelo.example\n\nunknown\n\nSubject: x\n\nbody\n").unwrap();
        assert!(h.opts.cksums && h.opts.grey_off);
        assert_eq!(h.client_ip, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(h.client_name.as_deref(), Some("mx.example.com"));
        assert_eq!(h.sender, "");
        assert_eq!(h.rcpts.len(), 1);
        assert_eq!(h.rcpts[0].addr, "unknown");
        // no relay: empty client line; no rDNS: "IP\r"
        let h = head(b"cksums grey-off \n\n\n\nunknown\n\n").unwrap();
        assert_eq!(h.client_ip, None);
        let h = head(b"header\n192.0.2.1\r\n\n\nunknown\n\n").unwrap();
        assert_eq!(h.client_ip, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(h.client_name, None);
    }

    #[test]
    fn rspamd_and_exim_and_haraka() {
        let h = head(b"header\n0.0.0.0\rrspamd.host\n\ntest@example.com\ntest@example.com\n\n")
            .unwrap();
        assert_eq!(h.client_ip, None);
        assert_eq!(h.sender, "test@example.com");
        let h = head(b"header\n192.0.2.9\nlocalhost\n<>\n<a@example.net>\n\n").unwrap();
        assert_eq!(h.helo, "localhost");
        assert_eq!(h.sender, "<>");
        let h =
            head(b"header\n192.0.2.9\nhelo\nx@y\na@example.net\rb@example.net\rc@example.net\n\n")
                .unwrap();
        assert_eq!(h.rcpts.len(), 3);
        assert!(h.rcpts.iter().all(|r| r.user.is_empty()));
    }

    #[test]
    fn malformed() {
        assert_eq!(head(b"").unwrap_err(), "truncated request");
        assert_eq!(head(b"header\n").unwrap_err(), "truncated request");
        assert_eq!(
            head(b"header\n1.2.3.4\nh\ns\nr\n").unwrap_err(),
            "truncated request"
        );
        let h = head(b"header\n999.1.2.3\rbad\nh\ns\nr\n\n").unwrap();
        assert_eq!(
            h.warnings,
            vec!["unrecognized IP address \"999.1.2.3\"".to_string()]
        );
        assert!(h.client_bad && h.client_ip.is_none());
        assert_eq!(h.client_name.as_deref(), Some("bad"));
        let long = vec![b'a'; MAX_LINE * 2];
        assert!(head(&long).is_err());
        // a user name after an empty or null mailbox
        assert_eq!(
            head(b"header\n\n\n\n<>\rbob\n\n").unwrap_err(),
            "null recipient address"
        );
        assert_eq!(
            head(b"header\n\n\n\n\rbob\n\n").unwrap_err(),
            "null recipient"
        );
        // <> alone, with or without a trailing \r, is a recipient
        for r in [&b"<>\r\r\n"[..], b"<>\n"] {
            let mut b = b"header\n\n\n\n".to_vec();
            b.extend_from_slice(r);
            b.push(b'\n');
            let h = head(&b).unwrap();
            assert_eq!(h.rcpts[0].addr, "<>");
        }
    }

    #[test]
    fn buffer_after_the_lines() {
        // the message starts after the lines in the original's first read
        let h = head(b"header\r\n192.0.2.1\nhelo\n<a@b>\nbob\n\nFrom: x\n").unwrap();
        let mut want = IfdStart::default();
        for len in [8, 10, 5, 6, 4, 1] {
            want.line(len);
        }
        assert_eq!(h.ifd_start, want);
        assert_ne!(h.ifd_start, IfdStart::default());
    }

    #[test]
    fn client_name_literal() {
        let h = head(b"header\n192.0.2.1\r192.0.2.1\n\n\nr\n\n").unwrap();
        assert_eq!(h.client_name.as_deref(), Some("[192.0.2.1]"));
        let h = head(b"header\n2001:db8::1\r2001:DB8::1\n\n\nr\n\n").unwrap();
        assert_eq!(h.client_name.as_deref(), Some("[IPv6:2001:DB8::1]"));
        let h = head(b"header\n192.0.2.1\rmx.example.org\n\n\nr\n\n").unwrap();
        assert_eq!(h.client_name.as_deref(), Some("mx.example.org"));
        assert!(!h.client_bad);
    }
}
