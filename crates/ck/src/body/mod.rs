//! Body, Fuz1 and Fuz2 checksums, equal to those of DCC's `dccproc`.
//!
//! The top-level header fields feed DCC's MIME recogniser ([`mime`]); the
//! body then goes through the multipart boundary matcher, the transfer
//! decoders ([`decode`]) and the three checksummers: [`plain`] (Body),
//! [`fuz1`] (with the URL recogniser of [`url`]) and [`fuz2`]. The MD5
//! streams of all three are computed together by [`md5x`].
//!
//! Several of DCC's results depend on where its input pieces end: `dccproc`
//! reads the body in blocks of [`BLOCK`] bytes, and a boundary line split by
//! a block end is partly lost, and a Fuz1 greeting line right after a piece
//! is kept. [`BodyCks`] therefore regroups whatever pieces it is given into
//! the same blocks, so that its sums never depend on how the caller splits
//! the body and equal `dccproc`'s.
//!
//! # Speed
//!
//! The byte-by-byte definitions are kept for every case, and each fast
//! path takes only input on which it does exactly what they do, so the
//! golden vectors decide both:
//!
//! - MD5 ([`md5x`]): Body, the Fuz2 languages and Fuz1 are separate
//!   streams, compressed four at a time in the lanes of a vector register
//!   with AVX-512 F and VL (a step waits on four operations), otherwise
//!   two at a time interleaved (also their last blocks), each step written
//!   so that the fewest operations wait on the step before, its constant
//!   and message word added as one sum computed beforehand for the whole
//!   block;
//! - Body ([`plain`]): kept bytes are written straight into the MD5 stream's
//!   buffer; with AVX2 (detected at run time, `x86`) 32 bytes at a time,
//!   packed by one shuffle per 8 bytes, up to a line feed followed by `>`;
//!   otherwise eight at a time while no line feed is among them;
//! - Fuz2 ([`fuz2`]): the classes of 64 bytes at a time (`classes`: letters,
//!   white space, `>`, `&`, bytes above 0x7f, as bit masks; AVX2 or byte by
//!   byte) give runs of whole ASCII words ended by white space, each read
//!   from one 16-byte load, and the inside of tags and comments; an HTML tag
//!   or comment and a character reference are taken whole where the piece
//!   holds them;
//! - base64 ([`decode`]) decodes a quantum of four digits at once, and
//!   with AVX2 up to eight (the digits before the first byte that is no
//!   digit); quoted-printable copies the bytes before the next `=` at once;
//! - Fuz1 ([`fuz1`]) takes the letters of 32 bytes at a time with AVX2,
//!   up to the first `=`, line feed or `h` that may start a URL, and
//!   otherwise looks up one table per byte;
//! - Fuz2 counts and hashes each word for every language allowed by the
//!   charset, advancing by zero bytes where a list lacks it: a branch on
//!   which lists hold a word was mispredicted on most texts;
//! - a message allocates only the MD5 buffers of the streams it uses, and
//!   takes them from those of the thread's previous message ([`md5x`]);
//! - the lines of a multipart body are found eight bytes at a time
//!   (`scan`), and a top-level header field of at most 2048 bytes (never
//!   cut) is not scanned line by line for its length (the header field
//!   work went from 3.1 % to 1.3 % of the corpus's instructions; the
//!   corpus from 39,800-42,600 to 40,800-43,550 messages/s, best of 5
//!   passes alternated six times).
//!
//! Single thread, 2 shared x86-64 cores: `scripts/bench-before.sh engine`
//! alternates `tally-bench` with the build from before the speed work,
//! which was measured side by side with the original DCC 2.3.167 (3.2
//! times as fast on the 20 MB plain text, 2.5 times on the 20 MB HTML).
//! On 2026-12-08 this engine was 1.66 and 1.62 times as fast as that
//! build (about 336 and 333 MB/s), so about 5.3 and 4.0 times the
//! original, and 1.84 times on the corpus (44,600 messages/s). On HTML the
//! Fuz2 scanner takes about half the time and MD5 about a third, bounded
//! by Body's own chain of blocks (MD5 is sequential within a stream),
//! which the four-lane MD5 of `md5x` runs at four operations a step. The
//! 64-byte classes are used only with the AVX2 kernel (byte by byte they
//! cost more than they save).

