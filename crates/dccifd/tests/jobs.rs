//! `-j` and the open-file limit, as the original dccifd: four descriptors
//! per job, the largest and default `-j` `(hard limit - 52) / 4`, a larger
//! `-j` complained about with its source, the soft limit raised to
//! `4 * jobs + 52`. dccifd is started by a shell that sets its limits
//! first; they are read back from /proc once it listens.

mod common;

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tally_testkit::{closed_port, write_map};

/// A dccifd started under `ulimit -Sn soft -Hn hard`; killed when dropped.
struct Limited {
    child: Child,
    home: PathBuf,
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.home);
        }
    }
}

impl Limited {
    fn start(name: &str, soft: u32, hard: u32, extra: &[&str]) -> Limited {
        let home = common::scratch(name);
        write_map(&home, closed_port());
        std::fs::create_dir_all(home.join("run")).expect("run");
        let sock = home.join("dccifd.sock");
        let script = format!("ulimit -Sn {soft} && ulimit -Hn {hard} && exec \"$0\" \"$@\"");
        let child = Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_dccifd"))
            .arg("-b")
            .arg("-h")
            .arg(&home)
            .arg("-p")
            .arg(&sock)
            .arg("-R")
            .arg(home.join("run"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(home.join("stderr.txt")).expect("stderr"))
            .spawn()
            .expect("start dccifd");
        let d = Limited { child, home };
        let t0 = Instant::now();
        while UnixStream::connect(&sock).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "dccifd did not start: {}",
                d.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // with -d the line about the jobs follows the start
        if extra.contains(&"-d") {
            while !d.stderr().contains("init_work=") && t0.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        d
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.home.join("stderr.txt")).unwrap_or_default()
    }

    /// The soft and hard open-file limits of the running daemon.
    fn limits(&self) -> Option<(u64, u64)> {
        limits_of(&Path::new("/proc").join(self.child.id().to_string()))
    }
}

fn limits_of(proc_dir: &Path) -> Option<(u64, u64)> {
    let t = std::fs::read_to_string(proc_dir.join("limits")).ok()?;
    let l = t.lines().find(|l| l.starts_with("Max open files"))?;
    let mut w = l.split_whitespace().skip(3);
    Some((w.next()?.parse().ok()?, w.next()?.parse().ok()?))
}

/// A `-j` over the limit is cut to it, and the soft limit raised for it;
/// `-d` writes the original's line about the jobs.
#[test]
fn limit_and_raise() {
    let d = Limited::start("jobs1", 100, 400, &["-d", "-j", "500"]);
    let err = d.stderr();
    assert!(
        err.contains("dccifd: -j queue length 500 larger than RLIMIT_NOFILE limit; using 87\n"),
        "{err}"
    );
    assert!(
        err.contains("dccifd: init_work=50 max_work=87 max_max_work=87 (RLIMIT_NOFILE limit)\n"),
        "{err}"
    );
    assert_eq!(d.limits(), Some((400, 400)), "{err}");
}

/// Without `-j` the largest is the default, and the soft limit is raised
/// for it.
#[test]
fn default_from_the_hard_limit() {
    let d = Limited::start("jobs2", 100, 400, &["-d"]);
    let err = d.stderr();
    assert!(!err.contains("queue length"), "{err}");
    assert!(err.contains("max_work=87 max_max_work=87"), "{err}");
    assert_eq!(d.limits(), Some((400, 400)), "{err}");
}

/// A `-j` within the limit is kept; the soft limit is raised only as far
/// as it needs; a soft limit that is enough stays.
#[test]
fn raise_for_the_jobs_asked() {
    let d = Limited::start("jobs3", 100, 400, &["-d", "-j", "50"]);
    let err = d.stderr();
    assert!(err.contains("max_work=50 max_max_work=87"), "{err}");
    assert_eq!(d.limits(), Some((252, 400)), "{err}");
    drop(d);
    let d = Limited::start("jobs4", 300, 400, &["-j", "50"]);
    assert_eq!(d.limits(), Some((300, 400)), "{}", d.stderr());
}

/// Too few descriptors for one job: two jobs, the original's complaints,
/// the limits left as they were.
#[test]
fn too_few_files() {
    let d = Limited::start("jobs5", 54, 54, &["-d"]);
    let err = d.stderr();
    for m in [
        "dccifd: too few open files allowed\n",
        "dccifd: setrlimit(RLIMIT_NOFILE,60): Invalid argument\n",
        "dccifd: only 54 open files allowed by RLIMIT_NOFILE\n",
        "init_work=2 max_work=2 max_max_work=2 (RLIMIT_NOFILE limit)",
    ] {
        assert!(err.contains(m), "{m}: {err}");
    }
    assert_eq!(d.limits(), Some((54, 54)), "{err}");
}
