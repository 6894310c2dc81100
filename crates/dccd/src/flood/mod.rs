//! Flooding: dccd servers exchange reports over TCP (dccd(8) "flod").
//!
//! - [`file`](mod@file): the `flod` and `grey_flod` files (pure).
//! - [`proto`]: header checks and the texts of ENDs and logs (pure).
//! - [`records`]: what is sent to a peer, what an incoming record does
//!   (pure).
//! - [`summary`]: small reports flooded as one once they add up.
//! - [`state`]: the peers, the reports already received, stream status.
//! - [`incoming`]: a peer's stream to us.
//! - [`outgoing`]: our stream to a peer.
//! - [`run`]: the TCP listeners and the supervisor of outgoing streams.
//! - [`admn`]: `cdcc "flood ..."`.
//!
//! Positions: ours for each peer (what it confirmed) and the peer's for us
//! (what we confirmed) are kept by the store beside the reports, written
//! at each acknowledgement, so a restart resumes where the streams were.
pub mod admn;
pub mod file;
pub mod incoming;
pub mod outgoing;
pub mod proto;
pub mod records;
pub mod run;
pub mod state;
pub mod summary;
