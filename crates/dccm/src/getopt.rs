//! Command-line scanning with the semantics of the C library's `getopt()`
//! as the original uses it: bundled flags (`-QC`), option arguments attached
//! (`-a1.2.3.4`) or in the next word, `--` ending the options, and operands
//! moved after the options (GNU permutation).

/// One scanned item, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An option and its argument, if it takes one.
    Opt(char, Option<String>),
    /// An unknown option letter, or one missing its argument (`'\0'` for
    /// a long option).
    Bad(char),
}

/// Result of scanning: the options in order, then the operands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Options (scanning stops after the first [`Item::Bad`]).
    pub items: Vec<Item>,
    /// Words that are not options.
    pub operands: Vec<String>,
}

/// Scan `args` (without the program name) against a getopt option string
/// such as `"ab:c"` (`b` takes an argument).
pub fn getopt(args: &[String], optstring: &str) -> Scan {
    let takes_arg = |c: char| -> Option<bool> {
        if c == ':' {
            return None;
        }
        let i = optstring.find(c)?;
        Some(optstring[i + c.len_utf8()..].starts_with(':'))
    };
    let mut scan = Scan::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            scan.operands.extend(args[i..].iter().cloned());
            break;
        }
        if !a.starts_with('-') || a == "-" {
            scan.operands.push(a.clone());
            continue;
        }
        if a.starts_with("--") {
            // no long options: the C library reports option character 0
            scan.items.push(Item::Bad('\0'));
            return scan;
        }
        let chars: Vec<char> = a.chars().skip(1).collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            k += 1;
            match takes_arg(c) {
                None => {
                    scan.items.push(Item::Bad(c));
                    return scan;
                }
                Some(false) => scan.items.push(Item::Opt(c, None)),
                Some(true) => {
                    if k < chars.len() {
                        scan.items
                            .push(Item::Opt(c, Some(chars[k..].iter().collect())));
                    } else if i < args.len() {
                        scan.items.push(Item::Opt(c, Some(args[i].clone())));
                        i += 1;
                    } else {
                        scan.items.push(Item::Bad(c));
                        return scan;
                    }
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

    #[test]
    fn bundles_and_args() {
        let r = getopt(
            &s(&["-QCa1.2.3.4", "-f", "a@b", "x", "-S", "List-ID"]),
            "QCa:f:S:",
        );
        assert_eq!(
            r.items,
            vec![
                Item::Opt('Q', None),
                Item::Opt('C', None),
                Item::Opt('a', Some("1.2.3.4".into())),
                Item::Opt('f', Some("a@b".into())),
                Item::Opt('S', Some("List-ID".into())),
            ]
        );
        assert_eq!(r.operands, ["x"]);
    }

    #[test]
    fn errors() {
        let r = getopt(&s(&["-Q", "-z", "-C"]), "QC");
        assert_eq!(r.items, vec![Item::Opt('Q', None), Item::Bad('z')]);
        let r = getopt(&s(&["-a"]), "a:");
        assert_eq!(r.items, vec![Item::Bad('a')]);
        let r = getopt(&s(&["-a", "-Q"]), "a:Q");
        assert_eq!(r.items, vec![Item::Opt('a', Some("-Q".into()))]);
    }

    #[test]
    fn long_options_are_unknown() {
        let r = getopt(&s(&["-Q", "--help"]), "QC");
        assert_eq!(r.items, vec![Item::Opt('Q', None), Item::Bad('\0')]);
    }

    #[test]
    fn double_dash() {
        let r = getopt(&s(&["-Q", "--", "-C"]), "QC");
        assert_eq!(r.items, vec![Item::Opt('Q', None)]);
        assert_eq!(r.operands, ["-C"]);
    }
}
