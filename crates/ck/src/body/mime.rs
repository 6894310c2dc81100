//! The MIME header recogniser of DCC.
//!
//! DCC does not parse MIME headers properly. A small state machine looks
//! for `Content-Transfer-Encoding: base64|quoted-printable` and for
//! `Content-Type:` with `text`, `text/html`, `charset=iso-8859-N` and
//! `multipart ... boundary=`. Anything else makes the type "binary". The
//! machine runs over the top-level header fields and over the header lines of
//! the entities of multipart messages, in pieces of any size.

use super::tables::Charset;

/// Most bytes of a boundary DCC keeps, counting the leading `--`.
pub const BND_MAX: usize = 94;
/// Marker in `Bnd::cmp_len` of a boundary that no longer matches this line.
pub const BND_MISS: u8 = (BND_MAX + 3) as u8;
/// Depth of nested multiparts DCC follows.
pub const MAX_NEST: usize = 3;

/// One multipart boundary, with its leading `--`.
#[derive(Debug, Clone, Copy)]
pub struct Bnd {
    pub len: u8,
    /// Bytes of the current line matched so far, or [`BND_MISS`].
    pub cmp_len: u8,
    pub bytes: [u8; BND_MAX + 2],
}

impl Default for Bnd {
    fn default() -> Self {
        Bnd {
            len: 0,
            cmp_len: 0,
            bytes: [0; BND_MAX + 2],
        }
    }
}

/// Kind of content of the current entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct {
    Text,
    Html,
    Binary,
}

/// Transfer encoding of the current entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ce {
    Plain,
    Qp,
    B64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hs {
    Idle,
    /// Matching `Content-T`.
    CeCt,
    /// `ransfer-Encoding:`
    Ce,
    CeWs,
    /// `ype:`
    Ct,
    CtWs,
    Qp,
    B64,
    Text,
    Html,
    CsetSkipParam,
    CsetSpanWs,
    Cset,
    CsetIso8859,
    CsetIsoX,
    Multipart,
    BndSkipParam,
    BndSpanWs,
    Bnd,
    BndValue,
}

/// The MIME part of DCC's checksum state.
#[derive(Debug, Clone)]
pub struct Mime {
    st: Hs,
    pos: u8,
    /// Number of active boundaries (nesting depth).
    pub nest: u8,
    /// Boundaries still matching the start of the current line.
    pub bnd_matches: u8,
    pub bnds: [Bnd; MAX_NEST],
    pub ct: Ct,
    pub cset: Charset,
    pub ce: Ce,
    /// The header recogniser is at the start of a line.
    pub bol: bool,
    quoted: bool,
}

impl Default for Mime {
    fn default() -> Self {
        Mime {
            st: Hs::Idle,
            pos: 0,
            nest: 0,
            bnd_matches: 0,
            bnds: [Bnd::default(); MAX_NEST],
            ct: Ct::Text,
            cset: Charset::Latin1,
            ce: Ce::Plain,
            bol: true,
            quoted: false,
        }
    }
}

#[inline]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Input cursor: the bytes of one call plus the byte that follows them in
/// the original's buffer (read by a few states that look one byte ahead).
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
    after: u8,
}

impl Cur<'_> {
    #[inline]
    fn left(&self) -> usize {
        self.b.len() - self.i
    }
    #[inline]
    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(self.after)
    }
}

impl Mime {
    /// Reset the per-entity decoders' view at a boundary or at the start.
    pub fn decoders_init(&mut self) {
        self.bnd_matches = 0;
        self.bol = true;
        self.ct = Ct::Text;
        self.cset = Charset::Latin1;
        self.ce = Ce::Plain;
    }

    /// A complete top-level header field (as the original holds it).
    pub fn top_header(&mut self, field: &[u8]) {
        self.st = Hs::CeCt;
        self.pos = 0;
        self.parse(field, true, 0);
        if self.st != Hs::Idle {
            self.parse(b"\n", true, 0);
        }
    }

    /// Case-insensitive match of more of `tgt`; moves to `ok` on a complete
    /// match and to `fail` as soon as the input differs.
    fn matches(&mut self, cur: &mut Cur<'_>, tgt: &[u8], ok: Hs, fail: Hs) -> bool {
        let pos = usize::from(self.pos);
        // Only "text" after a partial "multipart" (a field cut by a block
        // end after 5 to 8 of its letters) gets here with pos beyond the
        // target. The original then compares the bytes behind the target
        // string's NUL with the input, which cannot hold the rest of
        // "multipart": a mismatch.
        let Some(want) = tgt.get(pos..) else {
            self.st = fail;
            return false;
        };
        let n = want.len().min(cur.left());
        let have = &cur.b[cur.i..cur.i + n];
        if !have.eq_ignore_ascii_case(&want[..n]) || have.contains(&0) {
            self.st = fail;
            return false;
        }
        cur.i += n;
        self.pos = self.pos.wrapping_add(n as u8);
        if usize::from(self.pos) >= tgt.len() {
            self.st = ok;
            self.pos = 0;
            return true;
        }
        false
    }

