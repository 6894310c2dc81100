//! `-j` of dccm and dccifd: the most messages worked on at once, bounded
//! as the original bounds it by the process's open-file limit
//! (RLIMIT_NOFILE). The two programs count a different number of
//! descriptors per job (`F`, the original's `FILES_PER_JOB`: 3 for dccm,
//! 4 for dccifd); the reckoning is otherwise the same.
//!
//! Besides the jobs, 52 descriptors are kept for the rest (32 for
//! libraries and 20 cached per-user whitelist files). With a hard limit
//! below 1,000,000 the largest `-j` is `(hard - 52) / F` ("RLIMIT_NOFILE
//! limit"); otherwise, or when the limit cannot be read, it is
//! `(1024 - 52) / F` ("FD_SETSIZE limit"). With no room for one job it is
//! 2 ("too few open files allowed"). The default `-j` is that largest
//! value. Once the options are read, a soft limit below `F * jobs + 52` is
//! raised to it; when that fails, the jobs are cut to what the old soft
//! limit allows, as the original computes it (`soft / F - 52`, at least 2).
//!
//! [`JobLimit::from_nofile`], [`JobLimit::needed`] and
//! [`JobLimit::after_refusal`] are pure; [`read`] and [`JobLimit::raise`]
//! ask the system.

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

/// The largest `-j` of a program counting `F` descriptors per job, and
/// where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLimit<const F: u64> {
    /// The largest `-j`, also the default.
    pub max_max_work: u64,
    /// Its source, as the complaint about a larger `-j` names it.
    pub src: &'static str,
    /// The soft and hard open-file limits, when they could be read.
    pub nofile: Option<(u64, u64)>,
    /// Complaints (the limit could not be read, too few descriptors).
    pub msgs: Vec<String>,
}

impl<const F: u64> Default for JobLimit<F> {
    /// The limit when nothing is known of the process's descriptors.
    fn default() -> Self {
        JobLimit {
            max_max_work: (FD_SETSIZE - EXTRA_FILES) / F.max(1),
            src: "FD_SETSIZE limit",
            nofile: None,
            msgs: Vec::new(),
        }
    }
}

impl<const F: u64> JobLimit<F> {
    /// Descriptors counted for each job.
    pub const FILES_PER_JOB: u64 = F;

    /// The limit from the open-file limits `(soft, hard)`, or the error of
    /// reading them.
    pub fn from_nofile(nofile: Result<(u64, u64), String>) -> Self {
        let mut l = Self::default();
        match nofile {
            Err(e) => l.msgs.push(format!("getrlimit(RLIMIT_NOFILE): {e}")),
            Ok((soft, hard)) => {
                l.nofile = Some((soft, hard));
                if hard < BIG_HARD {
                    l.src = "RLIMIT_NOFILE limit";
                    l.max_max_work = hard.saturating_sub(EXTRA_FILES) / F.max(1);
                }
            }
        }
        if l.max_max_work == 0 {
            l.msgs.push("too few open files allowed".to_string());
            l.max_max_work = MIN_MAX_WORK;
        }
        l
    }

    /// The limit of this process ([`read`]).
    pub fn of_process() -> Self {
        Self::from_nofile(read())
    }

    /// The soft limit `jobs` need.
    pub fn needed(jobs: u64) -> u64 {
        jobs.saturating_mul(F).saturating_add(EXTRA_FILES)
    }

    /// The jobs left when the soft limit `soft` could not be raised (the
    /// original's reckoning: the soft limit over the descriptors per job,
    /// less the reserve), and the complaint when that leaves none.
    pub fn after_refusal(soft: u64) -> (u64, Option<String>) {
        match (soft / F.max(1)).checked_sub(EXTRA_FILES) {
            Some(n) if n > 0 => (n, None),
            _ => (
                MIN_MAX_WORK,
                Some(format!("only {soft} open files allowed by RLIMIT_NOFILE")),
            ),
        }
    }

