//! The command lines of the daemons, built from `dcc_conf` the way the
//! original's start scripts (`start-dccd`, `start-grey`, `start-dccm`,
//! `start-dccifd`) build them, for a service manager: every daemon gets
//! `-b` (stay in the foreground) first.
//!
//! The pieces and their order, as in the original scripts (each later
//! piece is put in front of the earlier ones):
//! - dccm: `DCCM_ARGS` (a bare old-style `-G` becomes `-Gon`), `-h home`
//!   when not `/var/dcc`, `GREY_CLIENT_ARGS` (with `-G` put in front when
//!   it has none), `-U DCCM_USERDIRS`, the start program's `-a` words,
//!   `-R DCC_RUNDIR` when not `/var/run/dcc`, `-l DCCM_LOGDIR`, then
//!   `REP_ARGS`, one `-t CK,DCCM_LOG_AT,DCCM_REJECT_AT` per checksum of
//!   `DCCM_CKSUMS` (default `CMN`) and `DCCM_XTRA_CKSUMS` when a threshold
//!   is set, `-w DCCM_WHITECLNT`, `DNSBL_ARGS` and the log options, and
//!   last `-I DCCUID`;
//! - dccifd: the same from the `DCCIFD_*` variables, with `-w` before `-l`;
//! - dccd: `-i SRVR_ID -n BRAND`, the log options and `DCCD_ARGS`,
//!   `-I,DCCUID`;
//! - the greylist server: `dccd -Gon -i GREY_SRVR_ID` (the `ids` file's
//!   automatic 32702 when unset), `GREY_DCCD_ARGS`, `-n BRAND`, the log
//!   options, `-I,DCCUID`.

use std::path::{Path, PathBuf};

use crate::conf::Conf;
use crate::vars::{AUTO_GREY_ID, DEFAULT_HOME, DEFAULT_RUNDIR};
use crate::words;

/// Which daemon to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    /// The DCC server (`start-dccd`).
    Dccd,
    /// The greylist server, `dccd -Gon` (`start-grey`).
    Grey,
    /// The milter (`start-dccm`).
    Dccm,
    /// The interface daemon (`start-dccifd`).
    Dccifd,
}

impl Daemon {
    /// The program that runs.
    pub fn program(self) -> &'static str {
        match self {
            Daemon::Dccd | Daemon::Grey => "dccd",
            Daemon::Dccm => "dccm",
            Daemon::Dccifd => "dccifd",
        }
    }

    /// The start program's name, as the original's script.
    pub fn starter(self) -> &'static str {
        match self {
            Daemon::Dccd => "start-dccd",
            Daemon::Grey => "start-grey",
            Daemon::Dccm => "start-dccm",
            Daemon::Dccifd => "start-dccifd",
        }
    }
}

/// What the start program knows besides `dcc_conf`.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// The variables (with the start program's options applied).
    pub conf: &'a Conf,
    /// The file's name, for messages.
    pub file: &'a str,
    /// The home directory (absolute).
    pub home: &'a Path,
    /// The text of `home/ids` when readable (for the automatic
    /// greylist server-ID).
    pub ids: Option<&'a str>,
    /// The name of the user the program runs as: no `-I` when `DCCUID`
    /// names it.
    pub user: Option<&'a str>,
    /// Where the daemons are installed.
    pub bindir: &'a Path,
    /// Words of the start program's `-a` options, added to the daemon's.
    pub extra: &'a [String],
}

/// The outcome: a command to run or the reason nothing runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Run `program` with `args`.
    Run {
        /// The daemon's path.
        program: PathBuf,
        /// Its arguments.
        args: Vec<String>,
        /// Directories the original's script gives to `DCCUID` before
        /// starting (run directory, home, log directory).
        chown: Vec<PathBuf>,
    },
    /// `dcc_conf` turns the daemon off.
    Disabled(String),
}

/// `on`, any case.
fn is_on(v: &str) -> bool {
    v.eq_ignore_ascii_case("on")
}

/// `off`, any case.
fn is_off(v: &str) -> bool {
    v.eq_ignore_ascii_case("off")
}

impl Input<'_> {
    /// The words of variable `name`; an error names the file and line.
    fn words(&self, name: &str) -> Result<Vec<String>, String> {
        self.split(name, self.conf.val(name))
    }

    /// The words of `text`, derived from variable `name`.
    fn split(&self, name: &str, text: &str) -> Result<Vec<String>, String> {
        words::split(text).map_err(|e| match self.conf.line_of(name) {
            Some(l) => format!("{}:{l}: {name}: {e}", self.file),
            None => format!("{}: {name}: {e}", self.file),
        })
    }

    fn not_default_home(&self) -> bool {
        self.home != Path::new(DEFAULT_HOME)
    }

    /// `DCC_LOG_ARGS` and the `-L` options of the two log facilities.
    fn log_args(&self) -> Result<Vec<String>, String> {
        let mut v = self.words("DCC_LOG_ARGS")?;
        v.extend(log_facility_args(self.conf));
        Ok(v)
    }

    /// `-I` for `DCCUID` (`sep` is `","` for dccd, whose `-I` starts
    /// with a host-ID).
    fn uid_args(&self, sep: &str) -> Vec<String> {
        match self.dccuid() {
            Some(u) if Some(u) != self.user => vec![format!("-I{sep}{u}")],
            _ => Vec::new(),
        }
    }

    fn dccuid(&self) -> Option<&str> {
        let v = self.conf.val("DCCUID");
        let v = if v.is_empty() {
            self.conf.val("UID")
        } else {
            v
        };
        (!v.is_empty()).then_some(v)
    }

    fn rundir(&self) -> &str {
        let r = self.conf.val("DCC_RUNDIR");
        if r.is_empty() {
            self.conf.val("DCCM_RUNDIR")
        } else {
            r
        }
    }

    fn in_home(&self, p: &str) -> PathBuf {
        self.home.join(p)
    }
}

