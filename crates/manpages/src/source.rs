//! Reading the option letters and the cdcc command names out of the
//! programs' source text. Every failure names the file and what was not
//! found, so that a renamed constant fails loudly instead of checking
//! nothing.

/// One option letter and whether it takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptLetter {
    /// The letter (or digit).
    pub letter: char,
    /// Followed by `:` in the getopt string.
    pub takes_arg: bool,
}

/// The first string literal after `needle` in `text`, unescaped.
/// `what` names the file in errors.
pub fn string_after(text: &str, needle: &str, what: &str) -> Result<String, String> {
    let at = text
        .find(needle)
        .ok_or_else(|| format!("{what}: `{needle}` not found"))?;
    let rest = &text[at + needle.len()..];
    let open = rest
        .find('"')
        .ok_or_else(|| format!("{what}: no string literal after `{needle}`"))?;
    // only blanks may stand between the needle and the literal
    if !rest[..open].trim().is_empty() {
        return Err(format!(
            "{what}: `{}` between `{needle}` and its string literal",
            rest[..open].trim()
        ));
    }
    literal(&rest[open..])
        .map(|(lit, _)| lit)
        .ok_or_else(|| format!("{what}: unterminated string after `{needle}`"))
}

/// Unescape the Rust string literal that `s` starts with (at its `"`):
/// its text and its length in the source, quotes included.
fn literal(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '\n' => {
                    // a line continuation skips the next line's indent
                    let mut ahead = chars.clone();
                    while ahead.next().is_some_and(|(_, c)| c.is_whitespace()) {
                        chars.next();
                    }
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// The letters of a getopt string (`"Vdh:"`): `:` marks an argument.
pub fn getopt_letters(spec: &str) -> Result<Vec<OptLetter>, String> {
    let mut v: Vec<OptLetter> = Vec::new();
    for c in spec.chars() {
        if c == ':' {
            let last = v
                .last_mut()
                .ok_or_else(|| format!("getopt string \"{spec}\" starts with ':'"))?;
            last.takes_arg = true;
        } else if c.is_ascii_alphanumeric() {
            if v.iter().any(|o| o.letter == c) {
                return Err(format!("getopt string \"{spec}\" has -{c} twice"));
            }
            v.push(OptLetter {
                letter: c,
                takes_arg: false,
            });
        } else {
            return Err(format!("getopt string \"{spec}\": unexpected {c:?}"));
        }
    }
    if v.is_empty() {
        return Err(format!("getopt string \"{spec}\" has no options"));
    }
    Ok(v)
}

/// The command names of cdcc's tables.
#[derive(Debug, Default)]
pub struct CdccCommands {
    /// Commands of the local table with their own action.
    pub main: Vec<String>,
    /// Other spellings of the command above them.
    pub synonyms: Vec<String>,
    /// The modes of `trace MODE on|off`.
    pub trace_modes: Vec<String>,
    /// The fixed administrative operations (`stop`, `flood check`, ...).
    pub operations: Vec<String>,
}

/// The text of `text` from `start` to the first `end` after it.
fn region<'a>(text: &'a str, start: &str, end: &str, what: &str) -> Result<&'a str, String> {
    let a = text
        .find(start)
        .ok_or_else(|| format!("{what}: `{start}` not found"))?;
    let len = text[a..]
        .find(end)
        .ok_or_else(|| format!("{what}: no `{end}` after `{start}`"))?;
    Ok(&text[a..a + len])
}

/// Each string literal that opens a call of `callee` (`e("name"`), or a
/// tuple when `callee` is empty (`("name"`), with what follows it up to
/// the next comma.
fn first_literals(block: &str, callee: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, _) in block.match_indices('(') {
        let before = &block[..i];
        let ident_len = before.len()
            - before
                .trim_end_matches(|c: char| c.is_alphanumeric() || c == '_' || c == '!')
                .len();
        if &before[before.len() - ident_len..] != callee {
            continue;
        }
        let t = block[i + 1..].trim_start();
        if !t.starts_with('"') {
            continue;
        }
        if let Some((lit, src_len)) = literal(t) {
            let next = t[src_len..]
                .trim_start()
                .trim_start_matches(',')
                .trim_start()
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            out.push((lit, next));
        }
    }
    out
}

/// Read the command tables of cdcc from the text of its `table.rs`.
pub fn cdcc_commands(text: &str, what: &str) -> Result<CdccCommands, String> {
    let mut c = CdccCommands::default();
    let cmds = region(text, "pub const CMDS", "\n];", what)?;
    for (name, next) in first_literals(cmds, "e") {
        if next.starts_with("Some(Cmd::") {
            c.main.push(name);
        } else if next == "None" {
            c.synonyms.push(name);
        } else {
            return Err(format!("{what}: command \"{name}\" followed by `{next}`"));
        }
    }
    let traces = region(text, "let traces", "for (s, bit, shown)", what)?;
    c.trace_modes = first_literals(traces, "")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let fixed = region(text, "let fixed", "];", what)?;
    c.operations = first_literals(fixed, "")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for (list, name) in [
        (&c.main, "commands"),
        (&c.synonyms, "synonyms"),
        (&c.trace_modes, "trace modes"),
        (&c.operations, "operations"),
    ] {
        if list.is_empty() {
            return Err(format!("{what}: no {name} found"));
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_letters() {
        let src = "pub const SPEC: &str = \"ab:c\\\n    d\";";
        let s = string_after(src, "const SPEC: &str =", "x.rs").unwrap();
        assert_eq!(s, "ab:cd");
        let l = getopt_letters(&s).unwrap();
        assert_eq!(l.len(), 4);
        assert!(l[1].takes_arg && !l[0].takes_arg);
        assert!(string_after(src, "const OTHER", "x.rs").is_err());
        assert!(string_after("const A: &str = B;", "const A: &str =", "x").is_err());
        assert!(getopt_letters(":a").is_err());
        assert!(getopt_letters("aa").is_err());
    }

    #[test]
    fn tables() {
        let src = "pub const CMDS: &[E] = &[\n    e(\"help\", Some(Cmd::Help), Opt, Some(\"help [cmd]\")),\n    e(\n        \"?\",\n        None,\n    ),\n];\n\
            let traces = [(\"admn\", 1, true)];\n    for (s, bit, shown) in traces {}\n\
            let fixed = [(\"stop\", true), (\n \"DB new\", true)];";
        let c = cdcc_commands(src, "t.rs").unwrap();
        assert_eq!(c.main, ["help"]);
        assert_eq!(c.synonyms, ["?"]);
        assert_eq!(c.trace_modes, ["admn"]);
        assert_eq!(c.operations, ["stop", "DB new"]);
    }
}
