//! DCC checksums, equal bit for bit to those of the original DCC.
//!
//! Pure and streaming: no I/O, input in pieces of any size, memory bounded
//! independent of the size of the message.
//!
//! - [`types`]: checksum types and the 16-byte sums.
//! - [`header`]: envelope and header checksums (IP, env_From, From, Message-ID,
//!   Received, substitutes, env_To) and the Received-header parser of `dccproc -R`.
//! - [`body`]: Body, Fuz1 and Fuz2 with MIME walking and transfer decoding.
//! - [`message`]: the driver that splits a raw message into header fields and
//!   body and feeds both of the above.
//! - `md5_many`: a few short MD5s two at a time (the header checksums), on
//!   the engine's own compression.
//! - [`md5_pair`]: two short keyed MD5 digests at once (dccd's signature checks),
//!   on the engine's two-lane MD5.

pub mod types;

pub use types::{Ck, CkType, Sum};
pub mod body;
pub mod header;
pub(crate) mod md5_many;
pub mod md5_pair;
pub mod message;
pub(crate) mod scan;
pub mod simple;
