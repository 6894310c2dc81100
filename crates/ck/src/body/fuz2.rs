//! The Fuz2 checksum: MD5 of the text's words that are in a language's
//! word list, for the language that recognises the most words.
//!
//! Words are runs of letters (by the charset's class table) of 3 to 16
//! bytes; a word touching junk such as digits is ignored. HTML tags and
//! comments are skipped (and only counted), an `<html>` tag in plain text
//! switches the entity to HTML, and character references are decoded in
//! HTML. The checksum is withheld for mostly binary text and for text with
//! fewer than 8 known words, unless host names from URLs make up for them.

use super::classes::{self, classes, Classes};
use super::cref::{self, Cref, Step, Whole};
use super::md5x::{self, Hub};
use super::mime::Ct;
use super::tables::{Charset, FC_A, FC_LT, FC_SP};
use super::url::{Url, FAILSAFE};
use super::words::{self, LANGS};

/// Fewer known words than this is "few" for the binary test.
const FEW_WORDS: u32 = 100;
/// Fewest known words for a checksum.
pub const MIN_WORDS: u32 = 8;
const WORD_LEN: usize = 16;
const MIN_WLEN: usize = 3;
/// `wlen` value of a word spoiled by junk or over-long.
const SKIP: usize = WORD_LEN + 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum St {
    #[default]
    Word,
    StartTag,
    SkipTag,
    SkipComment,
}

/// Per-language word counts; the words themselves go to the language's
/// MD5 stream (`md5x::FUZ2 + l`).
#[derive(Clone, Default)]
struct Lang {
    wsummed: u32,
    wtotal: u32,
}

const ASCII_HI: u128 = u128::from_le_bytes([0x80; 16]);
const CASE_BIT: u128 = u128::from_le_bytes([0x20; 16]);

const LOW7: u128 = u128::from_le_bytes([0x7f; 16]);

/// Bit 7 of each byte of `x` set where the byte is not an ASCII letter.
#[inline]
fn non_letters(x: u128) -> u128 {
    let y = (x | CASE_BIT) & LOW7;
    // no carries between bytes: every byte of y is at most 0x7f
    let ge_a = y + u128::from_le_bytes([0x80 - b'a'; 16]);
    let gt_z = y + u128::from_le_bytes([0x80 - b'z' - 1; 16]);
    (!ge_a | gt_z | x) & ASCII_HI
}

/// [`non_letters`] for eight bytes.
#[inline]
fn non_letters8(x: u64) -> u64 {
    const HI: u64 = ASCII_HI as u64;
    let y = (x | CASE_BIT as u64) & LOW7 as u64;
    let ge_a = y + u64::from_le_bytes([0x80 - b'a'; 8]);
    let gt_z = y + u64::from_le_bytes([0x80 - b'z' - 1; 8]);
    (!ge_a | gt_z | x) & HI
}

/// Length of the run of letters at the start of `rest`. Runs of ASCII
/// letters shorter than 16 bytes and ended by an ASCII byte are measured
/// on 8 or 16 bytes at once, without a loop whose end is hard to predict
/// (most words end within the first eight).
#[inline]
fn letter_run(rest: &[u8], tbl: &[u8; 256]) -> usize {
    if let Some(raw) = rest.get(..8).and_then(|r| <[u8; 8]>::try_from(r).ok()) {
        let x = u64::from_le_bytes(raw);
        let non = non_letters8(x);
        if non != 0 {
            let n = non.trailing_zeros() / 8;
            // n < 8: the byte ending the run is ASCII
            if (x >> (8 * n)) as u8 & 0x80 == 0 {
                return n as usize;
            }
        }
    }
    if let Some(raw) = rest
        .get(..WORD_LEN)
        .and_then(|r| <[u8; WORD_LEN]>::try_from(r).ok())
    {
        let non = non_letters(u128::from_le_bytes(raw));
        let n = (non.trailing_zeros() / 8) as usize;
        // the class tables agree with this for ASCII
        if n < WORD_LEN && rest.get(n).is_some_and(|&c| c < 0x80) {
            return n;
        }
    }
    rest.iter()
        .position(|&c| tbl[usize::from(c)] < FC_A)
        .unwrap_or(rest.len())
}

