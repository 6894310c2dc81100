//! One-click entries of a user's whiteclnt file: `ok` (whitelist) or
//! `many` (blacklist) lines for the envelope sender (`env_From`), the
//! `From:` address, the sender's domain (the `mail_host` substitute
//! checksum dccm and dccifd compute from the envelope sender), the SMTP
//! client's IP address, each envelope recipient (`env_To`, the address of
//! a log file's `env_To:` line), and the body checksums of a logged
//! message (`hex Body`, `hex Fuz1`, `hex Fuz2` lines with the checksum as
//! the log file shows it), as the original's `list-msg` offered them.
//!
//! The file is edited as text lines: adding puts the new line at the end
//! after removing the lines for the same checksum (the white crate would
//! call a second line for one checksum a duplicate or conflict); removing
//! drops those lines; comments, options, other entries and lines we do
//! not understand stay as they were. The result must parse with the
//! white crate's per-user rules with no more problems than before, or the
//! edit is refused and nothing is written.

use tally_white::{parse_file, FileKind, NoIncludes};

/// Most bytes of a whiteclnt file this service writes.
pub const MAX_FILE: usize = 256 * 1024;
/// Longest value accepted for an entry.
pub const MAX_VALUE: usize = 256;

/// Which checksum an entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    EnvFrom,
    From,
    Domain,
    Helo,
    Ip,
    EnvTo,
    Body,
    Fuz1,
    Fuz2,
}

impl Kind {
    /// From a form value.
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "env_from" => Kind::EnvFrom,
            "from" => Kind::From,
            "domain" => Kind::Domain,
            "helo" => Kind::Helo,
            "ip" => Kind::Ip,
            "env_to" => Kind::EnvTo,
            "body" => Kind::Body,
            "fuz1" => Kind::Fuz1,
            "fuz2" => Kind::Fuz2,
            _ => return None,
        })
    }

    /// The form value.
    pub fn name(self) -> &'static str {
        match self {
            Kind::EnvFrom => "env_from",
            Kind::From => "from",
            Kind::Domain => "domain",
            Kind::Helo => "helo",
            Kind::Ip => "ip",
            Kind::EnvTo => "env_to",
            Kind::Body => "body",
            Kind::Fuz1 => "fuz1",
            Kind::Fuz2 => "fuz2",
        }
    }

    /// What a user reads.
    pub fn label(self) -> &'static str {
        match self {
            Kind::EnvFrom => "sender",
            Kind::From => "From: address",
            Kind::Domain => "sender's domain",
            Kind::Helo => "HELO name",
            Kind::Ip => "IP address",
            Kind::EnvTo => "recipient",
            Kind::Body => "body checksum",
            Kind::Fuz1 => "Fuz1 checksum",
            Kind::Fuz2 => "Fuz2 checksum",
        }
    }

    /// The type words of the whiteclnt line.
    fn words(self) -> &'static str {
        match self {
            Kind::EnvFrom => "env_From",
            Kind::From => "From",
            Kind::Domain => "substitute mail_host",
            Kind::Helo => "substitute HELO",
            Kind::Ip => "IP",
            Kind::EnvTo => "env_To",
            Kind::Body => "hex Body",
            Kind::Fuz1 => "hex Fuz1",
            Kind::Fuz2 => "hex Fuz2",
        }
    }

    /// The kind of a body checksum row of a log file's table.
    pub fn of_row(name: &str) -> Option<Kind> {
        [Kind::Body, Kind::Fuz1, Kind::Fuz2].into_iter().find(|k| {
            k.words()
                .strip_prefix("hex ")
                .is_some_and(|w| w.eq_ignore_ascii_case(name))
        })
    }

    /// Whether the value is a checksum in hexadecimal.
    pub fn is_hex(self) -> bool {
        matches!(self, Kind::Body | Kind::Fuz1 | Kind::Fuz2)
    }
}

