//! The filter's answer line, parsed without I/O.
//!
//! One line of at most [`MAX_ANSWER`] bytes, ended by a newline (a
//! carriage return before it is allowed, and the end of the stream counts
//! as the end of a line that is not empty). The first word, in any case,
//! is the verdict:
//!
//! - `same`: keep the program's own verdict;
//! - `accept`: deliver;
//! - `discard`: accept the message and throw it away;
//! - `reject CODE XCODE TEXT`: refuse it for good, `CODE` a `5yz` SMTP
//!   reply code and `XCODE` an enhanced status code `5.y.z`;
//! - `tempfail CODE XCODE TEXT`: refuse it for now (`4yz`, `4.y.z`).
//!
//! Words are separated by one or more spaces or tabs; the text is the
//! rest of the line and may be empty. Control characters and bytes that
//! are not UTF-8 are refused, so nothing the filter says can break an
//! SMTP reply or a log line.

use std::fmt;

/// The longest answer line, newline included.
pub const MAX_ANSWER: usize = 1024;

/// What the filter said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Keep the program's verdict.
    Same,
    /// Deliver.
    Accept,
    /// Accept and throw away.
    Discard,
    /// Refuse for good (`5yz`).
    Reject(Refusal),
    /// Refuse for now (`4yz`).
    Tempfail(Refusal),
}

/// The SMTP reply of a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// SMTP reply code, e.g. `550`.
    pub rcode: String,
    /// Enhanced status code, e.g. `5.7.1`.
    pub xcode: String,
    /// The text, possibly empty.
    pub text: String,
}

impl Answer {
    /// Whether the answer asks for something (every answer but `same`):
    /// the page's "positive result", acted on only with `option
    /// xfltr-on`.
    pub fn is_positive(&self) -> bool {
        *self != Answer::Same
    }
}

impl fmt::Display for Answer {
    /// The answer as the filter wrote it (normalised spacing), for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Same => f.write_str("same"),
            Answer::Accept => f.write_str("accept"),
            Answer::Discard => f.write_str("discard"),
            Answer::Reject(r) => write!(f, "reject {} {} {}", r.rcode, r.xcode, r.text),
            Answer::Tempfail(r) => write!(f, "tempfail {} {} {}", r.rcode, r.xcode, r.text),
        }
    }
}

/// Why an answer line was refused: the byte offset in the line and what
/// was wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerError {
    /// Byte offset in the line.
    pub offset: usize,
    /// What was wrong.
    pub why: &'static str,
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.why, self.offset)
    }
}

impl std::error::Error for AnswerError {}

fn err(offset: usize, why: &'static str) -> AnswerError {
    AnswerError { offset, why }
}

/// The line in `buf`: the bytes before the first newline (without a
/// carriage return before it), or all of `buf` when it holds none.
pub fn first_line(buf: &[u8]) -> &[u8] {
    let line = match buf.iter().position(|&b| b == b'\n') {
        Some(i) => &buf[..i],
        None => buf,
    };
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Parse one answer line (its newline removed or not).
pub fn parse_answer(buf: &[u8]) -> Result<Answer, AnswerError> {
    let line = first_line(buf);
    if line.len() >= MAX_ANSWER {
        return Err(err(MAX_ANSWER, "answer line too long"));
    }
    if let Some(i) = line
        .iter()
        .position(|&b| b != b'\t' && b.is_ascii_control())
    {
        return Err(err(i, "control character"));
    }
    let text = std::str::from_utf8(line).map_err(|e| err(e.valid_up_to(), "not UTF-8"))?;
    let mut words = Words { s: text, pos: 0 };
    let Some((at, verb)) = words.next() else {
        return Err(err(0, "empty answer"));
    };
    let refusal = |words: &mut Words<'_>, class: u8| -> Result<Refusal, AnswerError> {
        let (at, rcode) = words.next().ok_or(err(line.len(), "missing reply code"))?;
        if !is_rcode(rcode, class) {
            return Err(err(at, "bad SMTP reply code"));
        }
        let (at, xcode) = words
            .next()
            .ok_or(err(line.len(), "missing enhanced status code"))?;
        if !is_xcode(xcode, class) {
            return Err(err(at, "bad enhanced status code"));
        }
        Ok(Refusal {
            rcode: rcode.to_string(),
            xcode: xcode.to_string(),
            text: words.rest().to_string(),
        })
    };
    let simple = |words: &mut Words<'_>, a: Answer| match words.next() {
        Some((at, _)) => Err(err(at, "unexpected word after the verdict")),
        None => Ok(a),
    };
    match verb.to_ascii_lowercase().as_str() {
        "same" => simple(&mut words, Answer::Same),
        "accept" => simple(&mut words, Answer::Accept),
        "discard" => simple(&mut words, Answer::Discard),
        "reject" => refusal(&mut words, b'5').map(Answer::Reject),
        "tempfail" => refusal(&mut words, b'4').map(Answer::Tempfail),
        _ => Err(err(at, "unknown verdict")),
    }
}

