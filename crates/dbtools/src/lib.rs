//! `dbclean` and `dblist`, the database tools of a DCC server, for the
//! database of `tally-store` (see dbclean(8) and dblist(8)).
//!
//! - [`clean`]: `dbclean` creates the database (`-N`), checks its files
//!   and repairs a damaged log (`-R bad`), expires old reports with the
//!   `-e`/`-E` ages (and the longer ages of the long-term types), and
//!   builds the server whitelist (`HOME/whitelist`) into it. It refuses to
//!   run while dccd holds the database lock ([`lock`]).
//! - [`list`]: `dblist` prints a header with the database's figures and
//!   the records (date, target count, server-ID, position; path; one line
//!   per checksum with its running total), selected by checksum (`-C`),
//!   server-ID (`-I`), position (`-A`), path length (`-L`), the newest part
//!   (`-P`) or timestamp (`-T`). It reads the files without writing
//!   ([`snapshot`]), so it can run beside dccd.
//!
//! Options of the original that mean nothing for our store (there is no
//! hash table file and no memory mapping) are accepted and ignored:
//! dbclean `-F -f -u -s -H -D -L` and `-R hash` (and `-i`, which the
//! original needs to talk to dccd and which is still required without
//! `-S`); dblist `-H` turns off the table of totals, our counterpart of the
//! hash table. `-W` and `-K` are dccd options, unknown to dbclean as in the
//! original; dblist `-S` (list every total) is an extension. The layout of
//! the database directory is in [`paths`]; the differences from the
//! original are listed in the project's compatibility notes.

pub mod clean;
pub mod exit;
pub mod list;
pub mod lock;
pub mod logfile;
pub mod opts_clean;
pub mod opts_list;
pub mod paths;
pub mod sealed;
pub mod snapshot;
pub mod text;
pub mod white;
