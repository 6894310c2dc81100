//! SMTP rejection messages of DNS blacklists (`-B set:rej-msg=...`) and the
//! `%` scanner dccm's `-r` texts share: the status codes and the `%` macros
//! of dccm(8) and dccifd(8).
//!
//! A text is written `xcode rcode message` ("5.7.1 550 ...") and sent
//! `rcode xcode message`. A text without valid codes gets `550 5.7.1`.
//! The macros are %ID, %CIP, %BTYPE, %BTGT, %BPROBE, %BRESULT and the obsolete
//! %BT (= %BTYPE), %BIP (= %BTGT) and %s (the first two: %ID, then %CIP);
//! a `-r` text knows only %ID, %CIP and %s ([`Names::Reject`]).
//!
//! [`Pattern::scan`] reads a text as the original's `make_tplt` does, with
//! its buffer accounting: the pattern holds at most 255 bytes
//! ([`REPLY_BUF_LEN`] less its terminating NUL); each byte of text takes
//! one, each `%` two (a macro becomes `%s`, any other `%` a literal `%%`);
//! a `%` that would leave less than three bytes free is dropped (its
//! following characters are kept as ordinary text while room remains);
//! the scan stops when the pattern is full. At most six macros are
//! expanded; past the sixth, `%` is a literal `%` that takes the next
//! character with it (`%BTGT` becomes `%TGT`), as `%%` is a `%` that takes
//! the second; any other `%x` stays as written; every byte outside
//! printable ASCII becomes `.` (so a two-byte UTF-8 character gives two).
//! [`Pattern::expand`] then fills the macros in and cuts the finished text
//! at 255 bytes, as the original's `snprintf` into a buffer of the same size.

/// The size of the original's pattern and reply buffers (`REPLY_BUF_LEN`):
/// a pattern and a finished reply text hold at most one byte less.
pub const REPLY_BUF_LEN: usize = 256;
/// Macros expanded per text (`NUM_REPLY_TPLT_ARGS`).
pub const MAX_MACROS: usize = 6;

/// What a macro stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Macro {
    Id,
    ClientIp,
    Type,
    Target,
    Probe,
    Result,
}

/// Which `%` names a text knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Names {
    /// A `-r` text (and dccm's `${dcc_isspam}` texts): %ID, %CIP and the
    /// obsolete %s.
    Reject,
    /// A DNS list's `set:rej-msg`: also %BTYPE, %BTGT, %BPROBE, %BRESULT
    /// and the obsolete %BT and %BIP.
    Dnsbl,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Macro(Macro),
}

/// A scanned text: literal pieces and macros.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Pattern {
    pieces: Vec<Piece>,
}

/// The longest pattern and finished text, in bytes.
const MAX_LEN: usize = REPLY_BUF_LEN - 1;

/// The macro named at the start of `rest`, and the length of its name.
fn macro_at(rest: &[u8], names: Names, macros: usize) -> Option<(usize, Macro)> {
    const REJECT: [(&[u8], Macro); 2] = [(b"ID", Macro::Id), (b"CIP", Macro::ClientIp)];
    const DNSBL: [(&[u8], Macro); 4] = [
        (b"BTYPE", Macro::Type),
        (b"BTGT", Macro::Target),
        (b"BPROBE", Macro::Probe),
        (b"BRESULT", Macro::Result),
    ];
    let dnsbl = names == Names::Dnsbl;
    let named = REJECT
        .iter()
        .chain(DNSBL.iter().filter(|_| dnsbl))
        .find(|(n, _)| rest.starts_with(n))
        .map(|&(n, m)| (n.len(), m));
    if named.is_some() {
        return named;
    }
    if rest.first() == Some(&b's') && macros < 2 {
        return Some((
            1,
            if macros == 0 {
                Macro::Id
            } else {
                Macro::ClientIp
            },
        ));
    }
    if !dnsbl {
        None
    } else if rest.starts_with(b"BIP") {
        Some((3, Macro::Target))
    } else if rest.starts_with(b"BT") {
        Some((2, Macro::Type))
    } else {
        None
    }
}

