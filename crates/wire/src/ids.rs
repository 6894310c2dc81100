//! The server's `ids` file: client-IDs and server-IDs with their passwords.
//!
//! Blank lines and lines whose first non-blank character is `#` are
//! ignored. Every other line is
//!
//! ```text
//! ID[,trace][,rpt-ok][,no-reps][,delay=ms[*inflate]]  [pass1 [pass2]]
//! ID,delay=forever
//! ID[,simple|,ignore|,rogue]
//! ```
//!
//! The ID is 100..=16777215 (the anonymous ID cannot be listed). The
//! options other than the server types apply to client-IDs only; the server
//! types to server-IDs only. Passwords are words of 1 to 32 bytes in which
//! a backslash escapes the next character (`\n`, `\r`, `\t`, `\b`, octal
//! digits). The word `unknown` stands for no password. An ID may appear on
//! several lines if the passwords and delays do not conflict; a line without
//! passwords only declares the ID. Parsing is pure: text in, map out.

use crate::header::{CLNT_ID_MAX, CLNT_ID_MIN, ID_ANON, SRVR_ID_MIN};
use crate::sign::Passwd;
use std::collections::BTreeMap;
use std::fmt;

/// Delays of at least this many ms blacklist the ID (the original's
/// longest possible round trip, 4 s).
pub const DELAY_MS_BLACKLIST: u32 = 4000;
/// Longest ID word.
const MAX_ID_WORD: usize = 29;

/// The `delay=` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdDelay {
    /// `delay=forever`: the ID is blacklisted.
    Forever,
    /// `delay=ms[*inflate]`.
    Ms {
        /// Milliseconds.
        ms: u32,
        /// Requests per step of inflation (absent or 0: no inflation).
        inflate: Option<u32>,
    },
}

/// The server-type options of server-IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrvrType {
    /// `simple`.
    Simple,
    /// `ignore`: its flooded reports are ignored.
    Ignore,
    /// `rogue`.
    Rogue,
}

/// What the file says about one ID (all its lines merged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdEntry {
    /// The ID.
    pub id: u32,
    /// Current password.
    pub passwd1: Option<Passwd>,
    /// Next password, also accepted.
    pub passwd2: Option<Passwd>,
    /// `trace`.
    pub trace: bool,
    /// `rpt-ok`: reports trusted despite `dccd -Q`.
    pub rpt_ok: bool,
    /// `no-reps`: no reputations for this client.
    pub no_reps: bool,
    /// `delay=`.
    pub delay: Option<IdDelay>,
    /// `simple`, `ignore` or `rogue`.
    pub srvr_type: Option<SrvrType>,
    /// Line (1-based) that last set this entry.
    pub line: usize,
}

impl IdEntry {
    /// A blacklisted ID never authenticates.
    pub fn is_blacklisted(&self) -> bool {
        match self.delay {
            Some(IdDelay::Forever) => true,
            Some(IdDelay::Ms { ms, .. }) => ms >= DELAY_MS_BLACKLIST,
            None => false,
        }
    }

    /// The passwords, first then second.
    pub fn passwords(&self) -> impl Iterator<Item = &Passwd> {
        self.passwd1.iter().chain(self.passwd2.iter())
    }
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdsErrorKind {
    /// The ID word is longer than 29 bytes.
    IdTooLong,
    /// Not a number in 100..=16777215 (or the anonymous ID).
    InvalidId(String),
    /// An option this format does not have.
    InvalidOption(String),
    /// An option for client-IDs given to a server-ID.
    OnlyForClientIds(String),
    /// A server type given to a client-ID.
    OnlyForServerIds(String),
    /// A bad `delay=` value.
    InvalidDelay(String),
    /// A password longer than 32 bytes.
    PasswordTooLong,
    /// More than two passwords.
    InvalidNextPassword,
    /// An earlier line gave the ID other passwords.
    ConflictingPasswords(u32),
    /// An earlier line gave the ID another delay.
    ConflictingDelays(u32),
}

/// A bad line of an ids file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdsError {
    /// 1-based line number.
    pub line: usize,
    /// The problem.
    pub kind: IdsErrorKind,
}

