//! Target counts (`DCC_TGTS`): how many recipients a checksum has been seen
//! for, plus the special values whiteclnt lines use in place of a count.

use crate::cnum::strtoul_all;
use std::fmt;

/// A target count or one of the special whiteclnt values, numbered as the
/// DCC protocol numbers them (24-bit counts, special values at the top).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Tgts(pub u32);

impl Tgts {
    /// "many": millions of targets; in a whiteclnt file, a blacklisting.
    pub const MANY: Tgts = Tgts(0x00ff_fff0);
    /// "ok": whitelisted.
    pub const OK: Tgts = Tgts(0x00ff_fff1);
    /// "ok2": half whitelisted; two of them whitelist a message.
    pub const OK2: Tgts = Tgts(0x00ff_fff2);
    /// "mx": a trusted mail relay.
    pub const MX: Tgts = Tgts(0x00ff_fff5);
    /// "mxdcc": a trusted mail relay that runs its own DCC client.
    pub const MXDCC: Tgts = Tgts(0x00ff_fff6);
    /// "submit": an SMTP submission client (browsers and the like).
    pub const SUBMIT: Tgts = Tgts(0x00ff_fff7);
    /// Not a valid count.
    pub const INVALID: Tgts = Tgts(0x0100_0000);

    /// The count or keyword of a whiteclnt line: a C number (decimal,
    /// `0x` hex or `0` octal; larger than MANY counts as MANY) or one of
    /// `many`, `ok`, `ok2`, `mx`, `mxdcc`, `submit` in any case.
    /// `None` for anything else. Zero is returned as `Some(Tgts(0))`; the
    /// whiteclnt parser refuses it.
    pub fn parse_count(s: &[u8]) -> Option<Tgts> {
        if let Some(v) = strtoul_all(s, 0) {
            return Some(Tgts(v.min(u64::from(Tgts::MANY.0)) as u32));
        }
        let words: [(&[u8], Tgts); 6] = [
            (b"many", Tgts::MANY),
            (b"ok", Tgts::OK),
            (b"ok2", Tgts::OK2),
            (b"mx", Tgts::MX),
            (b"mxdcc", Tgts::MXDCC),
            (b"submit", Tgts::SUBMIT),
        ];
        words
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(s))
            .map(|&(_, t)| t)
    }

    /// True for plain counts (not a special value).
    pub fn is_count(self) -> bool {
        self.0 < Tgts::MANY.0
    }
}

impl fmt::Display for Tgts {
    /// As the original prints counts in messages and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Tgts::MANY => f.write_str("many"),
            Tgts::OK => f.write_str("ok"),
            Tgts::OK2 => f.write_str("ok2"),
            Tgts::MX => f.write_str("mx"),
            Tgts::MXDCC => f.write_str("mxdcc"),
            Tgts::SUBMIT => f.write_str("submit"),
            Tgts::INVALID => f.write_str("-"),
            Tgts(0x00ff_fff3) => f.write_str("del-req"),
            Tgts(0x00ff_fff4) => f.write_str("rep-adj"),
            Tgts(n) => write!(f, "{n}"),
        }
    }
}

/// Which of two values for the same checksum wins when a file lists it
/// twice: OK, then OK2, MX, MXDCC, MANY, SUBMIT; a plain count replaces
/// MANY; otherwise the newer value.
pub fn combine(new: Tgts, old: Tgts) -> Tgts {
    if new.is_count() && old == Tgts::MANY {
        return new;
    }
    for t in [
        Tgts::OK,
        Tgts::OK2,
        Tgts::MX,
        Tgts::MXDCC,
        Tgts::MANY,
        Tgts::SUBMIT,
    ] {
        if new == t || old == t {
            return t;
        }
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(Tgts::parse_count(b"OK"), Some(Tgts::OK));
        assert_eq!(Tgts::parse_count(b"Many"), Some(Tgts::MANY));
        assert_eq!(Tgts::parse_count(b"mxDCC"), Some(Tgts::MXDCC));
        assert_eq!(Tgts::parse_count(b"12"), Some(Tgts(12)));
        assert_eq!(Tgts::parse_count(b"999999999"), Some(Tgts::MANY));
        assert_eq!(Tgts::parse_count(b"okay"), None);
        assert_eq!(Tgts::MXDCC.to_string(), "mxdcc");
    }

    #[test]
    fn combining() {
        assert_eq!(combine(Tgts::MANY, Tgts::OK), Tgts::OK);
        assert_eq!(combine(Tgts::OK2, Tgts::MANY), Tgts::OK2);
        assert_eq!(combine(Tgts(3), Tgts::MANY), Tgts(3));
        assert_eq!(combine(Tgts(3), Tgts(5)), Tgts(3));
    }
}
