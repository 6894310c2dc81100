//! DCC client whitelist ("whiteclnt") files: parser, lookups and the
//! per-message verdict, as the original DCC clients (dccproc, dccm, dccifd)
//! understand them.
//!
//! Pure: no I/O. Included files come through [`Includes`], host names of
//! `ip` lines are handed back unresolved ([`ParsedFile::host_names`]) and
//! their addresses are given to [`ParsedFile::build`].
//!
//! Typical use:
//!
//! ```
//! use tally_white::{parse_file, FileKind, NoIncludes, Resolutions};
//! use tally_ck::{simple::str_sum, CkType};
//!
//! let parsed = parse_file("whiteclnt", b"ok env_from alice@example.com\n",
//!                         FileKind::Global, &mut NoIncludes);
//! let built = parsed.build(&Resolutions::new());
//! assert!(built.errors.is_empty());
//! let list = built.list;
//! let sums = [(CkType::EnvFrom, str_sum(None, b"alice@example.com"))];
//! assert!(list.check(&sums, None).is_whitelisted());
//! ```
//!
//! For dccm/dccifd-style programs with per-user files, [`Layered`] puts a
//! recipient's per-user list over the global one: filter switches
//! ([`Layered::filters`], starting from [`Filters::initial`]), thresholds
//! ([`Layered::thresholds`]) and the recipient's white/black result
//! ([`Layered::recipient`]). The SMTP client's relay status (MX, MXDCC,
//! SUBMIT) comes from the global list only ([`WhiteList::relay`]).
//!
//! Parse problems never stop the parse: a bad line is left out and
//! reported ([`WhiteError`], worded as the original: `... in line N of
//! FILE`). Whether to use a list with problems is the caller's choice.
//!
//! Modules:
//! - [`tgts`]: target counts and the special values `OK`, `OK2`, `MANY`, `MX`...
//! - [`names`]: checksum type names as whiteclnt files and thresholds spell them.
//! - [`addr`]: IP addresses, ranges and CIDR blocks of `ip` lines.
//! - [`options`]: `option` lines and thresholds.
//! - [`filters`]: the filter switches programs derive from them.
//! - [`parse`]: the line parser.
//! - [`build`]: turning parsed lines into a [`WhiteList`] (duplicate and
//!   conflict checks, limits).
//! - [`list`]: the table and its lookups.
//! - [`mod@compat`]: whether recipients with different files can share a message.
//! - [`verdict`]: the answer for a message and for each recipient.
//! - [`mod@print`]: a normal form of the parsed entries.

pub mod addr;
pub mod build;
pub mod compat;
pub mod error;
pub mod filters;
pub mod list;
pub mod names;
pub mod options;
pub mod parse;
pub mod print;
pub mod tgts;
pub mod verdict;

pub mod cnum;

pub use addr::IpRange;
pub use build::{Built, Resolutions};
pub use compat::{compat, Compat, RcptProfile};
pub use error::WhiteError;
pub use filters::{Filters, LogSubdir, SpamAction};
pub use list::{Entry, WhiteList};
pub use options::{Switches, Threshold, Thresholds};
pub use parse::{
    hex_ck, hex_sum, parse_file, FileKind, IncludeFailure, IncludeFile, Includes, Item, ItemValue,
    NoIncludes, OptionLine, ParsedFile, Source,
};
pub use tgts::Tgts;
pub use verdict::{recipient, Layered, Listing, MtaOpinion, RcptInputs, RcptResult, Verdict, WHit};

/// Most files a whiteclnt file can include (`include` lines).
pub const MAX_INCLUDES: usize = 8;
/// Most IP address blocks of 256 or more addresses in one file.
pub const WHITE_IP_RANGES_MAX: usize = 64;
/// Blocks smaller than this many addresses become individual entries.
pub const MIN_IP_RANGE_SIZE: u32 = 256;
/// Most checksum entries in one file (ten per hash bin in the original).
pub const MAX_WHITE_ENTRIES: usize = 8209 * 10;
/// Longest line: the original reads lines through a 1024-byte buffer.
pub const MAX_LINE: usize = 1024;
/// Longest path name (DCC_PATH).
pub const MAX_PATH: usize = 1024;

/// Seconds between checks of the files' modification times.
pub const WHITE_STAT_DELAY: u64 = 10;
/// Seconds after which a file with host names is parsed again to pick up
/// DNS changes.
pub const WHITECLNT_RESOLVE: u64 = 2 * 60 * 60;
/// Seconds after which a file with errors is parsed again (to complain again).
pub const WHITE_REPARSE_DELAY: u64 = 30 * 60;
