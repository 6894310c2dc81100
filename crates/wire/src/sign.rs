//! The 16-byte signatures that end every datagram.
//!
//! A signature is plain MD5 (not HMAC) of a 32-byte key followed by every
//! byte of the datagram before the signature. The key is the password,
//! NUL-padded to 32 bytes. Anonymous clients (ID 1) send 16 zero bytes.
//!
//! A server signs its answer with the password that verified the request;
//! failing that, answers in protocol version 8 or older are keyed with the
//! request's 16 `op_nums` bytes instead of a password; newer ones carry 16
//! zero bytes.

use crate::header::{OpNums, ID_ANON, SIG_LEN, VERS_OPNUMS_SIGNED};
use crate::ids::Ids;
use crate::packet::{Packet, Request, Response};
use md5::{Digest, Md5};
use std::fmt;

/// A password as it is hashed: 1 to 32 bytes, NUL-padded to 32.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Passwd([u8; Passwd::LEN]);

impl Passwd {
    /// Size of the key.
    pub const LEN: usize = 32;

    /// A password of 1 to 32 bytes without NUL.
    pub fn new(pw: &[u8]) -> Option<Passwd> {
        if pw.is_empty() || pw.len() > Self::LEN || pw.contains(&0) {
            return None;
        }
        let mut k = [0u8; Self::LEN];
        k[..pw.len()].copy_from_slice(pw);
        Some(Passwd(k))
    }

    /// The 32 key bytes.
    pub fn key(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// The password without its padding.
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&c| c == 0).unwrap_or(Self::LEN);
        &self.0[..end]
    }
}

impl fmt::Debug for Passwd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passwd(..)")
    }
}

/// MD5 of `key` followed by `signed`.
pub fn keyed_md5(key: &[u8], signed: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(key);
    h.update(signed);
    h.finalize().into()
}

/// How the last 16 bytes of a datagram are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// Keyed with a password.
    Passwd(Passwd),
    /// Keyed with the request's op_nums (old anonymous answers).
    OpNums(OpNums),
    /// 16 zero bytes (anonymous requests, unauthenticated answers).
    Zero,
}

impl Signer {
    /// The signer of a request from `sender` with `passwd` (anonymous: zero).
    pub fn for_request(sender: u32, passwd: Option<&Passwd>) -> Signer {
        match passwd {
            Some(p) if sender != ID_ANON => Signer::Passwd(p.clone()),
            _ => Signer::Zero,
        }
    }

    /// The signer of a server's answer to a request of version
    /// `request_vers` whose signature verified with `verified` (if any).
    pub fn for_answer(
        request_vers: u8,
        verified: Option<&Passwd>,
        request_op_nums: &OpNums,
    ) -> Signer {
        match verified {
            Some(p) => Signer::Passwd(p.clone()),
            None if request_vers <= VERS_OPNUMS_SIGNED => Signer::OpNums(*request_op_nums),
            None => Signer::Zero,
        }
    }

    /// The signature of a datagram (whose last 16 bytes are ignored).
    pub fn signature_for(&self, datagram: &[u8]) -> [u8; 16] {
        let signed = datagram
            .get(..datagram.len().saturating_sub(SIG_LEN))
            .unwrap_or(&[]);
        match self {
            Signer::Passwd(p) => keyed_md5(p.key(), signed),
            Signer::OpNums(n) => keyed_md5(&n.to_bytes(), signed),
            Signer::Zero => [0; 16],
        }
    }

    /// Write the signature into the last 16 bytes of the datagram.
    pub fn sign(&self, datagram: &mut [u8]) {
        let sig = self.signature_for(datagram);
        let n = datagram.len();
        if let Some(tail) = datagram.get_mut(n.saturating_sub(SIG_LEN)..) {
            if tail.len() == SIG_LEN {
                tail.copy_from_slice(&sig);
            }
        }
    }

