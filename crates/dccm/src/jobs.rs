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
//! [`limit`], [`needed`] and [`after_refusal`] are pure; [`read`] and
//! [`raise`] ask the system.

/// Descriptors counted for each job.
pub const FILES_PER_JOB: u64 = 3;
/// Descriptors kept for everything else (the original's `EXTRA_FILES`).
pub const EXTRA_FILES: u64 = 32 + 20;
/// The limit used when the hard limit is unknown or very large.
pub const FD_SETSIZE: u64 = 1024;
/// Hard limits from this one on do not bound `-j`.
pub const BIG_HARD: u64 = 1_000_000;
/// Smallest `-j`.
pub const MIN_MAX_WORK: u64 = 2;
/// The original's work areas came in blocks of this many (`init_work`).
pub const INIT_WORK: u64 = 50;

/// The largest `-j` and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLimit {
    /// The largest `-j`, also the default.
    pub max_max_work: u64,
    /// Its source, as the complaint about a larger `-j` names it.
    pub src: &'static str,
    /// The soft and hard open-file limits, when they could be read.
    pub nofile: Option<(u64, u64)>,
    /// Complaints (the limit could not be read, too few descriptors).
    pub msgs: Vec<String>,
}

impl Default for JobLimit {
    /// The limit when nothing is known of the process's descriptors.
    fn default() -> JobLimit {
        JobLimit {
            max_max_work: (FD_SETSIZE - EXTRA_FILES) / FILES_PER_JOB,
            src: "FD_SETSIZE limit",
            nofile: None,
            msgs: Vec::new(),
        }
    }
}

/// The limit from the open-file limits `(soft, hard)`, or the error of
/// reading them.
pub fn limit(nofile: Result<(u64, u64), String>) -> JobLimit {
    let mut l = JobLimit::default();
    match nofile {
        Err(e) => l.msgs.push(format!("getrlimit(RLIMIT_NOFILE): {e}")),
        Ok((soft, hard)) => {
            l.nofile = Some((soft, hard));
            if hard < BIG_HARD {
                l.src = "RLIMIT_NOFILE limit";
                l.max_max_work = hard.saturating_sub(EXTRA_FILES) / FILES_PER_JOB;
            }
        }
    }
    if l.max_max_work == 0 {
        l.msgs.push("too few open files allowed".to_string());
        l.max_max_work = MIN_MAX_WORK;
    }
    l
}

/// The soft limit `jobs` need.
pub fn needed(jobs: u64) -> u64 {
    jobs.saturating_mul(FILES_PER_JOB)
        .saturating_add(EXTRA_FILES)
}

/// The jobs left when the soft limit `soft` could not be raised (the
/// original's reckoning: a third of it less the reserve), and the
/// complaint when that leaves none.
pub fn after_refusal(soft: u64) -> (u64, Option<String>) {
    match (soft / FILES_PER_JOB).checked_sub(EXTRA_FILES) {
        Some(n) if n > 0 => (n, None),
        _ => (
            MIN_MAX_WORK,
            Some(format!("only {soft} open files allowed by RLIMIT_NOFILE")),
        ),
    }
}

/// The process's open-file limits `(soft, hard)`.
pub fn read() -> Result<(u64, u64), String> {
    use nix::sys::resource::{getrlimit, Resource};
    getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| e.desc().to_string())
}

/// Raise the soft open-file limit for `jobs` if it is lower: the jobs
/// that can be served, and the complaints.
pub fn raise(jobs: u64, l: &JobLimit) -> (u64, Vec<String>) {
    use nix::sys::resource::{setrlimit, Resource};
    let Some((soft, hard)) = l.nofile else {
        return (jobs, Vec::new());
    };
    let need = needed(jobs);
    if soft >= need {
        return (jobs, Vec::new());
    }
    match setrlimit(Resource::RLIMIT_NOFILE, need, hard) {
        Ok(()) => (jobs, Vec::new()),
        Err(e) => {
            let mut msgs = vec![format!("setrlimit(RLIMIT_NOFILE,{need}): {}", e.desc())];
            let (n, m) = after_refusal(soft);
            msgs.extend(m);
            (n, msgs)
        }
    }
}

/// The `-d` line about the jobs at start, as the original writes it.
pub fn debug_line(jobs: u64, l: &JobLimit) -> String {
    format!(
        "init_work={} max_work={jobs} max_max_work={} ({})",
        INIT_WORK.min(l.max_max_work),
        l.max_max_work,
        l.src
    )
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