/// Whether `v` is a checksum as log files show it: four words of 8
/// hexadecimal digits separated by single spaces, not all zero (the
/// place keeper of a checksum not computed).
fn hex_sum(v: &str) -> bool {
    let w: Vec<&str> = v.split(' ').collect();
    w.len() == 4
        && w.iter()
            .all(|x| x.len() == 8 && x.bytes().all(|c| c.is_ascii_hexdigit()))
        && w.iter().any(|x| x.bytes().any(|c| c != b'0'))
}

/// Whitelist (`ok`) or blacklist (`many`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Ok,
    Many,
}

impl List {
    /// From a form value.
    pub fn parse(s: &str) -> Option<List> {
        match s {
            "ok" => Some(List::Ok),
            "many" => Some(List::Many),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            List::Ok => "ok",
            List::Many => "many",
        }
    }
}

/// Check a value: printable, no blanks, not empty, not too long.
pub fn check_value(kind: Kind, v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err(format!("the message has no {}", kind.label()));
    }
    if kind.is_hex() {
        if !hex_sum(v) {
            return Err(format!(
                "the {} is not four words of 8 hexadecimal digits",
                kind.label()
            ));
        }
        return Ok(());
    }
    if v.len() > MAX_VALUE {
        return Err(format!(
            "the {} is longer than {MAX_VALUE} bytes",
            kind.label()
        ));
    }
    if let Some(c) = v
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '#')
    {
        return Err(format!("the {} contains the character {c:?}", kind.label()));
    }
    Ok(())
}

/// The whiteclnt line of an entry.
pub fn line(list: List, kind: Kind, value: &str) -> Result<String, String> {
    check_value(kind, value)?;
    Ok(format!("{}\t{}\t{}", list.word(), kind.words(), value))
}

/// Whether the text line `l` is an entry for `kind` and `value` (any
/// count); its count word.
pub fn entry_of(l: &str, kind: Kind, value: &str) -> Option<String> {
    if l.starts_with([' ', '\t']) {
        return None;
    }
    let mut w = l.split_whitespace();
    let count = w.next()?;
    let ty = w.next()?;
    let want: Vec<&str> = kind.words().split(' ').collect();
    if !ty.eq_ignore_ascii_case(want[0]) {
        return None;
    }
    if want.len() == 2 && !w.next()?.eq_ignore_ascii_case(want[1]) {
        return None;
    }
    let v: Vec<&str> = w.collect();
    let same = match kind {
        Kind::Ip => v.join(" ") == value,
        _ => v.join(" ").eq_ignore_ascii_case(value),
    };
    same.then(|| count.to_ascii_lowercase())
}

/// The one-click entries of a file: kind, value and count word, in
/// file order.
pub fn entries(text: &[u8]) -> Vec<(Kind, String, String)> {
    let mut out = Vec::new();
    for l in String::from_utf8_lossy(text).lines() {
        if l.starts_with([' ', '\t', '#']) {
            continue;
        }
        let w: Vec<&str> = l.split_whitespace().collect();
        let (kind, value) = match w.as_slice() {
            [_, t, v] if t.eq_ignore_ascii_case("env_from") => (Kind::EnvFrom, v),
            [_, t, v] if t.eq_ignore_ascii_case("from") => (Kind::From, v),
            [_, t, v] if t.eq_ignore_ascii_case("ip") => (Kind::Ip, v),
            [_, t, v] if t.eq_ignore_ascii_case("env_to") => (Kind::EnvTo, v),
            [_, t, h, v]
                if t.eq_ignore_ascii_case("substitute") && h.eq_ignore_ascii_case("mail_host") =>
            {
                (Kind::Domain, v)
            }
            [_, t, h, v]
                if t.eq_ignore_ascii_case("substitute") && h.eq_ignore_ascii_case("helo") =>
            {
                (Kind::Helo, v)
            }
            [c, h, t, a, b, x, y] if h.eq_ignore_ascii_case("hex") => {
                let Some(kind) = Kind::of_row(t) else {
                    continue;
                };
                let v = [*a, *b, *x, *y].join(" ");
                out.push((kind, v, c.to_ascii_lowercase()));
                continue;
            }
            _ => continue,
        };
        out.push((kind, value.to_string(), w[0].to_ascii_lowercase()));
    }
    out
}

