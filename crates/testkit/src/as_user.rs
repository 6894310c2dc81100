//! Helpers for the tests of `-I user` (switching a daemon started as
//! root to another user): who the test runs as, whom to become, and what
//! the kernel says a process runs as.

use std::path::Path;

/// The test runs as root (real and effective user 0).
pub fn is_root() -> bool {
    proc_ids("self", "Uid:").is_some_and(|ids| ids.iter().all(|&i| i == 0))
}

/// An ordinary user of the password file: `nobody` if there is one,
/// else the first with a user ID other than 0. Name, user ID, group ID.
pub fn ordinary_user() -> Option<(String, u32, u32)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    let users: Vec<(String, u32, u32)> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((
                f.first()?.to_string(),
                f.get(2)?.parse().ok()?,
                f.get(3)?.parse().ok()?,
            ))
        })
        .filter(|(_, uid, _)| *uid != 0)
        .collect();
    users
        .iter()
        .find(|u| u.0 == "nobody")
        .or(users.first())
        .cloned()
}

/// A group of the group file other than 0 and `not`: name and ID.
pub fn other_group(not: u32) -> Option<(String, u32)> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        let gid: u32 = f.get(2)?.parse().ok()?;
        (gid != 0 && gid != not).then(|| (f[0].to_string(), gid))
    })
}

/// The numbers of a line of `/proc/<pid>/status` (`Uid:`, `Gid:`,
/// `Groups:`).
pub fn proc_ids(pid: &str, key: &str) -> Option<Vec<u32>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    Some(
        line[key.len()..]
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect(),
    )
}

/// Every directory above `p` is searchable by other users, so the
/// switched daemon can reach `p` (false for a private `TMPDIR`).
pub fn reachable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.ancestors()
        .skip(1)
        .all(|a| std::fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

/// Give `dir` and everything under it to `uid`/`gid`, directories
/// searchable by all.
pub fn give(dir: &Path, uid: u32, gid: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).expect("chown");
    if dir.is_dir() {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
            give(&e.path(), uid, gid);
        }
    }
}

/// The owner of a file.
pub fn owner(p: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(p).expect("stat").uid()
}

/// Send a signal (`-TERM`) with kill(1).
pub fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
}

/// Wait up to 10 s for `f`; whether it came true.
fn wait_until_ok(mut f: impl FnMut() -> bool) -> bool {
    let t0 = std::time::Instant::now();
    while !f() {
        if t0.elapsed() >= std::time::Duration::from_secs(10) {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    true
}

/// Wait (at most 10 s) until `f` holds.
pub fn wait_for(what: &str, f: impl FnMut() -> bool) {
    assert!(wait_until_ok(f), "{what}");
}

/// Check that process `pid` runs as `uid`/`gid` (real, effective, saved
/// and file-system IDs) without root's group among its groups.
pub fn assert_runs_as(pid: u32, uid: u32, gid: u32) {
    let pid = pid.to_string();
    assert_eq!(proc_ids(&pid, "Uid:"), Some(vec![uid; 4]), "user IDs");
    assert_eq!(proc_ids(&pid, "Gid:"), Some(vec![gid; 4]), "group IDs");
    let groups = proc_ids(&pid, "Groups:").expect("Groups:");
    assert!(groups.contains(&gid), "{groups:?}");
    assert!(!groups.contains(&0), "root's group kept: {groups:?}");
}

/// The user a `-I` test switches to, when the test can run: as root, with
/// `home` reachable by other users. Otherwise says why ("SKIPPED: ..."),
/// removes `home` and gives `None`.
pub fn test_user(home: &Path) -> Option<(String, u32, u32)> {
    if !is_root() {
        println!("SKIPPED: needs root");
        let _ = std::fs::remove_dir_all(home);
        return None;
    }
    if !reachable(home) {
        println!("SKIPPED: {} is out of reach of other users", home.display());
        let _ = std::fs::remove_dir_all(home);
        return None;
    }
    Some(ordinary_user().expect("a user other than root"))
}

/// Each case is (in the background, the `-I` value, the complaint): the
/// daemon that `daemon(background, value)` builds must exit with 67
/// (EX_NOUSER), say the complaint on standard error, and leave no
/// `pid_file`.
pub fn assert_unknown_refused(
    mut daemon: impl FnMut(bool, &str) -> std::process::Command,
    cases: &[(bool, &str, &str)],
    pid_file: &Path,
) {
    for &(bg, arg, says) in cases {
        let out = daemon(bg, arg)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run the daemon");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(67), "-I {arg}: {err}");
        assert!(err.contains(says), "-I {arg}: {err}");
        assert!(!pid_file.exists(), "-I {arg}: pid file made");
    }
}

/// The `-I` values an unknown user or group is refused for, in the
/// `user[,group]` form of dccm and dccifd (for [`assert_unknown_refused`]).
pub const UNKNOWN_USERS: [(bool, &str, &str); 3] = [
    (
        true,
        "no-such-user-of-tally",
        "getpwnam(no-such-user-of-tally): no such user",
    ),
    (
        false,
        "no-such-user-of-tally",
        "getpwnam(no-such-user-of-tally): no such user",
    ),
    (
        true,
        "root,no-such-group-of-tally",
        "getgrnam(no-such-group-of-tally): no such group",
    ),
];

/// Stop daemon `child` with SIGTERM and check that it removed `pid_file`.
pub fn stop_and_check(child: &mut std::process::Child, name: &str, pid_file: &Path) {
    signal(child.id(), "-TERM");
    wait_for(&format!("{name} did not stop on SIGTERM"), || {
        child.try_wait().ok().flatten().is_some()
    });
    assert!(!pid_file.exists(), "pid file left behind");
}

/// [`assert_unknown_refused`] with [`UNKNOWN_USERS`] for a client daemon
/// (dccm, dccifd) started as `program -h home -R home -I ...` (with `-b`
/// for the foreground cases), whose pid file is `home/pid_name`.
pub fn assert_client_daemon_refuses_unknown(program: &str, home: &Path, pid_name: &str) {
    let daemon = |bg: bool, arg: &str| {
        let mut cmd = std::process::Command::new(program);
        if bg {
            cmd.arg("-b");
        }
        cmd.arg("-h")
            .arg(home)
            .arg("-R")
            .arg(home)
            .args(["-I", arg]);
        cmd
    };
    assert_unknown_refused(daemon, &UNKNOWN_USERS, &home.join(pid_name));
}

/// A daemon switched to `uid` left its unix socket open to the MTA (mode
/// 0666) and owned by `uid`, and wrote `pid_file` as `uid`. The socket
/// answers from the moment it is bound, before the daemon opens its mode,
/// so the mode is waited for (bounded) before it is checked.
pub fn assert_socket_and_pid_file(sock: &Path, pid_file: &Path, uid: u32) {
    use std::os::unix::fs::PermissionsExt;
    let mode = || {
        std::fs::symlink_metadata(sock)
            .expect("socket")
            .permissions()
            .mode()
    };
    let _ = wait_until_ok(|| mode() & 0o777 == 0o666);
    let mode = mode();
    assert_eq!(mode & 0o777, 0o666, "socket mode {mode:o}");
    assert_eq!(owner(sock), uid);
    wait_for("no pid file", || pid_file.exists());
    assert_eq!(owner(pid_file), uid);
}
