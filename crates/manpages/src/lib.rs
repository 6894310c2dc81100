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
    /// The program's options, for the pages of programs: where each of
    /// the programs the page describes has its getopt string (a page of
    /// several programs documents the letters of all of them).
    pub opts: &'static [OptSource],
    /// Options the page documents that the source does not have yet
    /// (being added); any other documented option that the code lacks
    /// fails the test.
    pub announced: &'static str,
    /// Whether the page may be missing (written by someone else, not
    /// there yet); a page that is there is checked like every other.
    pub may_be_absent: bool,
    /// For a short page that only points at the page describing its
    /// program with others (`start-grey.8` at `start-dccd.8`): that page.
    /// It needs NAME, DESCRIPTION and SEE ALSO, and must name that page.
    pub described_in: Option<&'static str>,
}

impl Page {
    /// Whether the page describes programs with options.
    pub fn is_program(&self) -> bool {
        !self.opts.is_empty()
    }
}

/// Where a program's getopt string is.
const fn src(path: &'static str, needle: &'static str) -> OptSource {
    OptSource { path, needle }
}

const fn prog(file: &'static str, opts: &'static [OptSource], announced: &'static str) -> Page {
    Page {
        file,
        opts,
        announced,
        may_be_absent: false,
        described_in: None,
    }
}

const fn format(file: &'static str) -> Page {
    prog(file, &[], "")
}

const fn pointer(file: &'static str, to: &'static str) -> Page {
    Page {
        described_in: Some(to),
        ..format(file)
    }
}

const DCCM: &str = "crates/dccm/src/opts.rs";
const DCCIFD: &str = "crates/dccifd/src/opts.rs";
const DCCPROC: &str = "crates/dccproc/src/opts.rs";
const DCCD: &str = "crates/dccd/src/opts.rs";
const OPTSTRING: &str = "const OPTSTRING: &str =";
/// The start programs' option strings, one per daemon in `spec()` (the
/// first arm naming the daemon).
const STARTER: &str = "crates/ops/src/starter.rs";

/// Every page in `man/`. A page that is not in this table fails the
/// `listed` test, so that a new page gets the other tests too.
pub const PAGES: &[Page] = &[
    prog("dccm.8", &[src(DCCM, OPTSTRING)], ""),
    prog("dccifd.8", &[src(DCCIFD, OPTSTRING)], ""),
    prog("dccproc.8", &[src(DCCPROC, OPTSTRING)], ""),
    prog(
        "dccsight.8",
        &[src("crates/dccsight/src/opts.rs", OPTSTRING)],
        "",
    ),
    prog("dccd.8", &[src(DCCD, OPTSTRING)], ""),
    prog(
        "cdcc.8",
        &[src("crates/cdcc/src/lib.rs", "getopt(args,")],
        "",
    ),
    prog(
        "dbclean.8",
        &[src(
            "crates/dbtools/src/opts_clean.rs",
            "const SPEC: &str =",
        )],
        "",
    ),
    prog(
        "dblist.8",
        &[src("crates/dbtools/src/opts_list.rs", "const SPEC: &str =")],
        "",
    ),
    format("whiteclnt.5"),
    format("map.5"),
    format("ids.5"),
    format("flod.5"),
    format("dcc_conf.5"),
    // the package's start and maintenance programs
    prog(
        "cron-dccd.8",
        &[src("crates/ops/src/cron.rs", "getopt(args,")],
        "",
    ),
    prog(
        "start-dccd.8",
        &[
            src(STARTER, "Daemon::Dccd =>"),
            src(STARTER, "Daemon::Grey =>"),
            src(STARTER, "Daemon::Dccm =>"),
            src(STARTER, "Daemon::Dccifd =>"),
        ],
        "",
    ),
    pointer("start-grey.8", "start-dccd.8"),
    pointer("start-dccm.8", "start-dccd.8"),
    pointer("start-dccifd.8", "start-dccd.8"),
    // the per-user web pages
    prog(
        "dcc-web.8",
        &[src("crates/web/src/opts.rs", "getopt(args,")],
        "",
    ),
    prog(
        "webuser-notify.8",
        &[src("crates/web/src/bin/webuser-notify.rs", "getopt(&args,")],
        "",
    ),
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