mod classes;
/// `with_portable(true, f)` runs `f` with the x86-64 kernels switched off
/// on this thread (feature `kernel-switch`; for the fuzz target that holds
/// the kernels equal to the portable paths).
#[cfg(feature = "kernel-switch")]
pub use classes::switch::with_portable;
/// The switch for the crate's tests.
#[cfg(test)]
pub(crate) use classes::switch::with_portable as with_portable_for_tests;
mod cref;
mod decode;
mod fuz1;
mod fuz2;
pub(crate) mod md5x;
mod mime;
mod plain;
mod tables;
mod url;
mod words;
#[cfg(target_arch = "x86_64")]
mod x86;

use crate::Sum;
use decode::{Qp, B64, DECODE_BUF};
use mime::{Ce, Ct, Mime, BND_MISS, MAX_NEST};

/// Size of the blocks in which `dccproc` reads the body.
pub const BLOCK: usize = 20 * 1024;
/// `dccproc` keeps at most this much of a header field before truncating
/// it to [`HDR_KEEP`] bytes.
const HDR_LIMIT: usize = 2048;
const HDR_KEEP: usize = 1024;

/// The three body checksums of a message; None where DCC computes none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BodySums {
    pub body: Option<Sum>,
    pub fuz1: Option<Sum>,
    pub fuz2: Option<Sum>,
}

/// Where the multipart walker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mp {
    Preamble,
    Bnd,
    Hdrs,
    Text,
    Epilogue,
}

/// Everything but the block buffer.
#[derive(Clone)]
struct Engine {
    mp: Mp,
    mime: Mime,
    qp: Qp,
    b64: B64,
    plain: plain::Plain,
    fuz1: fuz1::Fuz1,
    fuz2: fuz2::Fuz2,
    hub: md5x::Hub,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            mp: Mp::Text,
            mime: Mime::default(),
            qp: Qp::default(),
            b64: B64::default(),
            plain: plain::Plain::default(),
            fuz1: fuz1::Fuz1::default(),
            fuz2: fuz2::Fuz2::default(),
            hub: md5x::Hub::default(),
        }
    }
}

/// Streaming computation of Body, Fuz1 and Fuz2 for one message.
///
/// Memory is fixed: the state plus one block buffer.
pub struct BodyCks {
    eng: Box<Engine>,
    /// The body bytes of a block not yet complete (at most `BLOCK`);
    /// allocated when first needed and never zeroed.
    block: Vec<u8>,
    in_body: bool,
    /// A field that looks like a header was seen; dccproc refuses messages
    /// without one.
    seen_hdr: bool,
}

impl Default for BodyCks {
    fn default() -> Self {
        Self::new()
    }
}

impl BodyCks {
    /// A fresh computation.
    pub fn new() -> Self {
        BodyCks {
            eng: Box::default(),
            block: Vec::new(),
            in_body: false,
            seen_hdr: false,
        }
    }

