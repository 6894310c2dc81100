//! The reader of the original's `dcc_conf`: a file of shell variable
//! assignments that the original's start scripts and cron job source with
//! `/bin/sh`.
//!
//! What is understood, as the shell understands it:
//! - blank lines and comments (`#` at the start of a word);
//! - `NAME=value` and `export NAME=value` (also several on one line), where
//!   the value is a concatenation of plain characters, `'…'` (taken
//!   literally), `"…"` (with `$NAME`, `${NAME}`, `${NAME:-word}`,
//!   `${NAME-word}`, `${NAME:=word}` expanded and `\"`, `\\`, `\$`, `` \` ``
//!   escapes) and unquoted expansions; a backslash before a newline
//!   continues the value on the next line;
//! - the `if … fi` block of the original's default file that turns
//!   `DCC_INFO_LOG_FACILITY` and `DCC_ERROR_LOG_FACILITY` into
//!   `DCC_LOG_ARGS`: it is skipped, and [`crate::start`] computes the same
//!   options from the two variables.
//!
//! Anything else (commands, other conditionals, command substitution) is an
//! error naming the file and line. Variable names that no start script or
//! cron job reads are warnings naming the file and line.

use std::collections::HashMap;
use std::fmt;

use crate::vars;

/// A problem at one line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file as given to [`parse`].
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.msg)
    }
}

impl std::error::Error for Problem {}

/// The variables of a `dcc_conf` after reading it, with the warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conf {
    vars: HashMap<String, String>,
    lines: HashMap<String, usize>,
    /// Unknown variable names and other harmless oddities.
    pub warnings: Vec<Problem>,
}

impl Conf {
    /// The value of `name`, or `None` when the file does not set it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The value of `name`, empty when unset (as the shell expands it).
    pub fn val(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Set `name` (used for the start programs' own options).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.lines.remove(name);
        self.vars.insert(name.to_string(), value.into());
    }

    /// The line that last set `name` in the file (`None` when it was not
    /// set there).
    pub fn line_of(&self, name: &str) -> Option<usize> {
        self.lines.get(name).copied()
    }

    /// Whether `name` is set, even to the empty string.
    pub fn is_set(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }
}

/// Read the text of a `dcc_conf`; `file` names it in messages.
pub fn parse(text: &str, file: &str) -> Result<Conf, Problem> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        line: 1,
        file,
        conf: Conf::default(),
        expanded: 0,
    };
    p.run()?;
    Ok(p.conf)
}

/// The longest value a variable may get by expansion. Far above any real
/// `dcc_conf` value, it stops `A="$A$A"` lines repeated from doubling a
/// value until memory runs out.
pub const MAX_VALUE: usize = 64 * 1024;

/// The most bytes all expansions of one file may add, so that many lines
/// copying a long value cannot run memory out either.
pub const MAX_EXPANDED: usize = 1024 * 1024;

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
    file: &'a str,
    conf: Conf,
    /// Bytes added by expansions so far.
    expanded: usize,
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Characters that end an unquoted word or are shell syntax we refuse.
fn is_special(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')' | b'`'
    )
}

