//! Splitting a variable's value into arguments the way the original's
//! start scripts do when they `eval` a command line: blanks separate
//! words, `'…'` and `"…"` quote, a backslash escapes the next character.

use std::fmt;

/// A value that does not split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    /// What is wrong.
    pub msg: &'static str,
    /// Byte offset in the value.
    pub offset: usize,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.msg, self.offset)
    }
}

/// The words of `value`.
pub fn split(value: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = value.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => {
                            return Err(SplitError {
                                msg: "unterminated '…' quote",
                                offset: at,
                            })
                        }
                        Some((_, '\'')) => break,
                        Some((_, c)) => cur.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => {
                            return Err(SplitError {
                                msg: "unterminated \"…\" quote",
                                offset: at,
                            })
                        }
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, c @ ('"' | '\\' | '$' | '`'))) => cur.push(c),
                            Some((_, '\n')) => {}
                            Some((_, c)) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => {
                                return Err(SplitError {
                                    msg: "unterminated \"…\" quote",
                                    offset: at,
                                })
                            }
                        },
                        Some((_, c)) => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some((_, '\n')) => {}
                    Some((_, c)) => cur.push(c),
                    None => {}
                }
            }
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// One argument quoted for a shell, for showing command lines
/// (`--print`): bare when it holds only safe characters, else in `'…'`.
pub fn quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.,/:=+@%".contains(&b));
    if safe {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_like_the_shell() {
        assert_eq!(
            split("-SHELO '-r5.7.1 550 mail %s from %s rejected with DCC'").unwrap(),
            vec!["-SHELO", "-r5.7.1 550 mail %s from %s rejected with DCC"]
        );
        assert_eq!(
            split("  a\tb\\ c \"d e\"f ''").unwrap(),
            vec!["a", "b c", "d ef", ""]
        );
        assert_eq!(
            split("'-Blist.dnswl.org,127.0.0.3&255.255.0.255'")
                .unwrap()
                .len(),
            1
        );
        assert_eq!(split("").unwrap(), Vec::<String>::new());
        let e = split("-a 'open").unwrap_err();
        assert_eq!(e.offset, 3);
    }

    proptest! {
        #[test]
        fn quoting_round_trips(words in proptest::collection::vec(".*", 0..6)) {
            let line: Vec<String> = words.iter().map(|w| quote(w)).collect();
            prop_assert_eq!(split(&line.join(" ")).unwrap(), words);
        }

        #[test]
        fn never_panics(s in ".*") {
            let _ = split(&s);
        }
    }
}