/// The common case of a whole word at `data[i..]` when no word is under
/// way: fewer than 16 ASCII letters ended by an ASCII byte of class
/// white space. Returns the number of letters (0 when `data[i]` is that
/// byte) and the word packed as in [`Fuz2::w`]. None in every other case,
/// which the general path handles; this path's effects (the letters counted
/// in `btotal`, the word added if it has 3 or more letters, the white
/// space consumed) are the general path's for such a word.
#[inline(always)]
fn ascii_word(data: &[u8], i: usize, tbl: &[u8; 256]) -> Option<(usize, u128)> {
    let raw = data.get(i..i + WORD_LEN)?;
    let raw = u128::from_le_bytes(<[u8; WORD_LEN]>::try_from(raw).ok()?);
    let n = (non_letters(raw).trailing_zeros() / 8) as usize;
    // n < 16: the ending byte is within the sixteen
    let end = (raw >> (8 * (n & (WORD_LEN - 1)))) as u8;
    if n >= WORD_LEN || end >= 0x80 || tbl[usize::from(end)] != FC_SP {
        return None;
    }
    let mask = MASKS[n];
    Some((n, (raw & mask) | (CASE_BIT & mask)))
}

/// `MASKS[n]` keeps the first `n` bytes of a packed word.
const MASKS: [u128; WORD_LEN + 1] = {
    let mut m = [0u128; WORD_LEN + 1];
    let mut n = 1;
    while n <= WORD_LEN {
        m[n] = (m[n - 1] << 8) | 0xff;
        n += 1;
    }
    m
};

/// The first `n` (1 to 16) bytes of `run`, all letters, mapped through the
/// class table and packed like [`Fuz2::w`]. Plain ASCII letters map to
/// their lower case, which one bit operation does for the whole word.
#[inline]
fn word_bits(run: &[u8], n: usize, tbl: &[u8; 256]) -> u128 {
    let mask = MASKS[n.min(WORD_LEN)];
    if let Some(raw) = run
        .get(..WORD_LEN)
        .and_then(|r| <[u8; WORD_LEN]>::try_from(r).ok())
    {
        let raw = u128::from_le_bytes(raw) & mask;
        if raw & ASCII_HI == 0 {
            return raw | (CASE_BIT & mask);
        }
    }
    let mut k = [0u8; WORD_LEN];
    for (d, &c) in k.iter_mut().zip(run.iter().take(n)) {
        *d = tbl[usize::from(c)];
    }
    u128::from_le_bytes(k)
}

/// Most bytes [`skip_run`] looks at in one go, which bounds the work
/// repeated when a tag nears the failsafe length.
const SKIP_RUN: usize = 256;

/// The bulk of skipping a tag or comment: the bytes at the start of `rest`
/// before the first `>` or `stop` (at most [`SKIP_RUN`]) only add to the
/// counts: `per_byte` to `btotal` for each byte (1 in tags, 0 in
/// comments), and one to each count for each byte that is not white
/// space, as the byte-by-byte loops do. The
/// run is taken only if the failsafe length is not passed within it (then
/// the byte-by-byte loop finds where). Returns the bytes taken.
#[inline]
fn skip_run(
    rest: &[u8],
    stop: u8,
    per_byte: u32,
    tbl: &[u8; 256],
    btotal: &mut u32,
    xsummed: &mut u32,
    tag_len: &mut u32,
) -> usize {
    let window = rest.get(..SKIP_RUN).unwrap_or(rest);
    let end = window
        .iter()
        .position(|&c| c == b'>' || c == stop)
        .unwrap_or(window.len());
    let ns: u32 = window[..end]
        .iter()
        .map(|&c| u32::from(tbl[usize::from(c)] != FC_SP))
        .sum();
    if tag_len.wrapping_add(ns) > FAILSAFE {
        return 0;
    }
    *btotal = btotal.wrapping_add((end as u32 * per_byte).wrapping_add(ns));
    *xsummed = xsummed.wrapping_add(ns);
    *tag_len += ns;
    end
}

/// The byte classes of a window of 64 bytes of the data, for
/// [`ascii_words`].
struct Window {
    /// Where the window starts ([`NO_WINDOW`] before the first).
    at: usize,
    cls: Classes,
    /// Where [`ascii_words`] is next worth trying.
    retry: usize,
}

