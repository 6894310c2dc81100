//! Splitting the header into fields the way `dccifd` reads it: through
//! the 8 KByte buffer its socket is read into, not line by line.
//!
//! - A field is its first line and every following line that starts with
//!   a blank or a tab, however short the first line.
//! - The field's last line feed becomes a NUL, and the field is used as a
//!   C string: it ends at its first NUL byte.
//! - The buffer is filled by reads of as much as it has room for. When
//!   the bytes read so far are used up (one byte or none left) inside a
//!   field of more than 1024 bytes, only the field's first 1024 bytes are
//!   kept, with the byte left over, before reading on: a long field keeps
//!   its first 1024 bytes and what follows the last such read boundary. A
//!   field of 1024 bytes or less is never cut, and a field up to the size
//!   of the buffer is whole when no read boundary falls in it.
//! - When more is read, the unused bytes move to the start of the buffer
//!   if less than 1 KByte is free.
//! - An empty line (LF or CR LF) ends the header, and is the first line
//!   the body checksums see ([`crate::body::BodyCks::separator`]). At the
//!   end of the input before it, a line end is made up (CR LF when at
//!   least half of the fields so far ended with CR LF), and the message is
//!   said to lack its body. A line is looked at only with two of its
//!   bytes in the buffer, so an empty line of a lone LF that is the last
//!   byte of the input is not seen before the end either.
//! - DCC's own `X-DCC-...-Metrics:` fields are fields like any other.
//! - The fields are counted, and those ending with CR LF as the buffer
//!   holds them: the added X-DCC header ends its lines with CR LF when
//!   more than half did. In proxy mode the counts go on over the messages
//!   of an SMTP session.
//! - In proxy mode (SMTP) the message is followed by the `.` CR LF line
//!   that ends SMTP DATA, which ends the header as an empty line does.
//!
//! Where the original's read boundaries fall depends on how much its
//! client has sent when it reads; here every read takes as much as the
//! buffer has room for, as when the whole request has been sent, so that
//! the fields never depend on how the input is cut into pieces.

use super::split::Event;
use super::HDR_CK_MAX;
use crate::scan::{find_lf, find_nul};

/// Size of the original's read buffer (`HDR_CK_MAX*8`).
pub const IFD_BUF: usize = 8 * HDR_CK_MAX;

/// Most line ends made up after the end of the input (the original needs
/// at most four; a bound in case the proxy's damaged end is met).
const MAX_MADE_UP: u32 = 16;

/// The header fields as the original `dccifd` counted them, which choose
/// the line ends of the X-DCC header it adds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FieldCounts {
    /// Header fields (not counting the empty line).
    pub total: u32,
    /// Of those, fields whose last line ended with CR LF.
    pub crlf: u32,
}

impl FieldCounts {
    /// The added header ends its lines with CR LF: more than half of the
    /// fields did.
    pub fn crlf(&self) -> bool {
        self.crlf > self.total / 2
    }
}

/// Where the original dccifd's read buffer stands when a message begins:
/// the ASCII protocol's lines before the message went through the same
/// buffer, and SMTP DATA starts with an empty one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IfdStart {
    /// Buffer offset of the next byte to use.
    out: usize,
    /// Buffer offset where the bytes read so far end.
    inn: usize,
    /// SMTP proxy: the message ends with the `.` line of DATA.
    proxy: bool,
    /// The counts the fields add to.
    counts: FieldCounts,
}

impl IfdStart {
    /// The start of SMTP DATA in proxy mode: nothing is left in the buffer
    /// after the DATA command, and the message ends with its `.` line.
    pub fn proxy() -> IfdStart {
        IfdStart::proxy_after(FieldCounts::default())
    }

    /// The same for a later message of the SMTP session: the original
    /// proxy clears its counts of header fields only for a new connection,
    /// so they add to those of the session's earlier messages.
    pub fn proxy_after(counts: FieldCounts) -> IfdStart {
        IfdStart {
            proxy: true,
            counts,
            ..IfdStart::default()
        }
    }

    /// One protocol line of `len` bytes (its line feed included) read
    /// before the message, as the ASCII protocol reads its lines: until
    /// the line feed is in the buffer, unused bytes move to the start of
    /// the buffer when less than 1 KByte is free, and a read fills it.
    pub fn line(&mut self, len: usize) {
        loop {
            if self.out.saturating_add(len) <= self.inn {
                self.out += len;
                return;
            }
            if self.out >= self.inn {
                self.out = 0;
                self.inn = 0;
            }
            if must_slide(self.inn) {
                if self.out == 0 {
                    // a line longer than the buffer: the original gives
                    // up on the request; go on with an empty buffer
                    self.inn = 0;
                    return;
                }
                self.inn -= self.out;
                self.out = 0;
            }
            self.inn = IFD_BUF;
        }
    }
}

