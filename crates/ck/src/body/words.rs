//! The Fuz2 word lists: English, Spanish, Polish and Dutch.
//!
//! The lists are DCC's, stored one word per line in the files of `words/`
//! (bytes as the charset class tables produce them: lower case, ISO 8859-1,
//! or ISO 8859-2 for Polish). They are loaded once into an open-addressing
//! table keyed by the zero-padded 16-byte word, whose value has one bit per
//! language.

use super::tables::Charset;
use std::sync::OnceLock;

/// Number of languages.
pub const LANGS: usize = 4;

/// Charset a language's list applies to; None: any.
pub const CHARSETS: [Option<Charset>; LANGS] = [None, None, Some(Charset::Latin2), None];

const LISTS: [&[u8]; LANGS] = [
    include_bytes!("words/english.txt"),
    include_bytes!("words/spanish.txt"),
    include_bytes!("words/polish.txt"),
    include_bytes!("words/dutch.txt"),
];

/// A word zero-padded to 16 bytes, read as a little-endian integer.
type Key = u128;

/// The loaded word lists (see [`table`]).
pub struct Table {
    keys: Vec<Key>,
    masks: Vec<u8>,
    shift: u32,
}

#[inline]
fn hash(k: Key, shift: u32) -> usize {
    let x = (k as u64) ^ ((k >> 64) as u64).rotate_left(23);
    (x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> shift) as usize
}

fn build() -> Table {
    let n: usize = LISTS.iter().map(|l| l.split(|&b| b == b'\n').count()).sum();
    // at most a quarter full: most words are found at their first slot,
    // which keeps the probe loop predictable
    let mut bits = 4;
    while (1usize << bits) < n * 4 {
        bits += 1;
    }
    let size = 1usize << bits;
    let shift = 64 - bits;
    let mut keys = vec![0u128; size];
    let mut masks = vec![0u8; size];
    for (l, list) in LISTS.iter().enumerate() {
        for w in list.split(|&b| b == b'\n') {
            if w.is_empty() || w.len() > 16 {
                continue;
            }
            let mut k = [0u8; 16];
            k[..w.len()].copy_from_slice(w);
            let k = u128::from_le_bytes(k);
            let mut h = hash(k, shift);
            loop {
                if masks[h] == 0 {
                    keys[h] = k;
                    masks[h] = 1 << l;
                    break;
                }
                if keys[h] == k {
                    masks[h] |= 1 << l;
                    break;
                }
                h = (h + 1) & (size - 1);
            }
        }
    }
    Table { keys, masks, shift }
}

/// The word table, built on first use; callers with many words fetch it
/// once and look words up with [`Table::lookup`].
pub fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(build)
}

impl Table {
    /// The languages (bit `l` for language `l`) whose list holds this word,
    /// given zero-padded to 16 bytes and read as a little-endian integer.
    #[inline]
    pub fn lookup(&self, w: Key) -> u8 {
        let size = self.masks.len();
        let mut h = hash(w, self.shift);
        loop {
            let m = self.masks[h];
            if m == 0 {
                return 0;
            }
            if self.keys[h] == w {
                return m;
            }
            h = (h + 1) & (size - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(w: &[u8]) -> Key {
        let mut k = [0u8; 16];
        k[..w.len()].copy_from_slice(w);
        u128::from_le_bytes(k)
    }

    /// The lists hold exactly the words of DCC 2.3.167's tables (cktbls.c:
    /// 9001 buckets for English, Spanish and Dutch, 2003 for Polish), every
    /// one of 3 to 16 bytes, each found by the original's lookup.
    #[test]
    fn lists_match_dcc_tables() {
        let counts: Vec<usize> = LISTS
            .iter()
            .map(|l| l.split(|&b| b == b'\n').filter(|w| !w.is_empty()).count())
            .collect();
        assert_eq!(counts, [9998, 9998, 2754, 9993]);
        for l in LISTS {
            for w in l.split(|&b| b == b'\n').filter(|w| !w.is_empty()) {
                assert!((3..=16).contains(&w.len()), "{:?}", w);
            }
        }
        let t = table();
        // edge cases of the original's tables: 16 bytes, ISO 8859-1 and
        // 8859-2 bytes, and Polish words with a capital letter (the 8859-2
        // class table does not fold those, and DCC's table keeps them)
        assert_eq!(t.lookup(key(b"vrouwenprogramma")), 1 << 3);
        assert_eq!(t.lookup(key(b"a\xf1adir")), 1 << 1);
        assert_eq!(t.lookup(key(b"\xa3zy")), 1 << 2);
        assert_eq!(t.lookup(key(b"si\xca")), 1 << 2);
        assert_eq!(t.lookup(key(b"\xa6wi\xb1tecznej")), 1 << 2);
        assert_eq!(t.lookup(key(b"pid\xafama")), 1 << 2);
        assert_eq!(t.lookup(key(b"pid\xbfama")), 1 << 2);
        assert_eq!(t.lookup(key(b"purposely")), 1);
        assert_eq!(t.lookup(key(b"plan")), 0b1111);
        assert_eq!(t.lookup(key(b"purposelx")), 0);
    }
}