/// Which list an entry is on in `text`, if any.
pub fn current(text: &[u8], kind: Kind, value: &str) -> Option<String> {
    String::from_utf8_lossy(text)
        .lines()
        .find_map(|l| entry_of(l, kind, value))
}

fn problems(text: &[u8]) -> Vec<String> {
    parse_file("whiteclnt", text, FileKind::PerUser, &mut NoIncludes)
        .errors
        .into_iter()
        .map(|e| e.text)
        .collect()
}

/// Check an edited file against the old one: refused when it is too big
/// or the white crate finds more problems in it than in the old one.
pub fn check_edit(old: &[u8], new: &[u8]) -> Result<(), String> {
    if new.len() > MAX_FILE {
        return Err(format!(
            "the whiteclnt file would be larger than {MAX_FILE} bytes"
        ));
    }
    let before = problems(old);
    let after = problems(new);
    if after.len() > before.len() {
        let first = after
            .iter()
            .find(|p| !before.contains(p))
            .or(after.first())
            .cloned()
            .unwrap_or_default();
        return Err(format!(
            "refused: the whiteclnt file would not parse: {first}"
        ));
    }
    Ok(())
}

/// Split into lines keeping each line's end.
fn split_lines(text: &[u8]) -> Vec<&[u8]> {
    text.split_inclusive(|&c| c == b'\n').collect()
}

/// The file without the lines of `kind` and `value`.
pub fn remove(text: &[u8], kind: Kind, value: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for l in split_lines(text) {
        let s = String::from_utf8_lossy(l);
        if entry_of(s.trim_end(), kind, value).is_none() {
            out.extend_from_slice(l);
        }
    }
    out
}

/// The file with `list kind value` at the end instead of any line for
/// the same checksum.
pub fn add(text: &[u8], list: List, kind: Kind, value: &str) -> Result<Vec<u8>, String> {
    let new_line = line(list, kind, value)?;
    let mut out = remove(text, kind, value);
    append_line(&mut out, &new_line);
    Ok(out)
}