/// [`Window::at`] of no window: every position `i` of the data is more
/// than [`WIN_WORD`] after it (`i - NO_WINDOW` wraps to `i + 65`), so one
/// comparison tells whether the window covers `i`.
const NO_WINDOW: usize = usize::MAX - 64;

/// Most of a window's start [`ascii_words`] reads a word at: a word of up
/// to 15 letters and the byte after it must be within the window.
const WIN_WORD: usize = 64 - WORD_LEN - 1;

/// Whole ASCII words ended by white space, and white space between them,
/// from `data[i..]` when no word is under way, with the classes of 64
/// bytes at a time: the effects of [`ascii_word`] for each (`add` takes
/// each word of 3 or more letters, packed, and its length). Returns where
/// it stopped and true if a byte of any other kind is there, on which
/// [`ascii_word`] fails too (false: beyond the last window of 64 bytes).
#[inline]
fn ascii_words(
    data: &[u8],
    mut i: usize,
    win: &mut Window,
    avx2: bool,
    btotal: &mut u32,
    mut add: impl FnMut(u128, usize),
) -> (usize, bool) {
    loop {
        let mut o = i.wrapping_sub(win.at);
        if o > WIN_WORD {
            let Some(Ok(src)) = data.get(i..i + 64).map(<&[u8; 64]>::try_from) else {
                return (i, false);
            };
            win.at = i;
            win.cls = classes(src, avx2);
            o = 0;
        }
        let (letter, space) = (win.cls.letter >> o, win.cls.space >> o);
        if space & 1 != 0 {
            i += (!space).trailing_zeros() as usize;
            continue;
        }
        let n = (!letter).trailing_zeros() as usize;
        // o + n < 64: o <= WIN_WORD and n < WORD_LEN
        if n == 0 || n >= WORD_LEN || (space >> n) & 1 == 0 {
            return (i, true);
        }
        let Some(Ok(raw)) = data.get(i..i + WORD_LEN).map(<[u8; WORD_LEN]>::try_from) else {
            return (i, false);
        };
        let mask = MASKS[n];
        *btotal = btotal.wrapping_add(n as u32);
        if n >= MIN_WLEN {
            add((u128::from_le_bytes(raw) & mask) | (CASE_BIT & mask), n);
        }
        i += n + 1;
    }
}

/// The effects of a whole tag or comment ([`whole_tag`]).
struct Tag {
    /// Bytes taken after the `<`, through the `>`.
    len: usize,
    btotal: u32,
    xsummed: u32,
    tag_len: u32,
}

