//! Target counts.
//!
//! A DCC count ("targets") is a 32-bit big-endian word. The database keeps
//! 24 bits; the values just below 2^24 are reserved for special meanings
//! (many, whitelisted, deleted ...), and bits above carry flags: in a
//! client's REPORT the 0x01000000 bit says the client judged the message to
//! be spam, and 0x02000000 that the spam verdict came from reputations. In an
//! answer, 0x01000000 alone means "no value".

use std::fmt;

/// A target count exactly as it is on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Tgts(pub u32);

/// What a [`Tgts`] word means once the flag bits are set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TgtsKind {
    /// An ordinary count (0 ..= 0x00ffffef).
    Count(u32),
    /// `many`: at or above 16777200, i.e. certainly bulk.
    Many,
    /// Whitelisted ("OK"); in a greylist answer: the embargo just ended.
    Ok,
    /// Half whitelisted ("OK2"); in a greylist answer: whitelisted by the
    /// greylist server itself.
    Ok2,
    /// A deleted checksum (also the target count of a flooded deletion).
    Deleted,
    /// A reputation adjustment record.
    RepAdj,
    /// Partly whitelisted MX secondary.
    OkMx,
    /// MX secondary running a DCC client.
    OkMxDcc,
    /// SMTP submission client.
    SubmitClient,
    /// A reserved value between those above and 2^24 that has no name.
    Reserved(u32),
}

impl Tgts {
    /// `many`.
    pub const MANY: Tgts = Tgts(0x00ff_fff0);
    /// Whitelisted.
    pub const OK: Tgts = Tgts(0x00ff_fff1);
    /// Half whitelisted; also "whitelisted for greylisting".
    pub const OK2: Tgts = Tgts(0x00ff_fff2);
    /// Deleted.
    pub const DEL: Tgts = Tgts(0x00ff_fff3);
    /// Reputation adjustment.
    pub const REP_ADJ: Tgts = Tgts(0x00ff_fff4);
    /// MX secondary, partly whitelisted.
    pub const OK_MX: Tgts = Tgts(0x00ff_fff5);
    /// MX secondary with a DCC client.
    pub const OK_MXDCC: Tgts = Tgts(0x00ff_fff6);
    /// SMTP submission client.
    pub const SUBMIT_CLIENT: Tgts = Tgts(0x00ff_fff7);
    /// "No value" in answers (same bit as [`Tgts::SPAM_FLAG`]).
    pub const INVALID: Tgts = Tgts(0x0100_0000);
    /// Flag in a REPORT: the client considered the message spam.
    pub const SPAM_FLAG: u32 = 0x0100_0000;
    /// Flag in a REPORT: the spam verdict came from reputations.
    pub const REP_SPAM_FLAG: u32 = 0x0200_0000;
    /// The bits that hold a count.
    pub const MASK: u32 = 0x00ff_ffff;
    /// The largest target count a client may report.
    pub const RPT_MAX: u32 = 2000;

    /// The 24-bit count with the flag bits removed.
    pub fn count(self) -> u32 {
        self.0 & Self::MASK
    }

    /// The spam flag of a report is set.
    pub fn is_spam(self) -> bool {
        self.0 & Self::SPAM_FLAG != 0
    }

    /// The reputation-spam flag of a report is set.
    pub fn is_rep_spam(self) -> bool {
        self.0 & Self::REP_SPAM_FLAG != 0
    }

    /// The answer value "no value" (exactly 0x01000000).
    pub fn is_invalid(self) -> bool {
        self == Self::INVALID
    }

    /// A report's count with flags: `count` targets, optionally flagged spam.
    pub fn report(count: u32, spam: bool, rep_spam: bool) -> Tgts {
        let mut v = count & Self::MASK;
        if spam {
            v |= Self::SPAM_FLAG;
        }
        if rep_spam {
            v |= Self::REP_SPAM_FLAG;
        }
        Tgts(v)
    }

    /// The meaning of the 24-bit part.
    pub fn kind(self) -> TgtsKind {
        match self.count() {
            0x00ff_fff0 => TgtsKind::Many,
            0x00ff_fff1 => TgtsKind::Ok,
            0x00ff_fff2 => TgtsKind::Ok2,
            0x00ff_fff3 => TgtsKind::Deleted,
            0x00ff_fff4 => TgtsKind::RepAdj,
            0x00ff_fff5 => TgtsKind::OkMx,
            0x00ff_fff6 => TgtsKind::OkMxDcc,
            0x00ff_fff7 => TgtsKind::SubmitClient,
            n if n > 0x00ff_fff7 => TgtsKind::Reserved(n),
            n => TgtsKind::Count(n),
        }
    }

    /// The big-endian wire bytes.
    pub fn to_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }
}

impl fmt::Display for Tgts {
    /// The way the original prints counts: a number, `many`, `ok`, `ok2`,
    /// `del`, with `spam|` in front when the spam flag is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_invalid() {
            return f.write_str("-");
        }
        if self.is_spam() {
            f.write_str("spam|")?;
        }
        match self.kind() {
            TgtsKind::Count(n) => write!(f, "{n}"),
            TgtsKind::Many => f.write_str("many"),
            TgtsKind::Ok => f.write_str("ok"),
            TgtsKind::Ok2 => f.write_str("ok2"),
            TgtsKind::Deleted => f.write_str("del"),
            TgtsKind::RepAdj => f.write_str("rep-adj"),
            TgtsKind::OkMx => f.write_str("ok-mx"),
            TgtsKind::OkMxDcc => f.write_str("ok-mx-dcc"),
            TgtsKind::SubmitClient => f.write_str("submit"),
            TgtsKind::Reserved(n) => write!(f, "{n:#x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_flags() {
        assert_eq!(Tgts(0x00ff_fff0).kind(), TgtsKind::Many);
        assert_eq!(Tgts(0x0100_0001).count(), 1);
        assert!(Tgts(0x0100_0001).is_spam());
        let t = Tgts(0x0300_0001);
        assert!(t.is_spam() && t.is_rep_spam());
        assert_eq!(Tgts::report(1, true, true), t);
        assert_eq!(Tgts(7).kind(), TgtsKind::Count(7));
        assert!(Tgts::INVALID.is_invalid());
        assert_eq!(Tgts::MANY.to_string(), "many");
    }
}