/// Add `line` as a line of its own at the end of a file's text (ending
/// an unfinished last line first).
pub(crate) fn append_line(out: &mut Vec<u8>, line: &str) {
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let old = b"# my list\nok env_from friend@example.com\nodd line the parser skips?\noption log-all\n";
        let new = add(old, List::Ok, Kind::EnvFrom, "Alice@example.com").unwrap();
        let s = String::from_utf8(new.clone()).unwrap();
        assert!(s.starts_with("# my list\nok env_from friend@example.com\nodd line"));
        assert!(s.ends_with("ok\tenv_From\tAlice@example.com\n"));
        check_edit(old, &new).unwrap();
        let again = add(&new, List::Many, Kind::EnvFrom, "alice@example.com").unwrap();
        assert_eq!(
            current(&again, Kind::EnvFrom, "alice@example.com").as_deref(),
            Some("many")
        );
        assert_eq!(
            String::from_utf8_lossy(&again).matches("alice@").count()
                + String::from_utf8_lossy(&again).matches("Alice@").count(),
            1
        );
        let gone = remove(&again, Kind::EnvFrom, "ALICE@example.com");
        assert_eq!(gone, old);
        let helo = add(b"", List::Ok, Kind::Helo, "mail.example.com").unwrap();
        assert_eq!(helo, b"ok\tsubstitute HELO\tmail.example.com\n");
        check_edit(b"", &helo).unwrap();
        assert_eq!(entries(&helo)[0].0, Kind::Helo);
        assert_eq!(
            current(&helo, Kind::Helo, "MAIL.example.com").as_deref(),
            Some("ok")
        );
        let d = add(b"", List::Ok, Kind::Domain, "example.com").unwrap();
        check_edit(b"", &d).unwrap();
        let ip = add(b"", List::Many, Kind::Ip, "192.0.2.1").unwrap();
        check_edit(b"", &ip).unwrap();
        assert!(line(List::Ok, Kind::EnvFrom, "a b").is_err());
        assert!(line(List::Ok, Kind::EnvFrom, "a\nok ip 1.2.3.4").is_err());
        let bad = add(b"", List::Ok, Kind::Ip, "not-an-address").unwrap();
        assert!(check_edit(b"", &bad).is_err());
    }

    #[test]
    fn recipients() {
        let old = b"# mine\nok env_from friend@example.com\n";
        let new = add(old, List::Ok, Kind::EnvTo, "Bob@example.net").unwrap();
        assert!(String::from_utf8_lossy(&new).ends_with("ok\tenv_To\tBob@example.net\n"));
        check_edit(old, &new).unwrap();
        // the white crate reads it as an env_To entry of a per-user file
        let f = parse_file("whiteclnt", &new, FileKind::PerUser, &mut NoIncludes);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        assert_eq!(f.items.len(), 2);
        assert!(
            format!("{:?}", f.items[1].value).contains("EnvTo"),
            "{:?}",
            f.items[1].value
        );
        assert_eq!(
            current(&new, Kind::EnvTo, "bob@EXAMPLE.net").as_deref(),
            Some("ok")
        );
        assert_eq!(current(&new, Kind::EnvFrom, "bob@example.net"), None);
        assert_eq!(
            entries(&new)[1],
            (Kind::EnvTo, "Bob@example.net".to_string(), "ok".to_string())
        );
        let many = add(&new, List::Many, Kind::EnvTo, "bob@example.net").unwrap();
        assert_eq!(
            current(&many, Kind::EnvTo, "bob@example.net").as_deref(),
            Some("many")
        );
        assert_eq!(remove(&many, Kind::EnvTo, "BOB@example.net"), old);
        assert!(line(List::Ok, Kind::EnvTo, "").is_err());
        assert!(line(List::Ok, Kind::EnvTo, "a b@example.net").is_err());
    }

    #[test]
    fn body_checksums() {
        let sum = "5c525331 d559d9bb c626b5ed cf330c15";
        let old = b"ok env_from friend@example.com\n";
        let new = add(old, List::Ok, Kind::Body, sum).unwrap();
        assert!(String::from_utf8_lossy(&new)
            .ends_with("ok\thex Body\t5c525331 d559d9bb c626b5ed cf330c15\n"));
        check_edit(old, &new).unwrap();
        // the white crate reads it as the Body checksum of those bytes
        let f = parse_file("whiteclnt", &new, FileKind::PerUser, &mut NoIncludes);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        assert_eq!(f.items.len(), 2);
        assert_eq!(
            format!("{:?}", f.items[1].value),
            "Sum(Body, Sum(5c525331 d559d9bb c626b5ed cf330c15))"
        );
        assert_eq!(current(&new, Kind::Body, sum).as_deref(), Some("ok"));
        assert_eq!(current(&new, Kind::Fuz1, sum), None);
        assert_eq!(
            entries(&new)[1],
            (Kind::Body, sum.to_string(), "ok".to_string())
        );
        let many = add(&new, List::Many, Kind::Body, &sum.to_uppercase()).unwrap();
        assert_eq!(current(&many, Kind::Body, sum).as_deref(), Some("many"));
        assert_eq!(remove(&many, Kind::Body, sum), old);
        for bad in [
            "00000000 00000000 00000000 00000000",
            "5c525331 d559d9bb c626b5ed",
            "5c525331  d559d9bb c626b5ed cf330c15",
            "5c52533x d559d9bb c626b5ed cf330c15",
        ] {
            assert!(line(List::Ok, Kind::Fuz2, bad).is_err(), "{bad}");
        }
        assert_eq!(Kind::of_row("fuz2"), Some(Kind::Fuz2));
        assert_eq!(Kind::of_row("IP"), None);
    }
}
