//! The checksum lines dccsight reads, without I/O.
//!
//! The input is what `dccproc -C` (or a log file's table) prints: an
//! X-DCC header line, a `reported:` heading, then one line per checksum,
//! its type name and four hex words, then columns that are ignored:
//!
//! ```text
//! X-DCC-brand-Metrics: host 1200; Body=1 Fuz1=1 Fuz2=1
//!                             reported: 1               checksum  server
//!                        IP: 3e63dc0d da76f064 8704670e 45076b06
//!                      Body: e7ab4056 66b5f492 922c6974 e3be4999       1
//! ```
//!
//! As in the original, the input is read in pieces of at most 199 bytes
//! (its line buffer of 200), a blank line starts a new block whose header
//! and heading are skipped again, `env_To` lines are ignored, and a line
//! that is not understood ends the run with a complaint naming the line.

use tally_ck::{CkType, Sum};
use tally_white::names::whiteclnt_type;
use tally_wire::ids::unescape;

/// Bytes of the original's line buffer: a line is read in pieces of at
/// most one less.
pub const LINE_BUF: usize = 200;

/// Longest checksum type name (`Message-ID:`), the original's buffer of 12
/// bytes less its terminating NUL.
pub const MAX_TYPE_LEN: usize = 11;

/// `EX_USAGE`, for a type name that is too long.
pub const EX_USAGE: i32 = 64;
/// `EX_DATAERR`, for a type or value that is not understood.
pub const EX_DATAERR: i32 = 65;

/// The white space of the original's parsers.
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// The length of the next piece of `data`: through its first `\n`, at
/// most [`LINE_BUF`] - 1 bytes, or all that is left.
pub fn piece_len(data: &[u8]) -> usize {
    let max = data.len().min(LINE_BUF - 1);
    match data[..max].iter().position(|&c| c == b'\n') {
        Some(i) => i + 1,
        None => max,
    }
}

/// A line that ends the run: the complaint and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The complaint, with the place (` in line N of SOURCE`).
    pub msg: String,
    /// The exit code.
    pub code: i32,
}

/// The reader's state between pieces.
#[derive(Debug, Clone)]
pub struct Lines {
    /// 0: a header line may come; 1: the heading may come; 2: neither.
    skip_heading: u8,
    lineno: u32,
    /// What the input is called in complaints.
    source: String,
}

impl Lines {
    /// A reader of the input called `source` in complaints (a file's
    /// path, or `stdin`).
    pub fn new(source: &str) -> Lines {
        Lines {
            skip_heading: 0,
            lineno: 0,
            source: source.to_string(),
        }
    }

    fn place(&self) -> String {
        format!(" in line {} of {}", self.lineno, self.source)
    }

    /// One piece of input (see [`piece_len`]): the checksum it holds, or
    /// `None` for a blank, heading or `env_To` line.
    pub fn piece(&mut self, raw: &[u8]) -> Result<Option<(CkType, Sum)>, LineError> {
        self.lineno += 1;
        // a C string: a NUL ends it
        let raw = &raw[..raw.iter().position(|&c| c == 0).unwrap_or(raw.len())];
        let start = raw.iter().take_while(|&&c| is_ws(c)).count();
        if start == raw.len() {
            self.skip_heading = 0;
            return Ok(None);
        }
        // blanks before the last byte (normally the '\n') go
        let t = &raw[start..];
        let (mid, last) = t.split_at(t.len() - 1);
        let keep = mid.len()
            - mid
                .iter()
                .rev()
                .take_while(|&&c| matches!(c, b'\r' | b' ' | b'\t'))
                .count();
        let mut line = mid[..keep].to_vec();
        line.extend_from_slice(last);

        if self.skip_heading == 0 && starts_with_ci(&line, b"X-DCC-") {
            self.skip_heading = 1;
            return Ok(None);
        }
        if self.skip_heading <= 1 && starts_with_ci(&line, b"reported:") {
            self.skip_heading = 2;
            return Ok(None);
        }

        let (word, rest) = match type_word(&line) {
            Ok(v) => v,
            Err(shown) => {
                return Err(LineError {
                    msg: format!(
                        "checksum type \"{}...\" too long{}",
                        String::from_utf8_lossy(shown),
                        self.place()
                    ),
                    code: EX_USAGE,
                })
            }
        };
        let ty = whiteclnt_type(&word);
        if ty == Some(CkType::EnvTo) {
            // envelope recipients are never sent to a server
            return Ok(None);
        }
        let value = rest.strip_suffix(b"\n").unwrap_or(rest);
        match tally_white::hex_ck(&word, ty, value) {
            Ok(ck) => Ok(Some(ck)),
            Err(e) => Err(LineError {
                msg: format!("{e}{}", self.place()),
                code: EX_DATAERR,
            }),
        }
    }
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The first word of `line` (which starts with no white space), with the
/// original's backslash escapes (`\n`, `\r`, `\t`, `\b`, up to three octal
/// digits, any other byte as itself), up to a NUL it may hold; and the
/// rest of the line after the white space that follows it. `Err` with the
/// start of the line to show when the word is longer than
/// [`MAX_TYPE_LEN`].
fn type_word(line: &[u8]) -> Result<(Vec<u8>, &[u8]), &[u8]> {
    let mut word = Vec::new();
    let mut p = 0;
    loop {
        let mut c = line.get(p).copied().unwrap_or(0);
        if c != 0 {
            p += 1;
            if c == b'\\' && line.get(p).is_some_and(|&n| n != 0) {
                (c, p) = unescape(line, p);
            } else if is_ws(c) {
                c = 0;
                p += line[p..].iter().take_while(|&&b| is_ws(b)).count();
            }
        }
        if word.len() > MAX_TYPE_LEN {
            return Err(&line[..p.min(16)]);
        }
        if c == 0 {
            break;
        }
        word.push(c);
    }
    // an escaped NUL ends the word where it is
    Ok((word, &line[p..]))
}

#[cfg(test)]
mod tests;