    /// Skip white space; false when the input ran out.
    fn span_ws(cur: &mut Cur<'_>) -> bool {
        while is_ws(cur.peek()) {
            cur.i += 1;
            if cur.left() == 0 {
                return false;
            }
        }
        true
    }

    /// Skip to white space or past a `;`; false when the input ran out.
    fn skip_param(cur: &mut Cur<'_>) -> bool {
        loop {
            let c = cur.peek();
            if is_ws(c) {
                return true;
            }
            cur.i += 1;
            if c == b';' {
                return true;
            }
            if cur.left() == 0 {
                return false;
            }
        }
    }

    /// Run the recogniser over `bytes`. `in_hdrs` is true for the top-level
    /// header, false for the header lines of an entity; there at most one
    /// line end may be in `bytes`, as its last byte. `after` is the byte
    /// following `bytes` in the original's buffer. Returns true when an
    /// entity header line is blank (the end of the entity's header).
    pub fn parse(&mut self, bytes: &[u8], in_hdrs: bool, after: u8) -> bool {
        let mut cur = Cur {
            b: bytes,
            i: 0,
            after,
        };
        if bytes.is_empty() {
            return false;
        }
        if self.bol && !in_hdrs {
            let mut c = cur.peek();
            if c == b'\r' {
                cur.i += 1;
                if cur.left() == 0 {
                    return false;
                }
                c = cur.peek();
            }
            if c == b'\n' {
                return true;
            }
            if c != b' ' && c != b'\t' {
                self.st = Hs::CeCt;
                self.pos = 0;
            }
            self.bol = false;
        }
        loop {
            match self.st {
                Hs::Idle => return false,
                Hs::CeCt => {
                    if self.matches(&mut cur, b"Content-T", Hs::CtWs, Hs::Idle) {
                        match cur.peek() {
                            b'r' | b'R' => self.st = Hs::Ce,
                            b'y' | b'Y' => self.st = Hs::Ct,
                            _ => {
                                self.st = Hs::Idle;
                                return false;
                            }
                        }
                    }
                }
                Hs::Ce => {
                    self.matches(&mut cur, b"ransfer-Encoding:", Hs::CeWs, Hs::Idle);
                }
                Hs::CeWs => {
                    if !Self::span_ws(&mut cur) {
                        return false;
                    }
                    match cur.peek() {
                        b'b' | b'B' => self.st = Hs::B64,
                        b'q' | b'Q' => self.st = Hs::Qp,
                        _ => {
                            self.st = Hs::Idle;
                            return false;
                        }
                    }
                }
                Hs::Qp => {
                    if self.matches(&mut cur, b"quoted-printable", Hs::Idle, Hs::Idle) {
                        self.ce = Ce::Qp;
                    }
                }
                Hs::B64 => {
                    if self.matches(&mut cur, b"base64", Hs::Idle, Hs::Idle) {
                        self.ce = Ce::B64;
                    }
                }
                Hs::Ct => {
                    self.matches(&mut cur, b"ype:", Hs::CtWs, Hs::Idle);
                }
                Hs::CtWs => {
                    if !Self::span_ws(&mut cur) {
                        return false;
                    }
                    match cur.peek() {
                        b't' | b'T' => self.st = Hs::Text,
                        b'm' | b'M' => {
                            self.st = if in_hdrs || usize::from(self.nest) < MAX_NEST {
                                Hs::Multipart
                            } else {
                                Hs::Idle
                            };
                        }
                        _ => {
                            self.ct = Ct::Binary;
                            self.st = Hs::Idle;
                            return false;
                        }
                    }
                }
                Hs::Text => {
                    if self.matches(&mut cur, b"text", Hs::Html, Hs::Idle) {
                        self.ct = Ct::Text;
                    }
                }
                Hs::Html => {
                    if self.matches(&mut cur, b"/html", Hs::CsetSkipParam, Hs::CsetSkipParam) {
                        self.ct = Ct::Html;
                    }
                }
                Hs::CsetSkipParam => {
                    if Self::skip_param(&mut cur) {
                        self.st = Hs::CsetSpanWs;
                    }
                }
                Hs::CsetSpanWs => {
                    if Self::span_ws(&mut cur) {
                        self.st = Hs::Cset;
                    }
                }
                Hs::Cset => {
                    self.matches(&mut cur, b"charset=", Hs::CsetIso8859, Hs::CsetSkipParam);
                }
                Hs::CsetIso8859 => {
                    if self.pos == 0 && cur.left() > 0 && cur.peek() == b'"' {
                        cur.i += 1;
                    }
                    self.matches(&mut cur, b"iso-8859-", Hs::CsetIsoX, Hs::Idle);
                }
                Hs::CsetIsoX => loop {
                    if cur.left() == 0 {
                        return false;
                    }
                    let c = cur.peek();
                    cur.i += 1;
                    if !c.is_ascii_digit() {
                        let end = matches!(c, b'"' | b' ' | b'\t' | b';' | b'\r' | b'\n');
                        self.cset = if end && self.pos == 2 {
                            Charset::Latin2
                        } else {
                            Charset::Latin1
                        };
                        self.st = Hs::Idle;
                        return false;
                    }
                    // the original keeps this number in a byte
                    self.pos = self.pos.wrapping_mul(10).wrapping_add(c - b'0');
                    if self.pos > 99 {
                        self.st = Hs::Idle;
                        return false;
                    }
                },
                Hs::Multipart => {
                    // a partial match leaves the machine looking for "text"
                    self.st = Hs::Text;
                    self.matches(&mut cur, b"multipart", Hs::BndSkipParam, Hs::Idle);
                }
                Hs::BndSkipParam => {
                    if Self::skip_param(&mut cur) {
                        self.st = Hs::BndSpanWs;
                    }
                }
                Hs::BndSpanWs => {
                    if Self::span_ws(&mut cur) {
                        self.st = Hs::Bnd;
                    }
                }
                Hs::Bnd => {
                    if self.matches(&mut cur, b"boundary=", Hs::BndValue, Hs::BndSkipParam) {
                        if in_hdrs {
                            self.nest = 0;
                            // the body may start with the first boundary
                            self.bnd_matches = 1;
                        }
                        self.quoted = false;
                        if let Some(b) = self.bnds.get_mut(usize::from(self.nest)) {
                            b.bytes[0] = b'-';
                            b.bytes[1] = b'-';
                        }
                        self.pos = 2;
                    }
                }
                Hs::BndValue => {
                    let nest = usize::from(self.nest);
                    loop {
                        if cur.left() == 0 {
                            return false;
                        }
                        let c = cur.peek();
                        cur.i += 1;
                        if c == b'\n' {
                            break;
                        }
                        if c == b'\r' {
                            continue;
                        }
                        if matches!(c, b' ' | b'\t' | b';') && !self.quoted {
                            break;
                        }
                        if c == b'"' {
                            self.quoted = !self.quoted;
                            continue;
                        }
                        if let Some(b) = self.bnds.get_mut(nest) {
                            if let Some(slot) = b.bytes.get_mut(usize::from(self.pos)) {
                                *slot = c;
                            }
                        }
                        self.pos += 1;
                        if usize::from(self.pos) >= BND_MAX {
                            self.st = Hs::Idle;
                            return false;
                        }
                    }
                    if let Some(b) = self.bnds.get_mut(nest) {
                        b.len = self.pos;
                        b.cmp_len = 0;
                        self.nest += 1;
                    }
                    self.st = Hs::Idle;
                }
            }
            if cur.left() == 0 {
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_multipart() {
        let mut m = Mime::default();
        m.top_header(b"Content-Type: multipart/mixed;\r\n\tboundary=\"abc def\"\r\n");
        assert_eq!(m.nest, 1);
        assert_eq!(&m.bnds[0].bytes[..usize::from(m.bnds[0].len)], b"--abc def");
    }

    /// An entity's `Content-Type: multipart` cut by a block end. After 5
    /// to 8 letters of "multipart" the original is left comparing "text"
    /// from beyond its end, which fails: the field is ignored and the type
    /// stays what an earlier field made it. After exactly 4 letters the
    /// comparison is empty and succeeds: the type becomes text.
    #[test]
    fn multipart_cut_by_a_block_end() {
        for (cut, want) in [(4, Ct::Text), (5, Ct::Binary), (8, Ct::Binary)] {
            let mut m = Mime::default();
            assert!(!m.parse(b"Content-Type: image/gif\r\n", false, 0));
            assert_eq!(m.ct, Ct::Binary);
            let line = b"Content-Type: multipart/mixed\r\n";
            let (a, b) = line.split_at(b"Content-Type: ".len() + cut);
            m.bol = true;
            m.parse(a, false, 0);
            m.parse(b, false, 0);
            assert_eq!(m.ct, want, "{cut}");
            assert_eq!(m.nest, 0);
        }
    }

    #[test]
    fn content_type_html_latin2() {
        let mut m = Mime::default();
        m.top_header(b"content-type: TEXT/HTML; charset=\"ISO-8859-2\"\n");
        assert_eq!(m.ct, Ct::Html);
        assert_eq!(m.cset, Charset::Latin2);
        m.top_header(b"Content-Transfer-Encoding: Base64\n");
        assert_eq!(m.ce, Ce::B64);
        m.top_header(b"Content-Type: image/png\n");
        assert_eq!(m.ct, Ct::Binary);
    }
}