impl Pattern {
    /// Scan a message text (after its codes) as the original does.
    pub fn scan(text: &str, names: Names) -> Pattern {
        let b = text.as_bytes();
        let mut pieces = Vec::new();
        let mut cur = String::new();
        // bytes of the original's pattern buffer used so far
        let mut len = 0usize;
        let mut macros = 0usize;
        let mut i = 0usize;
        while len < MAX_LEN && i < b.len() {
            let c = b[i];
            i += 1;
            if c != b'%' {
                cur.push(if (b' '..=b'~').contains(&c) {
                    c as char
                } else {
                    '.'
                });
                len += 1;
                continue;
            }
            if len >= MAX_LEN - 2 {
                // no room for "%s" and the end: the '%' is dropped
                continue;
            }
            len += 2;
            let rest = &b[i..];
            if macros >= MAX_MACROS || rest.first() == Some(&b'%') {
                // "%%", or one macro too many: a literal '%' that takes
                // the next character with it
                if i < b.len() {
                    i += 1;
                }
                cur.push('%');
                continue;
            }
            match macro_at(rest, names, macros) {
                Some((n, m)) => {
                    i += n;
                    macros += 1;
                    if !cur.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut cur)));
                    }
                    pieces.push(Piece::Macro(m));
                }
                // an unknown %x stays as written
                None => cur.push('%'),
            }
        }
        if !cur.is_empty() {
            pieces.push(Piece::Text(cur));
        }
        Pattern { pieces }
    }

    /// The text with the macros expanded by `value`, at most 255 bytes.
    pub fn expand(&self, value: impl Fn(Macro) -> String) -> String {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => s.push_str(t),
                Piece::Macro(m) => s.push_str(&value(*m)),
            }
            if s.len() >= MAX_LEN {
                break;
            }
        }
        cut(&mut s, MAX_LEN);
        s
    }

    /// The literal text of a pattern without macros (`None` when it has
    /// some).
    pub fn literal(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => s.push_str(t),
                Piece::Macro(_) => return None,
            }
        }
        Some(s)
    }
}

/// Cut `s` to at most `max` bytes, at a character boundary.
fn cut(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

/// A parsed rejection message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// Reply code, like "550".
    pub rcode: String,
    /// Enhanced status code, like "5.7.1".
    pub xcode: String,
    pattern: Pattern,
}

/// A blank of a reply text.
pub fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Splits the first blank-separated word off `s`.
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches(is_ws);
    let end = s.find(is_ws).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn valid_codes(x: &str, r: &str) -> bool {
    let (x, r) = (x.as_bytes(), r.as_bytes());
    x.len() == 5
        && r.len() == 3
        && (b'4'..=b'5').contains(&r[0])
        && r[1].is_ascii_digit()
        && r[2].is_ascii_digit()
        && r[0] == x[0]
        && x[1] == b'.'
        && x[2].is_ascii_digit()
        && x[3] == b'.'
        && x[4].is_ascii_digit()
}

/// The codes a reply text starts with, as the original's `make_tplt`
/// reads them: after leading blanks and double quotes, `D.D.D` and a
/// 3-digit reply code of the same class, 4 or 5. `Some((xcode, rcode,
/// text))` with the text after the codes and their blanks; `None` when
/// the text has no such codes (the defaults apply to all of `arg` after
/// its leading blanks and quotes, [`unquoted_start`]).
pub fn split_codes(arg: &str) -> Option<(&str, &str, &str)> {
    let arg = unquoted_start(arg);
    let (x, rest) = word(arg);
    let (r, rest2) = word(rest);
    valid_codes(x, r).then(|| (x, r, rest2.trim_start_matches(is_ws)))
}

/// `arg` after its leading blanks and double quotes.
pub fn unquoted_start(arg: &str) -> &str {
    arg.trim_start_matches(|c| is_ws(c) || c == '"')
}

impl Template {
    /// Parses a `set:rej-msg=` text (never fails: bad codes mean the defaults).
    pub fn parse(arg: &str) -> Template {
        Template::parse_with(arg, true)
    }

    /// Parses a `-r` text, the default of lists without `set:rej-msg`: only
    /// %ID, %CIP and %s are macros there; %BTYPE and the like stay as written.
    pub fn parse_reject(arg: &str) -> Template {
        Template::parse_with(arg, false)
    }

    fn parse_with(arg: &str, dnsbl: bool) -> Template {
        let names = if dnsbl { Names::Dnsbl } else { Names::Reject };
        Template::parse_or(arg, names, "5.7.1 550")
    }