/// A whole tag or comment of an HTML entity at once, `rest` being the
/// bytes after its `<`: what the states [`St::StartTag`] and then
/// [`St::SkipTag`] or [`St::SkipComment`] add up to before they return to
/// [`St::Word`] at its `>`. None, leaving the tag to those states, where
/// they would do something else: an empty tag name (junk), a character
/// reference in a tag, the failsafe length passed, or `rest` ending first.
#[inline]
fn whole_tag(rest: &[u8], tbl: &[u8; 256], avx2: bool) -> Option<Tag> {
    let mut name = [0u8; 3];
    let mut tl = 0usize;
    let stop = loop {
        let c = rest.get(tl)?.to_ascii_lowercase();
        if ((c.is_ascii_lowercase() || c.is_ascii_digit()) && tl < WORD_LEN)
            || ((c == b'/' || c == b'!') && tl == 0)
            || (c == b'-' && (1..=2).contains(&tl))
        {
            if let Some(d) = name.get_mut(tl) {
                *d = c;
            }
            tl += 1;
            continue;
        }
        break c;
    };
    if tl == 0 {
        return None;
    }
    // the name: a count each, and the tag as one more
    let mut t = Tag {
        len: tl,
        btotal: tl as u32,
        xsummed: tl as u32 + 1,
        tag_len: tl as u32,
    };
    if stop == b'>' {
        t.len += 1;
        t.xsummed += 1;
        t.btotal += 1;
        return Some(t);
    }
    // every byte of a tag counts once more in btotal than in a comment
    let per_byte = u32::from(&name != b"!--");
    // 64 bytes at a time up to the `>` (or `&` in a tag) while they are
    // ASCII: the bytes before it add up by their classes (only with the
    // x86-64 kernel: byte by byte, the classes cost more than they save)
    while let Some(src) = rest.get(t.len..t.len + 64) {
        if !avx2 {
            break;
        }
        let Ok(src) = <&[u8; 64]>::try_from(src) else {
            break;
        };
        let c = classes(src, avx2);
        let stop = c.gt | if per_byte == 1 { c.amp } else { 0 };
        let n = stop.trailing_zeros();
        let before = u64::MAX.checked_shr(64 - n).unwrap_or(0);
        if c.high & before != 0 {
            break;
        }
        let ns = (!c.space & before).count_ones();
        t.btotal += per_byte * n + ns;
        t.xsummed += ns;
        t.tag_len += ns;
        if t.tag_len > FAILSAFE {
            return None;
        }
        t.len += n as usize;
        if n < 64 {
            break;
        }
    }
    for &c in rest.get(t.len..)? {
        t.len += 1;
        if c == b'>' {
            t.xsummed += 1;
            t.btotal += 1 + per_byte;
            return Some(t);
        }
        if c == b'&' && per_byte == 1 {
            return None;
        }
        let ns = u32::from(tbl[usize::from(c)] != FC_SP);
        t.btotal += per_byte + ns;
        t.xsummed += ns;
        t.tag_len += ns;
        if t.tag_len > FAILSAFE {
            return None;
        }
    }
    None
}

/// Fuz2 state.
#[derive(Clone, Default)]
pub struct Fuz2 {
    btotal: u32,
    xsummed: u32,
    wlen: usize,
    tag_len: u32,
    cref: Cref,
    /// The word so far, zero-padded, first byte in the low bits (kept in
    /// an integer so that it stays in a register).
    w: u128,
    tag: [u8; WORD_LEN],
    st: St,
    langs: [Lang; LANGS],
}

impl Fuz2 {
    /// English words recognised so far (steers how host names are kept).
    #[inline]
    pub fn wtotal0(&self) -> u32 {
        self.langs[0].wtotal
    }

    /// A complete word `w` of `wlen` bytes: count and hash it for every
    /// language among `allowed` (a bit per language) whose list holds it.
    #[inline(always)]
    fn add_word(
        list: &words::Table,
        langs: &mut [Lang; LANGS],
        hub: &mut Hub,
        w: u128,
        wlen: usize,
        allowed: u8,
    ) {
        let m = list.lookup(w) & allowed;
        // every allowed language, its counts and stream advanced by zero
        // where its list lacks the word: which lists hold a word follows
        // no pattern the processor can predict, and a mispredicted branch
        // per word cost more than the work done for nothing
        for (l, lang) in langs.iter_mut().enumerate() {
            if allowed & 1 << l == 0 {
                continue;
            }
            let bit = usize::from(m >> l & 1);
            let n = wlen * bit;
            lang.wtotal += bit as u32;
            lang.wsummed += n as u32;
            hub.push_word(md5x::FUZ2 + l, w, n);
        }
    }

    #[inline]
    fn junk(&mut self) {
        self.wlen = SKIP;
        self.st = St::Word;
    }

