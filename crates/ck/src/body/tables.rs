//! Character classes of the fuzzy checksums and the HTML character
//! references DCC understands.
//!
//! DCC classifies every byte of the text with one of two 256-entry tables,
//! chosen by the `charset` of the MIME entity: ISO 8859-2 for Polish text,
//! ISO 8859-1 for everything else. A class value of [`FC_A`] or more is a
//! (lower-cased) letter that belongs to a word; the other values are classes.

/// Smallest class value that is a letter of a word (`'a'`).
pub const FC_A: u8 = b'a';
/// White space: ends a word.
pub const FC_SP: u8 = b' ';
/// Junk that spoils the current word.
pub const FC_JK: u8 = b'#';
/// `<`: the possible start of an HTML tag.
pub const FC_LT: u8 = b'<';
/// Ignored punctuation (treated like junk by the word collector).
pub const FC_SK: u8 = 0;

/// Which character class table an entity uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// ISO 8859-1, the default.
    Latin1,
    /// ISO 8859-2, selected by `charset=iso-8859-2`.
    Latin2,
}

impl Charset {
    /// The class table of this charset.
    #[inline]
    pub fn table(self) -> &'static [u8; 256] {
        match self {
            Charset::Latin1 => &LATIN1,
            Charset::Latin2 => &LATIN2,
        }
    }
}

/// Classes shared by both tables: control characters, ASCII punctuation,
/// digits and letters, and the C1 range.
const fn ascii_class(c: u8) -> u8 {
    match c {
        b'\t' | b'\n' | 0x0c | b'\r' => FC_SP,
        b' ' | b'!' | b'"' | b'\'' | b'(' | b')' | b',' | b'.' => FC_SP,
        b':' | b';' | b'=' | b'>' | b'?' => FC_SP,
        b'<' => FC_LT,
        b'A'..=b'Z' => c + 32,
        b'a'..=b'z' => c,
        _ => FC_JK,
    }
}

const fn latin1_class(c: u8) -> u8 {
    match c {
        0x00..=0x9f => ascii_class(c),
        0xa0 | 0xa1 | 0xa9 | 0xab | 0xae | 0xbb | 0xbf => FC_SP,
        0xa8 | 0xad | 0xaf | 0xb4 | 0xb8 => FC_SK,
        0xa2..=0xbf => FC_JK,
        0xd7 | 0xf7 => FC_JK,
        0xdf => 0xdf,
        // capital letters fold onto the small ones
        0xc0..=0xde => c + 0x20,
        _ => c,
    }
}

const fn latin2_class(c: u8) -> u8 {
    match c {
        0x00..=0x9f => ascii_class(c),
        0xa0 => FC_SP,
        0xa4 | 0xa7 | 0xb0 | 0xd7 | 0xf7 => FC_JK,
        0xa2 | 0xa8 | 0xad | 0xb2 | 0xb4 | 0xb7 | 0xb8 | 0xbd | 0xff => FC_SK,
        // every other byte is a letter and keeps its value
        _ => c,
    }
}

const fn build(latin2: bool) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if latin2 {
            latin2_class(i as u8)
        } else {
            latin1_class(i as u8)
        };
        i += 1;
    }
    t
}

/// Classes for ISO 8859-1.
pub static LATIN1: [u8; 256] = build(false);
/// Classes for ISO 8859-2.
pub static LATIN2: [u8; 256] = build(true);