impl fmt::Display for IdsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            IdsErrorKind::IdTooLong => write!(f, "ID too long")?,
            IdsErrorKind::InvalidId(s) => write!(f, "invalid ID \"{s}\"")?,
            IdsErrorKind::InvalidOption(s) => write!(f, "invalid option \"{s}\"")?,
            IdsErrorKind::OnlyForClientIds(s) => write!(f, "{s} only for client-IDs")?,
            IdsErrorKind::OnlyForServerIds(s) => write!(f, "\"{s}\" only for server-IDs")?,
            IdsErrorKind::InvalidDelay(s) => write!(f, "invalid delay \"{s}\"")?,
            IdsErrorKind::PasswordTooLong => write!(f, "password too long")?,
            IdsErrorKind::InvalidNextPassword => write!(f, "invalid next password")?,
            IdsErrorKind::ConflictingPasswords(id) => {
                write!(f, "conflicting passwords for ID {id}")?
            }
            IdsErrorKind::ConflictingDelays(id) => write!(f, "conflicting delays for ID {id}")?,
        }
        write!(f, " at line {}", self.line)
    }
}

impl std::error::Error for IdsError {}

/// The parsed file: ID -> entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids {
    map: BTreeMap<u32, IdEntry>,
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// The byte of a backslash escape of the original's words (`\n`, `\r`,
/// `\t`, `\b`, up to three octal digits, any other byte as itself),
/// `line[i]` being the byte after the backslash; and the index after the
/// escape. The ids file and dccsight's checksum lines read words so.
pub fn unescape(line: &[u8], mut i: usize) -> (u8, usize) {
    let Some(&e) = line.get(i) else {
        return (b'\\', i);
    };
    i += 1;
    let v = match e {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 8,
        b'0'..=b'7' => {
            let mut v = e - b'0';
            for _ in 0..2 {
                match line.get(i) {
                    Some(&d @ b'0'..=b'7') => {
                        v = (v << 3).wrapping_add(d - b'0');
                        i += 1;
                    }
                    _ => break,
                }
            }
            v
        }
        other => other,
    };
    (v, i)
}

/// Split off one word with backslash escapes; returns the word and the rest
/// of the line with leading blanks removed.
fn word(line: &[u8]) -> (Vec<u8>, &[u8]) {
    let mut i = line.iter().position(|&c| !is_ws(c)).unwrap_or(line.len());
    let mut out = Vec::new();
    while let Some(&c) = line.get(i) {
        i += 1;
        if c == b'\\' && i < line.len() {
            let (v, next) = unescape(line, i);
            i = next;
            out.push(v);
        } else if is_ws(c) {
            break;
        } else {
            out.push(c);
        }
    }
    let rest = &line[i.min(line.len())..];
    let skip = rest.iter().position(|&c| !is_ws(c)).unwrap_or(rest.len());
    (out, &rest[skip..])
}

fn parse_id(s: &str) -> Option<u32> {
    if s.eq_ignore_ascii_case("anon") {
        return Some(ID_ANON);
    }
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let id: u32 = s.parse().ok()?;
    (id == ID_ANON || (SRVR_ID_MIN..=CLNT_ID_MAX).contains(&id)).then_some(id)
}

fn parse_delay(v: &str) -> Option<IdDelay> {
    if v.eq_ignore_ascii_case("forever") {
        return Some(IdDelay::Forever);
    }
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    let ms: u32 = if digits == 0 {
        0
    } else {
        v[..digits].parse().ok()?
    };
    if ms > DELAY_MS_BLACKLIST {
        return None;
    }
    let rest = &v[digits..];
    let inflate = match rest.as_bytes().first() {
        None => None,
        Some(b'*') | Some(b',') => {
            let n = &rest[1..];
            if !n.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let i: u32 = if n.is_empty() { 0 } else { n.parse().ok()? };
            (i != 0).then_some(i)
        }
        Some(_) => return None,
    };
    Some(IdDelay::Ms { ms, inflate })
}

fn passwd_word(w: &[u8]) -> Result<Option<Passwd>, IdsErrorKind> {
    if w.is_empty() || w == b"unknown" {
        return Ok(None);
    }
    if w.len() > Passwd::LEN {
        return Err(IdsErrorKind::PasswordTooLong);
    }
    // A NUL inside the word ends it, as in the original's C strings.
    let end = w.iter().position(|&c| c == 0).unwrap_or(w.len());
    Ok(Passwd::new(&w[..end]))
}

