//! Bit masks of the byte classes Fuz2's scanner needs, for 64 bytes at a
//! time: ASCII letters, ASCII white space (as the class tables have it),
//! `>`, `&` and the bytes above 0x7f (whose classes depend on the charset
//! and are left to the tables).
//!
//! The masks come from two 16-entry tables indexed by the low and high
//! four bits of a byte, whose entries are ANDed: each class is a union of
//! bits, each bit a set of low nibbles times a set of high nibbles. The
//! x86-64 kernel does this for 32 bytes per instruction; [`portable`]
//! does it byte by byte, and a test holds both equal to the class tables.

/// Bit `i` of each mask is set when byte `i` is of that class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Classes {
    /// ASCII letters.
    pub letter: u64,
    /// ASCII bytes of class white space.
    pub space: u64,
    /// `>`.
    pub gt: u64,
    /// `&`.
    pub amp: u64,
    /// Bytes above 0x7f.
    pub high: u64,
}

/// Letters 0x41-0x4f and 0x61-0x6f.
const L1: u8 = 1;
/// Letters 0x50-0x5a and 0x70-0x7a.
const L2: u8 = 2;
/// White space 0x09-0x0d (but 0x0b).
const S0: u8 = 4;
/// White space 0x20-0x2f: space, `!`, `"`, `'`, `(`, `)`, `,`, `.`.
const S2: u8 = 8;
/// White space 0x3a-0x3f: `:`, `;`, `=`, `>`, `?`.
const S3: u8 = 16;
/// `>`.
pub const GT: u8 = 32;
/// `&`.
pub const AMP: u8 = 64;

/// The bits of letters.
pub const LETTER: u8 = L1 | L2;
/// The bits of white space.
pub const SPACE: u8 = S0 | S2 | S3;

/// The class bits a low nibble allows.
pub const LO_NIBBLE: [u8; 16] = {
    let mut t = [0u8; 16];
    let mut n = 0;
    while n < 16 {
        let mut b = 0;
        if n >= 1 {
            b |= L1;
        }
        if n <= 0xa {
            b |= L2;
        }
        if n == 0x9 || n == 0xa || n == 0xc || n == 0xd {
            b |= S0;
        }
        if matches!(n, 0x0 | 0x1 | 0x2 | 0x7 | 0x8 | 0x9 | 0xc | 0xe) {
            b |= S2;
        }
        if matches!(n, 0xa | 0xb | 0xd | 0xe | 0xf) {
            b |= S3;
        }
        if n == 0xe {
            b |= GT;
        }
        if n == 0x6 {
            b |= AMP;
        }
        t[n] = b;
        n += 1;
    }
    t
};

/// The class bits a high nibble allows (none above 7).
pub const HI_NIBBLE: [u8; 16] = {
    let mut t = [0u8; 16];
    t[0x0] = S0;
    t[0x2] = S2 | AMP;
    t[0x3] = S3 | GT;
    t[0x4] = L1;
    t[0x5] = L2;
    t[0x6] = L1;
    t[0x7] = L2;
    t
};

/// The class bits of one byte.
#[inline]
const fn bits(c: u8) -> u8 {
    LO_NIBBLE[(c & 0xf) as usize] & HI_NIBBLE[(c >> 4) as usize]
}

/// [`Classes`] of 64 bytes, byte by byte.
pub fn portable(src: &[u8; 64]) -> Classes {
    let mut out = Classes::default();
    for (i, &c) in src.iter().enumerate() {
        let b = bits(c);
        let at = 1u64 << i;
        if b & LETTER != 0 {
            out.letter |= at;
        }
        if b & SPACE != 0 {
            out.space |= at;
        }
        if b & GT != 0 {
            out.gt |= at;
        }
        if b & AMP != 0 {
            out.amp |= at;
        }
        if c >= 0x80 {
            out.high |= at;
        }
    }
    out
}

/// [`Classes`] of 64 bytes, with the x86-64 kernel where `avx2` (which
/// callers set from [`super::x86::avx2`]).
#[inline]
pub fn classes(src: &[u8; 64], avx2: bool) -> Classes {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: avx2 is true only where x86::avx2() is
        return unsafe { super::x86::classes(src) };
    }
    let _ = avx2;
    portable(src)
}

