//! `-I user[,group]`: dccifd started as root runs as that user and group,
//! answers a request on its socket (open to the MTA), removes its socket
//! and pid file when stopped; an unknown user or group is refused.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use tally_testkit::FakeDccd;

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

fn scratch(tag: &str) -> PathBuf {
    tally_testkit::scratch("tally-dccifd-switch", tag)
}

const REQUEST: &[u8] = b"header\n198.51.100.44\rrelay.example.org\nrelay.example.org\n\
someone@example.org\nbob@example.net\n\n\
From: Someone <someone@example.org>\nSubject: switched\n\nbody\n";

fn ask(sock: &std::path::Path) -> String {
    let mut s = UnixStream::connect(sock).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(REQUEST).expect("write");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn runs_as_the_user_and_answers() {
    if !is_root() {
        println!("SKIPPED: needs root");
        return;
    }
    let (name, uid, gid) = ordinary_user().expect("a user other than root");
    // the user,group form when the system has another group
    let (spec, gid) = match other_group(gid) {
        Some((group, other)) => (format!("{name},{group}"), other),
        None => (name.clone(), gid),
    };
    let srv = FakeDccd::start(1200, "switchbrand");
    let home = scratch("run");
    if !reachable(&home) {
        println!("SKIPPED: {} is out of reach of other users", home.display());
        let _ = std::fs::remove_dir_all(&home);
        return;
    }
    tally_testkit::write_map(&home, srv.addr);
    std::fs::create_dir_all(home.join("run")).expect("run");
    std::fs::create_dir_all(home.join("logs")).expect("logs");
    give(&home, uid, gid);
    let sock = home.join("dccifd.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dccifd"))
        .args(["-b", "-h"])
        .arg(&home)
        .arg("-p")
        .arg(&sock)
        .arg("-R")
        .arg(home.join("run"))
        .args(["-l", "logs", "-t", "CMN,2,3", "-I", &spec])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn dccifd");
    wait_for("dccifd did not listen", || {
        UnixStream::connect(&sock).is_ok()
    });
    assert_runs_as(child.id(), uid, gid);
    let mode = std::fs::symlink_metadata(&sock)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o666, "socket mode {mode:o}");
    assert_eq!(owner(&sock), uid);
    let pid_file = home.join("run/dccifd.pid");
    wait_for("no pid file", || pid_file.exists());
    assert_eq!(owner(&pid_file), uid);
    let answer = ask(&sock);
    assert!(
        answer.starts_with("A\nA\nX-DCC-switchbrand-Metrics:"),
        "{answer}"
    );
    signal(child.id(), "-TERM");
    wait_for("dccifd did not stop on SIGTERM", || {
        child.try_wait().ok().flatten().is_some()
    });
    assert!(!pid_file.exists(), "pid file left behind");
    assert!(!sock.exists(), "socket left behind");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn unknown_user_is_refused() {
    let home = scratch("unknown");
    for (bg, arg, says) in [
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
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dccifd"));
        if bg {
            cmd.arg("-b");
        }
        let out = cmd
            .arg("-h")
            .arg(&home)
            .arg("-R")
            .arg(&home)
            .args(["-I", arg])
            .stdin(Stdio::null())
            .output()
            .expect("run dccifd");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(67), "-I {arg}: {err}");
        assert!(err.contains(says), "-I {arg}: {err}");
        assert!(!home.join("dccifd.pid").exists());
    }
    let _ = std::fs::remove_dir_all(&home);
}
