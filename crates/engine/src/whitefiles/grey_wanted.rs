//! dccm and dccifd without `-G`: a whiteclnt file that asks for
//! greylisting (`option greylist-on` or `greylist-log-on`) is complained
//! about in the system log, at most once a day per process, as the
//! original does whenever it computes a message's switches from such a
//! file. The complaint goes to the system log only, never into a
//! message's log file.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use tally_white::{Filters, WhiteList};

/// Least time between two complaints of one process.
pub const EVERY_SECS: u64 = 24 * 60 * 60;

/// When the last complaint was made (seconds since the epoch; 0: never).
#[derive(Debug, Default)]
pub struct Gate(AtomicU64);

impl Gate {
    /// A gate that has not let anything through yet.
    pub const fn new() -> Gate {
        Gate(AtomicU64::new(0))
    }

    /// Whether a complaint may be made at `now`; if so, the next one
    /// must wait [`EVERY_SECS`]. One caller wins when several race.
    pub fn pass(&self, now: u64) -> bool {
        let prev = self.0.load(Ordering::Relaxed);
        if Gate::closed(prev, now) {
            return false;
        }
        self.0
            .compare_exchange(prev, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// Whether a complaint made at `prev` (0: none yet) keeps the gate
    /// shut at `now`: as in the original, the next one must come more
    /// than [`EVERY_SECS`] later.
    fn closed(prev: u64, now: u64) -> bool {
        prev != 0 && now <= prev.saturating_add(EVERY_SECS)
    }

    /// Whether the gate is shut at `now` (nothing is changed).
    pub fn is_shut(&self, now: u64) -> bool {
        Gate::closed(self.0.load(Ordering::Relaxed), now)
    }
}

/// The complaint for the first of `lists` (the main file, then a
/// recipient's own) that wants greylisting when the program does not
/// greylist (`grey_on` false), if `gate` lets one through at `now`.
/// File names are made absolute against `home`, as the original names
/// them.
pub fn complaint<'a>(
    lists: impl IntoIterator<Item = &'a WhiteList>,
    grey_on: bool,
    home: &Path,
    gate: &Gate,
    now: u64,
) -> Option<String> {
    // most messages: no -G complaint due, or no file asking for it; only
    // the list found is named
    if grey_on || gate.is_shut(now) {
        return None;
    }
    let l = lists
        .into_iter()
        .find(|l| Filters::wants_grey(l.switches()))?;
    let abs = crate::home::absolute(home, l.name());
    let c = Filters::grey_off_complaint(l.switches(), false, &abs.display().to_string())?;
    gate.pass(now).then_some(c)
}

/// [`complaint`] with the process's own gate and the system clock.
pub fn complaint_now<'a>(
    lists: impl IntoIterator<Item = &'a WhiteList>,
    grey_on: bool,
    home: &Path,
) -> Option<String> {
    static GATE: Gate = Gate::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    complaint(lists, grey_on, home, &GATE, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_white::{FileKind, NoIncludes, Resolutions};

    fn list(text: &str) -> WhiteList {
        tally_white::parse_file(
            "whiteclnt",
            text.as_bytes(),
            FileKind::Global,
            &mut NoIncludes,
        )
        .build(&Resolutions::new())
        .list
    }

    #[test]
    fn once_a_day() {
        let gate = Gate::new();
        let l = list("option greylist-on\n");
        let home = Path::new("/var/dcc");
        let c = complaint([&l], false, home, &gate, 1000);
        assert_eq!(
            c.as_deref(),
            Some("/var/dcc/whiteclnt wants greylisting but it is turned off")
        );
        assert_eq!(
            complaint([&l], false, home, &gate, 1000 + EVERY_SECS - 1),
            None
        );
        // the original waits for more than a day
        assert_eq!(complaint([&l], false, home, &gate, 1000 + EVERY_SECS), None);
        assert!(complaint([&l], false, home, &gate, 1000 + EVERY_SECS + 1).is_some());
    }

    #[test]
    fn only_when_wanted_and_off() {
        let gate = Gate::new();
        let home = Path::new("/var/dcc");
        let plain = list("ok env_from a@example.com\n");
        let log_on = list("option greylist-log-on\n");
        assert_eq!(complaint([&plain], false, home, &gate, 5), None);
        assert_eq!(complaint([&log_on], true, home, &gate, 5), None);
        // nothing let through so far: the gate is still open
        assert!(complaint([&plain, &log_on], false, home, &gate, 5).is_some());
    }
}
