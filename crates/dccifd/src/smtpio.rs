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

/// Dot-stuffing writer for the DATA phase, as the original proxy stuffs:
/// a dot is doubled at the start of the message and, in the header, after
/// any line end; in the body only after CR LF (a dot after a bare LF is
/// not at the start of an SMTP line).
pub struct DotStuff<W: Write> {
    /// The stream written to.
    pub inner: W,
    /// At the beginning of a line.
    pub bol: bool,
    /// Still in the header (no empty line seen yet).
    pub in_hdr: bool,
    /// The line so far is empty (for the end of the header).
    pub empty: bool,
    /// The last byte written was CR.
    pub cr: bool,
}

impl<W: Write> DotStuff<W> {
    /// A writer at the start of a message.
    pub fn new(inner: W) -> DotStuff<W> {
        DotStuff {
            inner,
            bol: true,
            in_hdr: true,
            empty: true,
            cr: false,
        }
    }
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
            if c == b'\n' {
                if self.in_hdr && self.empty {
                    self.in_hdr = false;
                }
                self.bol = self.in_hdr || self.cr;
                self.empty = true;
            } else {
                self.bol = false;
                if c != b'\r' {
                    self.empty = false;
                }
            }
            self.cr = c == b'\r';
        }
        self.inner.write_all(buf.get(start..).unwrap_or(&[]))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Where the reading of DATA stands, for SMTP transparency as the
/// original proxy reads it: the message ends only with a line of a single
/// dot ended by CR LF, and a leading dot is removed at the start of a
/// line, which in the header follows any line end and in the body only
/// CR LF.
#[derive(Debug, Clone, Copy)]
pub struct DataState {
    /// Still in the header.
    pub in_hdr: bool,
    /// The previous line ended with CR LF (or this is the first line).
    pub after_crlf: bool,
}

impl Default for DataState {
    fn default() -> Self {
        DataState {
            in_hdr: true,
            after_crlf: true,
        }
    }
}

/// Copy one line of DATA to `w` without its transparency dot; `Some(true)`
/// at the terminating `.` line, `None` at EOF. Lines of any length pass.
pub fn read_line_unbounded<R: BufRead>(
    r: &mut R,
    w: &mut dyn Write,
    st: &mut DataState,
) -> io::Result<Option<bool>> {
    // the first bytes of the line decide its transparency
    let mut head: Vec<u8> = Vec::with_capacity(3);
    while head.len() < 3 && head.last() != Some(&b'\n') {
        let Some(&c) = r.fill_buf()?.first() else {
            return Ok(None);
        };
        r.consume(1);
        head.push(c);
    }
    let bol = st.in_hdr || st.after_crlf;
    if bol && head == b".\r\n" {
        return Ok(Some(true));
    }
    let mut line_len = head.len();
    let mut piece: &[u8] = &head;
    if bol && piece.first() == Some(&b'.') {
        piece = piece.get(1..).unwrap_or(&[]);
    }
    w.write_all(piece)?;
    let mut last_two = [0u8; 2];
    for &c in &head {
        last_two = [last_two[1], c];
    }
    let mut done = head.last() == Some(&b'\n');
    while !done {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(None);
        }
        let n = match avail.iter().position(|&c| c == b'\n') {
            Some(p) => {
                done = true;
                p + 1
            }
            None => avail.len(),
        };
        let piece = avail.get(..n).unwrap_or(&[]);
        for &c in piece.iter().rev().take(2).rev() {
            last_two = [last_two[1], c];
        }
        line_len += n;
        w.write_all(piece)?;
        r.consume(n);
    }
    st.after_crlf = last_two == *b"\r\n";
    // an empty line ends the header
    if st.in_hdr && (line_len == 1 || (line_len == 2 && st.after_crlf)) {
        st.in_hdr = false;
    }
    Ok(Some(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparency() {
        let mut out = Vec::new();
        let mut r = &b"..leading\r\nplain\r\n\r\nbody\n.\nbare\n..\r\n.x\r\n.\r\nafter"[..];
        let mut st = DataState::default();
        while let Some(false) = read_line_unbounded(&mut r, &mut out, &mut st).unwrap() {}
        assert_eq!(out, b".leading\r\nplain\r\n\r\nbody\n.\nbare\n..\r\nx\r\n");
        assert_eq!(r, b"after");
        let mut s = Vec::new();
        DotStuff::new(&mut s)
            .write_all(b".a\r\nb\n.c\r\n\r\nd\n.e\r\n.\r\n")
            .unwrap();
        assert_eq!(s, b"..a\r\nb\n..c\r\n\r\nd\n.e\r\n..\r\n");
    }
}
