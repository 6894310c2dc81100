//! SMTP rejection messages of DNS blacklists (`-B set:rej-msg=...`): the status
//! codes and the `%` macros of dccm(8) and dccifd(8).
//!
//! A text is written `xcode rcode message` ("5.7.1 550 ...") and sent
//! `rcode xcode message`. A text without valid codes gets `550 5.7.1`.
//! The macros are %ID, %CIP, %BTYPE, %BTGT, %BPROBE, %BRESULT and the obsolete
//! %BT (= %BTYPE), %BIP (= %BTGT) and %s (the first two: %ID, then %CIP).
//! As the original: at most six macros are expanded; a seventh loses the
//! character after its `%` (`%BTGT` becomes `%TGT`); `%%` is `%`; any other
//! `%x` stays as written; control and non-ASCII characters become `.`.

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

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Macro(Macro),
}

/// A parsed rejection message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// Reply code, like "550".
    pub rcode: String,
    /// Enhanced status code, like "5.7.1".
    pub xcode: String,
    pieces: Vec<Piece>,
}

/// The largest message text the original keeps.
const MAX_PAT: usize = 200;
/// Macros expanded per message.
const MAX_MACROS: usize = 6;

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
        let (xcode, rcode, text) = match split_codes(arg) {
            Some((x, r, text)) => (x.to_string(), r.to_string(), text),
            None => ("5.7.1".to_string(), "550".to_string(), unquoted_start(arg)),
        };
        let mut pieces = Vec::new();
        let mut cur = String::new();
        let mut macros = 0usize;
        let mut len = 0usize;
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if len >= MAX_PAT {
                break;
            }
            rest = &rest[c.len_utf8()..];
            if c != '%' {
                cur.push(if (' '..='~').contains(&c) { c } else { '.' });
                len += 1;
                continue;
            }
            if macros >= MAX_MACROS || rest.starts_with('%') {
                // "%%", or one macro too many: a literal '%' that eats one character.
                if let Some(n) = rest.chars().next() {
                    rest = &rest[n.len_utf8()..];
                }
                cur.push('%');
                len += 1;
                continue;
            }
            let known: [(&str, Macro); 6] = [
                ("ID", Macro::Id),
                ("CIP", Macro::ClientIp),
                ("BTYPE", Macro::Type),
                ("BTGT", Macro::Target),
                ("BPROBE", Macro::Probe),
                ("BRESULT", Macro::Result),
            ];
            let known = if dnsbl { &known[..] } else { &known[..2] };
            let mut found = known
                .iter()
                .find(|(name, _)| rest.starts_with(name))
                .map(|&(name, m)| (name.len(), m));
            if found.is_none() && rest.starts_with('s') && macros < 2 {
                found = Some((
                    1,
                    if macros == 0 {
                        Macro::Id
                    } else {
                        Macro::ClientIp
                    },
                ));
            }
            if found.is_none() && dnsbl {
                if rest.starts_with("BIP") {
                    found = Some((3, Macro::Target));
                } else if rest.starts_with("BT") {
                    found = Some((2, Macro::Type));
                }
            }
            match found {
                Some((n, m)) => {
                    rest = &rest[n..];
                    macros += 1;
                    len += 2;
                    if !cur.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut cur)));
                    }
                    pieces.push(Piece::Macro(m));
                }
                None => {
                    // An unknown %x stays as written.
                    cur.push('%');
                    len += 1;
                }
            }
        }
        if !cur.is_empty() {
            pieces.push(Piece::Text(cur));
        }
        Template {
            rcode,
            xcode,
            pieces,
        }
    }

    /// The message text with the macros expanded by `value`.
    pub fn expand(&self, value: impl Fn(Macro) -> String) -> String {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => s.push_str(t),
                Piece::Macro(m) => s.push_str(&value(*m)),
            }
        }
        s
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

    #[test]
    fn first_two_percent_s() {
        let t = Template::parse("mail %s from %s");
        assert_eq!(t.expand(vals), "mail ID1 from 192.0.2.66");
    }
}
