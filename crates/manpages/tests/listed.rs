//! Every page in `man/` is in the table of pages, so that a new page is
//! rendered and checked like the others.

use tally_manpages::{man_dir, PAGES};

#[test]
fn every_page_is_in_the_table() {
    let dir = man_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut unlisted = Vec::new();
    let mut seen = 0;
    for e in entries {
        let name = e.expect("reading man/").file_name();
        let name = name.to_string_lossy().to_string();
        // a page is NAME.SECTION with a section digit
        let is_page = name
            .rsplit_once('.')
            .is_some_and(|(_, s)| s.starts_with(|c: char| c.is_ascii_digit()));
        if !is_page {
            continue;
        }
        seen += 1;
        if !PAGES.iter().any(|p| p.file == name) {
            unlisted.push(name);
        }
    }
    assert!(
        unlisted.is_empty(),
        "pages missing from PAGES in crates/manpages/src/lib.rs: {unlisted:?}"
    );
    assert!(seen >= 11, "only {seen} pages in man/");
}
