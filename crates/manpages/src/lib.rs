//! The manual pages live in `man/` at the top of the repository; this
//! crate holds their tests and the little they share:
//!
//! - [`PAGES`]: every page, with where its program's options are defined;
//! - [`source`]: reading option strings and command names out of the
//!   programs' source text (no dependency on the program crates);
//! - [`mdoc`]: looking into a page written with the mdoc macros.

pub mod mdoc;
pub mod source;

use std::path::PathBuf;

/// Where the option letters of a program are written in its source.
#[derive(Debug, Clone, Copy)]
pub struct OptSource {
    /// The file, relative to the top of the repository.
    pub path: &'static str,
    /// Text just before the getopt string literal (the constant's
    /// declaration, or the call that holds the literal).
    pub needle: &'static str,
}

/// One manual page.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// The file name in `man/`, with its section as extension.
    pub file: &'static str,
    /// The program's options, for the pages of programs.
    pub opts: Option<OptSource>,
    /// Options the page documents that the source does not have yet
    /// (being added); any other documented option that the code lacks
    /// fails the test.
    pub announced: &'static str,
    /// Whether the page may be missing (written by someone else, not
    /// there yet); a page that is there is checked like every other.
    pub may_be_absent: bool,
}

const fn prog(
    file: &'static str,
    path: &'static str,
    needle: &'static str,
    announced: &'static str,
) -> Page {
    Page {
        file,
        opts: Some(OptSource { path, needle }),
        announced,
        may_be_absent: false,
    }
}

const fn format(file: &'static str) -> Page {
    Page {
        file,
        opts: None,
        announced: "",
        may_be_absent: false,
    }
}

const fn later(file: &'static str) -> Page {
    Page {
        file,
        opts: None,
        announced: "",
        may_be_absent: true,
    }
}

/// Every page in `man/`. A page that is not in this table fails the
/// `listed` test, so that a new page gets the other tests too.
pub const PAGES: &[Page] = &[
    prog(
        "dccm.8",
        "crates/dccm/src/opts.rs",
        "const OPTSTRING: &str =",
        "M",
    ),
    prog(
        "dccifd.8",
        "crates/dccifd/src/opts.rs",
        "const OPTSTRING: &str =",
        "M",
    ),
    prog(
        "dccproc.8",
        "crates/dccproc/src/opts.rs",
        "const OPTSTRING: &str =",
        "",
    ),
    prog(
        "dccd.8",
        "crates/dccd/src/opts.rs",
        "const OPTSTRING: &str =",
        "M",
    ),
    prog("cdcc.8", "crates/cdcc/src/lib.rs", "getopt(args,", ""),
    prog(
        "dbclean.8",
        "crates/dbtools/src/opts_clean.rs",
        "const SPEC: &str =",
        "",
    ),
    prog(
        "dblist.8",
        "crates/dbtools/src/opts_list.rs",
        "const SPEC: &str =",
        "",
    ),
    format("whiteclnt.5"),
    format("map.5"),
    format("ids.5"),
    format("flod.5"),
    // the pages of the package's start and maintenance programs
    later("dcc_conf.5"),
    later("cron-dccd.8"),
    later("start-dccd.8"),
    later("start-dccifd.8"),
    later("start-dccm.8"),
    later("start-grey.8"),
];

/// The top of the repository (two levels above this crate).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).map(PathBuf::from).unwrap_or(here)
}

/// The folder of the pages.
pub fn man_dir() -> PathBuf {
    repo_root().join("man")
}

/// The file of the cdcc command tables.
pub const CDCC_TABLE: &str = "crates/cdcc/src/table.rs";
