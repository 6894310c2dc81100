//! Checksum type names as whiteclnt files and thresholds spell them.
//!
//! Names match without regard to case, `-`, `.` and `_` are interchangeable,
//! and trailing colons or blanks are ignored (`env-from`, `ENV_FROM:`,
//! `message.id`). Whiteclnt lines also accept the type number.

use crate::cnum::strtoul_all;
use tally_ck::CkType;

/// A type named in a whiteclnt line or a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeName {
    /// One checksum type.
    Ck(CkType),
    /// `ALL`: every ordinary checksum type (IP through Fuz2).
    All,
    /// `CMN`: the common body checksums Body, Fuz1 and Fuz2.
    Cmn,
}

const TABLE: [(&[u8], TypeName); 18] = [
    (b"IP", TypeName::Ck(CkType::Ip)),
    (b"env_From", TypeName::Ck(CkType::EnvFrom)),
    (b"From", TypeName::Ck(CkType::From)),
    (b"substitute", TypeName::Ck(CkType::Sub)),
    (b"Message-ID", TypeName::Ck(CkType::MessageId)),
    (b"Received", TypeName::Ck(CkType::Received)),
    (b"Body", TypeName::Ck(CkType::Body)),
    (b"Fuz1", TypeName::Ck(CkType::Fuz1)),
    (b"Fuz2", TypeName::Ck(CkType::Fuz2)),
    (b"Grey_Msg", TypeName::Ck(CkType::GreyMsg)),
    (b"Grey3", TypeName::Ck(CkType::GreyTriple)),
    (b"rep-total", TypeName::Ck(CkType::GreyMsg)),
    (b"rep", TypeName::Ck(CkType::GreyTriple)),
    (b"env_To", TypeName::Ck(CkType::EnvTo)),
    (b"flood path", TypeName::Ck(CkType::EnvTo)),
    (b"server-ID", TypeName::Ck(CkType::SrvrId)),
    (b"ALL", TypeName::All),
    (b"CMN", TypeName::Cmn),
];

fn is_sep(c: u8) -> bool {
    matches!(c, b'-' | b'.' | b'_')
}

fn matches_name(name: &[u8], s: &[u8]) -> bool {
    let mut i = 0;
    for &n in name {
        let Some(&c) = s.get(i) else { return false };
        let d = n ^ c;
        if !(d == 0 || d == (b'A' ^ b'a') || (is_sep(n) && is_sep(c))) {
            return false;
        }
        i += 1;
    }
    s[i..]
        .iter()
        .all(|&c| matches!(c, b':' | b' ' | b'\t' | b'\n'))
}

fn lookup(s: &[u8], numeric: bool) -> Option<TypeName> {
    let s = &s[s.iter().take_while(|c| b" \t\n\r".contains(c)).count()..];
    if s.is_empty() {
        return None;
    }
    if let Some(&(_, t)) = TABLE.iter().find(|(name, _)| matches_name(name, s)) {
        return Some(t);
    }
    if numeric {
        let n = strtoul_all(s, 0)?;
        return u8::try_from(n)
            .ok()
            .and_then(CkType::from_number)
            .map(TypeName::Ck);
    }
    None
}

/// Types subject to thresholds: IP through the reputation types.
pub fn thold_ok(t: CkType) -> bool {
    t.number() <= CkType::GreyTriple.number()
}

/// The type of a whiteclnt line: a name or number of a type subject to
/// thresholds, or env_To.
pub fn whiteclnt_type(s: &[u8]) -> Option<CkType> {
    match lookup(s, true)? {
        TypeName::Ck(t) if thold_ok(t) || t == CkType::EnvTo => Some(t),
        _ => None,
    }
}

/// The type of `option threshold type,count` (and of `-t`/`-c`): a
/// type subject to thresholds, `ALL` or `CMN`.
pub fn threshold_type(s: &[u8]) -> Option<TypeName> {
    match lookup(s, false)? {
        TypeName::Ck(t) if !thold_ok(t) => None,
        other => Some(other),
    }
}

/// The types a threshold for `name` sets.
pub fn threshold_targets(name: TypeName) -> Vec<CkType> {
    CkType::ALL
        .iter()
        .copied()
        .filter(|&t| match name {
            TypeName::Ck(x) => t == x,
            TypeName::All => t.number() <= CkType::Fuz2.number(),
            TypeName::Cmn => t.is_body(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(whiteclnt_type(b"env_from"), Some(CkType::EnvFrom));
        assert_eq!(whiteclnt_type(b"ENV-FROM:"), Some(CkType::EnvFrom));
        assert_eq!(whiteclnt_type(b"message.id"), Some(CkType::MessageId));
        assert_eq!(whiteclnt_type(b"env_to"), Some(CkType::EnvTo));
        assert_eq!(whiteclnt_type(b"2"), Some(CkType::EnvFrom));
        assert_eq!(whiteclnt_type(b"server-id"), None);
        assert_eq!(whiteclnt_type(b"ALL"), None);
        assert_eq!(whiteclnt_type(b"rep"), Some(CkType::GreyTriple));
        assert_eq!(whiteclnt_type(b"fromx"), None);
        assert_eq!(threshold_type(b"CMN"), Some(TypeName::Cmn));
        assert_eq!(threshold_type(b"3"), None);
        assert_eq!(threshold_targets(TypeName::All).len(), 9);
    }
}
