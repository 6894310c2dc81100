//! Test support shared by the integration tests of the DCC clients
//! (dccproc, dccm, dccifd).
//!
//! - [`fake_dccd`]: a small counting DCC server on the loopback interface
//!   that answers like our dccd with its default settings, with the knobs
//!   tests need (a silent mode, preloaded counts, the list of requests it
//!   received).
//! - [`files`]: scratch home directories and the map file pointing a client
//!   at a server.
//! - [`net`]: loopback ports nothing listens on.
//! - [`bench_dccd`]: the project's dccd as a child process for the
//!   benchmarks, which include the file with `#[path]`.
//! - [`as_user`]: for the tests of `-I`: users, groups and what a process
//!   runs as.
//! - [`small_fs`]: a small tmpfs to fill up, for the tests of a full log
//!   directory.
//! - [`metrics`]: the `-M` statistics listener: its address and the
//!   figures it serves.
//! - [`xfltr`]: test filters for `-X`, a unix-socket one and a program.
//! - [`lossy_relay`]: a loopback UDP relay that drops datagrams, for the
//!   tests of a lossy network between client and server.
//! - [`child`]: a whole program run within a time limit, its output read.
//!
//! Only for tests: nothing here is hardened against hostile input, and
//! failures panic with a short message, as test code should.

pub mod as_user;
pub mod bench_dccd;
pub mod child;
pub mod fake_dccd;
pub mod fake_grey;
pub mod files;
pub mod lossy_relay;
pub mod metrics;
pub mod net;
pub mod small_fs;
pub mod xfltr;

pub use fake_dccd::{FakeDccd, Seen, CLIENT_ID, PASSWD};
pub use fake_grey::{grey_map_text, FakeGrey, GreySeen};
pub use files::{log_with_subject, map_text, scratch, write_map};
pub use net::closed_port;
