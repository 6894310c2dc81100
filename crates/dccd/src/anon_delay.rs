//! The anonymous delay of `-u` and `cdcc "anon delay"`, with the
//! original's limits: `-u delay[,inflate]` or `-u delay*inflate` in
//! milliseconds, or `forever` in any case.
//!
//! A delay reaching [`ANON_DELAY_MAX_MS`] (4 s), inflated or not, is not
//! served at all: the original drops such requests ("max anon delay
//! drop") rather than answering late, as a client has given up on them
//! by then. A `-u` value above it is refused with the original's words,
//! without stopping the server, and the delay is then that limit, so that
//! unauthenticated clients are not answered, as there.

/// The longest anonymous delay (ms), the original's `DCC_ANON_DELAY_MAX`:
/// a request whose delay reaches it is dropped.
pub const ANON_DELAY_MAX_MS: u32 = 4000;

/// What `-u` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnonDelay {
    /// `forever`: anonymous and unauthenticated clients are refused.
    Forever,
    /// A delay, and the inflation (`None`: off, also for 0).
    Ms {
        /// Milliseconds, at most [`ANON_DELAY_MAX_MS`].
        ms: u32,
        /// Requests per delay step.
        inflate: Option<u32>,
    },
}

/// An unsigned number as C's `strtoul` reads it (base 10): the value and
/// the rest; without digits the value is 0 and the rest is all of `s`.
fn strtoul(s: &str) -> (u64, &str) {
    tally_white::cnum::strtoul_str(s, 10)
}

/// Parse the value of `-u`; the error is the original's complaint.
pub fn parse(v: &str) -> Result<AnonDelay, String> {
    if v.eq_ignore_ascii_case("forever") {
        return Ok(AnonDelay::Forever);
    }
    let (ms, rest) = strtoul(v);
    if ms > u64::from(ANON_DELAY_MAX_MS) {
        return Err(format!("invalid delay \"{v}\" > {ANON_DELAY_MAX_MS}"));
    }
    let ms = ms as u32;
    let inflate = match rest.as_bytes().first() {
        None => None,
        Some(b',' | b'*') => {
            let after = &rest[1..];
            let (n, tail) = strtoul(after);
            if !tail.is_empty() {
                return Err(format!("unrecognized delay inflation \"{after}\""));
            }
            // the original keeps an unsigned int
            Some(n as u32).filter(|&n| n != 0)
        }
        Some(_) => return Err(format!("unrecognized delay \"{v}\"")),
    };
    Ok(AnonDelay::Ms { ms, inflate })
}

/// The delay (ms) of a request from an unauthenticated client that sent
/// `recent` other requests lately, or `None` when it is not answered:
/// anonymous clients refused, or the delay, inflated by one step per
/// `inflate` recent requests, reaching [`ANON_DELAY_MAX_MS`].
pub fn delay_ms(delay: Option<u32>, inflate: Option<u32>, recent: u64) -> Option<u64> {
    let base = u64::from(delay?);
    if base == 0 {
        return Some(0);
    }
    let factor = match inflate {
        Some(i) if i > 0 => 1 + recent / u64::from(i),
        _ => 1,
    };
    let d = base.saturating_mul(factor);
    (d < u64::from(ANON_DELAY_MAX_MS)).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u32, inflate: Option<u32>) -> Result<AnonDelay, String> {
        Ok(AnonDelay::Ms { ms, inflate })
    }

    #[test]
    fn the_original_s_forms() {
        assert_eq!(parse("50"), ms(50, None));
        assert_eq!(parse("50,10"), ms(50, Some(10)));
        assert_eq!(parse("50*10"), ms(50, Some(10)));
        assert_eq!(parse("50,0"), ms(50, None));
        assert_eq!(parse("50,"), ms(50, None));
        assert_eq!(parse("4000"), ms(4000, None));
        assert_eq!(parse(""), ms(0, None));
        for f in ["forever", "FOREVER", "Forever", "foReVer"] {
            assert_eq!(parse(f), Ok(AnonDelay::Forever));
        }
    }

    #[test]
    fn the_original_s_complaints() {
        assert_eq!(parse("4001"), Err("invalid delay \"4001\" > 4000".into()));
        assert_eq!(parse("-5"), Err("invalid delay \"-5\" > 4000".into()));
        assert_eq!(
            parse("99999999999999999999999"),
            Err("invalid delay \"99999999999999999999999\" > 4000".into())
        );
        assert_eq!(parse("50x"), Err("unrecognized delay \"50x\"".into()));
        assert_eq!(parse("never"), Err("unrecognized delay \"never\"".into()));
        assert_eq!(
            parse("50,1x"),
            Err("unrecognized delay inflation \"1x\"".into())
        );
        assert_eq!(
            parse("50*é"),
            Err("unrecognized delay inflation \"é\"".into())
        );
    }

    #[test]
    fn delays_of_4_s_or_more_are_not_served() {
        assert_eq!(delay_ms(None, None, 0), None);
        assert_eq!(delay_ms(Some(0), Some(1), 99), Some(0));
        assert_eq!(delay_ms(Some(50), None, 1000), Some(50));
        assert_eq!(delay_ms(Some(3999), None, 0), Some(3999));
        assert_eq!(delay_ms(Some(4000), None, 0), None);
        // one step per `inflate` recent requests
        assert_eq!(delay_ms(Some(1000), Some(2), 1), Some(1000));
        assert_eq!(delay_ms(Some(1000), Some(2), 2), Some(2000));
        assert_eq!(delay_ms(Some(1000), Some(2), 6), None);
        assert_eq!(delay_ms(Some(4000), Some(u32::MAX), u64::MAX), None);
    }
}