    /// Parses a text whose codes, when it has none of its own, are those
    /// `default` starts with (`5.7.1 550` if it has none either), as the
    /// original reads dccifd's and dccm's `-r` texts.
    pub fn parse_or(arg: &str, names: Names, default: &str) -> Template {
        let (xcode, rcode, text) = match split_codes(arg) {
            Some(c) => c,
            None => {
                let (x, r, _) = split_codes(default).unwrap_or(("5.7.1", "550", ""));
                (x, r, unquoted_start(arg))
            }
        };
        Template::from_parts(xcode, rcode, text, names)
    }

    /// A template of codes already read and a text scanned as it is (no
    /// codes looked for, no blanks or quotes skipped), for texts whose
    /// codes come in another form, as dccm's `${dcc_isspam}`.
    pub fn from_parts(xcode: &str, rcode: &str, text: &str, names: Names) -> Template {
        Template {
            rcode: rcode.to_string(),
            xcode: xcode.to_string(),
            pattern: Pattern::scan(text, names),
        }
    }

    /// The text of a `-r` reply: `%ID` and `%CIP` filled in, the DNS
    /// lists' macros empty.
    pub fn fill(&self, id: &str, cip: &str) -> String {
        self.expand(|m| match m {
            Macro::Id => id.to_string(),
            Macro::ClientIp => cip.to_string(),
            _ => String::new(),
        })
    }

    /// Whether the reply is temporary (4yz).
    pub fn is_temp(&self) -> bool {
        self.rcode.starts_with('4') && self.xcode.starts_with('4')
    }

    /// The message text with the macros expanded by `value` (at most 255
    /// bytes).
    pub fn expand(&self, value: impl Fn(Macro) -> String) -> String {
        self.pattern.expand(value)
    }