fn parse_line(text: &[u8], line: usize) -> Result<Option<IdEntry>, IdsErrorKind> {
    let start = text.iter().position(|&c| !is_ws(c)).unwrap_or(text.len());
    let body = &text[start..];
    if body.is_empty() || body[0] == b'#' {
        return Ok(None);
    }
    let (id_word, rest) = word(body);
    if id_word.len() > MAX_ID_WORD {
        return Err(IdsErrorKind::IdTooLong);
    }
    let id_word = String::from_utf8_lossy(&id_word).into_owned();
    let mut parts = id_word.split(',');
    let id_str = parts.next().unwrap_or("");
    let id = parse_id(id_str).ok_or_else(|| IdsErrorKind::InvalidId(id_str.to_string()))?;
    if id == ID_ANON {
        return Err(IdsErrorKind::InvalidId(id_str.to_string()));
    }
    let client = (CLNT_ID_MIN..=CLNT_ID_MAX).contains(&id);
    let mut e = IdEntry {
        id,
        passwd1: None,
        passwd2: None,
        trace: false,
        rpt_ok: false,
        no_reps: false,
        delay: None,
        srvr_type: None,
        line,
    };
    for opt in parts {
        let lower = opt.to_ascii_lowercase();
        let client_only = |e: &mut IdEntry, set: &dyn Fn(&mut IdEntry)| {
            if client {
                set(e);
                Ok(())
            } else {
                Err(IdsErrorKind::OnlyForClientIds(opt.to_string()))
            }
        };
        match lower.as_str() {
            "trace" => client_only(&mut e, &|e| e.trace = true)?,
            "rpt-ok" | "rpt_ok" => client_only(&mut e, &|e| e.rpt_ok = true)?,
            "no-reps" | "no_reps" => client_only(&mut e, &|e| e.no_reps = true)?,
            "simple" | "ignore" | "rogue" => {
                if client {
                    return Err(IdsErrorKind::OnlyForServerIds(opt.to_string()));
                }
                e.srvr_type = Some(match lower.as_str() {
                    "simple" => SrvrType::Simple,
                    "ignore" => SrvrType::Ignore,
                    _ => SrvrType::Rogue,
                });
            }
            _ if lower.starts_with("delay=") => {
                if !client {
                    return Err(IdsErrorKind::OnlyForClientIds(opt.to_string()));
                }
                let v = &opt["delay=".len()..];
                e.delay =
                    Some(parse_delay(v).ok_or_else(|| IdsErrorKind::InvalidDelay(v.to_string()))?);
            }
            _ => return Err(IdsErrorKind::InvalidOption(opt.to_string())),
        }
    }
    if !rest.is_empty() {
        let (w1, rest) = word(rest);
        let (w2, rest) = word(rest);
        if !rest.is_empty() {
            return Err(IdsErrorKind::InvalidNextPassword);
        }
        e.passwd1 = passwd_word(&w1)?;
        e.passwd2 = passwd_word(&w2)?;
    }
    Ok(Some(e))
}

