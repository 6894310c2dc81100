//! Flooding: dccd servers exchange reports over TCP (dccd(8) "flod").
//!
//! - [`file`]: the `flod` and `grey_flod` files (pure).
pub mod file;