    /// One piece of decoded text of an entity of type `ct` (which an
    /// `<html>` tag may change) and charset `cset`.
    pub fn update(&mut self, hub: &mut Hub, data: &[u8], ct: &mut Ct, cset: Charset) {
        let tbl = cset.table();
        let list = words::table();
        // the languages whose lists apply to this charset
        let allowed = (0..LANGS)
            .filter(|&l| !matches!(words::CHARSETS[l], Some(c) if c != cset))
            .fold(0u8, |m, l| m | 1 << l);
        let avx2 = classes::avx2();
        // the classes of 64 bytes only with the x86-64 kernel: byte by
        // byte, they cost more than they save
        let mut win = Window {
            at: NO_WINDOW,
            cls: Classes::default(),
            retry: if avx2 { 0 } else { usize::MAX },
        };
        let mut i = 0;
        while i < data.len() {
            match self.st {
                St::Word => {
                    // the hot loop: keep the word state in locals
                    let html = *ct == Ct::Html;
                    let mut wlen = self.wlen;
                    let mut btotal = self.btotal;
                    let mut w = self.w;
                    while i < data.len() {
                        if !self.cref.active() {
                            // fast path: runs of letters ('&' is no letter)
                            // ended by white space
                            loop {
                                // ascii_word would fail where ascii_words
                                // found a byte of another kind
                                let mut decided = false;
                                if wlen == 0 && i >= win.retry {
                                    (i, decided) = ascii_words(
                                        data,
                                        i,
                                        &mut win,
                                        avx2,
                                        &mut btotal,
                                        |bits, n| {
                                            Self::add_word(
                                                list,
                                                &mut self.langs,
                                                hub,
                                                bits,
                                                n,
                                                allowed,
                                            )
                                        },
                                    );
                                    if decided {
                                        // not again before the next byte
                                        win.retry = i + 1;
                                    }
                                }
                                if wlen == 0 && !decided {
                                    if let Some((n, bits)) = ascii_word(data, i, tbl) {
                                        btotal = btotal.wrapping_add(n as u32);
                                        if n >= MIN_WLEN {
                                            Self::add_word(
                                                list,
                                                &mut self.langs,
                                                hub,
                                                bits,
                                                n,
                                                allowed,
                                            );
                                        }
                                        i += n + 1;
                                        continue;
                                    }
                                }
                                let rest = data.get(i..).unwrap_or(&[]);
                                let n = letter_run(rest, tbl);
                                if n != 0 {
                                    btotal = btotal.wrapping_add(n as u32);
                                    if wlen + n <= WORD_LEN {
                                        let bits = word_bits(rest, n, tbl);
                                        w = if wlen == 0 {
                                            bits
                                        } else {
                                            w | bits << (8 * wlen)
                                        };
                                        wlen += n;
                                    } else {
                                        wlen = SKIP;
                                    }
                                    i += n;
                                }
                                let Some(&c) = data.get(i) else { break };
                                if tbl[usize::from(c)] != FC_SP {
                                    break;
                                }
                                if (MIN_WLEN..=WORD_LEN).contains(&wlen) {
                                    Self::add_word(list, &mut self.langs, hub, w, wlen, allowed);
                                }
                                wlen = 0;
                                w = 0;
                                i += 1;
                            }
                            if i >= data.len() {
                                break;
                            }
                        }
                        let mut c = data[i];
                        i += 1;
                        let mut raw = true;
                        if c == b'&' && html && !self.cref.active() {
                            // a whole reference at once where the data holds it
                            match cref::whole(data.get(i..).unwrap_or(&[])) {
                                Some(Whole::Byte(r, n)) => {
                                    c = r;
                                    i += n;
                                    raw = false;
                                }
                                Some(Whole::Swallowed) => {
                                    i += 1;
                                    continue;
                                }
                                None => {}
                            }
                        }
                        if self.cref.active() || (raw && c == b'&' && html) {
                            match self.cref.step(c) {
                                Step::More => continue,
                                Step::Done => {}
                                Step::DoneBefore => i -= 1,
                            }
                            c = self.cref.result;
                        }
                        let cc = tbl[usize::from(c)];
                        if cc >= FC_A {
                            btotal += 1;
                            if wlen < WORD_LEN {
                                w |= u128::from(cc) << (8 * wlen);
                                wlen += 1;
                            } else {
                                wlen = SKIP;
                            }
                            continue;
                        }
                        if cc == FC_SP {
                            if (MIN_WLEN..=WORD_LEN).contains(&wlen) {
                                Self::add_word(list, &mut self.langs, hub, w, wlen, allowed);
                            }
                            wlen = 0;
                            w = 0;
                            continue;
                        }
                        btotal += 1;
                        if cc == FC_LT && html {
                            // a whole tag at once where the data holds it
                            if let Some(t) = whole_tag(data.get(i..).unwrap_or(&[]), tbl, avx2) {
                                btotal = btotal.wrapping_add(t.btotal);
                                self.xsummed = self.xsummed.wrapping_add(t.xsummed);
                                self.tag_len = t.tag_len;
                                i += t.len;
                                continue;
                            }
                        }
                        if cc == FC_LT {
                            self.tag_len = 0;
                            self.tag = [0; WORD_LEN];
                            self.st = St::StartTag;
                            break;
                        }
                        // junk: the word is spoiled
                        wlen = SKIP;
                    }
                    self.wlen = wlen;
                    self.btotal = btotal;
                    self.w = w;
                }
                St::StartTag => {
                    // the tag name, up to the first byte that changes the state
                    while i < data.len() {
                        let c = data[i].to_ascii_lowercase();
                        let tl = self.tag_len as usize;
                        if ((c.is_ascii_lowercase() || c.is_ascii_digit()) && tl < WORD_LEN)
                            || ((c == b'/' || c == b'!') && tl == 0)
                            || (c == b'-' && (1..=2).contains(&tl))
                        {
                            self.tag[tl] = c;
                            self.tag_len += 1;
                            self.btotal += 1;
                            i += 1;
                            continue;
                        }
                        if tl == 4 && *ct != Ct::Html && &self.tag[..4] == b"html" {
                            *ct = Ct::Html;
                        }
                        if *ct == Ct::Html && tl > 0 {
                            self.xsummed += self.tag_len + 1;
                            if c == b'>' {
                                self.xsummed += 1;
                                self.btotal += 1;
                                i += 1;
                                self.st = St::Word;
                                break;
                            }
                            self.st = if tl >= 3 && &self.tag[..3] == b"!--" {
                                St::SkipComment
                            } else {
                                St::SkipTag
                            };
                        } else {
                            self.junk();
                        }
                        break;
                    }
                }
                St::SkipTag => {
                    let (mut btotal, mut xsummed, mut tag_len) =
                        (self.btotal, self.xsummed, self.tag_len);
                    while i < data.len() {
                        if !self.cref.active() {
                            let n = skip_run(
                                &data[i..],
                                b'&',
                                1,
                                tbl,
                                &mut btotal,
                                &mut xsummed,
                                &mut tag_len,
                            );
                            i += n;
                            if i >= data.len() {
                                break;
                            }
                        }
                        btotal += 1;
                        let mut c = data[i];
                        i += 1;
                        if self.cref.active() || c == b'&' {
                            match self.cref.step(c) {
                                Step::More => continue,
                                Step::Done => {}
                                Step::DoneBefore => i -= 1,
                            }
                            c = self.cref.result;
                        }
                        if c == b'>' {
                            xsummed += 1;
                            btotal += 1;
                            self.st = St::Word;
                            break;
                        }
                        if tbl[usize::from(c)] != FC_SP {
                            xsummed += 1;
                            btotal += 1;
                            tag_len += 1;
                            if tag_len > FAILSAFE {
                                self.junk();
                                break;
                            }
                        }
                    }
                    (self.btotal, self.xsummed, self.tag_len) = (btotal, xsummed, tag_len);
                }
                St::SkipComment => {
                    let (mut btotal, mut xsummed, mut tag_len) =
                        (self.btotal, self.xsummed, self.tag_len);
                    while i < data.len() {
                        let n = skip_run(
                            &data[i..],
                            b'>',
                            0,
                            tbl,
                            &mut btotal,
                            &mut xsummed,
                            &mut tag_len,
                        );
                        i += n;
                        if i >= data.len() {
                            break;
                        }
                        let c = data[i];
                        i += 1;
                        if c == b'>' {
                            xsummed += 1;
                            btotal += 1;
                            self.st = St::Word;
                            break;
                        }
                        if tbl[usize::from(c)] != FC_SP {
                            xsummed += 1;
                            btotal += 1;
                            tag_len += 1;
                            if tag_len > FAILSAFE {
                                self.junk();
                                break;
                            }
                        }
                    }
                    (self.btotal, self.xsummed, self.tag_len) = (btotal, xsummed, tag_len);
                }
            }
        }
    }

