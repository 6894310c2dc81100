//! DCC's URL recogniser.
//!
//! It watches the text seen by Fuz1 for `http://` and `https://` (also after
//! `=`, `="` as in `href="...`), keeps the host name, and skips the rest of
//! the URL. In the Fuz1 buffer only the letters of the last two labels of
//! the host name survive; user names and passwords before `@` are dropped.
//! The host names themselves are kept in a small buffer (converted to
//! Punycode when they look like UTF-8) that Fuz2 uses when a message has too
//! few words. Its quirks, such as `='` leading to a state that expects `t`,
//! are reproduced because they change checksums.

use super::cref::{Cref, Step};
use super::fuz1::{Fuz1, BUF_LEN};

/// Longest host name kept (DCC's domain name limit).
pub const HOST_MAX: usize = 256;
const HOST_MAX_SAVE: usize = HOST_MAX + 1;
const DOMS_LEN: usize = HOST_MAX_SAVE * 2;
const LABEL_MAX: usize = 63;
/// Longest URL (and user name) before the recogniser gives up.
pub const FAILSAFE: u32 = 2000;
/// Most host names of a message kept for DNS list checks.
pub const HOSTS_MAX: usize = 1000;

const TOO_LONG: u8 = 0x01;
const SQUOTED: u8 = 0x02;
const DQUOTED: u8 = 0x04;
const QUOTED: u8 = SQUOTED | DQUOTED;
const IDN: u8 = 0x08;
const DOT: u8 = 0x10;
const USERNAME: u8 = 0x20;

/// Recogniser states, numbered as in DCC (one transition relies on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
enum St {
    #[default]
    Idle = 0,
    Quote = 1,
    Qh = 2,
    T1 = 3,
    T2 = 4,
    P = 5,
    S = 6,
    Colon = 7,
    Slash1 = 8,
    Slash2 = 9,
    Slash3Start = 10,
    Slash3 = 11,
    Skipping = 12,
}

/// What the Fuz1 collector should do with the byte just examined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlRes {
    /// Treat it as ordinary text.
    Fwd,
    /// A URL starts: make room in the Fuz1 buffer, then treat it as text.
    CkSpace,
    /// Ignore it.
    Skip,
}

/// URL recogniser state and the saved host names.
#[derive(Clone)]
pub struct Url {
    cref: Cref,
    st: St,
    start: usize,
    tld: usize,
    sld: usize,
    total: u32,
    pub dom_start: usize,
    dom_end: usize,
    dot2: usize,
    dot1: usize,
    label_start: usize,
    punct: usize,
    /// Host names found (wraps like the original's byte counter).
    pub doms: u8,
    flags: u8,
    pub doms_buf: [u8; DOMS_LEN],
    /// Every host name found, whole and in order, for DNS list checks (at
    /// most [`HOSTS_MAX`]; taken by the program as the body arrives).
    pub hosts: Vec<String>,
    /// Host names found so far, including those already taken.
    hosts_seen: usize,
}

impl Default for Url {
    fn default() -> Self {
        Url {
            cref: Cref::default(),
            st: St::Idle,
            start: 0,
            tld: 0,
            sld: 0,
            total: 0,
            dom_start: 0,
            dom_end: 0,
            dot2: 0,
            dot1: 0,
            label_start: 0,
            punct: 0,
            doms: 0,
            flags: 0,
            doms_buf: [0; DOMS_LEN],
            hosts: Vec::new(),
            hosts_seen: 0,
        }
    }
}

impl Url {
    #[inline]
    pub fn idle(&self) -> bool {
        self.st == St::Idle
    }

    #[inline]
    pub fn set_idle(&mut self) {
        self.st = St::Idle;
    }

    /// A character reference is being collected. It can outlive the URL
    /// state when the Fuz1 buffer fills inside one; then only the bytes
    /// that reach the recogniser (`h`, `=`) go on feeding it.
    #[inline]
    pub fn cref_active(&self) -> bool {
        self.cref.active()
    }

    /// Keep the host name just ended for DNS list checks; it changes no
    /// checksum.
    fn keep_host(&mut self) {
        if self.hosts_seen >= HOSTS_MAX {
            return;
        }
        let end = self.dom_end.min(DOMS_LEN);
        if let Some(h) = self.doms_buf.get(self.dom_start..end) {
            if !h.is_empty() {
                self.hosts.push(String::from_utf8_lossy(h).into_owned());
                self.hosts_seen += 1;
            }
        }
    }

