//! Reading a message from a stream for a filter that copies it: the header
//! fields are checked for old X-DCC headers (removed unless `-A`) and for
//! their line ends, the message goes to a spool file while its checksums are
//! computed, and it is later copied out with the new X-DCC header inserted
//! between the header and the blank line that starts the body.

use crate::logfile::LogFile;
use crate::xhdr::is_xhdr;
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};

/// Bytes of a field kept to recognize it; longer fields are streamed.
const FIELD_HEAD: usize = 4096;
/// The original reads header lines with `fgets` into a buffer of this
/// size (`20*HDR_CK_MAX`) ...
const HDR_BUF: usize = 20 * 1024;
/// ... and once a field passes this many bytes (`HDR_CK_MAX*2`) keeps only
/// its first `HDR_CK_MAX` bytes followed by CR LF.
const HDR_TRUNC: usize = 2 * 1024;
const HDR_KEEP: usize = 1024 + 2;

/// How the original's header buffer fills while one field is read, to
/// tell whether the field "ends with CR LF" as it counts them: a field
/// cut because it grew too long ends with the CR LF put after the cut
/// when the read that passed the limit ended the line.
#[derive(Default)]
struct FieldBuf {
    /// Bytes in the buffer after the last completed read.
    hlen: usize,
    /// Bytes taken by the read in progress.
    cur: usize,
    /// The last completed read cut the field.
    cut: bool,
}

impl FieldBuf {
    /// Bytes of a piece of the field; `eol` when it ends the line.
    fn feed(&mut self, mut n: usize, eol: bool) {
        while n > 0 {
            // one fgets() takes at most the room left, less the NUL
            let limit = HDR_BUF - 1 - self.hlen;
            let take = n.min(limit - self.cur);
            self.cur += take;
            n -= take;
            if self.cur == limit || (n == 0 && eol) {
                self.hlen += self.cur;
                self.cur = 0;
                self.cut = self.hlen > HDR_TRUNC;
                if self.cut {
                    self.hlen = HDR_KEEP;
                }
            }
        }
    }
}
/// The original copies its spool file in pieces of this size, which
/// decides where log files are cut.
pub const COPY_CHUNK: usize = 8192;

/// What reading the message found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadInfo {
    /// Bytes of header fields written to the spool, without the blank line.
    pub hdrs_len: u64,
    /// Bytes of the body including the blank line that starts it.
    pub body_len: u64,
    /// Header fields, counting the blank line.
    pub total_hdrs: u32,
    /// Of those, fields ending with CR LF.
    pub cr_hdrs: u32,
    /// Fields not ending with CR LF that dccproc's header buffer makes
    /// end with it: cut for length by the read that ended them.
    pub cut_hdrs: u32,
    /// A blank line ended the header.
    pub complete: bool,
}

impl ReadInfo {
    /// Whether the added header should end with CR LF: more than half of
    /// the header lines did.
    pub fn crlf(&self) -> bool {
        self.cr_hdrs > self.total_hdrs / 2
    }

    /// [`ReadInfo::crlf`] as dccproc counts: fields it cut for length
    /// count as ending with CR LF.
    pub fn crlf_dccproc(&self) -> bool {
        self.cr_hdrs + self.cut_hdrs > self.total_hdrs / 2
    }
}

/// Read one line piece into `buf` (at most `max` bytes); true when the line ended.
fn read_piece<R: BufRead>(r: &mut R, buf: &mut Vec<u8>, max: usize) -> io::Result<(usize, bool)> {
    let avail = r.fill_buf()?;
    if avail.is_empty() {
        return Ok((0, false));
    }
    let lim = avail.len().min(max.max(1));
    let (n, eol) = match avail[..lim].iter().position(|&c| c == b'\n') {
        Some(p) => (p + 1, true),
        None => (lim, false),
    };
    buf.extend_from_slice(&avail[..n]);
    r.consume(n);
    Ok((n, eol))
}

fn peek<R: BufRead>(r: &mut R) -> io::Result<Option<u8>> {
    Ok(r.fill_buf()?.first().copied())
}

