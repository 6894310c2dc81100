//! Wall-clock dates as the map text shows them: `MM/DD/YY HH:MM:SS UTC`
//! for the heading and `HH:MM:SS` for the next resolution and measurement.
//! Dates are always shown in UTC.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

const DAY: u64 = 86_400;

/// Year, month, day of a day number counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Day number counted from 1970-01-01 of a date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `HH:MM:SS` of a date.
pub fn time_of_day(secs: u64) -> String {
    let s = secs % DAY;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `MM/DD/YY HH:MM:SS UTC` of a date.
pub fn date_time(secs: u64) -> String {
    let days = i64::try_from(secs / DAY).unwrap_or(0);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{m:02}/{d:02}/{:02} {} UTC",
        y.rem_euclid(100),
        time_of_day(secs)
    )
}

/// Seconds of `HH:MM:SS`.
pub fn parse_time_of_day(s: &str) -> Option<u64> {
    let mut it = s.split(':');
    let h: u64 = it.next()?.parse().ok()?;
    let m: u64 = it.next()?.parse().ok()?;
    let sec: u64 = it.next()?.parse().ok()?;
    if it.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(h * 3600 + m * 60 + sec)
}

/// The date of `MM/DD/YY` and `HH:MM:SS` (taken as UTC).
pub fn parse_date_time(date: &str, tod: &str) -> Option<u64> {
    let mut it = date.split('/');
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    let y: i64 = it.next()?.parse().ok()?;
    if it.next().is_some()
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
        || !(0..=99).contains(&y)
    {
        return None;
    }
    let y = if y < 70 { 2000 + y } else { 1900 + y };
    let days = u64::try_from(days_from_civil(y, m, d)).ok()?;
    Some(days * DAY + parse_time_of_day(tod)?)
}

/// The first date after `base` whose time of day is `tod` seconds.
pub fn next_time_of_day(base: u64, tod: u64) -> u64 {
    let t = base - base % DAY + tod;
    if t <= base {
        t + DAY
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = parse_date_time("11/22/26", "12:15:30").unwrap();
        assert_eq!(date_time(t), "11/22/26 12:15:30 UTC");
        assert_eq!(date_time(0), "01/01/70 00:00:00 UTC");
        assert_eq!(
            next_time_of_day(t, parse_time_of_day("13:56:35").unwrap()) - t,
            6065
        );
        assert_eq!(
            next_time_of_day(t, parse_time_of_day("00:00:01").unwrap()) - t,
            42271
        );
    }

    #[test]
    fn wild_years_are_refused() {
        assert_eq!(parse_date_time("8/8/-80007116666927149", "00:00:00"), None);
        assert_eq!(parse_date_time("8/8/100", "00:00:00"), None);
        assert!(parse_date_time("8/8/26", "01:02:03").is_some());
    }
}
