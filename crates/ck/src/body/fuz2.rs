//! The Fuz2 checksum: MD5 of the text's words that are in a language's
//! word list, for the language that recognises the most words.
//!
//! Words are runs of letters (by the charset's class table) of 3 to 16
//! bytes; a word touching junk such as digits is ignored. HTML tags and
//! comments are skipped (and only counted), an `<html>` tag in plain text
//! switches the entity to HTML, and character references are decoded in
//! HTML. The checksum is withheld for mostly binary text and for text with
//! fewer than 8 known words, unless host names from URLs make up for them.

use super::cref::{Cref, Step};
use super::mime::Ct;
use super::tables::{Charset, FC_A, FC_LT, FC_SP};
use super::url::{Url, FAILSAFE};
use super::words::{self, LANGS};
use md5::{Digest, Md5};

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

/// Per-language word sums.
#[derive(Clone, Default)]
struct Lang {
    wsummed: u32,
    wtotal: u32,
    md5: Md5,
}

/// Fuz2 state.
#[derive(Clone, Default)]
pub struct Fuz2 {
    btotal: u32,
    xsummed: u32,
    wlen: usize,
    tag_len: u32,
    cref: Cref,
    w: [u8; WORD_LEN],
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

    fn add_word(&mut self, cset: Charset) {
        let mask = words::lookup(&self.w);
        if mask == 0 {
            return;
        }
        let word = &self.w[..self.wlen];
        for (l, lang) in self.langs.iter_mut().enumerate() {
            if mask & (1 << l) == 0 {
                continue;
            }
            if words::CHARSETS[l].is_some_and(|c| c != cset) {
                continue;
            }
            lang.wtotal += 1;
            lang.wsummed += word.len() as u32;
            lang.md5.update(word);
        }
    }

    #[inline]
    fn junk(&mut self) {
        self.wlen = SKIP;
        self.st = St::Word;
    }

    /// One piece of decoded text of an entity of type `ct` (which an
    /// `<html>` tag may change) and charset `cset`.
    pub fn update(&mut self, data: &[u8], ct: &mut Ct, cset: Charset) {
        let tbl = cset.table();
        let mut i = 0;
        while i < data.len() {
            match self.st {
                St::Word => {
                    while i < data.len() {
                        let mut c = data[i];
                        i += 1;
                        if self.cref.active() || (c == b'&' && *ct == Ct::Html) {
                            match self.cref.step(c) {
                                Step::More => continue,
                                Step::Done => {}
                                Step::DoneBefore => i -= 1,
                            }
                            c = self.cref.result;
                        }
                        let cc = tbl[usize::from(c)];
                        if cc >= FC_A {
                            self.btotal += 1;
                            if self.wlen < WORD_LEN {
                                self.w[self.wlen] = cc;
                                self.wlen += 1;
                            } else {
                                self.wlen = SKIP;
                            }
                            continue;
                        }
                        if cc == FC_SP {
                            if (MIN_WLEN..=WORD_LEN).contains(&self.wlen) {
                                self.add_word(cset);
                            }
                            self.wlen = 0;
                            self.w = [0; WORD_LEN];
                            continue;
                        }
                        self.btotal += 1;
                        if cc == FC_LT {
                            self.tag_len = 0;
                            self.tag = [0; WORD_LEN];
                            self.st = St::StartTag;
                            break;
                        }
                        self.junk();
                    }
                }
                St::StartTag => {
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
                            continue;
                        }
                        self.st = if tl >= 3 && &self.tag[..3] == b"!--" {
                            St::SkipComment
                        } else {
                            St::SkipTag
                        };
                    } else {
                        self.junk();
                    }
                }
                St::SkipTag => {
                    while i < data.len() {
                        self.btotal += 1;
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
                            self.xsummed += 1;
                            self.btotal += 1;
                            self.st = St::Word;
                            break;
                        }
                        if tbl[usize::from(c)] != FC_SP {
                            self.xsummed += 1;
                            self.btotal += 1;
                            self.tag_len += 1;
                            if self.tag_len > FAILSAFE {
                                self.junk();
                                break;
                            }
                        }
                    }
                }
                St::SkipComment => {
                    while i < data.len() {
                        let c = data[i];
                        i += 1;
                        if c == b'>' {
                            self.xsummed += 1;
                            self.btotal += 1;
                            self.st = St::Word;
                            break;
                        }
                        if tbl[usize::from(c)] != FC_SP {
                            self.xsummed += 1;
                            self.btotal += 1;
                            self.tag_len += 1;
                            if self.tag_len > FAILSAFE {
                                self.junk();
                                break;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The checksum, or None when DCC computes none; `url` supplies host
    /// names for texts with few words.
    pub fn finish(&mut self, url: &Url) -> Option<[u8; 16]> {
        let mut best = 0;
        for l in 1..LANGS {
            if self.langs[best].wtotal < self.langs[l].wtotal {
                best = l;
            }
        }
        let xsummed = self.xsummed;
        let btotal = self.btotal;
        let lang = &mut self.langs[best];
        if lang.wtotal < FEW_WORDS && lang.wsummed.wrapping_add(xsummed).wrapping_mul(10) < btotal {
            return None;
        }
        if lang.wtotal < MIN_WORDS {
            let doms = u32::from(url.doms);
            if lang.wtotal + doms * (MIN_WORDS / 2) < MIN_WORDS {
                return None;
            }
            let end = url.dom_start.saturating_sub(1).min(url.doms_buf.len());
            lang.md5.update(&url.doms_buf[..end]);
        }
        Some(std::mem::take(&mut lang.md5).finalize().into())
    }
}
