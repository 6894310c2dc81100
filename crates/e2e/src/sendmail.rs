//! A throw-away sendmail instance for one test, from the Debian packages
//! unpacked (not installed) by `scripts/e2e-deps.sh`.
//!
//! Debian's `sendmail-bin` conflicts with `postfix`, which the other
//! end-to-end tests install, so the script only downloads `sendmail-bin`,
//! `sendmail-base` and `sendmail-cf` and unpacks them into a private tree
//! ([`DEFAULT_TREE`], or `TALLY_E2E_SENDMAIL_TREE`). Each instance has its
//! own directory: `etc/` with the `.mc` file, the `sendmail.cf` that m4
//! makes from it and the private service switch and hosts files, `queue/`,
//! and the daemon's output. The daemon runs in the foreground (`-bD`) as
//! root, in a UTS namespace of its own whose host name is fully qualified:
//! sendmail otherwise waits a minute at start when the machine's name has
//! no domain. Every relayed message goes to a [`sink::Sink`] of the test.

pub mod mc;
pub mod scene;
pub mod sink;

use crate::proc::{self, Daemon};
use crate::tmp::TempDir;
use crate::{skip, Skip};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Where `scripts/e2e-deps.sh` unpacks the sendmail packages.
pub const DEFAULT_TREE: &str = "/var/cache/tally-e2e/sendmail/root";

/// The sendmail binary inside the unpacked tree.
const SENDMAIL_BIN: &str = "usr/libexec/sendmail/sendmail";
/// The m4 configuration kit inside the unpacked tree.
const CF_DIR: &str = "usr/share/sendmail/cf";

/// The unpacked packages: the daemon and the m4 kit.
#[derive(Debug, Clone)]
pub struct Tree {
    /// The sendmail binary.
    pub sendmail: PathBuf,
    /// The `cf` directory of `sendmail-cf`.
    pub cf: PathBuf,
}

/// The unpacked tree, or a skip saying how to get it.
pub fn tree() -> Result<Tree, Skip> {
    let root = std::env::var_os("TALLY_E2E_SENDMAIL_TREE")
        .map_or_else(|| PathBuf::from(DEFAULT_TREE), PathBuf::from);
    let t = Tree {
        sendmail: root.join(SENDMAIL_BIN),
        cf: root.join(CF_DIR),
    };
    if !t.sendmail.is_file() || !t.cf.join("m4/cf.m4").is_file() {
        return Err(Skip(format!(
            "no unpacked sendmail in {} (scripts/e2e-deps.sh unpacks it)",
            root.display()
        )));
    }
    Ok(t)
}

/// Fails with a Skip unless running as root (sendmail's daemon must be
/// started as root).
pub fn root() -> Result<(), Skip> {
    if skip::is_root() {
        Ok(())
    } else {
        Err(Skip("not running as root (sendmail needs root)".into()))
    }
}

fn io(e: std::io::Error) -> Skip {
    Skip(format!("set-up failed: {e}"))
}

/// `unshare(1)` if this process may start a program in a UTS namespace
/// of its own (checked once).
fn unshare() -> Option<PathBuf> {
    static OK: OnceLock<Option<PathBuf>> = OnceLock::new();
    OK.get_or_init(|| {
        let unshare = skip::program("unshare").ok()?;
        let mut cmd = Command::new(&unshare);
        cmd.args(["-u", "hostname", mc::HOSTNAME]);
        let out = proc::run(cmd, b"", Duration::from_secs(10)).ok()?;
        out.success().then_some(unshare)
    })
    .clone()
}

/// A running sendmail daemon and its sink.
#[derive(Debug)]
pub struct Sendmail {
    daemon: Daemon,
    /// Where the relayed messages go.
    pub sink: sink::Sink,
    /// The daemon's SMTP address.
    pub smtp: SocketAddr,
    dir: TempDir,
}