/// `-Linfo,…` and `-Lerror,…` from `DCC_INFO_LOG_FACILITY` and
/// `DCC_ERROR_LOG_FACILITY` (a facility without a level gets `notice`
/// and `err`), as the original's `dcc_conf` computes `DCC_LOG_ARGS`.
pub fn log_facility_args(conf: &Conf) -> Vec<String> {
    let mut v = Vec::new();
    for (var, kind, level) in [
        ("DCC_INFO_LOG_FACILITY", "info", "notice"),
        ("DCC_ERROR_LOG_FACILITY", "error", "err"),
    ] {
        let f = conf.val(var);
        if !f.is_empty() {
            let f = if f.contains('.') {
                f.to_string()
            } else {
                format!("{f}.{level}")
            };
            v.push(format!("-L{kind},{f}"));
        }
    }
    v
}

/// A log directory without the `D?`, `H?` or `M?` of per-day, hour or
/// minute subdirectories.
pub fn logdir_path(v: &str) -> &str {
    let b = v.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'D' | b'H' | b'M') && b[1] == b'?' {
        &v[2..]
    } else {
        v
    }
}

/// Old `dccm -G` (greylisting without a value) as `-Gon`.
fn convert_old_g(args: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(args.len());
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        if a == "-G" {
            let next_is_value = it.peek().is_some_and(|n| !n.starts_with('-'));
            if !next_is_value {
                out.push("-Gon".to_string());
                continue;
            }
        }
        out.push(a);
    }
    out
}

/// `GREY_CLIENT_ARGS` with `-G` put in front when it has none.
fn grey_client(inp: &Input<'_>) -> Result<Vec<String>, String> {
    let g = inp.conf.val("GREY_CLIENT_ARGS");
    if g.is_empty() {
        return Ok(Vec::new());
    }
    let g = if g.contains("-G") {
        g.to_string()
    } else {
        format!("-G{g}")
    };
    inp.split("GREY_CLIENT_ARGS", &g)
}

/// `REP_ARGS`, the `-t` thresholds from `PFX_LOG_AT`, `PFX_REJECT_AT`,
/// `PFX_CKSUMS` and `PFX_XTRA_CKSUMS`.
fn thresholds(inp: &Input<'_>, pfx: &str) -> Result<Vec<String>, String> {
    let mut v = inp.words("REP_ARGS")?;
    let log_at = inp.conf.val(&format!("{pfx}_LOG_AT"));
    let reject_at = inp.conf.val(&format!("{pfx}_REJECT_AT"));
    if !(log_at.is_empty() && reject_at.is_empty()) {
        let base = inp.conf.val(&format!("{pfx}_CKSUMS"));
        let base = if base.is_empty() { "CMN" } else { base };
        let xtra = inp.conf.val(&format!("{pfx}_XTRA_CKSUMS"));
        for ck in base.split_whitespace().chain(xtra.split_whitespace()) {
            v.push(format!("-t{ck},{log_at},{reject_at}"));
        }
    }
    Ok(v)
}

fn prepend(front: Vec<String>, back: Vec<String>) -> Vec<String> {
    let mut v = front;
    v.extend(back);
    v
}

