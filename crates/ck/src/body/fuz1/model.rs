//! Fuz1 against the byte-at-a-time definition: every byte through the
//! general path (the URL recogniser for 'h', '=' and within URLs), none
//! through the fast paths, gives the same letters hashed and checksum.

use super::*;
use crate::body::classes::tests::with_portable;
use proptest::prelude::*;

fn model_update(f: &mut Fuz1, hub: &mut Hub, data: &[u8], wtotal0: u32) {
    let mut i = 0;
    while let Some(&raw) = data.get(i) {
        i += 1;
        let c = raw.to_ascii_lowercase();
        if c == b'h' || c == b'=' || !f.url.idle() {
            match f.ck_url(c, &mut i, wtotal0) {
                UrlRes::Fwd => {}
                UrlRes::CkSpace => {
                    while f.cp >= BUF_LEN - super::super::url::HOST_MAX {
                        match f.eol {
                            None => f.flush_all(hub),
                            Some(e) => {
                                f.add_sum(hub, e);
                                f.buf.copy_within(e..f.cp, 0);
                                f.cp -= e;
                                f.eol = None;
                                f.buf[f.cp..].fill(0);
                            }
                        }
                    }
                }
                UrlRes::Skip => continue,
            }
        }
        if c.is_ascii_lowercase() {
            f.buf[f.cp] = c;
            f.cp += 1;
            if f.cp >= BUF_LEN {
                f.flush_all(hub);
                f.url.set_idle();
            }
        } else if c == b'\n' {
            if let Some(e) = f.eol.filter(|&e| f.cp > e) {
                if f.cp - e <= MAX_LINE && greeting(&f.buf[e..f.cp]) {
                    f.cp = e;
                    f.url.set_idle();
                    continue;
                }
            }
            if f.cp >= BUF_LEN - (MAX_LINE + 5) {
                f.flush_all(hub);
                f.url.set_idle();
            } else {
                f.eol = Some(f.cp);
            }
        }
    }
    if f.cp != 0 && f.eol == Some(f.cp) {
        f.flush_all(hub);
    }
}

const TOKENS: &[&[u8]] = &[
    b"hello ",
    b"dear ",
    b"date",
    b"greeting",
    b"the money ",
    b"h",
    b"H",
    b"ht",
    b"hh",
    b"h&",
    b"h\n",
    b"http://",
    b"https://",
    b"HTTP://",
    b"=",
    b"=\"",
    b"='",
    b"=h",
    b"www.",
    b"example.",
    b"com",
    b"co.uk",
    b"1.2.3.4",
    b"user:pw@",
    b"@",
    b":80",
    b"/",
    b"\\",
    b"\"",
    b"'",
    b"<",
    b">",
    b" ",
    b"\n",
    b"\r\n",
    b"\t",
    b"&amp;",
    b"&#104;",
    b"&#x68",
    b"&#x",
    b"&",
    b"&#116;",
    b"..",
    b"xn--",
    b"\xc3\xa9",
    b"\xe9",
    b"\xa0",
    b"%41",
    b"?a=b&c=d",
    b"-",
    b"_",
    b"0",
    b"abcdefghijklmnopqrstuvwxyz",
];

fn text() -> impl Strategy<Value = Vec<u8>> {
    let tok = prop_oneof![
        40 => proptest::sample::select(TOKENS.to_vec()).prop_map(<[u8]>::to_vec),
        2 => (1usize..400).prop_map(|n| vec![b'a'; n]),
        1 => (1usize..2100).prop_map(|n| vec![b'x'; n]),
    ];
    proptest::collection::vec(tok, 0..120).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn fast_paths_equal_the_byte_model(
        text in text(),
        cuts in proptest::collection::vec(0usize..12_000, 0..5),
        many_words in any::<bool>(),
    ) {
        let wtotal0 = if many_words { super::super::fuz2::MIN_WORDS } else { 0 };
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (text.len() + 1)).collect();
        points.sort_unstable();
        points.push(text.len());
        let pieces = |f: &mut Fuz1, hub: &mut Hub, model: bool| {
            let mut pos = 0;
            for &p in &points {
                if model {
                    model_update(f, hub, &text[pos..p], wtotal0);
                } else {
                    f.update(hub, &text[pos..p], wtotal0);
                }
                pos = p;
            }
        };
        let mut m = Fuz1::default();
        let mut mh = Hub::default();
        pieces(&mut m, &mut mh, true);
        let want = (m.total, mh.finish(FUZ1));
        for off in [false, true] {
            let mut f = Fuz1::default();
            let mut hub = Hub::default();
            with_portable(off, || pieces(&mut f, &mut hub, false));
            prop_assert_eq!((f.total, hub.finish(FUZ1)), want);
            // once saturated, the text (and its host names, then never
            // used by Fuz2) is no longer looked at
            if !f.saturated(wtotal0) {
                prop_assert_eq!(
                    (f.url.doms, f.url.dom_start, &f.url.doms_buf[..]),
                    (m.url.doms, m.url.dom_start, &m.url.doms_buf[..])
                );
            }
        }
    }
}
