//! The exit codes of the original tools (the BSD `sysexits.h` numbers).

/// Success.
pub const OK: i32 = 0;
/// A bad option or a forbidden combination of options.
pub const USAGE: i32 = 64;
/// The input data (database, whitelist) is bad.
pub const DATAERR: i32 = 65;
/// A file that must exist does not.
pub const NOINPUT: i32 = 66;
/// The service is not available (dccd holds the database).
pub const UNAVAILABLE: i32 = 69;
/// An internal error.
pub const SOFTWARE: i32 = 70;
/// Reading or writing a file failed.
pub const IOERR: i32 = 74;
/// dbclean could not be started by the server; dccd should try again later
/// (`EX_DCC_RESTART` in the original).
pub const RESTART: i32 = 79;