    fn reset_doms(&mut self, start: usize) {
        self.start = start;
        self.tld = 0;
        self.sld = 0;
        self.dom_end = self.dom_start;
        self.label_start = self.dom_end;
        self.punct = 0;
        self.dot1 = 0;
        self.dot2 = 0;
        self.total = 0;
        self.flags &= !(IDN | DOT);
    }

    fn host_save(&mut self, c: u8) {
        if self.dom_end.saturating_sub(self.dom_start) >= HOST_MAX {
            self.reset_doms(0);
            self.flags |= TOO_LONG;
            self.st = St::Idle;
        }
        if self.flags & TOO_LONG != 0 {
            return;
        }
        if let Some(slot) = self.doms_buf.get_mut(self.dom_end) {
            *slot = c;
            self.dom_end += 1;
        }
    }

    /// Make room for another host name at the start of a URL.
    fn make_room(&mut self, wtotal0: u32) {
        if wtotal0 >= super::fuz2::MIN_WORDS {
            self.dom_start = 0;
            return;
        }
        while self.dom_start > DOMS_LEN - HOST_MAX_SAVE {
            let Some(z) = self.doms_buf[..self.dom_start].iter().position(|&b| b == 0) else {
                self.dom_start = 0;
                return;
            };
            let drop = z + 1;
            self.doms_buf.copy_within(drop..self.dom_start, 0);
            self.dom_start -= drop;
        }
    }

    /// Re-encode the current label as Punycode when it is valid UTF-8.
    fn punyencode(&mut self) {
        self.flags &= !IDN;
        let end = self.dom_end.min(DOMS_LEN);
        let Some(label) = self.doms_buf.get(self.label_start..end) else {
            return;
        };
        if label.is_empty() {
            return;
        }
        let mut uni = [0u32; LABEL_MAX];
        let mut ulen = 0;
        let mut i = 0;
        while i < label.len() {
            let mut uc = u32::from(label[i]);
            i += 1;
            if uc & 0x80 != 0 {
                let (extra, mask) = if uc & 0xe0 == 0xc0 {
                    (1, 0x1f)
                } else if uc & 0xf0 == 0xe0 {
                    (2, 0x0f)
                } else if uc & 0xf8 == 0xf0 {
                    (3, 0x07)
                } else {
                    return;
                };
                uc &= mask;
                if uc == 0 || i + extra > label.len() {
                    return;
                }
                for _ in 0..extra {
                    let cont = u32::from(label[i]) ^ 0x80;
                    i += 1;
                    if cont > 0x3f {
                        return;
                    }
                    uc = (uc << 6) | cont;
                }
                if uc > 0x10ffff {
                    return;
                }
            }
            if ulen >= LABEL_MAX {
                return;
            }
            uni[ulen] = uc;
            ulen += 1;
        }
        let Some(puny) = punycode(&uni[..ulen]) else {
            return;
        };
        let plen = puny.1;
        if self.label_start + plen <= HOST_MAX {
            self.doms_buf[self.label_start..self.label_start + plen]
                .copy_from_slice(&puny.0[..plen]);
            self.dom_end = self.label_start + plen;
        }
    }
}

/// Punycode ("xn--...") of one label, or None when it exceeds 63 bytes.
fn punycode(uni: &[u32]) -> Option<([u8; LABEL_MAX], usize)> {
    const BASE: u32 = 36;
    const TMIN: u32 = 1;
    const TMAX: u32 = 26;
    const DIGITS: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = [0u8; LABEL_MAX];
    let mut len = 0;
    let mut put = |c: u8, len: &mut usize| -> Option<()> {
        if *len >= LABEL_MAX {
            return None;
        }
        out[*len] = c;
        *len += 1;
        Some(())
    };
    for &c in b"xn--" {
        put(c, &mut len)?;
    }
    let mut b = 0u32;
    for &u in uni {
        if u < 0x80 {
            put(u as u8, &mut len)?;
            b += 1;
        }
    }
    if b != 0 {
        put(b'-', &mut len)?;
    }
    let n_all = uni.len() as u32;
    let mut n: u32 = 0x80;
    let mut delta: u32 = 0;
    let mut bias: u32 = 72;
    let mut h = b;
    while h < n_all {
        let m = uni
            .iter()
            .copied()
            .filter(|&u| u >= n)
            .min()
            .unwrap_or(0x110000);
        delta = delta.wrapping_add(m.wrapping_sub(n).wrapping_mul(h + 1));
        n = m;
        for &u in uni {
            if u < n {
                delta = delta.wrapping_add(1);
            } else if u == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        TMIN
                    } else if k >= bias + TMAX {
                        TMAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    let d = t + (q - t) % (BASE - t);
                    put(DIGITS[(d % 36) as usize], &mut len)?;
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                put(DIGITS[(q % 36) as usize], &mut len)?;
                bias = adapt(delta, h + 1, h == b);
                delta = 0;
                h += 1;
            }
        }
        delta = delta.wrapping_add(1);
        n = n.wrapping_add(1);
    }
    Some((out, len))
}