    /// One complete top-level header field of the message, in order: raw bytes from the
    /// first byte of the field name through the line ending of its last continuation
    /// line, line endings as received (CRLF or LF). Called for every header field
    /// (the body checksums need Content-Type and Content-Transfer-Encoding).
    pub fn header_field(&mut self, field: &[u8]) {
        if self.in_body {
            return;
        }
        self.note_header(field);
        // dccproc truncates fields longer than HDR_LIMIT: it keeps the first
        // HDR_KEEP bytes, appends CR LF, and goes on appending lines
        let mut hlen = 0;
        let mut tail = None;
        // a field of at most HDR_LIMIT bytes is never cut
        let mut pos = if field.len() <= HDR_LIMIT {
            field.len()
        } else {
            0
        };
        while pos < field.len() {
            let room = BLOCK - hlen - 1;
            let rest = &field[pos..];
            let line = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |p| p + 1);
            let piece = line.min(room).max(1);
            pos += piece;
            hlen += piece;
            if hlen > HDR_LIMIT {
                hlen = HDR_KEEP + 2;
                tail = Some(pos);
            }
        }
        let mut tmp;
        let view: &[u8] = match tail {
            None => field,
            Some(t) => {
                tmp = [0u8; HDR_LIMIT + 2];
                let rest = field.get(t..).unwrap_or(&[]);
                let n = rest.len().min(HDR_LIMIT - HDR_KEEP - 2);
                tmp[..HDR_KEEP].copy_from_slice(&field[..HDR_KEEP]);
                tmp[HDR_KEEP..HDR_KEEP + 2].copy_from_slice(b"\r\n");
                tmp[HDR_KEEP + 2..HDR_KEEP + 2 + n].copy_from_slice(&rest[..n]);
                &tmp[..HDR_KEEP + 2 + n]
            }
        };
        self.top_header(view);
    }

    /// One complete top-level header field as `dccifd` and `dccm` hold
    /// it, whatever its length: `dccifd`'s field without its last line
    /// feed, or a milter's name, colon and value.
    pub fn header_field_whole(&mut self, field: &[u8]) {
        if self.in_body {
            return;
        }
        self.note_header(field);
        self.top_header(field);
    }

    fn note_header(&mut self, field: &[u8]) {
        if !self.seen_hdr {
            let name_ok = |&b: &u8| b > b' ' && b < 0x7f;
            self.seen_hdr = field
                .iter()
                .position(|&b| b == b':' || !name_ok(&b))
                .is_some_and(|p| field[p] == b':');
        }
    }

    fn top_header(&mut self, view: &[u8]) {
        // the original handles the field as a C string
        let view = match crate::scan::find_nul(view) {
            Some(nul) => &view[..nul],
            None => view,
        };
        let eng = &mut *self.eng;
        eng.mime.top_header(view);
        if eng.mime.nest != 0 {
            eng.mp = Mp::Preamble;
        }
        eng.mime.bol = true;
    }

    /// The message has a header line the body sums do not see (a field
    /// consumed by the header checksums, such as `Received:` or `From:`):
    /// as with fields given to [`BodyCks::header_field`], the body sums are
    /// computed.
    pub fn header_seen(&mut self) {
        self.seen_hdr = true;
    }

    /// The blank line ending the header section was seen (may not be called if the
    /// message has no body separator; then finish() is called directly).
    pub fn end_of_headers(&mut self) {
        self.in_body = true;
    }

    /// The empty line (LF or CR LF) that ended the header, given to the
    /// body checksums before the body as the original `dccifd` does
    /// (`dccproc` and `dccm` never pass it on). Only Fuz1 can tell: after
    /// this line end it drops a short greeting line (`Hello Bob,`, `Dear
    /// ...`) that starts a body, which it keeps when no line end comes
    /// before it. Body ignores line ends and Fuz2 blank space; MIME
    /// boundaries and the decoders come out the same (a multipart body
    /// gives Fuz1 a line end before its text anyway). It goes in as a
    /// piece of its own, so that the body's blocks stay those of
    /// `dccproc`: the original read it with the first body bytes, which
    /// changes nothing, as a line end with no letter before it leaves
    /// nothing for the end of a piece to flush.
    /// Call it after [`BodyCks::end_of_headers`], before any body byte.
    pub fn separator(&mut self, line: &[u8]) {
        if !self.in_body || line.is_empty() {
            return;
        }
        if self.block.is_empty() {
            self.eng.ck_body(line);
        } else {
            self.body(line);
        }
    }

    /// Raw body bytes after the blank line, in pieces of any size (even 1 byte),
    /// line endings CRLF or LF.
    pub fn body(&mut self, mut chunk: &[u8]) {
        if !self.in_body {
            return;
        }
        while !chunk.is_empty() {
            if self.block.is_empty() && chunk.len() >= BLOCK {
                self.eng.ck_body(&chunk[..BLOCK]);
                chunk = &chunk[BLOCK..];
                continue;
            }
            let n = (BLOCK - self.block.len()).min(chunk.len());
            if self.block.capacity() < BLOCK {
                self.block.reserve_exact(BLOCK - self.block.len());
            }
            self.block.extend_from_slice(&chunk[..n]);
            chunk = &chunk[n..];
            if self.block.len() >= BLOCK {
                self.eng.ck_body(&self.block);
                self.block.clear();
            }
        }
    }

    /// The host names of the body's http:// and https:// URLs found since
    /// the last call, lower-cased, without port or user part, in order (at
    /// most 1000 in a message). Bytes still in the block
    /// buffer are looked at only later (or by [`BodyCks::finish`]).
    pub fn take_url_hosts(&mut self) -> Vec<String> {
        std::mem::take(&mut self.eng.fuz1.url.hosts)
    }

    /// The sums the original computes for this message; None where it computes none.
    pub fn finish(&mut self) -> BodySums {
        if !self.in_body || !self.seen_hdr {
            // dccproc gives up on a message without a body or a header
            self.in_body = false;
            return BodySums::default();
        }
        if !self.block.is_empty() {
            self.eng.ck_body(&self.block);
            self.block.clear();
        }
        let eng = &mut *self.eng;
        let w0 = eng.fuz2.wtotal0();
        eng.fuz1.update(&mut eng.hub, b"\n", w0);
        eng.fuz2
            .update(&mut eng.hub, b"\n", &mut eng.mime.ct, eng.mime.cset);
        // the last blocks of Body, Fuz2 and Fuz1 are compressed together
        let (body, fuz2, fuz1) = match eng.fuz2.finish_lane(&mut eng.hub, &eng.fuz1.url) {
            Some(lane) => {
                let [b, f, f1] = eng.hub.finish_many([md5x::BODY, lane, md5x::FUZ1]);
                (b, Some(f), f1)
            }
            None => {
                let [b, f1] = eng.hub.finish_many([md5x::BODY, md5x::FUZ1]);
                (b, None, f1)
            }
        };
        let body = eng.plain.result(body).map(Sum);
        let (fuz2, fuz1) = (fuz2.map(Sum), eng.fuz1.result(fuz1).map(Sum));
        self.in_body = false;
        BodySums { body, fuz1, fuz2 }
    }
}

