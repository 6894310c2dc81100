//! Where the database and its companion files live under the DCC home
//! directory.
//!
//! The original keeps `dcc_db` (the report file) and `dcc_db.hash` (its hash
//! table) in the home directory, and `grey_db`/`grey_db.hash` for a
//! greylist server. Our store is a directory of files, `HOME/tally-db/`
//! (where dccd opens it) and `HOME/tally-grey-db/` for a greylist server.
//! The text whitelist that `dbclean` builds into the database stays where
//! the original keeps it, `HOME/whitelist` or `HOME/grey_whitelist`.

use std::path::{Path, PathBuf};

/// The DCC home directory when `-h` is not given.
pub const DEFAULT_HOME: &str = "/var/dcc";

/// The database directory of a DCC server (`grey` false) or a greylist
/// server (`grey` true) under `home`.
pub fn db_dir(home: &Path, grey: bool) -> PathBuf {
    home.join(if grey { "tally-grey-db" } else { "tally-db" })
}

/// The server whitelist text file under `home`.
pub fn whitelist_file(home: &Path, grey: bool) -> PathBuf {
    home.join(if grey { "grey_whitelist" } else { "whitelist" })
}

/// The report log inside a database directory.
pub fn log_file(db: &Path) -> PathBuf {
    db.join("reports.log")
}

/// The flooding positions inside a database directory.
pub fn flood_map_file(db: &Path) -> PathBuf {
    db.join("flood.map")
}

/// The compiled whitelist inside a database directory.
pub fn compiled_white_file(db: &Path) -> PathBuf {
    db.join("whitelist")
}

/// The expiry ages of the last cleaning, for `dbclean -P` and `dblist -v`.
pub fn params_file(db: &Path) -> PathBuf {
    db.join("dbclean.params")
}

/// The lock file whose exclusive `flock(2)` lock marks the database in use.
pub fn lock_file(db: &Path) -> PathBuf {
    db.join("lock")
}