impl Ids {
    /// Parse a whole file; the first bad line is an error.
    pub fn parse(text: &[u8]) -> Result<Ids, IdsError> {
        let (ids, errors) = Ids::parse_lenient(text);
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(ids),
        }
    }

    /// Parse a whole file, skipping bad lines as the server does (it then
    /// reports the file as damaged), and return the errors found.
    pub fn parse_lenient(text: &[u8]) -> (Ids, Vec<IdsError>) {
        let mut ids = Ids::default();
        let mut errors = Vec::new();
        for (i, line) in text.split(|&c| c == b'\n').enumerate() {
            let n = i + 1;
            match parse_line(line, n).and_then(|e| match e {
                Some(e) => ids.merge(e),
                None => Ok(()),
            }) {
                Ok(()) => {}
                Err(kind) => errors.push(IdsError { line: n, kind }),
            }
        }
        (ids, errors)
    }

    fn merge(&mut self, mut e: IdEntry) -> Result<(), IdsErrorKind> {
        if let Some(old) = self.map.get(&e.id) {
            match (e.delay, old.delay) {
                (None, d) => e.delay = d,
                (Some(a), Some(b)) if a != b => return Err(IdsErrorKind::ConflictingDelays(e.id)),
                _ => {}
            }
            if e.passwd1.is_none() && e.passwd2.is_none() {
                e.passwd1 = old.passwd1.clone();
                e.passwd2 = old.passwd2.clone();
            } else if old.passwd1.is_some()
                && (e.passwd1 != old.passwd1 || e.passwd2 != old.passwd2)
            {
                return Err(IdsErrorKind::ConflictingPasswords(e.id));
            }
            e.trace |= old.trace;
            e.rpt_ok |= old.rpt_ok;
            e.srvr_type = e.srvr_type.or(old.srvr_type);
        }
        self.map.insert(e.id, e);
        Ok(())
    }

    /// The entry of an ID.
    pub fn get(&self, id: u32) -> Option<&IdEntry> {
        self.map.get(&id)
    }

    /// The first password of an ID.
    pub fn passwd(&self, id: u32) -> Option<&Passwd> {
        self.map.get(&id)?.passwd1.as_ref()
    }

    /// All entries in ID order.
    pub fn iter(&self) -> impl Iterator<Item = &IdEntry> {
        self.map.values()
    }

    /// Does any ID have a password (the original refuses a file without)?
    pub fn has_passwords(&self) -> bool {
        self.map
            .values()
            .any(|e| e.passwd1.is_some() || e.passwd2.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_capture_file() {
        let ids = Ids::parse(b"# comment\n32800\tvectorclientpw\n1100 vectorserverpw\n\n").unwrap();
        assert_eq!(ids.passwd(32800).unwrap().as_bytes(), b"vectorclientpw");
        assert_eq!(ids.passwd(1100).unwrap().as_bytes(), b"vectorserverpw");
        assert!(ids.get(1).is_none());
    }

    #[test]
    fn options_and_errors() {
        let ids =
            Ids::parse(b"40000,trace,delay=100*5 a\\x20b c\n40001,delay=forever\n200,ignore\n")
                .unwrap();
        let e = ids.get(40000).unwrap();
        assert!(e.trace);
        assert_eq!(
            e.delay,
            Some(IdDelay::Ms {
                ms: 100,
                inflate: Some(5)
            })
        );
        assert_eq!(e.passwd1.as_ref().unwrap().as_bytes(), b"ax20b");
        assert_eq!(e.passwd2.as_ref().unwrap().as_bytes(), b"c");
        assert!(ids.get(40001).unwrap().is_blacklisted());
        assert_eq!(ids.get(200).unwrap().srvr_type, Some(SrvrType::Ignore));

        let err = Ids::parse(b"\n\n1 pw\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(
            Ids::parse(b"99 pw").unwrap_err().kind,
            IdsErrorKind::InvalidId("99".into())
        );
        assert!(matches!(
            Ids::parse(b"200,trace pw").unwrap_err().kind,
            IdsErrorKind::OnlyForClientIds(_)
        ));
        assert!(matches!(
            Ids::parse(b"40000,rogue pw").unwrap_err().kind,
            IdsErrorKind::OnlyForServerIds(_)
        ));
        assert_eq!(
            Ids::parse(b"40000 a b c").unwrap_err().kind,
            IdsErrorKind::InvalidNextPassword
        );
        assert_eq!(
            Ids::parse(b"40000 a\n40000 b").unwrap_err(),
            IdsError {
                line: 2,
                kind: IdsErrorKind::ConflictingPasswords(40000)
            }
        );
        assert!(Ids::parse(&[b"40000 ".as_slice(), &[b'x'; 33]].concat()).is_err());
        assert!(matches!(
            Ids::parse(b"40000,delay=5000 pw").unwrap_err().kind,
            IdsErrorKind::InvalidDelay(_)
        ));
        // A declaration line followed by the passwords merges.
        let ids = Ids::parse(b"40000\n40000 pw\n").unwrap();
        assert_eq!(ids.passwd(40000).unwrap().as_bytes(), b"pw");
        assert!(Ids::parse(b"40000 unknown")
            .unwrap()
            .passwd(40000)
            .is_none());
    }
}