/// Before a read, the unused bytes move to the start of the buffer when
/// the bytes in it end (`inn`) less than 1 KByte before its end.
fn must_slide(inn: usize) -> bool {
    IFD_BUF - inn < IFD_BUF / 8
}

/// Incremental splitter with the original dccifd's buffer.
pub(crate) struct IfdSplit {
    buf: Vec<u8>,
    /// Start of the current field (`msg_rd.out`).
    out: usize,
    /// End of the bytes in the buffer (`msg_rd.in`).
    inn: usize,
    /// Bytes of the current field so far.
    hdr_len: usize,
    /// The field's last line ended.
    at_bol: bool,
    /// Bytes the read under way still takes (0: none under way).
    want: usize,
    /// Bytes it took so far.
    got: usize,
    /// The input ended.
    eof: bool,
    proxy: bool,
    /// Buffer offset where the bytes taken from the input end (made-up
    /// line ends come after it).
    real_in: usize,
    /// Bytes of input taken so far (the stream position of `real_in`).
    pos_in: u64,
    /// Proxy: the stream position of the `.` line that ends DATA.
    data_end: Option<u64>,
    made_up: u32,
    ended: bool,
    /// The fields counted.
    pub(crate) counts: FieldCounts,
    /// The input ended before the empty line (not in proxy mode).
    pub(crate) missing_body: bool,
}

impl IfdSplit {
    pub(crate) fn new(start: IfdStart) -> Self {
        let inn = start.inn.min(IFD_BUF);
        let out = start.out.min(inn);
        IfdSplit {
            buf: Vec::new(),
            out,
            inn: out,
            hdr_len: 0,
            at_bol: true,
            // the read that brought the message's first bytes
            want: inn - out,
            got: 0,
            eof: false,
            proxy: start.proxy,
            real_in: out,
            pos_in: 0,
            data_end: None,
            made_up: 0,
            ended: false,
            counts: start.counts,
            missing_body: false,
        }
    }