    /// Raise the soft open-file limit for `jobs` if it is lower: the jobs
    /// that can be served, and the complaints.
    pub fn raise(&self, jobs: u64) -> (u64, Vec<String>) {
        use nix::sys::resource::{setrlimit, Resource};
        let Some((soft, hard)) = self.nofile else {
            return (jobs, Vec::new());
        };
        let need = Self::needed(jobs);
        if soft >= need {
            return (jobs, Vec::new());
        }
        match setrlimit(Resource::RLIMIT_NOFILE, need, hard) {
            Ok(()) => (jobs, Vec::new()),
            Err(e) => {
                let mut msgs = vec![format!("setrlimit(RLIMIT_NOFILE,{need}): {}", e.desc())];
                let (n, m) = Self::after_refusal(soft);
                msgs.extend(m);
                (n, msgs)
            }
        }
    }

    /// The `-d` line about the jobs at start, as the original writes it.
    pub fn debug_line(&self, jobs: u64) -> String {
        format!(
            "init_work={} max_work={jobs} max_max_work={} ({})",
            INIT_WORK.min(self.max_max_work),
            self.max_max_work,
            self.src
        )
    }
}

/// The process's open-file limits `(soft, hard)`.
pub fn read() -> Result<(u64, u64), String> {
    use nix::sys::resource::{getrlimit, Resource};
    getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| e.desc().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Three = JobLimit<3>;
    type Four = JobLimit<4>;

    #[test]
    fn default_and_unknown_limits() {
        assert_eq!(Three::default().max_max_work, 324);
        assert_eq!(Four::default().max_max_work, 243);
        for hard in [u64::MAX, BIG_HARD, 1_048_576] {
            let l = Four::from_nofile(Ok((1024, hard)));
            assert_eq!((l.max_max_work, l.src), (243, "FD_SETSIZE limit"), "{hard}");
            assert_eq!(l.nofile, Some((1024, hard)));
            assert!(l.msgs.is_empty());
        }
        let l = Four::from_nofile(Err("Operation not permitted".into()));
        assert_eq!((l.max_max_work, l.nofile), (243, None));
        assert_eq!(
            l.msgs,
            ["getrlimit(RLIMIT_NOFILE): Operation not permitted"]
        );
    }

    #[test]
    fn hard_limit_decides() {
        let l = Four::from_nofile(Ok((1024, 4096)));
        assert_eq!((l.max_max_work, l.src), (1011, "RLIMIT_NOFILE limit"));
        assert_eq!(Four::from_nofile(Ok((1024, 999_999))).max_max_work, 249_986);
        assert_eq!(Four::from_nofile(Ok((100, 400))).max_max_work, 87);
        assert_eq!(Three::from_nofile(Ok((100, 400))).max_max_work, 116);
        // too few: two jobs, complained about
        for hard in [0, 52, 55] {
            let l = Four::from_nofile(Ok((hard, hard)));
            assert_eq!(l.max_max_work, 2, "{hard}");
            assert_eq!(l.msgs, ["too few open files allowed"]);
        }
        assert_eq!(Four::from_nofile(Ok((56, 56))).max_max_work, 1);
    }

    #[test]
    fn raising() {
        assert_eq!(Four::needed(87), 400);
        assert_eq!(Four::needed(243), 1024);
        assert_eq!(Three::needed(116), 400);
        assert_eq!(Four::needed(u64::MAX), u64::MAX);
        assert_eq!(Four::after_refusal(1024), (204, None));
        assert_eq!(Three::after_refusal(1024), (289, None));
        assert_eq!(
            Four::after_refusal(200),
            (
                2,
                Some("only 200 open files allowed by RLIMIT_NOFILE".into())
            )
        );
        assert_eq!(Four::after_refusal(211).0, 2);
        assert_eq!(Four::after_refusal(212), (1, None));
        // nothing known, nothing done
        assert_eq!(Four::default().raise(7), (7, Vec::new()));
        // a soft limit that is enough stays
        assert_eq!(
            Four::from_nofile(Ok((400, 400))).raise(87),
            (87, Vec::new())
        );
        let l = Four::from_nofile(Ok((100, 400)));
        assert_eq!(
            l.debug_line(87),
            "init_work=50 max_work=87 max_max_work=87 (RLIMIT_NOFILE limit)"
        );
        let l = Four::from_nofile(Ok((60, 60)));
        assert_eq!(
            l.debug_line(2),
            "init_work=2 max_work=2 max_max_work=2 (RLIMIT_NOFILE limit)"
        );
    }
}
