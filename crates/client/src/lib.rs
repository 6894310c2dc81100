//! The DCC client library: talking to DCC and greylist servers over UDP
//! with the DCC 2.3.167 protocol.
//!
//! - [`map`]: the list of servers with client-IDs, passwords and RTT
//!   adjustments, and the state measured for them, as text in the form
//!   `cdcc info` prints and `cdcc load` reads.
//! - [`select`] and [`timing`]: how the fastest working server is chosen
//!   and when requests are retransmitted, with the reference client's
//!   constants (4 transmissions within 16 s, RTT measured with NOPs every
//!   15 minutes, names resolved every hour, a back-off of 32 s doubling
//!   up to 512 s after all servers failed).
//! - [`transport`]: the UDP exchanges.
//! - [`Client`]: the asynchronous API.
//!
//! Requests are signed with the client-ID and password of the server's map
//! entry (the anonymous client-ID 1 sends a zero signature). Answers are
//! checked against the same password; like the reference client, an answer
//! whose signature does not verify (the server did not accept our password
//! and answered as to an anonymous client) is still used, and reported as
//! not [`authenticated`](DccAnswer::authenticated).
//!
//! ```no_run
//! # async fn f() -> Result<(), tally_client::ClientError> {
//! use tally_client::{map::parse::parse_map, Client};
//! let map = parse_map("dcc.example.com,- 32800 secret\n", None).unwrap();
//! let client = Client::new(map);
//! let cks = []; // checksums of a message
//! match client.report(&cks, 1, false).await {
//!     Ok(answer) => println!("{} counts", answer.counts.len()),
//!     Err(e) if e.deliver_anyway() => println!("deliver without DCC: {e}"),
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```

pub mod client;
pub mod clock;
pub mod error;
pub mod map;
pub mod ops;
pub mod select;
pub mod timing;
pub mod transport;
pub mod words;

pub use client::{Client, Reply};
pub use error::{ClientError, NoServerReason};
pub use map::{ClassKind, Map};
pub use ops::{CkCount, DccAnswer, GreyAnswer};
pub use transport::Wait;
