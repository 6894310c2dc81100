//! Checksum types and values as the DCC protocol numbers and names them.

use std::fmt;

/// A DCC checksum type, numbered as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum CkType {
    Ip = 1,
    EnvFrom = 2,
    From = 3,
    /// A "substitute" header named with `-S`.
    Sub = 4,
    MessageId = 5,
    Received = 6,
    Body = 7,
    Fuz1 = 8,
    Fuz2 = 9,
    /// Greylist message checksum, or the reputation total in the main database.
    GreyMsg = 10,
    /// Greylist triple, or the bulk reputation in the main database.
    GreyTriple = 11,
    SrvrId = 12,
    /// Envelope recipient (whitelists only; flooding path in the database).
    EnvTo = 13,
}

impl CkType {
    /// Every type, in wire order.
    pub const ALL: [CkType; 13] = [
        CkType::Ip,
        CkType::EnvFrom,
        CkType::From,
        CkType::Sub,
        CkType::MessageId,
        CkType::Received,
        CkType::Body,
        CkType::Fuz1,
        CkType::Fuz2,
        CkType::GreyMsg,
        CkType::GreyTriple,
        CkType::SrvrId,
        CkType::EnvTo,
    ];

    /// The wire number of the type.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The type with this wire number.
    pub fn from_number(n: u8) -> Option<CkType> {
        CkType::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// The name the original prints in headers, logs and `dccproc -C`
    /// (for the main database; see [`CkType::grey_name`] for the greylist one).
    pub fn name(self) -> &'static str {
        match self {
            CkType::Ip => "IP",
            CkType::EnvFrom => "env_From",
            CkType::From => "From",
            CkType::Sub => "substitute",
            CkType::MessageId => "Message-ID",
            CkType::Received => "Received",
            CkType::Body => "Body",
            CkType::Fuz1 => "Fuz1",
            CkType::Fuz2 => "Fuz2",
            CkType::GreyMsg => "rep-total",
            CkType::GreyTriple => "rep",
            CkType::SrvrId => "server-ID",
            CkType::EnvTo => "env_To",
        }
    }

    /// The name in a greylist server's database.
    pub fn grey_name(self) -> &'static str {
        match self {
            CkType::GreyMsg => "Grey_Msg",
            CkType::GreyTriple => "Grey3",
            other => other.name(),
        }
    }

    /// Body checksums: Body, Fuz1, Fuz2.
    pub fn is_body(self) -> bool {
        matches!(self, CkType::Body | CkType::Fuz1 | CkType::Fuz2)
    }

    /// Types a server keeps longer than the rest (Fuz1 through the reputations).
    pub fn is_long_term(self) -> bool {
        (CkType::Fuz1.number()..=CkType::GreyTriple.number()).contains(&self.number())
    }
}

impl fmt::Display for CkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A 16-byte DCC checksum (an MD5 digest).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Sum(pub [u8; 16]);

impl Sum {
    /// The four 32-bit words the original prints, each big-endian.
    pub fn words(&self) -> [u32; 4] {
        let b = &self.0;
        std::array::from_fn(|i| {
            u32::from_be_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
        })
    }

    /// Parse the printed form: four groups of 8 hex digits separated by white space.
    pub fn parse_hex(s: &str) -> Option<Sum> {
        let mut out = [0u8; 16];
        let mut n = 0;
        for word in s.split_ascii_whitespace() {
            if n == 4 || word.len() != 8 {
                return None;
            }
            let v = u32::from_str_radix(word, 16).ok()?;
            out[4 * n..4 * n + 4].copy_from_slice(&v.to_be_bytes());
            n += 1;
        }
        (n == 4).then_some(Sum(out))
    }
}

impl fmt::Display for Sum {
    /// `xxxxxxxx xxxxxxxx xxxxxxxx xxxxxxxx`, as `dccproc -C` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.words();
        write!(f, "{:08x} {:08x} {:08x} {:08x}", w[0], w[1], w[2], w[3])
    }
}

impl fmt::Debug for Sum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sum({self})")
    }
}

/// One checksum: its type and value. The key of the server's databases (DCC and greylist).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ck {
    /// The checksum type.
    pub ty: CkType,
    /// The 16-byte value.
    pub sum: Sum,
}

impl Ck {
    /// A checksum of type `ty` with value `sum`.
    pub fn new(ty: CkType, sum: Sum) -> Ck {
        Ck { ty, sum }
    }

    /// The 17-byte key: type number then the sum.
    pub fn key(&self) -> [u8; 17] {
        let mut k = [0u8; 17];
        k[0] = self.ty.number();
        k[1..].copy_from_slice(&self.sum.0);
        k
    }

    /// The checksum of a 17-byte key, if its type number is known.
    pub fn from_key(k: &[u8]) -> Option<Ck> {
        let (&t, rest) = k.split_first()?;
        let sum: [u8; 16] = rest.try_into().ok()?;
        Some(Ck::new(CkType::from_number(t)?, Sum(sum)))
    }
}

impl fmt::Display for Ck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ty, self.sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for t in CkType::ALL {
            assert_eq!(CkType::from_number(t.number()), Some(t));
        }
        assert_eq!(CkType::from_number(0), None);
        assert_eq!(CkType::from_number(14), None);
    }

    #[test]
    fn hex_round_trip() {
        let s = "c160f8cc 69a4f0bf 2b036275 2353d060";
        let sum = Sum::parse_hex(s).unwrap();
        assert_eq!(sum.to_string(), s);
        assert_eq!(sum.0[0], 0xc1);
        assert!(Sum::parse_hex("c160f8cc 69a4f0bf 2b036275").is_none());
        assert!(Sum::parse_hex("c160f8cc 69a4f0bf 2b036275 2353d06g").is_none());
    }
}
