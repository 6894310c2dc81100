//! Target counts ("tgts") as DCC clients and servers exchange and print them.
//!
//! A count is a 24-bit number of recipients; the top of that range holds
//! special values (many, ok, ok2, mx, ...), and values above it are flags or
//! markers such as "invalid" and "never".

use tally_ck::CkType;

/// A target count or one of the special values below.
pub type Tgts = u32;

/// "many": at least this many targets, i.e. bulk beyond counting.
pub const TOO_MANY: Tgts = 0x00ff_fff0;
/// Whitelisted ("ok").
pub const OK: Tgts = 0x00ff_fff1;
/// Half whitelisted ("ok2"): two of them make a whitelisting.
pub const OK2: Tgts = 0x00ff_fff2;
/// A deleted checksum.
pub const DEL: Tgts = 0x00ff_fff3;
/// Reputation adjustment.
pub const REP_ADJ: Tgts = 0x00ff_fff4;
/// A listed MX relay.
pub const OK_MX: Tgts = 0x00ff_fff5;
/// A listed MX relay that runs its own DCC client.
pub const OK_MXDCC: Tgts = 0x00ff_fff6;
/// A mail submission client.
pub const SUBMIT_CLIENT: Tgts = 0x00ff_fff7;
/// No value; also the "unset" threshold.
pub const INVALID: Tgts = 0x0100_0000;
/// Flag in a report: the sender of the report thinks the message is spam.
pub const SPAM: Tgts = INVALID;
/// Flag in a report: the reputation made the message spam.
pub const REP_SPAM: Tgts = 0x0200_0000;
/// Threshold value "never".
pub const THOLD_NEVER: Tgts = TOO_MANY + 1;
/// Threshold not set.
pub const THOLD_UNSET: Tgts = INVALID;
/// Largest count a client may report for one message (`-t`).
pub const RPT_MAX: Tgts = 2000;
/// Body counts at or above this make a message "bulk" for reputations.
pub const BULK_THRESHOLD: Tgts = 10;
/// Default rejection threshold of `rep-total`.
pub const REP_TOTAL_THOLD_DEF: Tgts = 20;

/// A count as the original prints it in headers, logs and `-C` output.
pub fn tgts_to_str(t: Tgts) -> String {
    match t {
        TOO_MANY => "many".into(),
        OK => "ok".into(),
        OK2 => "ok2".into(),
        DEL => "del-req".into(),
        REP_ADJ => "rep-adj".into(),
        OK_MX => "mx".into(),
        OK_MXDCC => "mxdcc".into(),
        SUBMIT_CLIENT => "submit".into(),
        INVALID => "-".into(),
        _ if t & SPAM != 0 => format!("{} spam", (t & !SPAM) as i32),
        _ => format!("{}", t as i32),
    }
}

/// A threshold as printed in the "thold" column of `-C` output and logs.
pub fn thold_to_str(ty: CkType, t: Tgts) -> String {
    if t == THOLD_NEVER {
        "never".into()
    } else if ty == CkType::GreyTriple {
        format!("{t}%")
    } else {
        tgts_to_str(t)
    }
}

/// Parse an unsigned decimal number the way C `strtoul(s, &end, 10)` does
/// when the whole string must be consumed: optional leading white space and
/// sign, digits, nothing after; a negative number wraps around, one too
/// large for 64 bits is the largest whatever its sign; an empty text is 0.
pub fn parse_ulong(s: &str) -> Option<u64> {
    tally_white::cnum::strtoul_all(s.as_bytes(), 10)
}

/// A `-c` or whiteclnt threshold: a number, `many`, `never`, or `N%` for `rep`.
/// `None` is an unrecognized threshold.
pub fn str_to_thold(ty: CkType, s: &str) -> Option<Tgts> {
    let v: u64 = if let Some(n) = parse_ulong(s) {
        n
    } else if let Some(num) = s.strip_suffix('%') {
        if ty != CkType::GreyTriple {
            return None;
        }
        parse_ulong(num)?
    } else if s.eq_ignore_ascii_case("many") {
        u64::from(TOO_MANY)
    } else if s.eq_ignore_ascii_case("never") {
        u64::from(THOLD_NEVER)
    } else {
        return None;
    };
    if v <= u64::from(TOO_MANY) {
        if ty == CkType::GreyTriple && v > 100 {
            return None;
        }
        if ty == CkType::GreyMsg && v >= u64::from(TOO_MANY) {
            return None;
        }
    }
    // the original keeps the value in 32 bits
    Some(v as u32)
}

/// Percentage of bulk mail among all mail of an IP address, as the
/// reputation (`rep`) checksum reports it.
pub fn reputation(bulk: Tgts, total: Tgts) -> u32 {
    if bulk >= total {
        return if total == 0 { 0 } else { 100 };
    }
    if bulk >= TOO_MANY / 100 {
        bulk.checked_div(total.div_ceil(100)).unwrap_or(0)
    } else {
        (bulk * 100) / total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(tgts_to_str(TOO_MANY), "many");
        assert_eq!(tgts_to_str(OK), "ok");
        assert_eq!(tgts_to_str(OK2), "ok2");
        assert_eq!(tgts_to_str(INVALID), "-");
        assert_eq!(tgts_to_str(3), "3");
        assert_eq!(tgts_to_str(3 | SPAM), "3 spam");
        assert_eq!(thold_to_str(CkType::Body, THOLD_NEVER), "never");
        assert_eq!(thold_to_str(CkType::GreyTriple, 50), "50%");
    }

    #[test]
    fn thresholds() {
        assert_eq!(str_to_thold(CkType::Body, "25"), Some(25));
        assert_eq!(str_to_thold(CkType::Body, "MANY"), Some(TOO_MANY));
        assert_eq!(str_to_thold(CkType::Body, "never"), Some(THOLD_NEVER));
        assert_eq!(str_to_thold(CkType::Body, "x"), None);
        assert_eq!(str_to_thold(CkType::Body, "5%"), None);
        assert_eq!(str_to_thold(CkType::GreyTriple, "5%"), Some(5));
        assert_eq!(str_to_thold(CkType::GreyTriple, "101"), None);
        assert_eq!(str_to_thold(CkType::GreyMsg, "many"), None);
    }

    #[test]
    fn strtoul() {
        assert_eq!(parse_ulong("67"), Some(67));
        assert_eq!(parse_ulong(" 7"), Some(7));
        assert_eq!(parse_ulong("7x"), None);
        assert_eq!(parse_ulong(""), Some(0));
        assert_eq!(parse_ulong("x"), None);
        // a negative number too large for 64 bits is ULONG_MAX, not 1
        assert_eq!(parse_ulong("-18446744073709551616"), Some(u64::MAX));
        assert_eq!(parse_ulong("-18446744073709551615"), Some(1));
        assert_eq!(parse_ulong(" "), None);
        assert_eq!(parse_ulong("-"), None);
    }

    #[test]
    fn rep() {
        assert_eq!(reputation(5, 10), 50);
        assert_eq!(reputation(10, 10), 100);
        assert_eq!(reputation(0, 0), 0);
    }
}
