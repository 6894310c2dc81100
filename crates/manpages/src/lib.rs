//! The manual pages live in `man/`; this crate holds their tests.