impl Sendmail {
    /// Write the configuration for a milter at `milter` (a `S=` value)
    /// with extra `rules`, make `sendmail.cf` and start the daemon; skips
    /// without root, the unpacked tree or m4.
    pub fn start(milter: &str, rules: &str) -> Result<Sendmail, Skip> {
        root()?;
        let tree = tree()?;
        let m4 = skip::program("m4")?;
        let dir = TempDir::new("sendmail").map_err(io)?;
        let sink = sink::Sink::start().map_err(io)?;
        let port = crate::dccd::free_tcp_port().map_err(io)?;
        let conf = mc::Mc {
            base: dir.path().to_path_buf(),
            port,
            relay_port: sink.addr.port(),
            milter: milter.to_string(),
            rules: rules.to_string(),
        };
        let etc = dir.subdir("etc").map_err(io)?;
        let queue = dir.subdir("queue").map_err(io)?;
        std::fs::set_permissions(&queue, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        for (name, text) in mc::support_files() {
            std::fs::write(etc.join(name), text).map_err(io)?;
        }
        let mc_file = etc.join("sendmail.mc");
        std::fs::write(&mc_file, mc::render(&conf)).map_err(io)?;
        let cf_file = etc.join("sendmail.cf");
        make_cf(&m4, &tree.cf, &mc_file, &cf_file);
        let daemon = spawn(&tree.sendmail, &cf_file, &dir.path().join("sendmail.out"))?;
        let mut sm = Sendmail {
            daemon,
            sink,
            smtp: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        };
        sm.wait_listening(port);
        Ok(sm)
    }

    /// Wait (at most 90 s: a start without a namespace may sleep a
    /// minute) until the daemon listens; panics with its output if it
    /// exits or never listens.
    fn wait_listening(&mut self, port: u16) {
        let mut exited = None;
        let up = proc::wait_until(Duration::from_secs(90), || {
            exited = self.daemon.exited();
            exited.is_some() || crate::postfix::tcp_listening(port)
        });
        if let Some(st) = exited {
            panic!("sendmail exited ({st}) at start\n{}", self.log());
        }
        assert!(up, "sendmail is not listening on {port}\n{}", self.log());
    }

    /// The instance's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the daemon printed (its debug output and warnings).
    pub fn log(&self) -> String {
        self.daemon.log_text()
    }

    /// The messages the sink received for `rcpt`, oldest first.
    pub fn delivered(&self, rcpt: &str) -> Vec<String> {
        self.sink.for_rcpt(rcpt)
    }

    /// Wait (at most `limit`) until the sink has `n` messages for `rcpt`.
    pub fn wait_delivered(&self, rcpt: &str, n: usize, limit: Duration) -> bool {
        proc::wait_until(limit, || self.sink.for_rcpt(rcpt).len() >= n)
    }

    /// Stop the daemon (also done on drop).
    pub fn stop(&mut self) {
        self.daemon.stop();
    }
}

/// Run m4 to make `cf` from `mc`; panics with m4's complaint if it fails.
fn make_cf(m4: &Path, cf_dir: &Path, mc: &Path, cf: &Path) {
    let mut cmd = Command::new(m4);
    cmd.args(mc::m4_args(cf_dir, mc));
    let out = match proc::run(cmd, b"", Duration::from_secs(60)) {
        Ok(o) => o,
        Err(e) => panic!("cannot run m4: {e}"),
    };
    assert!(
        out.success() && out.stdout.contains("Xdcc"),
        "m4 did not make a sendmail.cf: {}",
        out.stderr
    );
    if let Err(e) = std::fs::write(cf, &out.stdout) {
        panic!("cannot write {}: {e}", cf.display());
    }
}

/// Start `sendmail -bD -C cf` (in a UTS namespace named
/// [`mc::HOSTNAME`] when possible), with its output in `log`.
fn spawn(sendmail: &Path, cf: &Path, log: &Path) -> Result<Daemon, Skip> {
    let mut cmd = if let Some(unshare) = unshare() {
        let mut c = Command::new(unshare);
        // `unshare` and `sh` exec: the daemon keeps the child's pid
        c.args(["-u", "sh", "-c", "hostname \"$0\" && exec \"$@\""])
            .arg(mc::HOSTNAME)
            .arg(sendmail);
        c
    } else {
        eprintln!("note: no UTS namespace; sendmail may wait a minute at start");
        Command::new(sendmail)
    };
    // -d0.1: print the identity it settled on, for failure messages
    cmd.arg("-bD").arg("-C").arg(cf).arg("-d0.1");
    Daemon::spawn("sendmail", cmd, log).map_err(io)
}
