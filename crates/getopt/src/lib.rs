//! Command-line scanning with the conventions of the C library's
//! `getopt(3)`, as every program of the original DCC parses its arguments.
//!
//! The syntax accepted:
//!
//! * an option is a letter after `-`; several may be bundled in one word
//!   (`-QC` is `-Q -C`);
//! * a letter followed by `:` in the option string takes an argument, given
//!   either in the rest of the same word (`-a1.2.3.4`) or as the next word
//!   (`-a 1.2.3.4`), whatever that word looks like (`-a -Q` gives `a` the
//!   argument `-Q`);
//! * the word `--` ends the options: everything after it is an operand;
//! * the word `-` alone is an operand.
//!
//! Two styles differ in what happens at the first operand, and in words
//! that start with `--` (see [`Style`]):
//!
//! * [`Style::Posix`]: scanning stops at the first operand, which with all
//!   the words after it becomes the operand list. A word such as `--help`
//!   is scanned as the letters `-`, `h`, `e`, ...
//! * [`Style::Gnu`]: as the GNU C library does by default, operands are
//!   set aside and scanning goes on, so options may follow operands. There
//!   are no long options, so a word such as `--help` is reported as the
//!   unknown option `'\0'` (the GNU library's `optopt` in that case).
//!
//! Errors do not stop the scan: like `getopt()` returning `'?'`, each is
//! reported as an [`Item`] in its place and the caller decides whether to
//! go on.

pub mod version;

/// One scanned option, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A known option, with its argument when the option string says it
    /// takes one.
    Opt(char, Option<String>),
    /// An option letter not in the option string (`'\0'` for a `--word`
    /// in [`Style::Gnu`]).
    Unknown(char),
    /// An option that takes an argument, last on the command line without
    /// one.
    MissingArg(char),
}

impl Item {
    /// Whether this item is an error (`getopt()` returning `'?'`).
    pub fn is_error(&self) -> bool {
        !matches!(self, Item::Opt(..))
    }
}

/// Where operands may appear; see the crate documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// Options end at the first operand.
    #[default]
    Posix,
    /// Operands are moved after the options; `--word` is an unknown option.
    Gnu,
}

/// The result of scanning a command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// The options and errors, in command-line order.
    pub items: Vec<Item>,
    /// The words that are not options, in command-line order.
    pub operands: Vec<String>,
    /// Whether a `--` word ended the options (some programs ignore
    /// operands given after it).
    pub dashes: bool,
}

/// Whether `c` is an option of `optstring` and, if so, whether it takes an
/// argument. `:` is never an option letter.
fn takes_arg(optstring: &str, c: char) -> Option<bool> {
    if c == ':' {
        return None;
    }
    let mut letters = optstring.chars().peekable();
    while let Some(l) = letters.next() {
        let arg = letters.next_if_eq(&':').is_some();
        if l == c {
            return Some(arg);
        }
    }
    None
}

