//! Every page renders with groff without a single warning, and has the
//! sections every page must have.

use std::process::Command;
use tally_manpages::mdoc::Mdoc;
use tally_manpages::{man_dir, PAGES};

#[test]
fn groff_renders_without_warnings() {
    let mut problems = Vec::new();
    let mut rendered = 0;
    for page in PAGES {
        let path = man_dir().join(page.file);
        if !path.exists() && page.may_be_absent {
            continue;
        }
        // the usual width, and a narrow terminal's (lines that cannot be
        // broken show up there)
        for width in [None, Some("-rLL=60n")] {
            let out = Command::new("groff")
                .args(["-mandoc", "-Tutf8", "-ww", "-z"])
                .args(width)
                .arg(&path)
                .output()
                .expect("groff must be installed to test the manual pages");
            let err = String::from_utf8_lossy(&out.stderr);
            if !out.status.success() || !err.trim().is_empty() {
                let w = width.unwrap_or("default width");
                problems.push(format!("{} ({w}): groff {}:\n{err}", page.file, out.status));
            }
        }
        rendered += 1;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(rendered >= 11, "only {rendered} pages rendered");
}

#[test]
fn pages_have_their_sections() {
    let mut problems = Vec::new();
    for page in PAGES {
        let path = man_dir().join(page.file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            if !page.may_be_absent {
                problems.push(format!("{}: missing", page.file));
            }
            continue;
        };
        let m = Mdoc::new(&text);
        let mut want = vec!["NAME", "DESCRIPTION", "SEE ALSO"];
        if let Some(to) = page.described_in {
            // a pointer page: it must name the page that describes it
            let name = to.rsplit_once('.').map_or(to, |(n, _)| n);
            if !text
                .lines()
                .any(|l| l.starts_with(".Xr ") && l[4..].starts_with(name))
            {
                problems.push(format!(
                    "{}: does not point at {to} (`.Xr {name}`)",
                    page.file
                ));
            }
        } else if page.is_program() {
            want.extend(["SYNOPSIS", "OPTIONS", "EXIT STATUS", "COMPATIBILITY"]);
        } else if !page.may_be_absent {
            want.push("COMPATIBILITY");
        }
        for s in want {
            if m.section(s).is_none() {
                problems.push(format!("{}: no `.Sh {s}`", page.file));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
