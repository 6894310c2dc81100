//! A throw-away Postfix instance for one test.
//!
//! Everything lives in one temporary directory: `etc/` (main.cf, master.cf,
//! the mailbox map), `spool/` (the queue), `data/`, `mail/` (Maildirs) and
//! `maillog`. smtpd listens only on 127.0.0.1 at a random port; every
//! recipient domain is a virtual mailbox domain delivered by virtual(8) into
//! `mail/<domain>/<user>/`, nothing is relayed, and the transports that would
//! leave the machine (smtp, relay, lmtp) are discard(8). The instance is
//! stopped with `postfix -c <etc> stop` (and its master killed if that does
//! not work within a few seconds) when the guard is dropped.

mod config;

pub use config::Config;

use crate::proc::{self, Output};
use crate::tmp::TempDir;
use crate::{skip, users, Skip};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The local parts that exist in every test domain.
pub const USERS: &[&str] = &["alice", "bob", "carol", "dave", "postmaster"];
/// The virtual mailbox domains.
pub const DOMAINS: &[&str] = &["lab.test", "example.test"];

/// A running Postfix instance.
#[derive(Debug)]
pub struct Postfix {
    dir: TempDir,
    postfix: PathBuf,
    /// The smtpd address for tests to send to.
    pub smtp: SocketAddr,
    running: bool,
}

fn io(e: std::io::Error) -> Skip {
    Skip(format!("set-up failed: {e}"))
}

impl Postfix {
    /// Write the configuration and start the instance; skips when Postfix
    /// is not installed or the process is not root.
    pub fn start(cfg: &Config) -> Result<Postfix, Skip> {
        skip::root()?;
        let postfix = skip::program("postfix")?;
        let postfix_uid = users::uid("postfix").ok_or_else(|| Skip("no `postfix` user".into()))?;
        let postfix_gid = users::gid("postfix").ok_or_else(|| Skip("no `postfix` group".into()))?;
        let vuid = users::uid("nobody").unwrap_or(65534);
        let vgid = users::gid("nogroup").unwrap_or(65534);
        let dir = TempDir::new("postfix").map_err(io)?;
        let etc = dir.subdir("etc").map_err(io)?;
        dir.subdir("spool").map_err(io)?;
        let data = dir.subdir("data").map_err(io)?;
        std::os::unix::fs::chown(&data, Some(postfix_uid), Some(postfix_gid)).map_err(io)?;
        let mail = dir.subdir("mail").map_err(io)?;
        std::os::unix::fs::chown(&mail, Some(vuid), Some(vgid)).map_err(io)?;
        std::fs::write(dir.path().join("maillog"), b"").map_err(io)?;
        let port = crate::dccd::free_tcp_port().map_err(io)?;
        let files = config::render(cfg, dir.path(), port, (vuid, vgid));
        for (name, text) in files {
            std::fs::write(etc.join(name), text).map_err(io)?;
        }
        let mut pf = Postfix {
            dir,
            postfix,
            smtp: SocketAddr::from(([127, 0, 0, 1], port)),
            running: false,
        };
        let check = pf.ctl("check");
        assert!(
            check.success(),
            "postfix check failed: {check:?}\n{}",
            pf.log()
        );
        pf.running = true;
        let start = pf.ctl("start");
        assert!(
            start.success(),
            "postfix start failed: {start:?}\n{}",
            pf.log()
        );
        let listening = proc::wait_until(Duration::from_secs(15), || tcp_listening(port));
        assert!(listening, "postfix smtpd is not listening\n{}", pf.log());
        Ok(pf)
    }

    /// The configuration directory (for `postfix -c`).
    pub fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }

    /// Run `postfix -c <etc> <what>` (at most 60 s).
    fn ctl(&self, what: &str) -> Output {
        let mut cmd = Command::new(&self.postfix);
        cmd.arg("-c").arg(self.etc()).arg(what);
        match proc::run(cmd, b"", Duration::from_secs(60)) {
            Ok(o) => o,
            Err(e) => panic!("cannot run postfix {what}: {e}"),
        }
    }

    /// Ask the instance to try its deferred mail now (`postfix flush`).
    pub fn flush(&self) {
        let _ = self.ctl("flush");
    }

    /// Wait (at most `limit`) until `cond` holds, asking the instance to
    /// try its deferred mail again every `every`: for a relay whose retry
    /// the test waits for. The retry is Postfix's own, at the backoff the
    /// relay is configured with; the nudge is for a queue manager that
    /// under load leaves a deferred message unscheduled (seen once: no
    /// retry for 90 s after "skipped, still being delivered").
    pub fn wait_retrying(
        &self,
        limit: Duration,
        every: Duration,
        mut cond: impl FnMut() -> bool,
    ) -> bool {
        let mut nudged = std::time::Instant::now();
        proc::wait_until(limit, || {
            if nudged.elapsed() >= every {
                self.flush();
                nudged = std::time::Instant::now();
            }
            cond()
        })
    }

    /// The instance's mail log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    /// The Maildir of `user@domain`.
    pub fn maildir(&self, addr: &str) -> PathBuf {
        let (user, domain) = addr.split_once('@').unwrap_or((addr, "lab.test"));
        self.dir.path().join("mail").join(domain).join(user)
    }

    /// The messages delivered to `addr` so far, oldest first.
    pub fn delivered(&self, addr: &str) -> Vec<String> {
        let dir = self.maildir(addr);
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(dir.join(sub)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        // Maildir names start with the delivery time in seconds
        files.sort();
        files
            .iter()
            .filter_map(|f| std::fs::read(f).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect()
    }

    /// Wait (at most `limit`) until Postfix is done with queue file `qid`:
    /// removed after delivery, or discarded.
    pub fn wait_done(&self, qid: &str, limit: Duration) -> bool {
        let removed = format!(" {qid}: removed");
        let discarded = format!(" {qid}: milter-discard");
        proc::wait_until(limit, || {
            let log = self.log();
            log.contains(&removed) || log.contains(&discarded)
        })
    }

    /// Stop the instance (also done on drop).
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        let master = self.master_pid();
        let _ = self.ctl("stop");
        if let Some(pid) = master {
            if !proc::wait_until(Duration::from_secs(10), || !proc::alive(pid)) {
                proc::signal(pid, "KILL");
            }
        }
    }

    fn master_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.dir.path().join("spool/pid/master.pid")).ok()?;
        text.trim().parse().ok()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether something listens on TCP port `port` of 127.0.0.1, read from
/// /proc/net/tcp (connecting would start an SMTP session with the milter).
pub fn tcp_listening(port: u16) -> bool {
    let want = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/tcp").is_ok_and(|t| {
        t.lines().skip(1).any(|l| {
            let mut f = l.split_whitespace();
            let local = f.nth(1);
            let state = f.nth(1);
            local == Some(want.as_str()) && state == Some("0A")
        })
    })
}

/// Whether `user` can write to `path` (for sockets smtpd must reach).
pub fn writable_by(user: &str, path: &Path) -> bool {
    let Ok(out) = Command::new("runuser")
        .args(["-u", user, "--", "test", "-w"])
        .arg(path)
        .status()
    else {
        return false;
    };
    out.success()
}
