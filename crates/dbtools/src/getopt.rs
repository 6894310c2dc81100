//! A POSIX `getopt(3)` work-alike: the option syntax of the original tools.
//!
//! Flags may be bundled (`-dq`), an option's argument may follow it in the
//! same word (`-e2days`) or be the next word, `--` ends the options and the
//! first word that does not start with `-` ends them too.

/// One result of the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opt {
    /// A known option, with its argument when it takes one.
    Flag(char, Option<String>),
    /// An option letter not in the specification.
    Unknown(char),
    /// A known option whose argument is missing.
    MissingArg(char),
}

/// Scan `args` (without the program name) against `spec` (getopt's string:
/// letters, each followed by `:` when it takes an argument). Returns the
/// options in order and the remaining operands.
pub fn getopt(args: &[String], spec: &str) -> (Vec<Opt>, Vec<String>) {
    let takes_arg = |c: char| -> Option<bool> {
        let mut it = spec.chars().peekable();
        while let Some(s) = it.next() {
            let arg = it.peek() == Some(&':');
            if arg {
                it.next();
            }
            if s == c && s != ':' {
                return Some(arg);
            }
        }
        None
    };
    let mut opts = Vec::new();
    let mut i = 0;
    while let Some(word) = args.get(i) {
        if word == "--" {
            i += 1;
            break;
        }
        let Some(letters) = word.strip_prefix('-').filter(|l| !l.is_empty()) else {
            break;
        };
        i += 1;
        for (at, c) in letters.char_indices() {
            match takes_arg(c) {
                None => opts.push(Opt::Unknown(c)),
                Some(false) => opts.push(Opt::Flag(c, None)),
                Some(true) => {
                    let rest = letters.get(at + c.len_utf8()..).unwrap_or_default();
                    if !rest.is_empty() {
                        opts.push(Opt::Flag(c, Some(rest.to_string())));
                    } else if let Some(next) = args.get(i) {
                        opts.push(Opt::Flag(c, Some(next.clone())));
                        i += 1;
                    } else {
                        opts.push(Opt::MissingArg(c));
                    }
                    break;
                }
            }
        }
    }
    (opts, args.get(i..).unwrap_or_default().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn bundles_and_arguments() {
        let (o, rest) = getopt(&v(&["-dqS", "-e2days", "-E", "60", "x"]), "dqSe:E:");
        assert_eq!(
            o,
            vec![
                Opt::Flag('d', None),
                Opt::Flag('q', None),
                Opt::Flag('S', None),
                Opt::Flag('e', Some("2days".into())),
                Opt::Flag('E', Some("60".into())),
            ]
        );
        assert_eq!(rest, v(&["x"]));
        let (o, rest) = getopt(&v(&["-Z", "-e"]), "e:");
        assert_eq!(o, vec![Opt::Unknown('Z'), Opt::MissingArg('e')]);
        assert!(rest.is_empty());
        let (o, rest) = getopt(&v(&["--", "-d"]), "d");
        assert!(o.is_empty());
        assert_eq!(rest, v(&["-d"]));
    }
}