    /// Does the datagram carry this signer's signature?
    pub fn verify(&self, datagram: &[u8]) -> bool {
        datagram.len() >= SIG_LEN
            && datagram[datagram.len() - SIG_LEN..] == self.signature_for(datagram)
    }
}

impl Packet<Request> {
    /// Set the signature and return the datagram bytes.
    pub fn sign(&mut self, signer: &Signer) -> Vec<u8> {
        let mut bytes = self.encode();
        signer.sign(&mut bytes);
        self.signature = signer.signature_for(&bytes);
        bytes
    }
}

impl Packet<Response> {
    /// Set the signature and return the datagram bytes.
    pub fn sign(&mut self, signer: &Signer) -> Vec<u8> {
        let mut bytes = self.encode();
        signer.sign(&mut bytes);
        self.signature = signer.signature_for(&bytes);
        bytes
    }
}

/// The outcome of a server's check of a request's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Sent by the anonymous client-ID 1; nothing is checked.
    Anonymous,
    /// The signature verified with the ID's first (or, if `second`, its
    /// next) password.
    Verified {
        /// The password that matched (used to sign the answer).
        passwd: Passwd,
        /// It was the second password of the ids line.
        second: bool,
    },
    /// The ID is unknown or has no password.
    UnknownId,
    /// The ID is blacklisted (`delay=forever`) and never verifies.
    Blacklisted,
    /// Neither password verified.
    BadPasswd,
}

impl Auth {
    /// The password that verified, if any.
    pub fn passwd(&self) -> Option<&Passwd> {
        match self {
            Auth::Verified { passwd, .. } => Some(passwd),
            _ => None,
        }
    }

    /// How the server signs its answer.
    pub fn answer_signer(&self, request_vers: u8, request_op_nums: &OpNums) -> Signer {
        Signer::for_answer(request_vers, self.passwd(), request_op_nums)
    }
}

/// Check a received datagram from `sender` against the ids file, as a
/// server does.
pub fn authenticate(ids: &Ids, sender: u32, datagram: &[u8]) -> Auth {
    if sender == ID_ANON {
        return Auth::Anonymous;
    }
    let Some(entry) = ids.get(sender) else {
        return Auth::UnknownId;
    };
    if entry.is_blacklisted() {
        return Auth::Blacklisted;
    }
    if entry.passwd1.is_none() && entry.passwd2.is_none() {
        return Auth::UnknownId;
    }
    for (pw, second) in [(&entry.passwd1, false), (&entry.passwd2, true)] {
        if let Some(pw) = pw {
            if Signer::Passwd(pw.clone()).verify(datagram) {
                return Auth::Verified {
                    passwd: pw.clone(),
                    second,
                };
            }
        }
    }
    Auth::BadPasswd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example() {
        // The NOP of the nop_rtt capture signed by client-ID 32800.
        let mut d = Vec::new();
        for b in [
            0x00u8, 0x28, 0x0c, 0x01, 0, 0, 0x80, 0x20, 0x6d, 0x01, 0x7f, 0, 0x42, 0x73, 0, 0, 4,
            0, 0, 0, 1, 0, 0, 0,
        ] {
            d.push(b);
        }
        d.extend_from_slice(&[0; 16]);
        let s = Signer::Passwd(Passwd::new(b"vectorclientpw").unwrap());
        s.sign(&mut d);
        assert_eq!(
            d[24..],
            [
                0x01, 0xac, 0x55, 0x9d, 0xab, 0xcd, 0x28, 0x50, 0xd9, 0xac, 0x3d, 0x3f, 0xcf, 0x19,
                0x98, 0x95
            ]
        );
        assert!(s.verify(&d));
        assert!(!Signer::Zero.verify(&d));
    }

    #[test]
    fn passwd_limits() {
        assert!(Passwd::new(b"").is_none());
        assert!(Passwd::new(&[b'x'; 33]).is_none());
        assert_eq!(Passwd::new(&[b'x'; 32]).unwrap().as_bytes().len(), 32);
    }
}
