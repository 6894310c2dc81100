//! dccsight(8): report checksums computed earlier, such as the table that
//! `dccproc -C` prints, to a DCC server, and print the X-DCC header.
//!
//! The library holds the pure part, the reading of the checksum lines
//! ([`lines`]); the program (`src/main.rs`) does the I/O.

pub mod lines;
