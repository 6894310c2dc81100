//! `-j`, the most messages dccm works on at once, bounded as the
//! original bounds it by the process's open-file limit (RLIMIT_NOFILE).
//!
//! Each job is counted as three descriptors (the MTA's connection, the
//! log file, the socket to the DCC server) besides 52 kept for the rest
//! (32 for libraries and 20 cached per-user whitelist files). With a hard
//! limit below 1,000,000 the largest `-j` is `(hard - 52) / 3`
//! ("RLIMIT_NOFILE limit"); otherwise, or when the limit cannot be read,
//! it is `(1024 - 52) / 3 = 324` ("FD_SETSIZE limit"). The default is
//! that largest value. Once the options are read, a soft limit below
//! `3 * jobs + 52` is raised to it; when that fails, the jobs are cut to
//! what the old soft limit allows, as the original computes it.
//!
//! The reckoning is dccifd's too, with its own count of descriptors per
//! job: it lives in [`tally_engine::jobs`]; these are dccm's names for it.
//! [`limit`], [`needed`] and [`after_refusal`] are pure; [`read`] and
//! [`raise`] ask the system.

pub use tally_engine::jobs::{read, BIG_HARD, EXTRA_FILES, FD_SETSIZE, INIT_WORK, MIN_MAX_WORK};

/// Descriptors counted for each job.
pub const FILES_PER_JOB: u64 = 3;

/// The largest `-j` and where it comes from.
pub type JobLimit = tally_engine::jobs::JobLimit<FILES_PER_JOB>;

/// The limit from the open-file limits `(soft, hard)`, or the error of
/// reading them.
pub fn limit(nofile: Result<(u64, u64), String>) -> JobLimit {
    JobLimit::from_nofile(nofile)
}

/// The soft limit `jobs` need.
pub fn needed(jobs: u64) -> u64 {
    JobLimit::needed(jobs)
}

/// The jobs left when the soft limit `soft` could not be raised (the
/// original's reckoning: a third of it less the reserve), and the
/// complaint when that leaves none.
pub fn after_refusal(soft: u64) -> (u64, Option<String>) {
    JobLimit::after_refusal(soft)
}

/// Raise the soft open-file limit for `jobs` if it is lower: the jobs
/// that can be served, and the complaints.
pub fn raise(jobs: u64, l: &JobLimit) -> (u64, Vec<String>) {
    l.raise(jobs)
}

/// The `-d` line about the jobs at start, as the original writes it.
pub fn debug_line(jobs: u64, l: &JobLimit) -> String {
    l.debug_line(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        // a hard limit far away or unknown: FD_SETSIZE
        let l = limit(Ok((1024, u64::MAX)));
        assert_eq!((l.max_max_work, l.src), (324, "FD_SETSIZE limit"));
        assert_eq!(l.nofile, Some((1024, u64::MAX)));
        let l = limit(Ok((1024, 1_048_576)));
        assert_eq!(l.max_max_work, 324);
        let l = limit(Err("Operation not permitted".into()));
        assert_eq!((l.max_max_work, l.nofile), (324, None));
        assert_eq!(
            l.msgs,
            ["getrlimit(RLIMIT_NOFILE): Operation not permitted"]
        );
        // a hard limit below 1,000,000 decides
        let l = limit(Ok((1024, 4096)));
        assert_eq!((l.max_max_work, l.src), (1348, "RLIMIT_NOFILE limit"));
        let l = limit(Ok((1024, 999_999)));
        assert_eq!(l.max_max_work, 333_315);
        let l = limit(Ok((100, 400)));
        assert_eq!(l.max_max_work, 116);
        assert!(l.msgs.is_empty());
        // too few: two jobs, complained about
        for hard in [0, 52, 54] {
            let l = limit(Ok((hard, hard)));
            assert_eq!(l.max_max_work, 2, "{hard}");
            assert_eq!(l.msgs, ["too few open files allowed"]);
        }
        assert_eq!(limit(Ok((55, 55))).max_max_work, 1);
    }

    #[test]
    fn raising() {
        assert_eq!(needed(116), 400);
        assert_eq!(needed(324), 1024);
        assert_eq!(needed(u64::MAX), u64::MAX);
        assert_eq!(after_refusal(1024), (289, None));
        assert_eq!(
            after_refusal(100),
            (
                2,
                Some("only 100 open files allowed by RLIMIT_NOFILE".into())
            )
        );
        assert_eq!(after_refusal(158).0, 2);
        assert_eq!(after_refusal(159), (1, None));
        // nothing known, nothing done
        assert_eq!(raise(7, &JobLimit::default()), (7, Vec::new()));
        let l = limit(Ok((100, 400)));
        assert_eq!(
            debug_line(116, &l),
            "init_work=50 max_work=116 max_max_work=116 (RLIMIT_NOFILE limit)"
        );
    }
}
