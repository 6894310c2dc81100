//! Excluding a running dccd (and another dbclean) from the database: the
//! lock lives with the store, see [`tally_store::lock`].

pub use tally_store::lock::{DbLock, LockError};