impl Engine {
    /// Reset the decoders at a boundary.
    fn decoders_init(&mut self) {
        self.mime.decoders_init();
        self.qp = Qp::default();
        self.b64.reset_count();
    }

    /// Feed decoded text to all three checksummers.
    fn sum_text(&mut self, text: &[u8]) {
        self.plain.update(&mut self.hub, text);
        let w0 = self.fuz2.wtotal0();
        self.fuz1.update(&mut self.hub, text, w0);
        if self.mime.ct != Ct::Binary {
            self.fuz2
                .update(&mut self.hub, text, &mut self.mime.ct, self.mime.cset);
        }
    }

    /// Decode one piece of raw body and checksum it. Outside entity bodies
    /// (preamble, boundaries, entity headers, epilogue) only Body sees the
    /// bytes, and the fuzzy sums see a line end.
    fn decode_sum(&mut self, raw: &[u8]) {
        if self.mp != Mp::Text {
            if raw.is_empty() {
                return;
            }
            self.plain.update(&mut self.hub, raw);
            let w0 = self.fuz2.wtotal0();
            self.fuz1.update(&mut self.hub, b"\n", w0);
            self.fuz2
                .update(&mut self.hub, b"\n", &mut self.mime.ct, self.mime.cset);
            return;
        }
        match self.mime.ce {
            Ce::Plain => {
                if !raw.is_empty() {
                    self.sum_text(raw);
                }
            }
            Ce::Qp | Ce::B64 => {
                let mut out = [0u8; DECODE_BUF];
                let mut pos = 0;
                while pos < raw.len() {
                    let n = if self.mime.ce == Ce::Qp {
                        self.qp.decode(raw, &mut pos, &mut out)
                    } else {
                        self.b64.decode(raw, &mut pos, &mut out)
                    };
                    if n != 0 {
                        self.sum_text(&out[..n]);
                    }
                }
            }
        }
    }

