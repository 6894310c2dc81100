//! The wire formats of the Distributed Checksum Clearinghouse protocol,
//! byte-compatible with DCC 2.3.167.
//!
//! Pure: bytes in, values out; values in, bytes out. There is no I/O, no
//! socket and no clock here; callers supply dates and passwords.
//!
//! - [`header`]: the 24-byte header every UDP datagram starts with, the
//!   operation codes and the protocol versions.
//! - [`tgts`]: target counts and their special values (many, OK, deleted...).
//! - [`ck`]: a checksum as it travels: type, length, 16-byte sum.
//! - [`packet`]: whole client requests; [`response`]: server responses.
//! - [`admn`]: administrative requests and the binary answers to them
//!   (the packed list of clients, the anonymous delay).
//! - [`sign`]: the keyed-MD5 signatures of requests and answers;
//!   [`sign_pair`]: two of them at once.
//! - [`ids`]: the server's `ids` file of client-IDs and passwords.
//! - [`flood`]: the server-to-server flooding stream over TCP.
//! - [`validate`]: the checks a server makes before working on a request.
//! - [`error`]: the typed decoding errors.
//!
//! A client's NOP and a server's OK, signed and decoded again:
//!
//! ```
//! use tally_wire::ids::Ids;
//! use tally_wire::packet::{Expect, OkBody, Packet, Request, Response};
//! use tally_wire::sign::{authenticate, Passwd, Signer};
//! use tally_wire::OpNums;
//!
//! let pw = Passwd::new(b"secret").unwrap();
//! let mut nop = Packet::request(12, 32800, OpNums::from_le_words(1, 2, 3, 1), Request::Nop);
//! let datagram = nop.sign(&Signer::for_request(32800, Some(&pw)));
//! assert_eq!(datagram.len(), 40);
//!
//! // The server decodes, authenticates and answers.
//! let ids = Ids::parse(b"32800 secret\n").unwrap();
//! let req = Packet::<Request>::decode(&datagram).unwrap();
//! let auth = authenticate(&ids, req.sender, &datagram);
//! let mut ok = Packet::response_to(&req, 1100, Response::Ok(OkBody::new(12, 0, "brand")));
//! let answer = ok.sign(&auth.answer_signer(req.pkt_vers, &req.op_nums));
//!
//! // The client checks the answer with its own password.
//! let got = Packet::<Response>::decode(&answer, Expect::for_request(&req.body)).unwrap();
//! assert!(Signer::Passwd(pw).verify(&answer));
//! assert_eq!(got.op_nums, req.op_nums);
//! ```

pub mod admn;
pub mod ck;
pub mod clients;
pub mod error;
pub mod flood;
pub mod header;
pub mod ids;
pub mod packet;
pub mod response;
pub mod sign;
pub mod sign_pair;
pub mod tgts;
pub mod validate;

pub use ck::WireCk;
pub use error::DecodeError;
pub use header::{Op, OpNums};
pub use packet::{Expect, Packet, Request, Response};
pub use sign::{Passwd, Signer};
pub use tally_ck::{CkType, Sum};
pub use tgts::Tgts;
