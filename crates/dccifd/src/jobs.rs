//! `-j`, the most requests dccifd serves at once, bounded as the original
//! bounds it by the process's open-file limit (RLIMIT_NOFILE), with the
//! reckoning dccm shares ([`tally_engine::jobs`]).
//!
//! dccifd counts four descriptors per job (the connection from the MTA
//! or client, the connection to the downstream server in proxy mode, the
//! log file and the socket to the DCC server) besides the 52 kept for the
//! rest. With a hard limit below 1,000,000 the largest `-j`, also the
//! default, is `(hard - 52) / 4` ("RLIMIT_NOFILE limit"); otherwise, or
//! when the limit cannot be read, `(1024 - 52) / 4 = 243` ("FD_SETSIZE
//! limit"). Once the options are read, a soft limit below `4 * jobs + 52`
//! is raised to that; when it cannot be, the jobs become `soft / 4 - 52`
//! (at least 2).

pub use tally_engine::jobs::{read, MIN_MAX_WORK};

/// Descriptors counted for each job.
pub const FILES_PER_JOB: u64 = 4;

/// The largest `-j` and where it comes from.
pub type JobLimit = tally_engine::jobs::JobLimit<FILES_PER_JOB>;

/// The complaint about a `-j` larger than the limit, and the `-j` used.
pub fn over_limit(arg: &str, l: &JobLimit) -> (usize, String) {
    let max = usize::try_from(l.max_max_work).unwrap_or(usize::MAX);
    (
        max,
        format!("-j queue length {arg} larger than {}; using {max}", l.src),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dccifd_counts_four_files_per_job() {
        assert_eq!(JobLimit::default().max_max_work, 243);
        let l = JobLimit::from_nofile(Ok((100, 400)));
        assert_eq!(l.max_max_work, 87);
        assert_eq!(
            over_limit("500", &l),
            (
                87,
                "-j queue length 500 larger than RLIMIT_NOFILE limit; using 87".into()
            )
        );
        assert_eq!(JobLimit::needed(87), 400);
        assert_eq!(
            l.debug_line(50),
            "init_work=50 max_work=50 max_max_work=87 (RLIMIT_NOFILE limit)"
        );
    }
}