impl Parser<'_> {
    fn err<T>(&self, line: usize, msg: impl Into<String>) -> Result<T, Problem> {
        Err(Problem {
            file: self.file.to_string(),
            line,
            msg: msg.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek() {
            if c == b' ' || c == b'\t' || c == b'\r' {
                self.pos += 1;
            } else if c == b'\\' && self.s.get(self.pos + 1) == Some(&b'\n') {
                self.bump();
                self.bump();
            } else {
                break;
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.bump() {
            if c == b'\n' {
                break;
            }
        }
    }

    fn run(&mut self) -> Result<(), Problem> {
        loop {
            self.skip_blanks();
            let Some(c) = self.peek() else {
                return Ok(());
            };
            match c {
                b'\n' | b';' => {
                    self.bump();
                }
                b'#' => self.skip_line(),
                _ if is_name_start(c) => self.statement()?,
                _ => {
                    let line = self.line;
                    return self.err(line, format!("{}: not a variable assignment", self.rest()));
                }
            }
        }
    }

    /// The rest of the current line, for messages.
    fn rest(&self) -> String {
        let end = self.s[self.pos..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.s.len(), |n| self.pos + n);
        let text = String::from_utf8_lossy(&self.s[self.pos..end]);
        let text = text.trim();
        let mut short: String = text.chars().take(60).collect();
        if short.len() < text.len() {
            short.push('…');
        }
        format!("\"{short}\"")
    }

    fn name(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(is_name) {
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.pos]).into_owned()
    }

    fn statement(&mut self) -> Result<(), Problem> {
        let line = self.line;
        let start = self.pos;
        let mut name = self.name();
        if name == "if" && matches!(self.peek(), None | Some(b' ' | b'\t')) {
            self.pos = start;
            return self.if_block();
        }
        if name == "export" && self.peek().is_some_and(|c| c == b' ' || c == b'\t') {
            self.skip_blanks();
            if !self.peek().is_some_and(is_name_start) {
                return self.err(line, "export without a variable name");
            }
            name = self.name();
            if self.peek() != Some(b'=') {
                // `export NAME`: nothing to do for us
                return self.end_of_statement(line);
            }
        }
        if self.peek() != Some(b'=') {
            self.pos = start;
            return self.err(
                line,
                format!(
                    "{}: not a variable assignment (only NAME=value lines are understood)",
                    self.rest()
                ),
            );
        }
        self.bump();
        let value = self.value(line)?;
        if !vars::is_known(&name) {
            self.conf.warnings.push(Problem {
                file: self.file.to_string(),
                line,
                msg: format!("unknown variable {name} ignored"),
            });
        }
        self.conf.lines.insert(name.clone(), line);
        self.conf.vars.insert(name, value);
        self.end_of_statement(line)
    }

    /// After an assignment: blanks, then the end of the line, `;`, a
    /// comment or another assignment.
    fn end_of_statement(&mut self, line: usize) -> Result<(), Problem> {
        self.skip_blanks();
        match self.peek() {
            None | Some(b'\n') | Some(b';') | Some(b'#') => Ok(()),
            Some(c) if is_name_start(c) => {
                // `A=1 B=2` sets both; `A=1 cmd` runs a command: refused
                let save = (self.pos, self.line);
                let _ = self.name();
                let assignment = self.peek() == Some(b'=');
                (self.pos, self.line) = save;
                if assignment {
                    Ok(())
                } else {
                    self.err(
                        line,
                        format!("{}: commands are not understood", self.rest()),
                    )
                }
            }
            Some(_) => self.err(line, format!("{}: unexpected text", self.rest())),
        }
    }

    /// The value of an assignment up to an unquoted blank, newline or `;`.
    fn value(&mut self, line: usize) -> Result<String, Problem> {
        let mut bytes = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                b'\'' => {
                    self.bump();
                    loop {
                        match self.bump() {
                            None => return self.err(line, "unterminated '…' quote"),
                            Some(b'\'') => break,
                            Some(c) => bytes.push(c),
                        }
                    }
                }
                b'"' => {
                    self.bump();
                    loop {
                        match self.bump() {
                            None => return self.err(line, "unterminated \"…\" quote"),
                            Some(b'"') => break,
                            Some(b'\\') => match self.bump() {
                                Some(b'\n') => {}
                                Some(c @ (b'"' | b'\\' | b'$' | b'`')) => bytes.push(c),
                                Some(c) => bytes.extend_from_slice(&[b'\\', c]),
                                None => return self.err(line, "unterminated \"…\" quote"),
                            },
                            Some(b'$') => self.dollar(line, &mut bytes)?,
                            Some(b'`') => {
                                return self.err(line, "command substitution `…` is not understood")
                            }
                            Some(c) => bytes.push(c),
                        }
                    }
                }
                b'\\' => {
                    self.bump();
                    match self.bump() {
                        Some(b'\n') | None => {}
                        Some(c) => bytes.push(c),
                    }
                }
                b'$' => {
                    self.bump();
                    self.dollar(line, &mut bytes)?;
                }
                b'\r' if self.s.get(self.pos + 1) == Some(&b'\n') => {
                    self.bump();
                }
                _ if is_special(c) => {
                    if c == b'`' {
                        return self.err(line, "command substitution `…` is not understood");
                    }
                    if matches!(c, b'&' | b'|' | b'<' | b'>' | b'(' | b')') {
                        return self.err(
                            line,
                            format!("{}: shell syntax not understood", self.rest()),
                        );
                    }
                    break;
                }
                _ => {
                    self.bump();
                    bytes.push(c);
                }
            }
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Add the value of an expansion to `out`, refusing a value that would
    /// grow over [`MAX_VALUE`].
    fn expand(&mut self, line: usize, out: &mut Vec<u8>, v: &[u8]) -> Result<(), Problem> {
        if out.len() + v.len() > MAX_VALUE {
            return self.err(
                line,
                format!("a value longer than {MAX_VALUE} bytes after expansion"),
            );
        }
        self.expanded += v.len();
        if self.expanded > MAX_EXPANDED {
            return self.err(
                line,
                format!("expansions of more than {MAX_EXPANDED} bytes in all"),
            );
        }
        out.extend_from_slice(v);
        Ok(())
    }

    /// `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:=word}`
    /// after the `$`.
    fn dollar(&mut self, line: usize, out: &mut Vec<u8>) -> Result<(), Problem> {
        match self.peek() {
            Some(c) if is_name_start(c) => {
                let n = self.name();
                let v = self.conf.val(&n).as_bytes().to_vec();
                self.expand(line, out, &v)
            }
            Some(b'{') => {
                self.bump();
                if !self.peek().is_some_and(is_name_start) {
                    return self.err(line, "bad ${…} expansion");
                }
                let n = self.name();
                let colon = self.peek() == Some(b':');
                if colon {
                    self.bump();
                }
                let op = self.peek();
                match op {
                    Some(b'}') if !colon => {
                        self.bump();
                        let v = self.conf.val(&n).as_bytes().to_vec();
                        self.expand(line, out, &v)
                    }
                    Some(b'-') | Some(b'=') => {
                        self.bump();
                        let mut word = Vec::new();
                        loop {
                            match self.bump() {
                                None | Some(b'\n') => return self.err(line, "unterminated ${…}"),
                                Some(b'}') => break,
                                Some(b'$') => self.dollar(line, &mut word)?,
                                Some(c) => word.push(c),
                            }
                        }
                        let cur = self.conf.get(&n);
                        let use_word = match cur {
                            None => true,
                            Some(v) => colon && v.is_empty(),
                        };
                        if use_word {
                            let w = String::from_utf8_lossy(&word).into_owned();
                            self.expand(line, out, w.as_bytes())?;
                            if op == Some(b'=') {
                                self.conf.vars.insert(n, w);
                            }
                            Ok(())
                        } else {
                            let v = cur.unwrap_or("").as_bytes().to_vec();
                            self.expand(line, out, &v)
                        }
                    }
                    _ => self.err(line, format!("${{{n}…}}: expansion not understood")),
                }
            }
            Some(b'(') => self.err(line, "command substitution $(…) is not understood"),
            // a lone `$` is itself
            _ => {
                out.push(b'$');
                Ok(())
            }
        }
    }

    /// `if … fi` (nested blocks counted): only the original's block about
    /// the log facilities is accepted, and skipped.
    fn if_block(&mut self) -> Result<(), Problem> {
        let line = self.line;
        let mut depth = 0usize;
        let mut body = String::new();
        loop {
            if self.peek().is_none() {
                return self.err(line, "if without fi");
            }
            let start = self.pos;
            self.skip_line();
            let text = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
            for w in text.split(|c: char| c.is_whitespace() || c == ';') {
                if w == "if" {
                    depth += 1;
                } else if w == "fi" {
                    depth = depth.saturating_sub(1);
                }
            }
            body.push_str(&text);
            if depth == 0 {
                break;
            }
        }
        let about_logs =
            body.contains("DCC_INFO_LOG_FACILITY") || body.contains("DCC_ERROR_LOG_FACILITY");
        let only_logs = body
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("DCC_") || w.starts_with("DCCM_") || w.starts_with("DCCD_"))
            .all(|w| {
                matches!(
                    w,
                    "DCC_INFO_LOG_FACILITY"
                        | "DCC_ERROR_LOG_FACILITY"
                        | "DCC_LOG_ARGS"
                        | "DCC_LOGGER"
                )
            });
        if about_logs && only_logs {
            return Ok(());
        }
        self.err(
            line,
            "shell conditional not understood (only the original's block that sets \
             DCC_LOG_ARGS from the log facilities is)",
        )
    }
}

#[cfg(test)]
mod tests;