/// The byte an HTML character reference name stands for, or 0 when DCC does
/// not know the name (names are case sensitive; `&amp;` is not among them).
/// Typographic spaces, quotes, dashes and bullets become a blank.
pub fn cref_byte(name: &[u8]) -> u8 {
    match name {
        b"quot" => b'"',
        b"apos" => b'\'',
        b"lt" => b'<',
        b"gt" => b'>',
        b"nbsp" => 0xa0,
        b"iexcl" => 0xa1,
        b"copy" => 0xa9,
        b"laquo" => 0xab,
        b"shy" => 0xad,
        b"reg" => 0xae,
        b"macr" => 0xaf,
        b"uml" => 0xa8,
        b"acute" => 0xb4,
        b"cedil" => 0xb8,
        b"raquo" => 0xbb,
        b"iquest" => 0xbf,
        b"hellip" | b"emsp" | b"ensp" | b"thinsp" | b"zwj" | b"bull" | b"dagger" => b' ',
        b"lsquo" | b"rsquo" | b"sbquo" | b"ldquo" | b"rdquo" | b"bdquo" => b' ',
        b"lsaquo" | b"rsaquo" => b' ',
        b"Agrave" => 0xc0,
        b"Aacute" => 0xc1,
        b"Acirc" => 0xc2,
        b"Atilde" => 0xc3,
        b"Auml" => 0xc4,
        b"Aring" => 0xc5,
        b"AElig" => 0xc6,
        b"Ccedil" => 0xc7,
        b"Egrave" => 0xc8,
        b"Eacute" => 0xc9,
        b"Ecirc" => 0xca,
        b"Euml" => 0xcb,
        b"Igrave" => 0xcc,
        b"Iacute" => 0xcd,
        b"Icirc" => 0xce,
        b"Iuml" => 0xcf,
        b"ETH" => 0xd0,
        b"Ntilde" => 0xd1,
        b"Ograve" => 0xd2,
        b"Oacute" => 0xd3,
        b"Ocirc" => 0xd4,
        b"Otilde" => 0xd5,
        b"Ouml" => 0xd6,
        b"Oslash" => 0xd8,
        b"Ugrave" => 0xd9,
        b"Uacute" => 0xda,
        b"Ucirc" => 0xdb,
        b"Uuml" => 0xdc,
        b"Yacute" => 0xdd,
        b"THORN" => 0xde,
        b"szlig" => 0xdf,
        b"agrave" => 0xe0,
        b"aacute" => 0xe1,
        b"acirc" => 0xe2,
        b"atilde" => 0xe3,
        b"auml" => 0xe4,
        b"aring" => 0xe5,
        b"aelig" => 0xe6,
        b"ccedil" => 0xe7,
        b"egrave" => 0xe8,
        b"eacute" => 0xe9,
        b"ecirc" => 0xea,
        b"euml" => 0xeb,
        b"igrave" => 0xec,
        b"iacute" => 0xed,
        b"icirc" => 0xee,
        b"iuml" => 0xef,
        b"eth" => 0xf0,
        b"ntilde" => 0xf1,
        b"ograve" => 0xf2,
        b"oacute" => 0xf3,
        b"ocirc" => 0xf4,
        b"otilde" => 0xf5,
        b"ouml" => 0xf6,
        b"oslash" => 0xf8,
        b"ugrave" => 0xf9,
        b"uacute" => 0xfa,
        b"ucirc" => 0xfb,
        b"uuml" => 0xfc,
        b"yacute" => 0xfd,
        b"thorn" => 0xfe,
        b"yuml" => 0xff,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(LATIN1[b'A' as usize], b'a');
        assert_eq!(LATIN1[b'0' as usize], FC_JK);
        assert_eq!(LATIN1[b'<' as usize], FC_LT);
        assert_eq!(LATIN1[0xc9], 0xe9);
        assert_eq!(LATIN1[0xdf], 0xdf);
        assert_eq!(LATIN1[0xa0], FC_SP);
        assert_eq!(LATIN1[0xb5], FC_JK);
        assert_eq!(LATIN2[0xa1], 0xa1);
        assert_eq!(LATIN2[0xa2], FC_SK);
        assert_eq!(LATIN2[0xff], FC_SK);
        assert_eq!(LATIN2[0xc9], 0xc9);
    }

    #[test]
    fn crefs() {
        assert_eq!(cref_byte(b"lt"), b'<');
        assert_eq!(cref_byte(b"eacute"), 0xe9);
        assert_eq!(cref_byte(b"amp"), 0);
    }
}
