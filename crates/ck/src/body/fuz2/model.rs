//! Fuz2 against a byte-at-a-time model of the original's word collector,
//! written apart from the fast paths of `fuz2.rs`: whatever the pieces, charset
//! and entity type, the counts, the word streams and an entity type changed
//! by `<html>` agree.

use super::*;
use md5::{Digest, Md5};
use proptest::prelude::*;

#[derive(Default)]
struct Model {
    st: u8,
    btotal: u32,
    xsummed: u32,
    wlen: usize,
    tag_len: u32,
    w: [u8; WORD_LEN],
    tag: [u8; WORD_LEN],
    cref: Cref,
    wtotal: [u32; LANGS],
    wsummed: [u32; LANGS],
    streams: [Vec<u8>; LANGS],
}

impl Model {
    fn junk(&mut self) {
        self.wlen = SKIP;
        self.st = 0;
    }

    fn feed(&mut self, data: &[u8], ct: &mut Ct, cset: Charset) {
        let tbl = cset.table();
        let mut i = 0;
        while i < data.len() {
            match self.st {
                0 => {
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
                    } else if cc == FC_SP {
                        if (MIN_WLEN..=WORD_LEN).contains(&self.wlen) {
                            self.add_word(cset);
                        }
                        self.wlen = 0;
                        self.w = [0; WORD_LEN];
                    } else {
                        self.btotal += 1;
                        if cc == FC_LT {
                            self.tag_len = 0;
                            self.tag = [0; WORD_LEN];
                            self.st = 1;
                        } else {
                            self.junk();
                        }
                    }
                }
                1 => {
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
                    if tl == 4 && *ct != Ct::Html && self.tag[..4] == *b"html" {
                        *ct = Ct::Html;
                    }
                    if *ct == Ct::Html && tl > 0 {
                        self.xsummed += self.tag_len + 1;
                        if c == b'>' {
                            self.xsummed += 1;
                            self.btotal += 1;
                            i += 1;
                            self.st = 0;
                        } else if tl >= 3 && self.tag[..3] == *b"!--" {
                            self.st = 3;
                        } else {
                            self.st = 2;
                        }
                    } else {
                        self.junk();
                    }
                }
                st => {
                    self.btotal += u32::from(st == 2);
                    let mut c = data[i];
                    i += 1;
                    if st == 2 && (self.cref.active() || c == b'&') {
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
                        self.st = 0;
                    } else if tbl[usize::from(c)] != FC_SP {
                        self.xsummed += 1;
                        self.btotal += 1;
                        self.tag_len += 1;
                        if self.tag_len > FAILSAFE {
                            self.junk();
                        }
                    }
                }
            }
        }
    }

    fn add_word(&mut self, cset: Charset) {
        let key = u128::from_le_bytes(self.w);
        let m = words::table().lookup(key);
        for l in 0..LANGS {
            if matches!(words::CHARSETS[l], Some(c) if c != cset) || m & 1 << l == 0 {
                continue;
            }
            self.wtotal[l] += 1;
            self.wsummed[l] += self.wlen as u32;
            self.streams[l].extend_from_slice(&self.w[..self.wlen]);
        }
    }
}

const TOKENS: &[&[u8]] = &[
    b"the ",
    b"money ",
    b"offer",
    b" and ",
    b"your ",
    b"el ",
    b"dinero ",
    b"het ",
    b"jest ",
    b"wi\xb6cej ",
    b"caf\xe9 ",
    b"\xc9T\xc9 ",
    b"\xb1",
    b" ",
    b"  ",
    b"\n",
    b"\r\n",
    b"\t",
    b"1",
    b"-",
    b"_",
    b".",
    b",",
    b"<",
    b">",
    b"</",
    b"<p>",
    b"<b>",
    b"<a href=\"x\">",
    b"<a href='&gt;'>",
    b"<html>",
    b"<HTML>",
    b"<htmlx>",
    b"<!--",
    b"-->",
    b"<!-- c -->",
    b"<!x>",
    b"<a-->",
    b"<abcdefghijklmnopqrst>",
    b"<1>",
    b"<>",
    b"&amp;",
    b"&nbsp;",
    b"&lt;",
    b"&lt;p>",
    b"&gt;",
    b"&#65;",
    b"&#x41",
    b"&#x;",
    b"&#;",
    b"&#9999;",
    b"&",
    b"& ",
    b"&eacute",
    b"&abcdefghijklmnopqrs;",
    b"&Ccedil;",
    b"abcdefghijklmnopq ",
    b"abcdefghijklmnop ",
    b"nbsp",
    b"=",
    b"\0",
    b"\xff",
    b"\xa0",
];

fn text() -> impl Strategy<Value = Vec<u8>> {
    let tok = prop_oneof![
        40 => proptest::sample::select(TOKENS.to_vec()).prop_map(<[u8]>::to_vec),
        1 => (1usize..2100).prop_map(|n| b"a=b ".repeat(n / 4 + 1)),
    ];
    proptest::collection::vec(tok, 0..160).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn fast_paths_equal_the_byte_model(
        text in text(),
        cuts in proptest::collection::vec(0usize..10_000, 0..6),
        html in any::<bool>(),
        latin2 in any::<bool>(),
    ) {
        let cset = if latin2 { Charset::Latin2 } else { Charset::Latin1 };
        let start = if html { Ct::Html } else { Ct::Text };
        let mut m = Model::default();
        let mut ct_m = start;
        m.feed(&text, &mut ct_m, cset);

        let mut points: Vec<usize> = cuts.iter().map(|c| c % (text.len() + 1)).collect();
        points.sort_unstable();
        // with the x86-64 kernels and without them
        for off in [false, true] {
            let mut f = Fuz2::default();
            let mut hub = Hub::default();
            let mut ct = start;
            let mut pos = 0;
            crate::body::classes::tests::with_portable(off, || {
                for &p in points.iter().chain([&text.len()]) {
                    f.update(&mut hub, &text[pos..p], &mut ct, cset);
                    pos = p;
                }
            });
            prop_assert_eq!(ct, ct_m);
            prop_assert_eq!(
                (f.btotal, f.xsummed, f.tag_len),
                (m.btotal, m.xsummed, m.tag_len)
            );
            for l in 0..LANGS {
                let want: [u8; 16] = Md5::digest(&m.streams[l]).into();
                prop_assert_eq!(
                    (f.langs[l].wtotal, f.langs[l].wsummed, hub.finish(md5x::FUZ2 + l)),
                    (m.wtotal[l], m.wsummed[l], want),
                    "language {}", l
                );
            }
        }
    }
}
