//! Every option letter in a program's getopt string is documented in its
//! page: named in the SYNOPSIS and given an `.It Fl x` item in OPTIONS
//! (with `Ar` when it takes an argument). An item for a letter the code
//! does not have fails too, unless the table announces it.

use std::fs;
use tally_manpages::mdoc::Mdoc;
use tally_manpages::source::{cdcc_commands, getopt_letters, string_after, OptLetter};
use tally_manpages::{man_dir, repo_root, CDCC_TABLE, PAGES};

fn read(path: &std::path::Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_option_is_documented() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in PAGES {
        if !page.is_program() {
            continue;
        }
        // the letters of every program the page describes, united
        let mut letters: Vec<OptLetter> = Vec::new();
        let mut specs = Vec::new();
        for src in page.opts {
            let text = read(&repo_root().join(src.path));
            let spec = string_after(&text, src.needle, src.path).unwrap_or_else(|e| panic!("{e}"));
            for o in getopt_letters(&spec).unwrap_or_else(|e| panic!("{}: {e}", src.path)) {
                match letters.iter().find(|l| l.letter == o.letter) {
                    Some(l) if l.takes_arg != o.takes_arg => problems.push(format!(
                        "{}: -{} takes an argument in one program and not in another",
                        page.file, o.letter
                    )),
                    Some(_) => {}
                    None => letters.push(o),
                }
            }
            specs.push(format!("\"{spec}\""));
        }
        let mut paths: Vec<&str> = page.opts.iter().map(|s| s.path).collect();
        paths.dedup();
        let spec = format!("{} ({})", specs.join(", "), paths.join(", "));
        let m = Mdoc::new(&read(&man_dir().join(page.file)));
        let Some(synopsis) = m.fl_letters("SYNOPSIS") else {
            problems.push(format!("{}: no SYNOPSIS section", page.file));
            continue;
        };
        if m.section("OPTIONS").is_none() {
            problems.push(format!("{}: no OPTIONS section", page.file));
            continue;
        }
        let items = m.option_items("OPTIONS");
        for o in &letters {
            let c = o.letter;
            if !synopsis.contains(&c) {
                problems.push(format!("{}: -{c} ({spec}) not in the SYNOPSIS", page.file));
            }
            match items.iter().find(|(l, _)| *l == c) {
                None => problems.push(format!(
                    "{}: no `.It Fl {c}` item in OPTIONS for -{c} of {spec}",
                    page.file
                )),
                Some((_, rest)) => {
                    // an argument is shown as a placeholder or a literal
                    let has_ar = rest.iter().any(|w| w == "Ar" || w == "Cm");
                    if o.takes_arg != has_ar {
                        problems.push(format!(
                            "{}: -{c} {} an argument in the code, its item {}",
                            page.file,
                            if o.takes_arg { "takes" } else { "takes no" },
                            if has_ar { "shows one" } else { "shows none" }
                        ));
                    }
                }
            }
            checked += 1;
        }
        for (l, _) in &items {
            if !letters.iter().any(|o| o.letter == *l) && !page.announced.contains(*l) {
                problems.push(format!(
                    "{}: documents -{l}, which {spec} does not have",
                    page.file
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked > 100, "only {checked} options checked");
}

#[test]
fn every_cdcc_command_is_documented() {
    let c = cdcc_commands(&read(&repo_root().join(CDCC_TABLE)), CDCC_TABLE)
        .unwrap_or_else(|e| panic!("{e}"));
    let m = Mdoc::new(&read(&man_dir().join("cdcc.8")));
    let mut problems = Vec::new();
    for name in c.main.iter().chain(&c.synonyms).chain(&c.operations) {
        if !m.has_ic_item(name) {
            problems.push(format!("cdcc.8: no `.It Ic {name}` item ({CDCC_TABLE})"));
        }
    }
    for mode in &c.trace_modes {
        if !m.has_cm(mode) {
            problems.push(format!(
                "cdcc.8: trace mode `Cm {mode}` missing ({CDCC_TABLE})"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(c.main.len() + c.operations.len() > 40);
}