    /// Consume input bytes. Returns the number of bytes used when the
    /// header ended within `bytes` (the rest, after the bytes of
    /// [`IfdSplit::body_start`], is body), `None` while it goes on.
    pub(crate) fn push(&mut self, bytes: &[u8], sink: &mut dyn FnMut(Event<'_>)) -> Option<usize> {
        if self.ended {
            return Some(0);
        }
        if self.buf.len() != IFD_BUF {
            self.buf = vec![0; IFD_BUF];
        }
        let mut i = 0;
        loop {
            if self.want == 0 && self.run(sink) {
                return Some(i);
            }
            if i == bytes.len() {
                return None;
            }
            let n = self.want.min(bytes.len() - i);
            let Some(dst) = self.buf.get_mut(self.inn..self.inn + n) else {
                self.want = 0;
                continue;
            };
            dst.copy_from_slice(&bytes[i..i + n]);
            i += n;
            self.inn += n;
            self.real_in = self.inn;
            self.pos_in += n as u64;
            self.want -= n;
            self.got += n;
        }
    }

    /// The input ended: finish the header.
    pub(crate) fn finish(&mut self, sink: &mut dyn FnMut(Event<'_>)) {
        if self.ended {
            return;
        }
        if self.proxy && self.data_end.is_none() {
            self.data_end = Some(self.pos_in);
            if self.push(b".\r\n", sink).is_some() {
                return;
            }
        }
        if self.buf.len() != IFD_BUF {
            self.buf = vec![0; IFD_BUF];
        }
        self.eof = true;
        if self.want > 0 {
            // the read under way ends short, or finds the end
            self.want = 0;
            if self.got == 0 {
                self.made_up_eol();
            }
        }
        if !self.run(sink) {
            self.ended = true;
        }
    }

    /// The empty line (LF or CR LF) that ended the header, as the buffer
    /// holds it: the original leaves its buffer's start there and hands
    /// it to the body checksums with the body bytes that follow. Nothing
    /// when the `.` line of SMTP DATA ended the header.
    pub(crate) fn separator(&self) -> &[u8] {
        let line = self
            .buf
            .get(self.out..self.out + self.hdr_len)
            .unwrap_or(&[]);
        if self.ended && (line == b"\n" || line == b"\r\n") {
            line
        } else {
            &[]
        }
    }

    /// The body bytes already in the buffer when the header ended.
    pub(crate) fn body_start(&self) -> &[u8] {
        let start = self.out + self.hdr_len;
        let mut end = self.real_in;
        if let Some(d) = self.data_end {
            let past = usize::try_from(self.pos_in.saturating_sub(d)).unwrap_or(usize::MAX);
            end = end.saturating_sub(past);
        }
        self.buf.get(start..end).unwrap_or(&[])
    }

    /// Run the original's field loop until it needs to read or the header
    /// ends (true).
    fn run(&mut self, sink: &mut dyn FnMut(Event<'_>)) -> bool {
        loop {
            if self.ended {
                return true;
            }
            if self.want > 0 {
                return false;
            }
            let np = self.out + self.hdr_len;
            let mut nlen = self.inn.saturating_sub(np);
            let dot = self.at_bol
                && self.at_data_end(np)
                && (nlen == 0 || self.buf.get(np) == Some(&b'.'));
            if nlen <= 1 || (dot && nlen < 3) {
                self.read_more(np, nlen);
                continue;
            }
            let b = |s: &Self, i: usize| s.buf.get(i).copied().unwrap_or(0);
            if self.at_bol {
                if dot {
                    if b(self, np + 1) != b'\r' || b(self, np + 2) != b'\n' {
                        // the original drops the dot without moving the
                        // end of the bytes in the buffer
                        self.buf.copy_within(np + 1..np + nlen, np);
                        nlen -= 1;
                    } else if self.hdr_len == 0 {
                        self.ended = true;
                        return true;
                    }
                }
                let c = b(self, np);
                if self.hdr_len != 0 && c != b' ' && c != b'\t' {
                    self.emit(sink);
                    continue;
                }
            }
            match find_lf(self.buf.get(np..np + nlen).unwrap_or(&[])) {
                Some(p) => {
                    self.hdr_len += p + 1;
                    if self.hdr_len == 1 || (self.hdr_len == 2 && b(self, self.out) == b'\r') {
                        self.ended = true;
                        return true;
                    }
                    self.at_bol = true;
                }
                None => {
                    self.hdr_len += nlen;
                    self.at_bol = false;
                }
            }
        }
    }

    /// Is `np` where the `.` line ending SMTP DATA starts?
    fn at_data_end(&self, np: usize) -> bool {
        let Some(d) = self.data_end else {
            return false;
        };
        let back = self.real_in.checked_sub(np).map(|b| b as u64);
        back.and_then(|b| self.pos_in.checked_sub(b)) == Some(d)
    }

    /// The bytes read are used up: keep only the first 1024 bytes of a
    /// longer field with the byte(s) left over, and read on.
    fn read_more(&mut self, np: usize, nlen: usize) {
        if self.hdr_len > HDR_CK_MAX {
            let keep = self.out + HDR_CK_MAX;
            if nlen != 0 {
                if let Some(&c) = self.buf.get(np) {
                    self.buf[keep] = c;
                }
            }
            // made-up line ends, if any, stay the last bytes
            let made_up = self.inn.saturating_sub(self.real_in);
            self.hdr_len = HDR_CK_MAX;
            self.inn = keep + nlen;
            self.real_in = self.inn.saturating_sub(made_up);
        }
        if self.out >= self.inn {
            self.out = 0;
            self.inn = 0;
            self.real_in = 0;
        }
        if must_slide(self.inn) {
            if self.out == 0 {
                // cannot happen: a field in the buffer is cut first
                self.inn = 0;
                self.real_in = 0;
                self.hdr_len = 0;
            } else {
                self.buf.copy_within(self.out..self.inn, 0);
                self.inn -= self.out;
                self.real_in = self.real_in.saturating_sub(self.out);
                self.out = 0;
            }
        }
        if self.eof {
            self.made_up_eol();
        } else {
            self.want = IFD_BUF - self.inn;
            self.got = 0;
        }
    }

    /// The end of the input in the header: a line end is made up.
    fn made_up_eol(&mut self) {
        if !self.proxy {
            self.missing_body = true;
        }
        self.made_up += 1;
        if self.made_up > MAX_MADE_UP {
            self.ended = true;
            return;
        }
        if self.counts.crlf >= self.counts.total / 2 && self.inn < IFD_BUF {
            self.buf[self.inn] = b'\r';
            self.inn += 1;
        }
        if self.inn < IFD_BUF {
            self.buf[self.inn] = b'\n';
            self.inn += 1;
        }
    }

    /// The current field is complete.
    fn emit(&mut self, sink: &mut dyn FnMut(Event<'_>)) {
        let end = self.out + self.hdr_len;
        if let Some(last) = self.buf.get_mut(end - 1) {
            *last = 0;
        }
        let c = &mut self.counts;
        if self.hdr_len > 1 && self.buf.get(end - 2) == Some(&b'\r') {
            c.crlf = c.crlf.saturating_add(1);
        }
        c.total = c.total.saturating_add(1);
        let f = self.buf.get(self.out..end - 1).unwrap_or(&[]);
        let f = match find_nul(f) {
            Some(n) => &f[..n],
            None => f,
        };
        sink(Event::Field(f));
        self.out = end;
        self.hdr_len = 0;
        self.at_bol = true;
    }
}

#[cfg(test)]
#[path = "ifd_tests.rs"]
mod tests;
