//! A client of dccifd's ASCII protocol (dccifd(8) "Protocol"): options,
//! client address and name, HELO, sender, recipients, an empty line, the
//! message, then a half-close; the answer is read to its end. Every read
//! and write is bounded, so a daemon that never answers is an error, not a
//! hung test.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// dccifd's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAnswer {
    /// The overall result: `A`, `G`, `R`, `S` or `T`.
    pub overall: char,
    /// One character per recipient.
    pub per_rcpt: String,
    /// The X-DCC header line (asked for with the `header` option), when
    /// there was one.
    pub x_dcc: Option<String>,
}

/// The request's lines before the message, with the `header` option and
/// one recipient.
pub fn request_head(from: &str, to: &str) -> Vec<u8> {
    format!("header\n192.0.2.26\rclient.example.com\nclient.example.com\n<{from}>\n{to}\r\n\n")
        .into_bytes()
}

/// Send `head` and `msg`, half-close and read the answer; each read and
/// write waits at most `limit`. An answer that ends before its result
/// line is an `UnexpectedEof` error.
pub fn ask(sock: &Path, head: &[u8], msg: &[u8], limit: Duration) -> io::Result<IfAnswer> {
    let mut s = UnixStream::connect(sock)?;
    s.set_read_timeout(Some(limit))?;
    s.set_write_timeout(Some(limit))?;
    s.write_all(head)?;
    s.write_all(msg)?;
    s.shutdown(Shutdown::Write)?;
    let mut out = Vec::new();
    s.take(1 << 20).read_to_end(&mut out)?;
    parse(&String::from_utf8_lossy(&out))
}

/// The answer's result lines and X-DCC header.
pub fn parse(text: &str) -> io::Result<IfAnswer> {
    let mut lines = text.split('\n');
    let eof = || io::Error::new(io::ErrorKind::UnexpectedEof, format!("answer {text:?}"));
    let overall = lines
        .next()
        .and_then(|l| l.trim_end_matches('\r').chars().next())
        .ok_or_else(eof)?;
    let per_rcpt = match lines.next() {
        Some(l) if text.contains('\n') => l.trim_end_matches('\r').to_string(),
        _ => return Err(eof()),
    };
    let rest: Vec<&str> = lines.collect();
    let x_dcc = rest.iter().position(|l| l.starts_with("X-DCC")).map(|i| {
        let mut h = rest.get(i).copied().unwrap_or_default().to_string();
        for l in rest.iter().skip(i + 1) {
            if !l.starts_with([' ', '\t']) {
                break;
            }
            h.push('\n');
            h.push_str(l);
        }
        h
    });
    Ok(IfAnswer {
        overall,
        per_rcpt,
        x_dcc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_lines_and_folded_header() {
        let a = parse("A\nA\nX-DCC-b-Metrics: h 1100; Body=1\n\tFuz1=1\n").unwrap();
        assert_eq!(a.overall, 'A');
        assert_eq!(a.per_rcpt, "A");
        assert_eq!(
            a.x_dcc.as_deref(),
            Some("X-DCC-b-Metrics: h 1100; Body=1\n\tFuz1=1")
        );
        assert!(parse("").is_err());
        assert!(parse("A").is_err());
        assert_eq!(parse("T\nT\n").unwrap().x_dcc, None);
    }
}
