//! `-I host-ID,user`: dccd started as root runs as that user, still
//! answers, and can remove its pid file; an unknown user is refused.

mod common;

use std::process::{Command, Stdio};

use common::{free_port, temp_home, Dccd};

/// Helpers shared by the `-I` tests: who we are, whom to become, and
/// what the kernel says a process runs as.
mod as_user {
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

    /// Wait (at most 10 s) until `f` holds.
    pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
        let t0 = std::time::Instant::now();
        while !f() {
            assert!(t0.elapsed() < std::time::Duration::from_secs(10), "{what}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
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
}

use as_user::*;

#[test]
fn runs_as_the_user_and_still_answers() {
    if !is_root() {
        println!("SKIPPED: needs root");
        return;
    }
    let (name, uid, gid) = ordinary_user().expect("a user other than root");
    let home = temp_home("switch-user");
    if !reachable(&home) {
        println!("SKIPPED: {} is out of reach of other users", home.display());
        let _ = std::fs::remove_dir_all(&home);
        return;
    }
    give(&home, uid, gid);
    // Dccd::start waits for the answer to a NOP
    let d = Dccd::start(&home, free_port(), &["-I", &format!(",{name}")]);
    assert_runs_as(d.child.id(), uid, gid);
    let pid_file = home.join("dccd.pid");
    assert_eq!(owner(&pid_file), uid);
    assert_eq!(owner(&home.join("tally-db")), uid);
    signal(d.child.id(), "-TERM");
    let mut d = d;
    wait_for("dccd did not stop on SIGTERM", || {
        d.child.try_wait().ok().flatten().is_some()
    });
    assert!(!pid_file.exists(), "pid file left behind");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn in_the_background_with_host_id() {
    if !is_root() {
        println!("SKIPPED: needs root");
        return;
    }
    let (name, uid, gid) = ordinary_user().expect("a user other than root");
    let home = temp_home("switch-user-bg");
    if !reachable(&home) {
        println!("SKIPPED: {} is out of reach of other users", home.display());
        let _ = std::fs::remove_dir_all(&home);
        return;
    }
    give(&home, uid, gid);
    // the user,group form when the system has another group
    let (spec, gid) = match other_group(gid) {
        Some((group, other)) => (format!("{name},{group}"), other),
        None => (name, gid),
    };
    let port = free_port();
    // without -b: this process checks the user and starts the server
    // again in the background, which switches
    let st = Command::new(env!("CARGO_BIN_EXE_dccd"))
        .args(["-i", "1100", "-n", "vecbrand", "-h"])
        .arg(&home)
        .args(["-a", &format!("127.0.0.1,{port}")])
        .args(["-I", &format!("tally-test,{spec}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run dccd");
    assert!(st.success(), "{st:?}");
    let pid_file = home.join("dccd.pid");
    let mut pid = 0u32;
    wait_for("no pid file", || {
        pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        pid != 0
    });
    assert_runs_as(pid, uid, gid);
    signal(pid, "-TERM");
    wait_for("dccd did not stop on SIGTERM", || !pid_file.exists());
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn home_the_user_cannot_use_is_reported() {
    if !is_root() {
        println!("SKIPPED: needs root");
        return;
    }
    let (name, _, _) = ordinary_user().expect("a user other than root");
    // left to root: the ids file (mode 0600) is unreadable after the switch
    let home = temp_home("switch-user-root-home");
    let out = Command::new(env!("CARGO_BIN_EXE_dccd"))
        .args(["-b", "-i", "1100", "-h"])
        .arg(&home)
        .args(["-a", &format!("127.0.0.1,{}", free_port())])
        .args(["-I", &format!(",{name}")])
        .stdin(Stdio::null())
        .output()
        .expect("run dccd");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("ids: Permission denied"), "{err}");
    assert!(err.contains(&format!("; running as {name} (uid ")), "{err}");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn unknown_user_is_refused() {
    let home = temp_home("switch-user-unknown");
    for (bg, arg, says) in [
        (
            true,
            ",no-such-user-of-tally",
            "getpwnam(no-such-user-of-tally): no such user",
        ),
        (
            false,
            "h,no-such-user-of-tally",
            "getpwnam(no-such-user-of-tally): no such user",
        ),
        (
            true,
            "h,root,no-such-group-of-tally",
            "getgrnam(no-such-group-of-tally): no such group",
        ),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dccd"));
        if bg {
            cmd.arg("-b");
        }
        let out = cmd
            .args(["-i", "1100", "-h"])
            .arg(&home)
            .args(["-a", &format!("127.0.0.1,{}", free_port()), "-I", arg])
            .stdin(Stdio::null())
            .output()
            .expect("run dccd");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(67), "-I {arg}: {err}");
        assert!(err.contains(says), "-I {arg}: {err}");
        assert!(!home.join("dccd.pid").exists());
    }
    let _ = std::fs::remove_dir_all(&home);
}
