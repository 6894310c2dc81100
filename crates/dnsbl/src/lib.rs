//! DNS white- and blacklists, the `-B` option of dccm(8), dccifd(8) and dccproc(8).
//!
//! - [`option`]: the `-B` grammar (pure).
//! - [`reply`]: `set:rej-msg` texts and their `%` macros (pure).
//! - [`addr`]: result addresses, ranges and probe names (pure).

pub mod addr;
pub mod option;
pub mod reply;
