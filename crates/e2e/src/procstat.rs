//! What a running daemon holds, read from /proc: its threads and open
//! file descriptors, for the tests that look for leaks.

use std::time::Duration;

/// Threads of process `pid` (entries of /proc/PID/task), None if gone.
pub fn threads(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.count())
}

/// Open file descriptors of process `pid` (entries of /proc/PID/fd).
pub fn fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// Threads and descriptors of `pid` once they stop changing: read every
/// 100 ms until two readings half a second apart agree and are at most
/// `want` (if given), for at most `limit`; the last reading otherwise.
pub fn settled(pid: u32, want: Option<(usize, usize)>, limit: Duration) -> (usize, usize) {
    let read = || (threads(pid).unwrap_or(0), fds(pid).unwrap_or(0));
    let mut last = read();
    let mut same_since = std::time::Instant::now();
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        let now = read();
        if now != last {
            last = now;
            same_since = std::time::Instant::now();
            continue;
        }
        let low_enough = match want {
            Some((t, f)) => now.0 <= t && now.1 <= f,
            None => true,
        };
        if low_enough && same_since.elapsed() >= Duration::from_millis(500) {
            break;
        }
    }
    last
}

/// The names of the threads of process `pid` (/proc/PID/task/*/comm).
pub fn thread_names(pid: u32) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
        .map(|n| n.trim().to_string())
        .collect()
}
