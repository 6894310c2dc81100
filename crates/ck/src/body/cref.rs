//! HTML character references (`&name;`, `&#123;`, `&#x7b;`) as DCC decodes
//! them while looking at URLs and words.
//!
//! The decoder is fed one byte at a time after the `&`. Its quirks are part
//! of the checksums: the byte after a lone `&` that starts neither a name nor
//! a number is swallowed, numbers saturate at 255, unknown names give 0, and a
//! reference not ended by `;` hands back its terminating byte to be looked at
//! again.

use super::tables::cref_byte;

/// What [`Cref::step`] did with a byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The byte was absorbed; more are needed.
    More,
    /// The reference is complete and the byte (a `;`) was part of it.
    Done,
    /// The reference is complete, but the byte was not part of it and must
    /// be processed again after the decoded byte.
    DoneBefore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum St {
    #[default]
    Idle,
    Start,
    Num,
    Dec,
    Hex,
    Name,
}

/// State of one character reference decoder.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cref {
    st: St,
    name: [u8; 16],
    len: u8,
    /// The decoded byte once a step reports completion.
    pub result: u8,
}

impl Cref {
    /// True while a reference is being collected.
    #[inline]
    pub fn active(&self) -> bool {
        self.st != St::Idle
    }

    /// Feed one byte. The first byte fed to an idle decoder is taken to be
    /// the `&` itself.
    pub fn step(&mut self, c: u8) -> Step {
        match self.st {
            St::Idle => {
                self.st = St::Start;
                return Step::More;
            }
            St::Start => {
                if c == b'#' {
                    self.st = St::Num;
                } else if c.is_ascii_alphabetic() {
                    self.name = [0; 16];
                    self.name[0] = c;
                    self.len = 1;
                    self.st = St::Name;
                } else {
                    self.st = St::Idle;
                    return Step::More;
                }
            }
            St::Num => {
                if c == b'x' || c == b'X' {
                    self.result = 0;
                    self.st = St::Hex;
                } else if c.is_ascii_digit() {
                    self.result = c - b'0';
                    self.st = St::Dec;
                } else {
                    self.result = b'#';
                    self.st = St::Idle;
                    return Step::DoneBefore;
                }
            }
            St::Dec => {
                if !c.is_ascii_digit() {
                    return self.end(c);
                }
                let n = u32::from(self.result) * 10 + u32::from(c - b'0');
                self.result = n.min(255) as u8;
            }
            St::Hex => {
                let d = match c {
                    b'0'..=b'9' => c - b'0',
                    b'a'..=b'f' | b'A'..=b'F' => (c & 0xf) + 9,
                    _ => return self.end(c),
                };
                let n = (u32::from(self.result) << 4) + u32::from(d);
                self.result = n.min(255) as u8;
            }
            St::Name => {
                if c.is_ascii_alphanumeric() {
                    // an over-long name is consumed but cannot match
                    if usize::from(self.len) < self.name.len() {
                        self.name[usize::from(self.len)] = c;
                        self.len += 1;
                    }
                } else {
                    let n = usize::from(self.len).min(self.name.len());
                    self.result = cref_byte(&self.name[..n]);
                    return self.end(c);
                }
            }
        }
        Step::More
    }

    #[inline]
    fn end(&mut self, c: u8) -> Step {
        self.st = St::Idle;
        if c == b';' {
            Step::Done
        } else {
            Step::DoneBefore
        }
    }
}

/// What a whole character reference decodes to ([`whole`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whole {
    /// The decoded byte, and how many bytes after the `&` the reference
    /// took (a terminating byte other than `;` is not taken).
    Byte(u8, usize),
    /// The `&` and the byte after it are swallowed without a result.
    Swallowed,
}

/// A whole character reference at once: what feeding an idle [`Cref`] the
/// `&` and then the bytes of `rest` (those after the `&`) gives, or None
/// when `rest` ends before the reference does (then the caller feeds the
/// bytes one by one).
#[inline]
pub fn whole(rest: &[u8]) -> Option<Whole> {
    let first = *rest.first()?;
    let end = |k: usize| {
        // the terminating byte at k is taken only if it is ';'
        rest.get(k).map(|&c| k + usize::from(c == b';'))
    };
    if first.is_ascii_alphabetic() {
        let n = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let name = rest.get(..n.min(16))?;
        let taken = end(n)?;
        return Some(Whole::Byte(cref_byte(name), taken));
    }
    if first != b'#' {
        return Some(Whole::Swallowed);
    }
    let second = *rest.get(1)?;
    let (digits, radix, start) = match second {
        b'x' | b'X' => (&rest[2.min(rest.len())..], 16, 2),
        b'0'..=b'9' => (&rest[1..], 10, 1),
        _ => return Some(Whole::Byte(b'#', 1)),
    };
    let mut v = 0u32;
    let mut n = 0;
    for &c in digits {
        let Some(d) = char::from(c).to_digit(radix) else {
            break;
        };
        // saturating at 255 after each digit, as the byte-wise decoder
        v = (v * radix + d).min(255);
        n += 1;
    }
    let taken = end(start + n)?;
    Some(Whole::Byte(v as u8, taken))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &[u8]) -> (u8, Step) {
        let mut c = Cref::default();
        for &b in s {
            let r = c.step(b);
            if r != Step::More {
                return (c.result, r);
            }
        }
        (c.result, Step::More)
    }

    #[test]
    fn refs() {
        assert_eq!(run(b"&lt;"), (b'<', Step::Done));
        assert_eq!(run(b"&#65;"), (65, Step::Done));
        assert_eq!(run(b"&#x41 "), (0x41, Step::DoneBefore));
        assert_eq!(run(b"&#999;"), (255, Step::Done));
        assert_eq!(run(b"&#z"), (b'#', Step::DoneBefore));
        assert_eq!(run(b"& x"), (0, Step::More));
    }

    /// [`whole`] as the byte-wise decoder: its result, or None if `rest`
    /// ends first.
    fn by_steps(rest: &[u8]) -> Option<Whole> {
        let mut c = Cref::default();
        c.step(b'&');
        for (k, &b) in rest.iter().enumerate() {
            match c.step(b) {
                Step::More if !c.active() => return Some(Whole::Swallowed),
                Step::More => {}
                Step::Done => return Some(Whole::Byte(c.result, k + 1)),
                Step::DoneBefore => return Some(Whole::Byte(c.result, k)),
            }
        }
        None
    }

    #[test]
    fn whole_references_equal_the_byte_wise_decoder() {
        let bytes = b"#xX09afAFgG;lt nbsp&;\xe9";
        let mut seed = 5u64;
        for _ in 0..200_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 60) as usize + 1;
            let rest: Vec<u8> = (0..len)
                .map(|k| bytes[(seed >> (4 * k % 56)) as usize % bytes.len()])
                .collect();
            assert_eq!(
                whole(&rest),
                by_steps(&rest),
                "{:?}",
                String::from_utf8_lossy(&rest)
            );
        }
        for r in [
            &b"lt;"[..],
            b"#65;",
            b"#x41 ",
            b"#999;",
            b"#z",
            b" x",
            b"nbsp",
            b"#x",
            b"#",
            b"",
        ] {
            assert_eq!(whole(r), by_steps(r), "{:?}", String::from_utf8_lossy(r));
        }
        let long = b"abcdefghijklmnopqrstuvwxyz;";
        assert_eq!(whole(long), by_steps(long));
    }
}