    /// The MD5 stream whose digest is the checksum, complete, or None when
    /// DCC computes none; `url` supplies host names for texts with few
    /// words. The caller finishes the stream (together with Body's).
    pub fn finish_lane(&mut self, hub: &mut Hub, url: &Url) -> Option<usize> {
        let mut best = 0;
        for l in 1..LANGS {
            if self.langs[best].wtotal < self.langs[l].wtotal {
                best = l;
            }
        }
        let xsummed = self.xsummed;
        let btotal = self.btotal;
        let lang = &self.langs[best];
        let lane = md5x::FUZ2 + best;
        if lang.wtotal < FEW_WORDS && lang.wsummed.wrapping_add(xsummed).wrapping_mul(10) < btotal {
            return None;
        }
        if lang.wtotal < MIN_WORDS {
            let doms = u32::from(url.doms);
            if lang.wtotal + doms * (MIN_WORDS / 2) < MIN_WORDS {
                return None;
            }
            let end = url.dom_start.saturating_sub(1).min(url.doms_buf.len());
            hub.push(lane, &url.doms_buf[..end]);
        }
        Some(lane)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::tables::{LATIN1, LATIN2};

    #[test]
    fn ascii_shortcuts_agree_with_the_class_tables() {
        for tbl in [&LATIN1, &LATIN2] {
            for c in 0..=0x7fu8 {
                let letter = tbl[usize::from(c)] >= FC_A;
                let x = u128::from(c) | (u128::from(b' ') << 8);
                assert_eq!(non_letters(x) & 0x80 == 0, letter, "byte {c:#x}");
                assert_eq!(non_letters8(x as u64) & 0x80 == 0, letter, "byte {c:#x}");
                if letter {
                    assert_eq!(word_bits(&[c], 1, tbl), u128::from(tbl[usize::from(c)]));
                }
            }
        }
        let t = &LATIN1;
        assert_eq!(letter_run(b"Hello, world and more", t), 5);
        assert_eq!(letter_run(b"abcdefghijklmnopqrstu v", t), 21);
        assert_eq!(letter_run(b"caf\xe9 au lait, s'il vous plait", t), 4);
        assert_eq!(letter_run(b"abc", t), 3);
        assert_eq!(letter_run(b"", t), 0);
        assert_eq!(letter_run(b"abcdefg\xe9 abcdefgh", t), 8);
        assert_eq!(letter_run(b"abcdefgh abcdefgh", t), 8);
        assert_eq!(letter_run(b"abcdefghijk abcdefgh", t), 11);
        assert_eq!(letter_run(b"1abcdefghijklmnopq", t), 0);
    }

    /// Per language: words, their letters and the MD5 of the stream.
    type LangState = (u32, u32, [u8; 16]);

    /// Counts and word streams of `text` (an HTML entity) fed in pieces of
    /// `step` bytes.
    fn state(text: &[u8], step: usize) -> (u32, u32, u32, Vec<LangState>) {
        let mut f = Fuz2::default();
        let mut hub = Hub::default();
        let mut ct = Ct::Html;
        for piece in text.chunks(step) {
            f.update(&mut hub, piece, &mut ct, Charset::Latin1);
        }
        let langs = (0..LANGS)
            .map(|l| {
                let lang = &f.langs[l];
                (lang.wtotal, lang.wsummed, hub.finish(md5x::FUZ2 + l))
            })
            .collect();
        (f.btotal, f.xsummed, f.wlen as u32, langs)
    }

    #[test]
    fn whole_tags_and_references_equal_the_byte_wise_states() {
        let parts: [&[u8]; 16] = [
            b"the ",
            b"offer ",
            b"<p style=\"x: y\">",
            b"<!-- a b -->",
            b"&amp;",
            b"&nbsp;",
            b"&#65;",
            b"&#x4a",
            b"& ",
            b"</b>",
            b"<a href=\"h&amp;\">",
            b"<>",
            b"<1>",
            b"money\n",
            b"caf\xe9 ",
            b"<b\xe9 x>",
        ];
        let mut seed = 11u64;
        for round in 0..300 {
            let mut text = Vec::new();
            for _ in 0..(round % 60) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.extend_from_slice(parts[(seed >> 33) as usize % parts.len()]);
            }
            let want = state(&text, 1);
            for step in [2, 3, 7, 64, text.len().max(1)] {
                assert_eq!(state(&text, step), want, "round {round} step {step}");
            }
        }
    }
}

#[cfg(test)]
mod model;