/// Whether the x86-64 kernels may run (and, with [`switch`], are not
/// switched off on this thread).
pub fn avx2() -> bool {
    #[cfg(any(test, feature = "kernel-switch"))]
    if switch::off() {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    return super::x86::avx2();
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The x86-64 kernels switched off per thread, so that tests and the
/// `kernels` fuzz target can hold them equal to the portable paths (only
/// in tests and with the feature `kernel-switch`: a production build does
/// not ask).
#[cfg(any(test, feature = "kernel-switch"))]
pub mod switch {
    use std::cell::Cell;

    thread_local! {
        static PORTABLE: Cell<bool> = const { Cell::new(false) };
    }

    /// Whether the kernels are switched off on this thread.
    #[inline]
    pub fn off() -> bool {
        PORTABLE.with(Cell::get)
    }

    /// `f` run with the x86-64 kernels switched off on this thread if
    /// `portable` (and on again after, also if `f` panics).
    pub fn with_portable<T>(portable: bool, f: impl FnOnce() -> T) -> T {
        struct On;
        impl Drop for On {
            fn drop(&mut self) {
                PORTABLE.with(|p| p.set(false));
            }
        }
        PORTABLE.with(|p| p.set(portable));
        let _on = On;
        f()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    pub use super::switch::with_portable;
    use proptest::prelude::{any, prop_oneof, Strategy};
    use proptest::sample::select;

    /// Byte strings of up to `max` bytes for the fast paths' property tests:
    /// bytes of `common` `wc` times in `wc + ws + 1`, bytes of `stops` (what
    /// makes a kernel stop or the byte-wise path decide) `ws` times, and
    /// any byte once.
    pub fn text(
        common: &[u8],
        wc: u32,
        stops: &[u8],
        ws: u32,
        max: usize,
    ) -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            wc => select(common.to_vec()),
            ws => select(stops.to_vec()),
            1 => any::<u8>(),
        ];
        proptest::collection::vec(byte, 0..max)
    }
    use super::*;
    use crate::body::tables::{FC_A, FC_SP, LATIN1, LATIN2};
    use crate::header::{CkConfig, Envelope};
    use crate::message::MessageCks;
    use std::path::{Path, PathBuf};

    /// The files of the test corpus.
    fn corpus() -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus")];
        while let Some(d) = dirs.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for p in rd.flatten().map(|e| e.path()) {
                if p.is_dir() {
                    dirs.push(p);
                } else if !matches!(p.extension().and_then(|x| x.to_str()), Some("tsv" | "md")) {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    /// The checksums of a message, as text.
    fn sums(msg: &[u8]) -> String {
        let mut cks = MessageCks::new(&CkConfig::default(), &Envelope::default());
        for piece in msg.chunks(64 * 1024) {
            cks.feed(piece);
        }
        format!("{:?}", cks.finish())
    }

    #[test]
    fn corpus_sums_equal_without_the_kernels() {
        let files = corpus();
        assert!(files.len() > 1000, "corpus not found");
        for f in files {
            let msg = std::fs::read(&f).expect("corpus file");
            let with = sums(&msg);
            let without = with_portable(true, || sums(&msg));
            assert_eq!(with, without, "{}", f.display());
        }
    }

    #[test]
    fn classes_agree_with_the_class_tables() {
        for c in 0..=255u8 {
            let b = bits(c);
            let ascii = c < 0x80;
            for tbl in [&LATIN1, &LATIN2] {
                let cc = tbl[usize::from(c)];
                if ascii {
                    assert_eq!(b & LETTER != 0, cc >= FC_A, "byte {c:#x}");
                    assert_eq!(b & SPACE != 0, cc == FC_SP, "byte {c:#x}");
                } else {
                    assert_eq!(b, 0, "byte {c:#x}");
                }
            }
            assert_eq!(b & GT != 0, c == b'>');
            assert_eq!(b & AMP != 0, c == b'&');
        }
        let all: Vec<u8> = (0..=255u8).collect();
        for start in [0, 64, 128, 192] {
            let win: &[u8; 64] = all[start..start + 64].try_into().expect("64 bytes");
            assert_eq!(classes(win, avx2()), portable(win));
            let mut rev = *win;
            rev.reverse();
            assert_eq!(classes(&rev, avx2()), portable(&rev));
        }
    }
}