    /// The whole SMTP reply, `rcode xcode text`.
    pub fn reply(&self, value: impl Fn(Macro) -> String) -> String {
        format!("{} {} {}", self.rcode, self.xcode, self.expand(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(m: Macro) -> String {
        match m {
            Macro::Id => "ID1".into(),
            Macro::ClientIp => "192.0.2.66".into(),
            Macro::Type => "mail_host dblsender.example".into(),
            Macro::Target => "dblsender.example".into(),
            Macro::Probe => "dblsender.example.dbl.test".into(),
            Macro::Result => "127.0.0.2".into(),
        }
    }

    #[test]
    fn recorded_06a_obsolete_and_literal() {
        let t = Template::parse("4.7.1 451 old %BT/%BIP 100%% %s %s %X seventh=%BTYPE");
        assert_eq!(
            t.reply(vals),
            "451 4.7.1 old mail_host dblsender.example/dblsender.example 100% %s %s %X \
             seventh=mail_host dblsender.example"
        );
    }

    #[test]
    fn recorded_06b_seventh_and_no_codes() {
        let t =
            Template::parse("5.7.1 550 dbl %BTGT %BTYPE %BPROBE %BRESULT %ID %CIP seventh=%BTGT");
        assert!(t.reply(vals).ends_with(" ID1 192.0.2.66 seventh=%TGT"));
        let t = Template::parse("no codes here: %BTYPE");
        assert_eq!(
            t.reply(vals),
            "550 5.7.1 no codes here: mail_host dblsender.example"
        );
    }

    #[test]
    fn reject_texts_know_only_id_and_cip() {
        let t = Template::parse_reject("5.7.0 554 first -r text %ID %CIP %BTYPE");
        assert_eq!(
            t.reply(vals),
            "554 5.7.0 first -r text ID1 192.0.2.66 %BTYPE"
        );
    }

    /// Codes given apart: the text is taken whole, codes, blanks and
    /// quotes at its start included; the same template as a parse when
    /// the text has nothing of the kind.
    #[test]
    fn from_parts_takes_the_text_as_it_is() {
        let t = Template::from_parts("4.2.0", "451", " \"5.7.1 550 %ID %BTGT", Names::Reject);
        assert_eq!((t.rcode.as_str(), t.xcode.as_str()), ("451", "4.2.0"));
        assert!(t.is_temp());
        assert_eq!(t.fill("Q1", "192.0.2.1"), " \"5.7.1 550 Q1 %BTGT");
        assert_eq!(
            Template::from_parts("5.7.0", "554", "x %CIP", Names::Dnsbl),
            Template::parse("5.7.0 554 x %CIP")
        );
    }

    #[test]
    fn first_two_percent_s() {
        let t = Template::parse("mail %s from %s");
        assert_eq!(t.expand(vals), "mail ID1 from 192.0.2.66");
    }

    /// The pattern buffer of the original: 255 bytes, a `%` taking two and
    /// dropped when fewer than three remain.
    #[test]
    fn pattern_limits() {
        let x = |n: usize| "x".repeat(n);
        let t = Template::parse(&x(400));
        assert_eq!(t.expand(vals), x(255));
        // "%ID" starting at byte 252 still fits ("%s" and the NUL)
        let t = Template::parse(&format!("{}%ID", x(252)));
        assert_eq!(t.expand(vals), format!("{}ID1", x(252)));
        // at byte 253 its '%' is dropped and "ID" is text while room remains
        let t = Template::parse(&format!("{}%ID tail", x(253)));
        assert_eq!(t.expand(vals), format!("{}ID", x(253)));
        // a literal "%%" takes two bytes of the pattern, gives one
        let t = Template::parse(&format!("{}%%yz", x(250)));
        assert_eq!(t.expand(vals), format!("{}%yz", x(250)));
        let t = Template::parse(&format!("{}%%yz", x(252)));
        assert_eq!(t.expand(vals), format!("{}%y", x(252)));
        // an unknown "%q" is "%%" then "q"
        let t = Template::parse(&format!("{}%q1", x(252)));
        assert_eq!(t.expand(vals), format!("{}%q", x(252)));
    }

    /// The finished text is cut at 255 bytes, as `snprintf` into the
    /// original's reply buffer.
    #[test]
    fn expanded_limit() {
        let t = Template::parse(&format!("{} %CIP", "x".repeat(250)));
        assert_eq!(t.expand(vals), format!("{} 192.", "x".repeat(250)));
        // six long macros: the pattern is short, the text is cut
        let t = Template::parse("%BPROBE %BPROBE %BPROBE %BPROBE %BPROBE %BPROBE %BPROBE");
        let long = |_| "p".repeat(100);
        let e = t.expand(long);
        assert_eq!(e.len(), 255);
        assert!(e.starts_with(&format!("{} {} ", "p".repeat(100), "p".repeat(100))));
        // a multi-byte value is cut at a character boundary
        let t = Template::parse(&format!("{}%BTGT", "x".repeat(250)));
        let e = t.expand(|_| "\u{e9}".repeat(10));
        assert_eq!(e, format!("{}{}", "x".repeat(250), "\u{e9}".repeat(2)));
    }

    /// Every byte outside printable ASCII is a dot, as the original sees
    /// bytes.
    #[test]
    fn bytes_become_dots() {
        let t = Template::parse("caf\u{e9}\ttab\u{7f}");
        assert_eq!(t.expand(vals), "caf...tab.");
        assert_eq!(Pattern::scan("a%", Names::Reject).expand(vals), "a%");
    }

    /// `-r` texts and `set:rej-msg` texts share the scanner.
    #[test]
    fn names_of_the_two_kinds() {
        let r = Pattern::scan("%ID %CIP %BTGT %s", Names::Reject);
        assert_eq!(r.expand(vals), "ID1 192.0.2.66 %BTGT %s");
        let d = Pattern::scan("%ID %CIP %BTGT %s", Names::Dnsbl);
        assert_eq!(d.expand(vals), "ID1 192.0.2.66 dblsender.example %s");
        assert_eq!(
            Pattern::scan("no macros", Names::Reject)
                .literal()
                .as_deref(),
            Some("no macros")
        );
        assert_eq!(Pattern::scan("%ID", Names::Reject).literal(), None);
    }

    proptest::proptest! {
        #[test]
        fn scan_never_panics(text in ".{0,600}", value in ".{0,300}") {
            for names in [Names::Reject, Names::Dnsbl] {
                let p = Pattern::scan(&text, names);
                let e = p.expand(|_| value.clone());
                proptest::prop_assert!(e.len() <= 255);
                if let Some(l) = p.literal() {
                    proptest::prop_assert!(l.len() <= 255 && l.is_ascii());
                }
            }
        }
    }
}