fn adapt(delta: u32, numpoints: u32, first: bool) -> u32 {
    let mut delta = if first { delta / 700 } else { delta / 2 };
    delta += delta / numpoints.max(1);
    let mut k = 0;
    while delta > ((36 - 1) * 26) / 2 {
        delta /= 36 - 1;
        k += 36;
    }
    k + ((36 - 1 + 1) * delta) / (delta + 38)
}

impl Fuz1 {
    /// The end of a host name: drop labels below the second level from the
    /// Fuz1 buffer and keep the name for Fuz2.
    fn url_host_end(&mut self, wtotal0: u32) {
        let url = &mut self.url;
        if url.punct != 0 {
            url.dom_end = url.punct;
        }
        if url.dom_end <= url.dom_start || url.flags & TOO_LONG != 0 {
            return;
        }
        if url.flags & IDN != 0 {
            url.punyencode();
        }
        url.keep_host();
        if let Some(slot) = url.doms_buf.get_mut(url.dom_end) {
            *slot = 0;
        }
        url.dom_end += 1;
        if url.dot2 != 0 {
            let sld = url.sld.min(self.cp);
            let len = self.cp - sld;
            let start = url.start.min(BUF_LEN - len);
            self.buf.copy_within(sld..sld + len, start);
            if self.eol.is_some_and(|e| e >= self.cp) {
                self.eol = Some(start + len);
            }
            self.cp = start + len;
            if wtotal0 < super::fuz2::MIN_WORDS {
                let end = url.dom_end.min(DOMS_LEN);
                let from = url.dot2.min(end);
                let len = end - from;
                url.doms_buf
                    .copy_within(from..end, url.dom_start.min(DOMS_LEN - len));
                url.dom_end = url.dom_start + len;
            }
        }
        url.dom_start = url.dom_end;
        url.doms = url.doms.wrapping_add(1);
    }

    /// Examine one lower-cased byte; `i` indexes the input after it and is
    /// moved back when a character reference hands its last byte back.
    pub(super) fn ck_url(&mut self, c: u8, i: &mut usize, wtotal0: u32) -> UrlRes {
        let mut uc = c;
        if uc == b'&' || self.url.cref.active() {
            match self.url.cref.step(uc) {
                Step::More => return UrlRes::Fwd,
                Step::Done => {}
                Step::DoneBefore => *i -= 1,
            }
            uc = self.url.cref.result;
        }
        let url = &mut self.url;
        match url.st {
            St::Idle => {
                if uc == b'h' {
                    url.st = St::T1;
                    url.flags = 0;
                } else if uc == b'=' {
                    url.st = St::Quote;
                    url.flags = 0;
                }
            }
            St::Quote => {
                if uc == b'h' {
                    url.st = St::T1;
                } else if uc == b'"' {
                    url.flags |= DQUOTED;
                    url.st = St::Qh;
                } else if uc == b'\'' {
                    url.flags = SQUOTED;
                    // DCC or-s the state numbers here, which lands on T1
                    url.st = St::T1;
                } else {
                    url.st = St::Idle;
                }
            }
            St::Qh => url.st = if uc == b'h' { St::T1 } else { St::Idle },
            St::T1 => url.st = if uc == b't' { St::T2 } else { St::Idle },
            St::T2 => url.st = if uc == b't' { St::P } else { St::Idle },
            St::P => url.st = if uc == b'p' { St::S } else { St::Idle },
            St::S => {
                url.st = match uc {
                    b's' => St::Colon,
                    b':' => St::Slash1,
                    _ => St::Idle,
                }
            }
            St::Colon => url.st = if uc == b':' { St::Slash1 } else { St::Idle },
            St::Slash1 => url.st = if uc == b'/' { St::Slash2 } else { St::Idle },
            St::Slash2 => {
                if uc == b'/' {
                    url.make_room(wtotal0);
                    url.st = St::Slash3Start;
                    return UrlRes::CkSpace;
                }
                url.st = St::Idle;
            }
            St::Slash3Start | St::Slash3 => return self.host_byte(uc, wtotal0),
            St::Skipping => {
                url.total += 1;
                let f = url.flags;
                if (uc == b'"' && f & SQUOTED == 0)
                    || (uc == b'\'' && f & DQUOTED == 0)
                    || (uc == b'>' && f & QUOTED == 0)
                    || matches!(uc, b' ' | b'\t' | b'\n' | b'\r')
                    || (uc == 0xa0 && f & IDN == 0)
                    || url.total > FAILSAFE
                {
                    url.st = St::Idle;
                }
                return UrlRes::Skip;
            }
        }
        UrlRes::Fwd
    }

