//! Problems found in a whiteclnt file, worded as the original words them:
//! the message, then ` in line N of FILE` (and ` included in MAIN` for an
//! included file).

use std::fmt;

/// Where a line came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Loc {
    /// The file holding the line (the main file or an included one).
    pub file: String,
    /// Line number in that file, from 1.
    pub line: u32,
    /// The main file, when the line is in an included file.
    pub included_in: Option<String>,
}

impl Loc {
    /// ` in line N of FILE` or ` in line N of FILE included in MAIN`.
    pub fn suffix(&self) -> String {
        match &self.included_in {
            None => format!(" in line {} of {}", self.line, self.file),
            Some(main) => format!(
                " in line {} of {} included in {}",
                self.line, self.file, main
            ),
        }
    }
}

/// One problem, with its location and the full message text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WhiteError {
    /// Where the problem is.
    pub loc: Loc,
    /// The complete message, e.g.
    /// `unrecognized checksum type "bogus" in line 3 of whiteclnt`.
    pub text: String,
}

impl WhiteError {
    /// A message whose `%L` (or end, without one) gets the location suffix.
    pub(crate) fn at(loc: &Loc, template: &str) -> WhiteError {
        let suffix = loc.suffix();
        let text = if template.contains("%L") {
            template.replacen("%L", &suffix, 1)
        } else {
            format!("{template}{suffix}")
        };
        WhiteError {
            loc: loc.clone(),
            text,
        }
    }

    /// A message that already names its location(s).
    pub(crate) fn plain(loc: &Loc, text: String) -> WhiteError {
        WhiteError {
            loc: loc.clone(),
            text,
        }
    }

    /// The file holding the problem.
    pub fn file(&self) -> &str {
        &self.loc.file
    }

    /// The line number of the problem.
    pub fn line(&self) -> u32 {
        self.loc.line
    }
}

impl fmt::Display for WhiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for WhiteError {}
