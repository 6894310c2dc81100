//! Log files are dated, and put in their day/hour subdirectories, in
//! local time as the original does: the `TZ` of the process decides.

mod common;

use common::{code, run_env, scratch};
use std::time::{SystemTime, UNIX_EPOCH};
use tally_engine::logfile::gmtime;

const MSG: &[u8] = b"From: alice@example.com\nSubject: notes\n\nHi Bob,\n";

/// The entries of directory `dir`.
fn entries(dir: impl AsRef<std::path::Path>) -> Vec<std::fs::DirEntry> {
    std::fs::read_dir(dir).expect("read").flatten().collect()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The day and hour subdirectory names at UTC+14.
fn dirs_at_plus_14(secs: i64) -> (String, String) {
    let t = gmtime(secs + 14 * 3600);
    (format!("{:03}", t.yday + 1), format!("{:02}", t.hour))
}

#[test]
fn dated_in_the_zone_of_tz() {
    let h = scratch("tz");
    let hs = h.to_string_lossy().into_owned();
    std::fs::create_dir(h.join("log")).expect("log dir");
    // a POSIX zone 14 hours east of UTC, named TLT: its day differs from
    // UTC's for 14 hours of each day, its hour always
    let before = dirs_at_plus_14(now());
    let out = run_env(
        &[
            "-h",
            &hs,
            "-Q",
            "-E",
            "-l",
            "H?log",
            "-f",
            "alice@example.com",
        ],
        MSG,
        &[("TZ", "TLT-14".to_string())],
    );
    let after = dirs_at_plus_14(now());
    assert_eq!(code(&out), 0);
    let day: Vec<_> = entries(h.join("log"));
    assert_eq!(day.len(), 1);
    let hour: Vec<_> = entries(day[0].path());
    assert_eq!(hour.len(), 1);
    let got = (
        day[0].file_name().to_string_lossy().into_owned(),
        hour[0].file_name().to_string_lossy().into_owned(),
    );
    assert!(
        got == before || got == after,
        "{got:?} {before:?} {after:?}"
    );
    let files: Vec<_> = entries(hour[0].path());
    assert_eq!(files.len(), 1);
    let text = String::from_utf8_lossy(&std::fs::read(files[0].path()).expect("log")).into_owned();
    let date = text.lines().nth(1).unwrap_or_default();
    assert!(
        date.starts_with("DATE: ") && date.ends_with(" TLT"),
        "{text}"
    );
    // the hour of the DATE line is the hour of the subdirectory
    assert_eq!(date.get(15..17), Some(got.1.as_str()), "{text}");
}

#[test]
fn zone_names_from_the_time_zone_database() {
    if !std::path::Path::new("/usr/share/zoneinfo/America/New_York").exists() {
        return;
    }
    let h = scratch("tz-ny");
    let hs = h.to_string_lossy().into_owned();
    std::fs::create_dir(h.join("log")).expect("log dir");
    let out = run_env(
        &["-h", &hs, "-Q", "-E", "-l", "log"],
        MSG,
        &[("TZ", "America/New_York".to_string())],
    );
    assert_eq!(code(&out), 0);
    let files: Vec<_> = entries(h.join("log"));
    assert_eq!(files.len(), 1);
    let text = String::from_utf8_lossy(&std::fs::read(files[0].path()).expect("log")).into_owned();
    let date = text.lines().nth(1).unwrap_or_default();
    assert!(date.ends_with(" EST") || date.ends_with(" EDT"), "{text}");
}
