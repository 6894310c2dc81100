//! A checksum on the wire: type (1 byte), length (1 byte, always 18) and
//! the 16-byte sum.

use crate::error::DecodeError;
use tally_ck::{CkType, Sum};

/// Bytes of one checksum on the wire.
pub const CK_LEN: usize = 18;
/// Most checksums in one request, answer or flooded report.
pub const MAX_CKS: usize = 14;

/// One checksum as carried by requests and flooded reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WireCk {
    /// Its type.
    pub ty: CkType,
    /// Its value (for flood paths and server-ID records, not an MD5 but
    /// packed IDs or text; see [`crate::flood`]).
    pub sum: Sum,
}

impl WireCk {
    /// A checksum.
    pub fn new(ty: CkType, sum: Sum) -> WireCk {
        WireCk { ty, sum }
    }

    /// Decode the 18 bytes at the start of `b`.
    pub fn decode(b: &[u8]) -> Result<WireCk, DecodeError> {
        let b: &[u8; CK_LEN] =
            b.get(..CK_LEN)
                .and_then(|s| s.try_into().ok())
                .ok_or(DecodeError::TooShort {
                    need: CK_LEN,
                    got: b.len(),
                })?;
        let ty = CkType::from_number(b[0]).ok_or(DecodeError::UnknownCkType(b[0]))?;
        if usize::from(b[1]) != CK_LEN {
            return Err(DecodeError::BadCkLen {
                ty: b[0],
                len: b[1],
            });
        }
        let mut sum = [0u8; 16];
        sum.copy_from_slice(&b[2..]);
        Ok(WireCk { ty, sum: Sum(sum) })
    }

    /// Decode a run of checksums filling all of `b`.
    pub fn decode_list(b: &[u8]) -> Result<Vec<WireCk>, DecodeError> {
        b.chunks(CK_LEN).map(WireCk::decode).collect()
    }

    /// [`WireCk::decode_list`] into `out`, emptied first (a vector kept
    /// from one request to the next spares an allocation each).
    pub fn decode_list_into(b: &[u8], out: &mut Vec<WireCk>) -> Result<(), DecodeError> {
        out.clear();
        for c in b.chunks(CK_LEN) {
            out.push(WireCk::decode(c)?);
        }
        Ok(())
    }

    /// Append the 18 wire bytes.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.ty.number());
        out.push(CK_LEN as u8);
        out.extend_from_slice(&self.sum.0);
    }
}

/// Do the types increase strictly, as the server requires of a request?
pub fn in_order(cks: &[WireCk]) -> bool {
    cks.windows(2).all(|w| w[0].ty < w[1].ty)
}
