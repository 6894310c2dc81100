//! Local time for log files. The original writes the `DATE:` line of its
//! log files (strftime's `%x %X %Z` in the C locale) and names the
//! `D?`/`H?`/`M?` subdirectories in the local time of the process: the
//! `TZ` environment variable, else /etc/localtime. Rust's standard
//! library has no time zones, so the C library's `localtime_r` converts;
//! with TZ unset on a UTC system the result is the UTC time and `UTC`.

use super::Tm;
use std::ffi::CStr;
use tally_syslog::civil::gmtime;

/// Local calendar time of `secs` (seconds since the epoch) and the zone's
/// abbreviation (`%Z`); UTC when the C library cannot convert the time.
pub fn localtime(secs: i64) -> (Tm, String) {
    convert(secs).unwrap_or_else(|| (gmtime(secs), "UTC".to_string()))
}

fn convert(secs: i64) -> Option<(Tm, String)> {
    let t = libc::time_t::try_from(secs).ok()?;
    // SAFETY: `libc::tm` holds only integers and one pointer, for which
    // all-zero bytes are valid values (0 and the null pointer).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers come from references to live locals, valid
    // for reads (`t`) and writes (`tm`) for the whole call, and
    // localtime_r keeps neither. It is the reentrant form: it writes only
    // to `tm`, and the C library locks its own time zone state. It reads
    // the TZ environment variable, which would race only with a change of
    // the environment; no tally program changes its environment.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() {
        return None;
    }
    let zone = if tm.tm_zone.is_null() {
        String::new()
    } else {
        // SAFETY: a non-null `tm_zone` set by localtime_r points to a
        // NUL-terminated abbreviation in the C library's time zone data,
        // which stays in place at least until the time zone is set again
        // (the environment changes, which it never does, see above); it is
        // copied at once and the pointer is not kept.
        unsafe { CStr::from_ptr(tm.tm_zone) }
            .to_string_lossy()
            .into_owned()
    };
    let field = |v: libc::c_int| u32::try_from(v).ok();
    let tm = Tm {
        year: i64::from(tm.tm_year) + 1900,
        mon: field(tm.tm_mon)? + 1,
        mday: field(tm.tm_mday)?,
        yday: field(tm.tm_yday)?,
        hour: field(tm.tm_hour)?,
        min: field(tm.tm_min)?,
        sec: field(tm.tm_sec)?,
    };
    Some((tm, zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_utc_apart_from_the_zone_offset() {
        // whatever the zone of the test run, a local time is the UTC time
        // moved by whole quarter hours, by about a day at most (in the
        // same year for this date)
        let secs = 1_795_349_283;
        let (l, zone) = localtime(secs);
        assert!(!zone.is_empty());
        let u = gmtime(secs);
        assert_eq!((l.min % 15, l.sec), (u.min % 15, u.sec));
        let day = |t: &Tm| i64::from(t.yday) * 1440 + i64::from(t.hour) * 60 + i64::from(t.min);
        assert!((day(&l) - day(&u)).abs() <= 26 * 60, "{l:?} {u:?}");
    }
}