    /// A byte of the host part of a URL.
    fn host_byte(&mut self, uc: u8, wtotal0: u32) -> UrlRes {
        if self.url.st == St::Slash3Start {
            self.url.reset_doms(self.cp);
            self.url.st = St::Slash3;
        }
        self.url.total += 1;
        if self.url.total > FAILSAFE {
            self.url.st = St::Idle;
            return UrlRes::Fwd;
        }
        let after_quote = |f: u8, other: u8| {
            if f & other != 0 {
                St::Skipping
            } else {
                St::Idle
            }
        };
        if !(uc.is_ascii_lowercase() || uc.is_ascii_digit() || uc == b'-' || uc == b'_') {
            let f = self.url.flags;
            if uc == b'.' && self.url.punct == 0 {
                if f & DOT != 0 {
                    // two dots cannot be in a host name but can end a URL
                    self.url.punct = self.url.dom_end;
                    return UrlRes::Fwd;
                }
                self.url.flags |= DOT;
                return UrlRes::Fwd;
            }
            if uc == b'/' || uc == b'\\' {
                self.url_host_end(wtotal0);
                self.url.st = St::Skipping;
                return UrlRes::Fwd;
            }
            if uc == b'"' {
                self.url_host_end(wtotal0);
                self.url.st = after_quote(f, SQUOTED);
                return UrlRes::Fwd;
            }
            if uc == b'\'' {
                self.url_host_end(wtotal0);
                self.url.st = after_quote(f, DQUOTED);
                return UrlRes::Fwd;
            }
            if uc == b'<' || uc == b'>' || uc <= b' ' || (uc == 0xa0 && f & IDN == 0) {
                self.url_host_end(wtotal0);
                self.url.st = after_quote(f, QUOTED);
                return UrlRes::Fwd;
            }
            if uc == b'@' && f & USERNAME == 0 {
                self.url.flags |= USERNAME;
                self.cp = self.url.start.min(BUF_LEN);
                self.url.st = St::Slash3Start;
                return UrlRes::Fwd;
            }
            let user_punct = matches!(
                uc,
                b';' | b'?' | b'&' | b'=' | b'$' | b'+' | b'!' | b'*' | b'(' | b')' | b','
            );
            if uc == b':' || (user_punct && f & USERNAME == 0) {
                if self.url.punct == 0 {
                    self.url.punct = self.url.dom_end;
                }
            } else if uc & 0xc0 == 0xc0 && self.url.punct == 0 {
                self.url.flags |= IDN;
            } else {
                self.url_host_end(wtotal0);
                self.url.st = after_quote(f, QUOTED);
                return UrlRes::Fwd;
            }
        }
        if self.url.punct == 0 {
            if self.url.flags & DOT != 0 {
                self.url.flags &= !DOT;
                if self.url.flags & IDN != 0 {
                    self.url.punyencode();
                }
                self.url.host_save(b'.');
                self.url.dot2 = self.url.dot1;
                self.url.dot1 = self.url.dom_end;
                self.url.label_start = self.url.dom_end;
                self.url.sld = self.url.tld;
                self.url.tld = self.cp;
            }
            self.url.host_save(uc);
        }
        UrlRes::Fwd
    }
}