    /// One block of raw body as `dccproc` hands it over.
    fn ck_body(&mut self, buf: &[u8]) {
        let mut sum = 0;
        let mut cmp = 0;
        let mut left = buf.len();
        while left != 0 {
            if self.mime.nest == 0 {
                self.decode_sum(&buf[sum..]);
                return;
            }
            if self.mime.bnd_matches == 0 {
                // find the end of the line, parsing entity headers on the way
                let rest = &buf[cmp..cmp + left];
                let cp = cmp + crate::scan::find_lf(rest).map_or(left, |p| p + 1);
                if self.mp == Mp::Hdrs {
                    let after = buf.get(cp).copied().unwrap_or(0);
                    if self.mime.parse(&buf[cmp..cp], false, after) {
                        if cp > sum {
                            self.decode_sum(&buf[sum..cp]);
                            sum = cp;
                        }
                        self.mp = Mp::Text;
                    }
                }
                if buf[cp - 1] == b'\n' {
                    self.mime.bol = true;
                    self.mime.bnd_matches = self.mime.nest;
                    for b in self.mime.bnds.iter_mut() {
                        b.cmp_len = 0;
                    }
                }
                left -= cp - cmp;
                cmp = cp;
                if left == 0 {
                    break;
                }
            }
            let (matched, found) = self.match_boundaries(buf, cmp, left);
            if let Some((b, end)) = found {
                if cmp > sum {
                    self.decode_sum(&buf[sum..cmp]);
                }
                cmp = end;
                sum = end;
                self.boundary(b);
            } else if matched == 0 && self.mime.bnds.iter().all(|b| b.cmp_len == BND_MISS) {
                // cannot happen with consistent counts; avoid spinning
                self.mime.bnd_matches = 0;
            }
            left -= matched;
        }
        if cmp > sum {
            self.decode_sum(&buf[sum..cmp]);
        }
    }

    /// Compare the line at `cmp` with the active boundaries. Returns how
    /// many bytes were consumed and, for a complete boundary line, its
    /// index and the position after its line end.
    fn match_boundaries(
        &mut self,
        buf: &[u8],
        cmp: usize,
        left: usize,
    ) -> (usize, Option<(usize, usize)>) {
        let mut matched = 0;
        let nest = usize::from(self.mime.nest).min(MAX_NEST);
        for bi in 0..nest {
            let bnd = &mut self.mime.bnds[bi];
            if bnd.cmp_len == BND_MISS {
                continue;
            }
            let mut j = i32::from(bnd.len) - i32::from(bnd.cmp_len);
            let mut len = left as i32;
            if j > len {
                j = len;
            }
            let mut cp = cmp;
            let mut miss = false;
            if j > 0 {
                let from = usize::from(bnd.cmp_len);
                let n = j as usize;
                if buf[cp..cp + n] != bnd.bytes[from..from + n] {
                    miss = true;
                } else {
                    bnd.cmp_len += n as u8;
                    cp += n;
                    len -= j;
                    if len <= 0 {
                        matched = left;
                        continue;
                    }
                    j = 0;
                }
            }
            if !miss && j == 0 && buf[cp] == b'-' {
                bnd.cmp_len += 1;
                len -= 1;
                if len <= 0 {
                    matched = left;
                    continue;
                }
                cp += 1;
                j = -1;
            }
            if !miss && j == -1 {
                if buf[cp] == b'-' {
                    bnd.cmp_len += 1;
                    len -= 1;
                    if len <= 0 {
                        matched = left;
                        continue;
                    }
                    cp += 1;
                } else {
                    miss = true;
                }
            }
            if !miss && matches!(buf[cp], b' ' | b'\t' | b'\r') {
                loop {
                    cp += 1;
                    len -= 1;
                    if !(len > 0 && matches!(buf[cp], b' ' | b'\t' | b'\r')) {
                        break;
                    }
                }
                if len <= 0 {
                    matched = left;
                    continue;
                }
            }
            if miss || buf[cp] != b'\n' {
                bnd.cmp_len = BND_MISS;
                self.mime.bnd_matches = self.mime.bnd_matches.wrapping_sub(1);
                continue;
            }
            let end = cp + 1;
            return (end - cmp, Some((bi, end)));
        }
        (matched, None)
    }

    /// A boundary line of boundary `b` was found.
    fn boundary(&mut self, b: usize) {
        self.mp = Mp::Bnd;
        let bnd = self.mime.bnds[b];
        self.decode_sum(&bnd.bytes[..usize::from(bnd.len)]);
        if bnd.cmp_len != bnd.len {
            // the closing boundary ends this multipart and those inside it
            self.decode_sum(b"--");
            self.mp = Mp::Epilogue;
            self.mime.nest = b as u8;
        } else {
            self.mp = Mp::Hdrs;
            self.mime.nest = b as u8 + 1;
        }
        self.decoders_init();
    }
}
