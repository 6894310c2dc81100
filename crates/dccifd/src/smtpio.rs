//! SMTP lines for the proxy mode: command and reply lines with a bounded
//! length, multi-line replies, and the DATA transparency (a leading dot
//! doubled on the way out and removed on the way in).

use std::io::{self, BufRead, Write};

/// Longest SMTP command or reply line kept.
pub const MAX_SMTP_LINE: usize = 4096;
/// Most lines of one downstream reply.
pub const MAX_REPLY_LINES: usize = 100;

/// One line from a reader, `\n` included, at most [`MAX_SMTP_LINE`]
/// bytes kept (the rest of a longer line is dropped). `None` at EOF.
pub fn read_line<R: BufRead>(r: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut any = false;
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(any.then_some(line));
        }
        any = true;
        let (n, done) = match avail.iter().position(|&c| c == b'\n') {
            Some(p) => (p + 1, true),
            None => (avail.len(), false),
        };
        let room = MAX_SMTP_LINE.saturating_sub(line.len()).min(n);
        line.extend_from_slice(avail.get(..room).unwrap_or(&[]));
        r.consume(n);
        if done {
            if line.last() != Some(&b'\n') {
                line.extend_from_slice(b"\r\n");
            }
            return Ok(Some(line));
        }
    }
}

/// A downstream reply: all its lines, and its code.
pub fn read_reply<R: BufRead>(r: &mut R) -> io::Result<(Vec<u8>, u16)> {
    let mut all = Vec::new();
    for _ in 0..MAX_REPLY_LINES {
        let Some(l) = read_line(r)? else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "downstream closed",
            ));
        };
        all.extend_from_slice(&l);
        let code = std::str::from_utf8(l.get(..3).unwrap_or(b""))
            .ok()
            .and_then(|c| c.parse::<u16>().ok());
        if l.get(3) != Some(&b'-') {
            return Ok((all, code.unwrap_or(451)));
        }
    }
    Err(io::Error::other("downstream reply too long"))
}

/// Dot-stuffing writer for the DATA phase.
pub struct DotStuff<W: Write> {
    /// The stream written to.
    pub inner: W,
    /// At the beginning of a line.
    pub bol: bool,
}

impl<W: Write> Write for DotStuff<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        for (i, &c) in buf.iter().enumerate() {
            if self.bol && c == b'.' {
                self.inner.write_all(buf.get(start..i).unwrap_or(&[]))?;
                self.inner.write_all(b".")?;
                start = i;
            }
            self.bol = c == b'\n';
        }
        self.inner.write_all(buf.get(start..).unwrap_or(&[]))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Copy one line of DATA to `w` without its transparency dot; `Some(true)`
/// at the terminating `.` line, `None` at EOF. Lines of any length pass.
pub fn read_line_unbounded<R: BufRead>(r: &mut R, w: &mut dyn Write) -> io::Result<Option<bool>> {
    let mut first = true;
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(None);
        }
        let (n, done) = match avail.iter().position(|&c| c == b'\n') {
            Some(p) => (p + 1, true),
            None => (avail.len(), false),
        };
        let mut piece = avail.get(..n).unwrap_or(&[]);
        if first {
            if piece == b".\r\n" || piece == b".\n" {
                r.consume(n);
                return Ok(Some(true));
            }
            if piece.first() == Some(&b'.') {
                piece = piece.get(1..).unwrap_or(&[]);
            }
            first = false;
        }
        w.write_all(piece)?;
        r.consume(n);
        if done {
            return Ok(Some(false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparency() {
        let mut out = Vec::new();
        let mut r = &b"..leading\r\nplain\r\n.\r\nafter"[..];
        while let Some(false) = read_line_unbounded(&mut r, &mut out).unwrap() {}
        assert_eq!(out, b".leading\r\nplain\r\n");
        let mut s = Vec::new();
        DotStuff {
            inner: &mut s,
            bol: true,
        }
        .write_all(b".a\r\nb\r\n.\r\n")
        .unwrap();
        assert_eq!(s, b"..a\r\nb\r\n..\r\n");
    }
}