/// Scan `args` (without the program name) against a getopt option string
/// such as `"ab:c"` (`b` takes an argument), in the given style.
pub fn getopt(args: &[String], optstring: &str, style: Style) -> Scan {
    let mut scan = Scan::default();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if word == "--" {
            scan.dashes = true;
            scan.operands.extend(words.by_ref().cloned());
            break;
        }
        let Some(letters) = word.strip_prefix('-').filter(|l| !l.is_empty()) else {
            scan.operands.push(word.clone());
            match style {
                Style::Gnu => continue,
                Style::Posix => {
                    scan.operands.extend(words.by_ref().cloned());
                    break;
                }
            }
        };
        if style == Style::Gnu && letters.starts_with('-') {
            scan.items.push(Item::Unknown('\0'));
            continue;
        }
        for (at, c) in letters.char_indices() {
            match takes_arg(optstring, c) {
                None => scan.items.push(Item::Unknown(c)),
                Some(false) => scan.items.push(Item::Opt(c, None)),
                Some(true) => {
                    let rest = letters.get(at + c.len_utf8()..).unwrap_or_default();
                    let item = if !rest.is_empty() {
                        Item::Opt(c, Some(rest.to_string()))
                    } else if let Some(next) = words.next() {
                        Item::Opt(c, Some(next.clone()))
                    } else {
                        Item::MissingArg(c)
                    };
                    scan.items.push(item);
                    break;
                }
            }
        }
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn opt(c: char, a: Option<&str>) -> Item {
        Item::Opt(c, a.map(String::from))
    }

    #[test]
    fn option_string() {
        assert_eq!(takes_arg("ab:c", 'a'), Some(false));
        assert_eq!(takes_arg("ab:c", 'b'), Some(true));
        assert_eq!(takes_arg("ab:c", 'c'), Some(false));
        assert_eq!(takes_arg("ab:c", 'd'), None);
        assert_eq!(takes_arg("ab:c", ':'), None);
        assert_eq!(takes_arg("", 'a'), None);
    }

    #[test]
    fn bundles_and_arguments() {
        for style in [Style::Posix, Style::Gnu] {
            let r = getopt(
                &s(&["-QCa1.2.3.4", "-f", "a@b", "-e2days", "-S", "List-ID"]),
                "QCa:f:S:e:",
                style,
            );
            assert_eq!(
                r.items,
                vec![
                    opt('Q', None),
                    opt('C', None),
                    opt('a', Some("1.2.3.4")),
                    opt('f', Some("a@b")),
                    opt('e', Some("2days")),
                    opt('S', Some("List-ID")),
                ]
            );
            assert!(r.operands.is_empty());
        }
    }

    #[test]
    fn argument_may_look_like_an_option() {
        let r = getopt(&s(&["-a", "-Q"]), "a:Q", Style::Posix);
        assert_eq!(r.items, vec![opt('a', Some("-Q"))]);
        let r = getopt(&s(&["-a", "--"]), "a:Q", Style::Gnu);
        assert_eq!(r.items, vec![opt('a', Some("--"))]);
    }

    #[test]
    fn errors_do_not_stop_the_scan() {
        for style in [Style::Posix, Style::Gnu] {
            let r = getopt(&s(&["-Q", "-zC", "-a"]), "QCa:", style);
            assert_eq!(
                r.items,
                vec![
                    opt('Q', None),
                    Item::Unknown('z'),
                    opt('C', None),
                    Item::MissingArg('a')
                ]
            );
            assert!(r.items[1].is_error() && r.items[3].is_error());
            assert!(!r.items[0].is_error());
        }
        let r = getopt(&s(&["-:"]), "a:", Style::Posix);
        assert_eq!(r.items, vec![Item::Unknown(':')]);
    }

    #[test]
    fn double_dash_ends_options() {
        for style in [Style::Posix, Style::Gnu] {
            let r = getopt(&s(&["-Q", "--", "-C", "x"]), "QC", style);
            assert_eq!(r.items, vec![opt('Q', None)]);
            assert_eq!(r.operands, ["-C", "x"]);
            assert!(r.dashes);
        }
    }

    #[test]
    fn posix_stops_at_first_operand() {
        let r = getopt(&s(&["-Q", "x", "-C", "-", "y"]), "QC", Style::Posix);
        assert_eq!(r.items, vec![opt('Q', None)]);
        assert_eq!(r.operands, ["x", "-C", "-", "y"]);
        assert!(!r.dashes);
        let r = getopt(&s(&["-", "-Q"]), "QC", Style::Posix);
        assert!(r.items.is_empty());
        assert_eq!(r.operands, ["-", "-Q"]);
    }

    #[test]
    fn gnu_permutes_operands() {
        let r = getopt(&s(&["x", "-Q", "-", "-Cy", "z"]), "QCy", Style::Gnu);
        assert_eq!(
            r.items,
            vec![opt('Q', None), opt('C', None), opt('y', None)]
        );
        assert_eq!(r.operands, ["x", "-", "z"]);
    }

    #[test]
    fn long_words() {
        let r = getopt(&s(&["-Q", "--help", "-C"]), "QC", Style::Gnu);
        assert_eq!(
            r.items,
            vec![opt('Q', None), Item::Unknown('\0'), opt('C', None)]
        );
        let r = getopt(&s(&["--hQ"]), "QCh:", Style::Posix);
        assert_eq!(r.items, vec![Item::Unknown('-'), opt('h', Some("Q"))]);
    }

    #[test]
    fn non_ascii_letters() {
        let r = getopt(&s(&["-éa", "x"]), "a:", Style::Posix);
        assert_eq!(r.items, vec![Item::Unknown('é'), opt('a', Some("x"))]);
        let r = getopt(&s(&["-aé"]), "a:", Style::Posix);
        assert_eq!(r.items, vec![opt('a', Some("é"))]);
        let r = getopt(&s(&["-aé"]), "é:a", Style::Gnu);
        assert_eq!(r.items, vec![opt('a', None), Item::MissingArg('é')]);
    }
}
