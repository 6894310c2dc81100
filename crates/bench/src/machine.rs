//! The machine a benchmark runs on, printed at the top of its output so
//! that absolute figures can be read against it: the CPU model, the
//! logical CPUs online and those this process may run on, the kernel
//! release, the load average at the start and the build profile.
//!
//! Shared by `tally-bench` and `dccd-bench` (which includes this file with
//! `#[path]`), so it uses nothing but std. Whatever cannot be read is
//! "unknown"; nothing here panics.

use std::fmt;

/// What a benchmark's figures were measured on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// `model name` of the first processor in `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical CPUs online (`/sys/devices/system/cpu/online`), as a count
    /// and the list.
    pub online: String,
    /// The CPUs this process may run on (`Cpus_allowed_list` of
    /// `/proc/self/status`), as a count and the list.
    pub allowed: String,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: String,
    /// The 1, 5 and 15 minute load averages of `/proc/loadavg`.
    pub load: String,
    /// `release` or `debug` (whether debug assertions are on).
    pub profile: &'static str,
}

const UNKNOWN: &str = "unknown";

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The first `model name` of a `/proc/cpuinfo` text.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == "model name")
        .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|v| !v.is_empty())
}

/// The number of CPUs in a kernel CPU list such as `0-3,6,8-9`; `None`
/// for anything else.
pub fn count_cpus(list: &str) -> Option<usize> {
    let list = list.trim();
    if list.is_empty() {
        return None;
    }
    let mut n = 0usize;
    for part in list.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => {
                let a = part.parse::<usize>().ok()?;
                (a, a)
            }
        };
        n = n.checked_add(b.checked_sub(a)?.checked_add(1)?)?;
    }
    Some(n)
}

/// "N (list)" of a CPU list, or "unknown".
fn cpus(list: Option<&str>) -> String {
    match list.map(str::trim) {
        Some(l) => match count_cpus(l) {
            Some(n) => format!("{n} ({l})"),
            None => UNKNOWN.to_string(),
        },
        None => UNKNOWN.to_string(),
    }
}

/// The `Cpus_allowed_list` value of a `/proc/<pid>/status` text.
pub fn allowed_list(status: &str) -> Option<&str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(str::trim)
}

/// The three load averages of a `/proc/loadavg` text.
pub fn load_average(loadavg: &str) -> Option<String> {
    let f: Vec<&str> = loadavg.split_whitespace().take(3).collect();
    (f.len() == 3 && f.iter().all(|v| v.parse::<f64>().is_ok())).then(|| f.join(" "))
}

impl Machine {
    /// This machine and this process, now.
    pub fn now() -> Machine {
        let status = read("/proc/self/status").unwrap_or_default();
        Machine {
            cpu: read("/proc/cpuinfo")
                .and_then(|t| cpu_model(&t))
                .unwrap_or_else(|| UNKNOWN.to_string()),
            online: cpus(read("/sys/devices/system/cpu/online").as_deref()),
            allowed: cpus(allowed_list(&status)),
            kernel: read("/proc/sys/kernel/osrelease")
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| UNKNOWN.to_string()),
            load: read("/proc/loadavg")
                .and_then(|t| load_average(&t))
                .unwrap_or_else(|| UNKNOWN.to_string()),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "machine: CPU {}", self.cpu)?;
        writeln!(
            f,
            "         logical CPUs online {}, this process may run on {}",
            self.online, self.allowed
        )?;
        write!(
            f,
            "         kernel {}, load average at start {}, {} build",
            self.kernel, self.load, self.profile
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(count_cpus("0-3,6,8-9\n"), Some(7));
        assert_eq!(count_cpus("0"), Some(1));
        assert_eq!(count_cpus(""), None);
        assert_eq!(count_cpus("3-1"), None);
        assert_eq!(count_cpus("a-b"), None);
        assert_eq!(cpus(Some("0-1")), "2 (0-1)");
        assert_eq!(cpus(None), "unknown");
    }

    #[test]
    fn proc_texts() {
        let info = "processor\t: 0\nmodel name\t: Some  CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(cpu_model(info).as_deref(), Some("Some CPU @ 2.20GHz"));
        assert_eq!(cpu_model("processor : 0\n"), None);
        let status = "Name:\tx\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n";
        assert_eq!(allowed_list(status), Some("0-1"));
        assert_eq!(
            load_average("0.52 0.58 0.59 1/467 1234\n").as_deref(),
            Some("0.52 0.58 0.59")
        );
        assert_eq!(load_average("garbage"), None);
    }

    #[test]
    fn this_machine_prints_three_lines() {
        let m = Machine::now().to_string();
        assert_eq!(m.lines().count(), 3, "{m}");
        assert!(m.starts_with("machine: CPU "), "{m}");
    }
}
