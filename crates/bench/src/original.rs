//! The comparison with the original DCC in the same run (`--original
//! PATH`): tally's `dccproc` and the original's, each run as a process on
//! the same message file with the same options, against tally's `dccd`
//! on loopback.
//!
//! Both programs get `-C -Q` (print the X-DCC header and the checksums
//! instead of the message, and only query the server: the least work
//! besides computing the checksums and one query), the envelope the
//! in-process figures use (`-a 192.0.2.1 -f alice@example.com`) and the
//! message with `-i file`. Each has a home directory of its own whose map
//! file is made by the `cdcc` found next to that `dccproc` (`new map`,
//! then `add` of the server with the client-ID and password the server's
//! `ids` file lists), since the original's map file is a binary file only
//! its own `cdcc` writes. The server is the `dccd` next to this program,
//! rate limits lifted. A run whose output lacks the X-DCC header (no
//! answer from the server) ends the bench with the program's messages.

use crate::bench_dccd::{BenchDccd, Start, LIFTED};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The client-ID and password both clients use.
const ID: u32 = 32800;
const PW: &str = "benchpw";

/// The envelope and options both `dccproc`s are given, before `-i file`.
const OPTS: [&str; 6] = ["-C", "-Q", "-a", "192.0.2.1", "-f", "alice@example.com"];

/// A directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Result<Scratch, String> {
        let d = std::env::temp_dir().join(format!("tally-bench-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        Ok(Scratch(d))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One `dccproc` and its home directory.
struct Client {
    dccproc: PathBuf,
    home: Scratch,
}

impl Client {
    /// A home for `dccproc` whose map file, made by the `cdcc` next to
    /// it, points at the server on `port`.
    fn new(dccproc: &Path, tag: &str, port: u16) -> Result<Client, String> {
        let cdcc = dccproc.with_file_name("cdcc");
        if !cdcc.is_file() {
            return Err(format!(
                "no cdcc next to {} (its map file is made with the cdcc of the same installation)",
                dccproc.display()
            ));
        }
        let home = Scratch::new(tag)?;
        let out = Command::new(&cdcc)
            .arg("-q")
            .arg("-h")
            .arg(&home.0)
            .arg("new map")
            .arg(format!("add 127.0.0.1,{port} {ID} {PW}"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{}: {e}", cdcc.display()))?;
        if !out.status.success() || !home.0.join("map").is_file() {
            return Err(format!(
                "{} \"new map\" \"add ...\" in {} failed ({}): {}",
                cdcc.display(),
                home.0.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Client {
            dccproc: dccproc.to_path_buf(),
            home,
        })
    }

    /// The wall time of one `dccproc` process on `file`, from its start
    /// to its end.
    fn time(&self, file: &Path) -> Result<Duration, String> {
        let t = Instant::now();
        let out = Command::new(&self.dccproc)
            .arg("-h")
            .arg(&self.home.0)
            .args(OPTS)
            .arg("-i")
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("{}: {e}", self.dccproc.display()))?;
        let took = t.elapsed();
        if !String::from_utf8_lossy(&out.stdout).contains("X-DCC") {
            return Err(format!(
                "{} on {}: no X-DCC header in its output ({}): {}",
                self.dccproc.display(),
                file.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(took)
    }

    /// The wall time of one process per file, one after the other.
    fn time_all(&self, files: &[PathBuf]) -> Result<Duration, String> {
        files.iter().map(|f| self.time(f)).sum()
    }
}

/// Best times of tally's and the original's `dccproc`.
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    /// tally's `dccproc`.
    pub tally: Duration,
    /// The original's.
    pub original: Duration,
}

impl Pair {
    /// How many times as fast tally's `dccproc` was (the original's time
    /// over tally's).
    pub fn ratio(&self) -> f64 {
        self.original.as_secs_f64() / self.tally.as_secs_f64().max(1e-9)
    }
}

/// The server, the two clients and a directory for the message files.
pub struct Compare {
    tally: Client,
    original: Client,
    msgs: Scratch,
    // dropped last: the clients' homes go first (the server removes its
    // own)
    _server: BenchDccd,
}

impl Compare {
    /// Start tally's `dccd` (next to this program) and make the homes of
    /// tally's `dccproc` (also next to it) and of `original`.
    pub fn start(original: &Path) -> Result<Compare, String> {
        if !original.is_file() {
            return Err(format!("--original {}: no such file", original.display()));
        }
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let near = |name: &str| -> Result<PathBuf, String> {
            let p = exe.with_file_name(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(format!(
                    "no {name} next to {} (cargo build --release -p tally-dccd -p tally-dccproc -p tally-cdcc)",
                    exe.display()
                ))
            }
        };
        let dccd = near("dccd")?;
        let dccproc = near("dccproc")?;
        let server_home =
            std::env::temp_dir().join(format!("tally-bench-dccd-{}", std::process::id()));
        let server = BenchDccd::start(&Start {
            exe: &dccd,
            home: &server_home,
            ids: &format!("{ID} {PW}\n1100 benchsrvpw\n"),
            args: &LIFTED,
            nop_as: None,
            pin_cpu0: false,
            what: "dccd",
        })?;
        let port = server.port();
        Ok(Compare {
            tally: Client::new(&dccproc, "tally", port)?,
            original: Client::new(original, "original", port)?,
            msgs: Scratch::new("msgs")?,
            _server: server,
        })
    }

    /// The best of `runs` alternated runs of each `dccproc` on `msg`
    /// (written to a file first).
    pub fn message(&self, name: &str, msg: &[u8], runs: usize) -> Result<Pair, String> {
        let file = self.msgs.0.join(name);
        std::fs::write(&file, msg).map_err(|e| format!("{}: {e}", file.display()))?;
        let files = [file];
        self.best(runs, &files)
    }

    /// The best of `runs` alternated runs of one process per file in
    /// `files`, one after the other, for each `dccproc`, after one
    /// unmeasured process each.
    pub fn best(&self, runs: usize, files: &[PathBuf]) -> Result<Pair, String> {
        // one unmeasured process each first: the programs' files in the
        // page cache, the server's first answers behind it
        if let Some(first) = files.first() {
            self.tally.time(first)?;
            self.original.time(first)?;
        }
        let (mut tally, mut original) = (Duration::MAX, Duration::MAX);
        for _ in 0..runs.max(1) {
            tally = tally.min(self.tally.time_all(files)?);
            original = original.min(self.original.time_all(files)?);
        }
        Ok(Pair { tally, original })
    }
}
