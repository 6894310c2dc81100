//! Calendar time from seconds since the epoch, in UTC, without a time library.

/// Broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tm {
    /// Years since 0.
    pub year: i64,
    /// 1-12.
    pub mon: u32,
    /// 1-31.
    pub mday: u32,
    /// 0-365.
    pub yday: u32,
    /// 0-23.
    pub hour: u32,
    /// 0-59.
    pub min: u32,
    /// 0-60.
    pub sec: u32,
}

/// The English month abbreviations, January first.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Mon DD HH:MM:SS` (strftime's `%b %d %X`) of a time in UTC.
pub fn month_day_time(secs: i64) -> String {
    let t = gmtime(secs);
    let mon = MONTHS.get(t.mon as usize - 1).copied().unwrap_or("Jan");
    format!(
        "{mon} {:02} {:02}:{:02}:{:02}",
        t.mday, t.hour, t.min, t.sec
    )
}

/// Convert seconds since the epoch to UTC calendar time.
pub fn gmtime(secs: i64) -> Tm {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // civil from days (proleptic Gregorian)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = if m <= 2 { y + 1 } else { y };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const CUM: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let mon = m as u32;
    let mday = d as u32;
    let yday = CUM[(mon - 1) as usize] + mday - 1 + u32::from(leap && mon > 2);
    Tm {
        year,
        mon,
        mday,
        yday,
        hour: (rem / 3600) as u32,
        min: (rem % 3600 / 60) as u32,
        sec: (rem % 60) as u32,
    }
}