/// Words separated by blanks, with their byte offsets.
struct Words<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Words<'a> {
    fn skip_blanks(&mut self) {
        let rest = &self.s[self.pos..];
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t']).len();
    }

    fn next(&mut self) -> Option<(usize, &'a str)> {
        self.skip_blanks();
        let rest = &self.s[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let n = rest.find([' ', '\t']).unwrap_or(rest.len());
        let at = self.pos;
        self.pos += n;
        Some((at, &rest[..n]))
    }

    fn rest(&mut self) -> &'a str {
        self.skip_blanks();
        self.s[self.pos..].trim_end_matches([' ', '\t'])
    }
}

fn is_rcode(w: &str, class: u8) -> bool {
    w.len() == 3 && w.bytes().all(|b| b.is_ascii_digit()) && w.as_bytes()[0] == class
}

fn is_xcode(w: &str, class: u8) -> bool {
    let mut parts = w.split('.');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let first = parts.next();
    first.is_some_and(|p| p.as_bytes() == [class])
        && ok(parts.next())
        && ok(parts.next())
        && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(r: &str, x: &str, t: &str) -> Refusal {
        Refusal {
            rcode: r.into(),
            xcode: x.into(),
            text: t.into(),
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(parse_answer(b"accept\n"), Ok(Answer::Accept));
        assert_eq!(parse_answer(b"SAME\r\n"), Ok(Answer::Same));
        assert_eq!(parse_answer(b"  discard  "), Ok(Answer::Discard));
        assert_eq!(
            parse_answer(b"reject 550 5.7.1 no thanks\nmore"),
            Ok(Answer::Reject(refusal("550", "5.7.1", "no thanks")))
        );
        assert_eq!(
            parse_answer(b"tempfail\t451  4.7.1"),
            Ok(Answer::Tempfail(refusal("451", "4.7.1", "")))
        );
        assert!(!Answer::Same.is_positive() && Answer::Accept.is_positive());
    }

    #[test]
    fn refused() {
        let e = |b: &[u8]| parse_answer(b).unwrap_err();
        assert_eq!(e(b""), err(0, "empty answer"));
        assert_eq!(e(b"\n"), err(0, "empty answer"));
        assert_eq!(e(b"maybe"), err(0, "unknown verdict"));
        assert_eq!(e(b"reject 450 4.7.1 x"), err(7, "bad SMTP reply code"));
        assert_eq!(
            e(b"tempfail 451 5.7.1 x"),
            err(13, "bad enhanced status code")
        );
        assert_eq!(e(b"reject 550"), err(10, "missing enhanced status code"));
        assert_eq!(
            e(b"accept now"),
            err(7, "unexpected word after the verdict")
        );
        assert_eq!(e(b"reject 550 5.7.1 a\x07b"), err(18, "control character"));
        assert_eq!(e(b"accept\xff"), err(6, "not UTF-8"));
        assert_eq!(
            e(&[b'a'; MAX_ANSWER]),
            err(MAX_ANSWER, "answer line too long")
        );
        assert_eq!(e(b"reject 550 5.7.1.2 x").why, "bad enhanced status code");
    }

    #[test]
    fn display_parses_again() {
        for a in [
            "same",
            "accept",
            "discard",
            "reject 554 5.7.9 go away",
            "tempfail 421 4.3.0 later",
        ] {
            assert_eq!(parse_answer(a.as_bytes()).unwrap().to_string(), a);
        }
    }

    proptest::proptest! {
        /// Any bytes: no panic, and an accepted answer prints as a line
        /// that parses to the same answer.
        #[test]
        fn any_bytes(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            if let Ok(a) = parse_answer(&b) {
                proptest::prop_assert_eq!(parse_answer(a.to_string().as_bytes()), Ok(a));
            }
        }

        /// Well-formed refusals come back with their codes and text.
        #[test]
        fn refusals(r in 0u16..100, x in 0u16..1000, y in 0u16..1000, text in "[ -~]{0,80}") {
            let line = format!("reject 5{r:02} 5.{x}.{y} {text}\n");
            let Ok(Answer::Reject(got)) = parse_answer(line.as_bytes()) else {
                return Err(proptest::test_runner::TestCaseError::fail(line));
            };
            proptest::prop_assert_eq!(got.rcode, format!("5{r:02}"));
            proptest::prop_assert_eq!(got.xcode, format!("5.{x}.{y}"));
            proptest::prop_assert_eq!(got.text, text.trim_matches(' ').to_string());
        }
    }
}
