//! How the original tools print and parse times, durations and counts.

use tally_store::{tgts, Ts};

/// Days since 1970-01-01 of a civil date (proleptic Gregorian, UTC).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `yy/mm/dd HH:MM:SS` in UTC, as the original prints times.
pub fn secs2date(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02}",
        y.rem_euclid(100),
        m,
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The microseconds a timestamp carries (kept in units of 8).
pub fn ts_micros(ts: Ts) -> u32 {
    ((ts.0 & 0x1_ffff) * 8).min(999_999) as u32
}

/// A record timestamp as `dblist` prints it: `yy/mm/dd HH:MM:SS.uuuuuu` UTC.
pub fn ts2str(ts: Ts) -> String {
    format!("{}.{:06}", secs2date(ts.secs()), ts_micros(ts))
}

/// Parse a `dblist -T` timestamp `yy/mm/dd HH:MM:SS[.us]` into the
/// inclusive range of timestamps it matches.
pub fn parse_ts(s: &str) -> Option<(Ts, Ts)> {
    let (date, time) = s.trim().split_once(char::is_whitespace)?;
    let mut d = date.split('/').map(|x| x.trim().parse::<u32>().ok());
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    if d.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
        return None;
    }
    let (hms, us) = match time.trim().split_once('.') {
        Some((a, b)) => (a, Some(b.parse::<u32>().ok()?)),
        None => (time.trim(), None),
    };
    let mut t = hms.split(':').map(|x| x.parse::<u64>().ok());
    let (h, mi, se) = (t.next()??, t.next()??, t.next()??);
    if t.next().is_some() || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let year = if y < 100 {
        2000 + i64::from(y)
    } else {
        i64::from(y)
    };
    let days = u64::try_from(days_from_civil(year, mo, da)).ok()?;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se;
    match us {
        Some(us) if us >= 1_000_000 => None,
        Some(us) => Some((Ts::new(secs, us), Ts::new(secs, us))),
        None => Some((Ts::new(secs, 0), Ts::new(secs, 999_999))),
    }
}

/// A target count as the original prints it (`tgts2str`).
pub fn tgts2str(t: u32, grey: bool) -> String {
    match t {
        0 => "0".into(),
        tgts::MANY if grey => "pass".into(),
        tgts::MANY => "many".into(),
        tgts::OK => "ok".into(),
        tgts::OK2 if grey => "ok".into(),
        tgts::OK2 => "ok2".into(),
        tgts::DEL => "del-req".into(),
        0x00ff_fff4 => "rep-adj".into(),
        0x00ff_fff5 => "mx".into(),
        0x00ff_fff6 => "mxdcc".into(),
        0x00ff_fff7 => "submit".into(),
        n => n.to_string(),
    }
}

/// The longest expiry: "NEVER".
pub const NEVER: u64 = i32::MAX as u64;

/// Parse a `dbclean -e`/`-E` duration as the original's `dcc_get_secs`
/// does: `NEVER`, or a number optionally followed by one of the words
/// `seconds`/`s`, `minutes`/`minute`/`m`, `hours`/`hour`/`h`,
/// `days`/`day`/`d`, `weeks`/`week`/`w` (any case). The number itself
/// must stay below `NEVER`/60, and below `NEVER` divided by the unit for
/// hours and longer units. `None` when malformed or outside `min..=NEVER`.
pub fn parse_secs(s: &str, min: u64) -> Option<u64> {
    if s.eq_ignore_ascii_case("never") {
        return Some(NEVER);
    }
    // strtoul skips leading white space
    let s = s.trim_start();
    let digits = s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (num, unit) = s.split_at(digits);
    let n: u64 = num.parse().ok()?;
    if n >= NEVER / 60 {
        return None;
    }
    let mult = match unit.to_ascii_lowercase().as_str() {
        "" | "s" | "seconds" => 1,
        "m" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        _ => return None,
    };
    if mult >= 3600 && n >= NEVER / mult {
        return None;
    }
    let v = n * mult;
    (min..=NEVER).contains(&v).then_some(v)
}

/// A duration as `dblist` prints expiry ages (`secs2str`).
pub fn secs2str(secs: u64) -> String {
    if secs >= NEVER {
        return "never".into();
    }
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let plural = |n: u64| if n > 1 { "s" } else { " " };
    if h == 0 && m == 0 && s == 0 {
        format!("{days} day{}", plural(days))
    } else if days == 0 && m == 0 && s == 0 {
        format!("{h} hour{}", plural(h))
    } else if days == 0 && h == 0 {
        format!("{m:02}:{s:02}")
    } else if days == 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{days} {h}:{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(secs2date(0), "70/01/01 00:00:00");
        assert_eq!(secs2date(1_012_940_712), "02/02/05 20:25:12");
        for d in [0, 59, 365, 11_016, 20_000, 30_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        let (lo, hi) = parse_ts("02/02/05 20:25:12").unwrap();
        assert_eq!((lo.secs(), hi.secs()), (1_012_940_712, 1_012_940_712));
        assert!(lo < hi);
        let (lo, hi) = parse_ts("02/02/05 20:25:12.497032").unwrap();
        assert_eq!(lo, hi);
        assert_eq!(ts2str(lo), "02/02/05 20:25:12.497032");
        assert!(parse_ts("02/13/05 20:25:12").is_none());
        assert!(parse_ts("yesterday").is_none());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_secs("2days", 3600), Some(2 * 86_400));
        assert_eq!(parse_secs("36H", 3600), Some(36 * 3600));
        assert_eq!(parse_secs("1w", 3600), Some(7 * 86_400));
        assert_eq!(parse_secs("NEVER", 3600), Some(NEVER));
        assert_eq!(parse_secs("7200", 3600), Some(7200));
        assert_eq!(parse_secs("60", 3600), None);
        assert_eq!(parse_secs("2 fortnights", 3600), None);
        assert_eq!(parse_secs("", 3600), None);
        // minutes, as the original accepts them
        assert_eq!(parse_secs("90m", 3600), Some(5400));
        assert_eq!(parse_secs("120Minutes", 3600), Some(7200));
        assert_eq!(parse_secs("61minute", 3600), Some(3660));
        assert_eq!(parse_secs("59m", 3600), None);
        // "second" and other words are not units
        assert_eq!(parse_secs("7200second", 3600), None);
        assert_eq!(parse_secs("1 d", 3600), None);
        // the number alone is limited before the unit is applied
        assert_eq!(parse_secs("35791394", 3600), None);
        assert_eq!(parse_secs("35791393", 3600), Some(35_791_393));
        assert_eq!(parse_secs("596523h", 3600), None);
        assert_eq!(parse_secs("596522h", 3600), Some(596_522 * 3600));
        assert_eq!(secs2str(86_400), "1 day ");
        assert_eq!(secs2str(30 * 86_400), "30 days");
        assert_eq!(secs2str(7200), "2 hours");
        assert_eq!(secs2str(90_061), "1 1:01:01");
    }
}
