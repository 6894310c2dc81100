//! The start programs `start-dccd`, `start-grey`, `start-dccm` and
//! `start-dccifd`: read `dcc_conf`, then run the daemon in the foreground
//! in place of themselves (for a service manager), or with `--print` show
//! the command line instead.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use tally_getopt::{getopt, Item, Style};

use crate::conf::{self, Conf};
use crate::start::{self, Daemon, Input, Plan};
use crate::vars::DEFAULT_HOME;
use crate::words;

/// `EX_USAGE`.
pub const EX_USAGE: u8 = 64;
/// `EX_CONFIG`: `dcc_conf` is missing or wrong.
pub const EX_CONFIG: u8 = 78;
/// `EX_OSERR`: the daemon could not be started.
pub const EX_OSERR: u8 = 71;

fn spec(d: Daemon) -> &'static str {
    match d {
        Daemon::Dccd => "xvh:u:a:i:n:",
        Daemon::Grey => "xvh:u:a:i:",
        Daemon::Dccm => "xvh:r:u:c:a:l:L:R:w:",
        Daemon::Dccifd => "xvAh:r:a:",
    }
}

fn usage(d: Daemon) -> String {
    let opts = match d {
        Daemon::Dccd => "[-xv] [-h homedir] [-u UID] [-a args] [-i id] [-n brand]",
        Daemon::Grey => "[-xv] [-h homedir] [-u UID] [-a args] [-i id]",
        Daemon::Dccm => {
            "[-xv] [-h homedir] [-r rundir] [-u UID] [-a args] [-l logdir] [-L log-at] \
             [-R reject-at] [-w whiteclnt]"
        }
        Daemon::Dccifd => "[-xvA] [-h homedir] [-r rundir] [-a args]",
    };
    format!("usage: {} [--print] {opts}", d.starter())
}

/// Where the workspace's programs are: beside this one, else in the
/// `bin` directory next to its own (`/usr/sbin` and `/usr/bin`), else
/// found by `PATH`.
pub fn find_program(name: &str) -> PathBuf {
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        for cand in [dir.join(name), dir.join("../bin").join(name)] {
            if cand.is_file() {
                return cand;
            }
        }
    }
    PathBuf::from(name)
}

/// The home directory made absolute against the current directory.
pub fn absolute(home: &str) -> PathBuf {
    let p = PathBuf::from(home);
    if p.is_absolute() {
        p
    } else {
        std::env::current_dir().map_or(p.clone(), |c| c.join(&p))
    }
}

/// Read `home/dcc_conf`, printing its warnings prefixed by `prog`.
pub fn read_conf(home: &Path, prog: &str) -> Result<(Conf, String), String> {
    let path = home.join("dcc_conf");
    let file = path.display().to_string();
    let text = std::fs::read(&path).map_err(|e| format!("cannot read {file}: {e}"))?;
    let text = String::from_utf8_lossy(&text);
    let conf = conf::parse(&text, &file).map_err(|e| e.to_string())?;
    for w in &conf.warnings {
        eprintln!("{prog}: {w}");
    }
    Ok((conf, file))
}

/// The name of the user this process runs as.
pub fn current_user() -> Option<String> {
    let uid = nix::unistd::geteuid();
    nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// Run the start program of `d` with `args` (without the program name).
pub fn main(d: Daemon, args: &[String]) -> ExitCode {
    let prog = d.starter();
    let print = args.iter().any(|a| a == "--print");
    let args: Vec<String> = args.iter().filter(|a| *a != "--print").cloned().collect();
    let scan = getopt(&args, spec(d), Style::Posix);
    if !scan.operands.is_empty() || scan.items.iter().any(Item::is_error) {
        eprintln!("{}", usage(d));
        return ExitCode::from(EX_USAGE);
    }
    let mut home = DEFAULT_HOME.to_string();
    for it in &scan.items {
        if let Item::Opt('h', Some(h)) = it {
            home = h.clone();
        }
    }
    let home = absolute(&home);
    let (mut conf, file) = match read_conf(&home, prog) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let mut extra = Vec::new();
    for it in scan.items {
        let Item::Opt(c, arg) = it else { continue };
        let arg = arg.unwrap_or_default();
        match (c, d) {
            ('u', _) => conf.set("DCCUID", arg),
            ('a', _) => match words::split(&arg) {
                Ok(w) => extra.extend(w),
                Err(e) => {
                    eprintln!("{prog}: -a {arg}: {e}");
                    return ExitCode::from(EX_USAGE);
                }
            },
            ('i', Daemon::Grey) => conf.set("GREY_SRVR_ID", arg),
            ('i', _) => conf.set("SRVR_ID", arg),
            ('n', _) => conf.set("BRAND", arg),
            ('r', _) => conf.set("DCC_RUNDIR", arg),
            ('l', _) => conf.set("DCCM_LOGDIR", arg),
            ('L', _) => conf.set("DCCM_LOG_AT", arg),
            ('R', _) => conf.set("DCCM_REJECT_AT", arg),
            ('w', _) => conf.set("DCCM_WHITECLNT", arg),
            ('c', _) => eprintln!("{prog}: -c {arg} ignored: the milter runs as dccm"),
            _ => {}
        }
    }
    let ids = std::fs::read_to_string(home.join("ids")).ok();
    let user = current_user();
    let bindir = find_program(d.program())
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let inp = Input {
        conf: &conf,
        file: &file,
        home: &home,
        ids: ids.as_deref(),
        user: user.as_deref(),
        bindir: &bindir,
        extra: &extra,
    };
    let plan = match start::plan(d, &inp) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let (program, args, chown) = match plan {
        Plan::Disabled(why) => {
            eprintln!("{prog}: {} not started: {why}", d.program());
            return ExitCode::SUCCESS;
        }
        Plan::Run {
            program,
            args,
            chown,
        } => (program, args, chown),
    };
    let line = std::iter::once(program.display().to_string())
        .chain(args.iter().cloned())
        .map(|w| words::quote(&w))
        .collect::<Vec<_>>()
        .join(" ");
    if print {
        println!("{line}");
        return ExitCode::SUCCESS;
    }
    give_dirs(prog, &conf, &chown);
    eprintln!("{prog}: {line}");
    let err = Command::new(&program).args(&args).current_dir(&home).exec();
    eprintln!("{prog}: {}: {err}", program.display());
    ExitCode::from(EX_OSERR)
}

/// As the original's script: create the run directory and give it, the
/// home and the log directory to `DCCUID` (only as root; failures are
/// reported and the daemon started anyway, which then names what it
/// cannot use).
fn give_dirs(prog: &str, conf: &Conf, dirs: &[PathBuf]) {
    if !nix::unistd::geteuid().is_root() || dirs.is_empty() {
        return;
    }
    let uid = conf.val("DCCUID");
    let target = match tally_privs::Spec::parse(uid).and_then(|s| tally_privs::resolve(&s)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{prog}: DCCUID={uid}: {e}");
            return;
        }
    };
    for (n, dir) in dirs.iter().enumerate() {
        if n == 0 && !dir.exists() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                eprintln!("{prog}: {}: {e}", dir.display());
            }
        }
        if dir.is_dir() {
            if let Err(e) = std::os::unix::fs::chown(dir, Some(target.uid), Some(target.gid)) {
                eprintln!("{prog}: chown {} {}: {e}", target.name, dir.display());
            }
        }
    }
}