/// Read a whole message from `input`, writing it (minus removed X-DCC
/// fields) to `spool` and all of it to `sink` (the checksum computation).
/// The removed fields still go to `sink`: the checksums drop them
/// themselves and count them as header lines seen, as the original does,
/// so that a message whose only field was an old X-DCC header is not
/// refused as "missing SMTP header lines".
/// Memory stays bounded whatever the size of the message.
pub fn read_message<R: BufRead>(
    input: &mut R,
    spool: &mut Option<&mut dyn Write>,
    sink: &mut dyn FnMut(&[u8]),
    keep_xhdrs: bool,
) -> io::Result<ReadInfo> {
    let mut info = ReadInfo::default();
    // `copy`: the bytes also go to the spool (false for a removed field)
    let mut out = |b: &[u8], spool: &mut Option<&mut dyn Write>, copy: bool| -> io::Result<()> {
        sink(b);
        if let (true, Some(s)) = (copy, spool.as_mut()) {
            s.write_all(b)?;
        }
        Ok(())
    };
    loop {
        // one header field: a line and its continuation lines
        let mut head: Vec<u8> = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut field_len: u64 = 0;
        let mut delete: Option<bool> = None;
        let mut last2 = [0u8; 2];
        let mut fbuf = FieldBuf::default();
        let mut eof = false;
        loop {
            let mut piece = Vec::new();
            let (n, eol) = read_piece(input, &mut piece, COPY_CHUNK)?;
            if n == 0 {
                eof = true;
                break;
            }
            field_len += n as u64;
            fbuf.feed(n, eol);
            for &c in &piece {
                last2 = [last2[1], c];
            }
            let keep = FIELD_HEAD.saturating_sub(head.len()).min(piece.len());
            head.extend_from_slice(&piece[..keep]);
            match delete {
                None => {
                    pending.extend_from_slice(&piece);
                    if eol || head.len() >= FIELD_HEAD {
                        let d = !keep_xhdrs && is_xhdr(&head);
                        delete = Some(d);
                        out(&pending, spool, !d)?;
                        pending.clear();
                    }
                }
                Some(d) => out(&piece, spool, !d)?,
            }
            if !eol {
                continue;
            }
            if field_len > 2 {
                if let Some(b' ' | b'\t') = peek(input)? {
                    continue;
                }
            }
            break;
        }
        if field_len == 0 && eof {
            return Ok(info);
        }
        if delete.is_none() {
            // the input ended inside the first line of a field
            let d = !keep_xhdrs && is_xhdr(&head);
            delete = Some(d);
            out(&pending, spool, !d)?;
        }
        info.total_hdrs += 1;
        if field_len > 1 && last2[0] == b'\r' {
            info.cr_hdrs += 1;
        } else if field_len > 1 && fbuf.cut {
            info.cut_hdrs += 1;
        }
        let blank = field_len <= 2 && (head.first() == Some(&b'\n') || head.starts_with(b"\r\n"));
        if blank {
            info.body_len = field_len;
            info.complete = true;
            break;
        }
        if delete == Some(false) {
            info.hdrs_len += field_len;
        }
        if eof {
            return Ok(info);
        }
    }
    let mut buf = vec![0u8; COPY_CHUNK];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out(&buf[..n], spool, true)?;
        info.body_len += n as u64;
    }
    Ok(info)
}

/// A write to the output that failed, told apart from a failure to read
/// the spool (an `io::Error` of the same kind carries it, see
/// [`output_failure`]): the original names the output and says how much
/// of the piece it took.
#[derive(Debug)]
pub struct OutputError {
    /// Bytes of the piece.
    pub len: usize,
    /// Of those, bytes the output took before it failed.
    pub written: usize,
    /// Why it failed.
    pub source: io::Error,
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the cause alone, so that an error passed on reads as before
        self.source.fmt(f)
    }
}

impl std::error::Error for OutputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl From<OutputError> for io::Error {
    fn from(e: OutputError) -> io::Error {
        io::Error::new(e.source.kind(), e)
    }
}

/// The output failure behind an error of [`copy_spool`], if it was one.
pub fn output_failure(e: &io::Error) -> Option<&OutputError> {
    e.get_ref()?.downcast_ref::<OutputError>()
}

/// Write all of `b`, counting what the output took if it fails.
pub fn write_counted(out: &mut dyn Write, b: &[u8]) -> Result<(), OutputError> {
    let mut written = 0;
    // as `write_all`: each round takes a byte, ends, or was interrupted
    while written < b.len() {
        let source = match out.write(&b[written..]) {
            Ok(0) => io::Error::from(io::ErrorKind::WriteZero),
            Ok(n) => {
                written += n;
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => e,
        };
        let len = b.len();
        return Err(OutputError {
            len,
            written,
            source,
        });
    }
    Ok(())
}

/// Copy `len` bytes of the spool to the output and the log, in the
/// original's piece size. A failed write to the output comes back as an
/// [`OutputError`] (see [`output_failure`]).
pub fn copy_spool<S: Read>(
    spool: &mut S,
    mut len: u64,
    out: &mut Option<&mut dyn Write>,
    log: &mut Option<LogFile>,
    errors: &mut Vec<String>,
) -> io::Result<()> {
    let mut buf = vec![0u8; COPY_CHUNK];
    while len > 0 {
        let want = (len.min(COPY_CHUNK as u64)) as usize;
        let n = spool.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "premature end of spool",
            ));
        }
        if let Some(l) = log.as_mut() {
            if let Err(e) = l.body_write(&buf[..n]) {
                errors.push(e);
                *log = None;
            }
        }
        if let Some(o) = out.as_mut() {
            write_counted(*o, &buf[..n])?;
        }
        len -= n as u64;
    }
    Ok(())
}

/// Rewind a spool file.
pub fn rewind<S: Seek>(s: &mut S) -> io::Result<()> {
    s.seek(SeekFrom::Start(0)).map(|_| ())
}