/// The command line of `d`, or why it does not run.
pub fn plan(d: Daemon, inp: &Input<'_>) -> Result<Plan, String> {
    let (args, chown) = match d {
        Daemon::Dccd => {
            let en = inp.conf.val("DCCD_ENABLE");
            if is_off(en) {
                return Ok(Plan::Disabled(format!("DCCD_ENABLE={en} in {}", inp.file)));
            }
            let id = inp.conf.val("SRVR_ID");
            if id.is_empty() {
                return Err(format!(
                    "cannot start dccd; SRVR_ID not set in {}",
                    inp.file
                ));
            }
            let mut a = prepend(inp.log_args()?, inp.words("DCCD_ARGS")?);
            a.extend(inp.extra.iter().cloned());
            if inp.not_default_home() {
                a = prepend(vec![format!("-h{}", inp.home.display())], a);
            }
            let mut front = vec![format!("-i{id}")];
            let brand = inp.conf.val("BRAND");
            if !brand.is_empty() {
                front.extend(inp.split("BRAND", &format!("-n {brand}"))?);
            }
            a = prepend(front, a);
            (prepend(inp.uid_args(","), a), vec![])
        }
        Daemon::Grey => {
            let en = inp.conf.val("GREY_ENABLE");
            let runs = if en.is_empty() {
                !inp.conf.val("GREY_CLIENT_ARGS").is_empty()
            } else {
                is_on(en)
            };
            if !runs {
                let why = if en.is_empty() {
                    "GREY_ENABLE and GREY_CLIENT_ARGS are empty".to_string()
                } else {
                    format!("GREY_ENABLE={en}")
                };
                return Ok(Plan::Disabled(format!("{why} in {}", inp.file)));
            }
            let mut a = inp.words("GREY_DCCD_ARGS")?;
            let brand = inp.conf.val("BRAND");
            if !brand.is_empty() {
                a.extend(inp.split("BRAND", &format!("-n {brand}"))?);
            }
            a.extend(inp.log_args()?);
            a.extend(inp.extra.iter().cloned());
            if inp.not_default_home() {
                a = prepend(vec!["-h".into(), inp.home.display().to_string()], a);
            }
            let mut id = inp.conf.val("GREY_SRVR_ID").to_string();
            if id.is_empty() {
                let auto = inp.ids.is_some_and(|t| {
                    t.contains("# auto local greylist server-ID")
                        && t.lines().any(|l| {
                            l.strip_prefix(AUTO_GREY_ID)
                                .is_some_and(|r| r.starts_with([' ', '\t']))
                        })
                });
                if !auto {
                    return Err(format!(
                        "cannot start greylist dccd; GREY_SRVR_ID not set in {}",
                        inp.file
                    ));
                }
                id = AUTO_GREY_ID.to_string();
            }
            a = prepend(vec!["-i".into(), id], a);
            a = prepend(inp.uid_args(","), a);
            (prepend(vec!["-Gon".into()], a), vec![])
        }
        Daemon::Dccm => {
            let en = inp.conf.val("DCCM_ENABLE");
            if is_off(en) {
                return Ok(Plan::Disabled(format!("DCCM_ENABLE={en} in {}", inp.file)));
            }
            client(inp, "DCCM", true)?
        }
        Daemon::Dccifd => {
            let en = inp.conf.val("DCCIFD_ENABLE");
            if !is_on(en) {
                let en = if en.is_empty() { "(empty)" } else { en };
                return Ok(Plan::Disabled(format!(
                    "DCCIFD_ENABLE={en} in {}",
                    inp.file
                )));
            }
            client(inp, "DCCIFD", false)?
        }
    };
    Ok(Plan::Run {
        program: inp.bindir.join(d.program()),
        args: prepend(vec!["-b".into()], args),
        chown,
    })
}

/// dccm (`milter`) or dccifd: their scripts differ only in the order of
/// `-w`, `-l` and `-a`.
fn client(inp: &Input<'_>, pfx: &str, milter: bool) -> Result<(Vec<String>, Vec<PathBuf>), String> {
    let var = |s: &str| format!("{pfx}_{s}");
    let mut a = inp.words(&var("ARGS"))?;
    if milter {
        a = convert_old_g(a);
    }
    if inp.not_default_home() {
        a = prepend(vec![format!("-h{}", inp.home.display())], a);
    }
    a = prepend(grey_client(inp)?, a);
    let userdirs = inp.conf.val(&var("USERDIRS"));
    if !userdirs.is_empty() {
        a = prepend(vec![format!("-U{userdirs}")], a);
    }
    let white = inp.conf.val(&var("WHITECLNT"));
    if !milter && !white.is_empty() {
        a = prepend(vec![format!("-w{white}")], a);
    }
    let rundir = inp.rundir();
    let rundir_arg = if !rundir.is_empty() && rundir != DEFAULT_RUNDIR {
        vec![format!("-R{rundir}")]
    } else {
        vec![]
    };
    if milter {
        a.extend(inp.extra.iter().cloned());
        a = prepend(rundir_arg.clone(), a);
    }
    let logdir = inp.conf.val(&var("LOGDIR"));
    if !logdir.is_empty() {
        a = prepend(vec![format!("-l{logdir}")], a);
    }
    let mut cks = thresholds(inp, pfx)?;
    if milter && !white.is_empty() {
        cks.push(format!("-w{white}"));
    }
    cks.extend(inp.words("DNSBL_ARGS")?);
    cks.extend(inp.log_args()?);
    a = prepend(cks, a);
    if !milter {
        a.extend(inp.extra.iter().cloned());
        a = prepend(rundir_arg, a);
    }
    a = prepend(inp.uid_args(""), a);

    let mut chown = Vec::new();
    if inp.dccuid().is_some() {
        let run = if rundir.is_empty() {
            DEFAULT_RUNDIR
        } else {
            rundir
        };
        chown.push(inp.in_home(run));
        chown.push(inp.home.to_path_buf());
        if !logdir.is_empty() {
            chown.push(inp.in_home(logdir_path(logdir)));
        }
    }
    Ok((a, chown))
}

#[cfg(test)]
mod tests;
