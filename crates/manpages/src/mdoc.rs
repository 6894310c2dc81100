//! Looking into a page written with the mdoc macros: its sections, the
//! options its SYNOPSIS names, its `.It` items.

/// A page's text, split in lines.
#[derive(Debug)]
pub struct Mdoc {
    lines: Vec<String>,
}

/// The words of a macro line (`.It Fl a Ar x` gives `It Fl a Ar x`),
/// with double-quoted arguments kept together and unquoted.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.trim_start_matches('.').chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    // the zero-width escape only keeps a word from being read as a macro
    for w in &mut out {
        *w = w.replace("\\&", "");
    }
    out
}

/// Macros that may follow a command name on its `.It` line.
const AFTER_NAME: &[&str] = &[
    "Ar", "Op", "Oo", "Cm", "Ns", "Fl", "Pq", "Li", "Ql", "Dq", "Sq", "Xo", "Brq", "Bro", "Ic",
];

/// Whether `hay` (words) is the words of `name`, compared without regard
/// to case, followed by nothing or by a macro.
fn starts_with_words(hay: &[String], name: &str) -> bool {
    let want: Vec<&str> = name.split_whitespace().collect();
    hay.len() >= want.len()
        && hay
            .iter()
            .zip(&want)
            .all(|(h, w)| h.eq_ignore_ascii_case(w))
        && hay
            .get(want.len())
            .is_none_or(|next| AFTER_NAME.contains(&next.as_str()))
}

impl Mdoc {
    /// Split a page's text.
    pub fn new(text: &str) -> Mdoc {
        Mdoc {
            lines: text.lines().map(str::to_string).collect(),
        }
    }

    /// The words of the macro lines of the section `name` (`.Sh NAME`
    /// up to the next `.Sh`); `None` when there is no such section.
    pub fn section(&self, name: &str) -> Option<Vec<Vec<String>>> {
        let mut inside = false;
        let mut found = false;
        let mut out = Vec::new();
        for l in &self.lines {
            if !l.starts_with('.') {
                continue;
            }
            let w = words(l);
            if w.first().map(String::as_str) == Some("Sh") {
                inside = w[1..].join(" ") == name;
                found |= inside;
                continue;
            }
            if inside {
                out.push(w);
            }
        }
        found.then_some(out)
    }

    /// Every option letter named by `Fl` in the section (`Fl VdQ` names
    /// V, d and Q).
    pub fn fl_letters(&self, section: &str) -> Option<Vec<char>> {
        let lines = self.section(section)?;
        let mut out = Vec::new();
        for w in &lines {
            for pair in w.windows(2) {
                if pair[0] == "Fl" {
                    out.extend(pair[1].chars().filter(char::is_ascii_alphanumeric));
                }
            }
        }
        Some(out)
    }

    /// The `.It Fl x ...` items of a section: the letter and the words
    /// after it.
    pub fn option_items(&self, section: &str) -> Vec<(char, Vec<String>)> {
        let mut out = Vec::new();
        for w in self.section(section).unwrap_or_default() {
            if w.len() >= 3 && w[0] == "It" && w[1] == "Fl" {
                let mut c = w[2].chars();
                if let (Some(letter), None) = (c.next(), c.next()) {
                    out.push((letter, w[3..].to_vec()));
                }
            }
        }
        out
    }

    /// Whether some `.It` line of the page names `name` with `Ic`
    /// (`.It Ic new map Op Ar mapfile` names `new map`).
    pub fn has_ic_item(&self, name: &str) -> bool {
        self.macro_lines().any(|w| {
            w.first().map(String::as_str) == Some("It")
                && w.iter().position(|x| x == "Ic").is_some_and(|i| {
                    // a quoted name counts as its words
                    let rest: Vec<String> = w[i + 1..]
                        .iter()
                        .flat_map(|x| x.split_whitespace().map(str::to_string))
                        .collect();
                    starts_with_words(&rest, name)
                })
        })
    }

    /// Whether some macro line of the page has `Cm name`.
    pub fn has_cm(&self, name: &str) -> bool {
        self.macro_lines().any(|w| {
            w.windows(2)
                .any(|p| p[0] == "Cm" && p[1].eq_ignore_ascii_case(name))
        })
    }

    fn macro_lines(&self) -> impl Iterator<Item = Vec<String>> + '_ {
        self.lines
            .iter()
            .filter(|l| l.starts_with('.'))
            .map(|l| words(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_items() {
        let m = Mdoc::new(
            ".Sh SYNOPSIS\n.Nm x\n.Op Fl Vd\n.Op Fl h Ar home\n.Sh OPTIONS\n.Bl -tag\n\
             .It Fl V\ntext\n.It Fl h Ar home\n.El\n.Sh COMMANDS\n.It Ic new map Op Ar f\n\
             .It Ic \"flood stats\"\n.It Ic \\&?\n.Cm ADMN\n",
        );
        assert_eq!(m.fl_letters("SYNOPSIS").unwrap(), ['V', 'd', 'h']);
        assert!(m.fl_letters("BUGS").is_none());
        let items = m.option_items("OPTIONS");
        assert_eq!(items.len(), 2);
        assert_eq!(items[1], ('h', vec!["Ar".to_string(), "home".to_string()]));
        assert!(m.has_ic_item("NEW   map"));
        assert!(m.has_ic_item("flood stats"));
        assert!(!m.has_ic_item("new"));
        assert!(!m.has_ic_item("flood status"));
        assert!(m.has_cm("admn"));
        assert!(m.has_ic_item("?"));
    }
}
