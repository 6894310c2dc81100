//! The `cron-dccd` program: the daily maintenance of the original's cron
//! job. For each database `dcc_conf` turns on (greylist first), `dbclean`;
//! when dbclean finds the server running (our database lives in the
//! server's memory and cannot be cleaned under it), the running server is
//! asked to clean itself with `cdcc "id …; DB clean"`, signed with its own
//! password from `ids`. Then the old log files of dccm and dccifd in the
//! main and per-user log directories go, and, when `dcc_conf` sets
//! `WEBUSER_NOTIFY_URL`, the users with new log files who asked for it get
//! a mail ([`crate::notify`], `webuser-notify`). Started as root, it first
//! becomes `DCCUID` (the original's job runs from that user's crontab), so
//! that the database stays the server's. Progress and errors go to
//! standard error (the journal under systemd).

use std::process::{Command, ExitCode, Stdio};
use std::time::SystemTime;

use tally_getopt::{getopt, Item, Style};

use crate::maint::{self, Cleaning, JobInput};
use crate::starter::{absolute, find_program, read_conf, EX_CONFIG, EX_OSERR, EX_USAGE};
use crate::vars::DEFAULT_HOME;
use crate::words;
use crate::{notify, prune};

const PROG: &str = "cron-dccd";
/// dbclean's exit status when the database is in use (`EX_UNAVAILABLE`).
const DB_IN_USE: i32 = 69;

/// Run `cron-dccd` with `args` (without the program name).
pub fn main(args: &[String]) -> ExitCode {
    let scan = getopt(args, "xFh:a:", Style::Posix);
    if !scan.operands.is_empty() || scan.items.iter().any(Item::is_error) {
        eprintln!("usage: {PROG} [-xF] [-h homedir] [-a args]");
        return ExitCode::from(EX_USAGE);
    }
    let (mut verbose, mut follow, mut home, mut extra) =
        (false, true, DEFAULT_HOME.to_string(), Vec::new());
    for it in scan.items {
        match it {
            Item::Opt('x', _) => verbose = true,
            Item::Opt('F', _) => follow = false,
            Item::Opt('h', Some(h)) => home = h,
            Item::Opt('a', Some(a)) => match words::split(&a) {
                Ok(w) => extra.extend(w),
                Err(e) => {
                    eprintln!("{PROG}: -a {a}: {e}");
                    return ExitCode::from(EX_USAGE);
                }
            },
            _ => {}
        }
    }
    let home = absolute(&home);
    let (conf, file) = match read_conf(&home, PROG) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    // the original's job runs from DCCUID's crontab: started as root, become
    // DCCUID, so that dbclean leaves the database to the server's user
    let uid = conf.val("DCCUID");
    if nix::unistd::geteuid().is_root() && !uid.is_empty() && uid != "root" {
        if let Err(e) = tally_privs::switch_to(uid) {
            eprintln!("{PROG}: DCCUID={uid} in {file}: {e}");
            return ExitCode::from(EX_OSERR);
        }
    }
    let ids = std::fs::read_to_string(home.join("ids")).ok();
    let job = match maint::job(&JobInput {
        conf: &conf,
        file: &file,
        home: &home,
        ids: ids.as_deref(),
        verbose,
        extra: &extra,
    }) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let mut ok = true;
    for c in &job.cleanings {
        ok &= clean(c, &home.display().to_string(), verbose);
    }
    if let Some(days) = job.logdays {
        let roots: Vec<_> = job.logdirs.iter().chain(&job.userdirs).cloned().collect();
        if !roots.is_empty() {
            let p = prune::prune(&roots, days, follow, SystemTime::now());
            let names: Vec<_> = roots.iter().map(|r| r.display().to_string()).collect();
            eprintln!(
                "{PROG}: removed {} log files older than {days} days and {} empty directories \
                 in {}; {} files kept",
                p.files,
                p.dirs,
                names.join(" "),
                p.kept
            );
            for e in &p.errors {
                eprintln!("{PROG}: {e}");
            }
            ok &= p.errors.is_empty();
        }
    }
    let url = conf.val("WEBUSER_NOTIFY_URL");
    if !url.is_empty() {
        let mailer = match conf.val("WEBUSER_NOTIFY_MAILER") {
            "" => "/usr/sbin/sendmail",
            m => m,
        };
        let program = find_program("webuser-notify");
        for root in job.userdirs.iter().filter(|r| r.is_dir()) {
            let n = notify::run(root, &program, url, mailer, verbose, follow);
            eprintln!(
                "{PROG}: {} users with new log files in {} handed to webuser-notify",
                n.users.len(),
                root.display()
            );
            for e in &n.errors {
                eprintln!("{PROG}: {e}");
            }
            ok &= n.errors.is_empty();
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Clean one database: dbclean, or the running server through cdcc.
fn clean(c: &Cleaning, home: &str, verbose: bool) -> bool {
    let what = if c.grey {
        "greylist database"
    } else {
        "DCC database"
    };
    let dbclean = find_program("dbclean");
    let out = Command::new(&dbclean)
        .args(&c.dbclean)
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{PROG}: {}: {e}", dbclean.display());
            return false;
        }
    };
    let text = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        eprint!("{text}");
        eprintln!("{PROG}: {what} of server-ID {} cleaned by dbclean", c.id);
        return true;
    }
    if out.status.code() != Some(DB_IN_USE) {
        eprint!("{text}");
        eprintln!("{PROG}: dbclean of the {what} failed ({})", out.status);
        return false;
    }
    if verbose {
        eprint!("{text}");
    }
    // the server runs: it cleans its database itself when asked
    let cdcc = find_program("cdcc");
    let cmd = c.cdcc_command();
    match Command::new(&cdcc)
        .args(["-h", home, &cmd])
        .stdin(Stdio::null())
        .output()
    {
        Ok(o) if o.status.success() && !String::from_utf8_lossy(&o.stdout).contains("error") => {
            eprintln!(
                "{PROG}: {what} of the running server-ID {} cleaned by the server (cdcc \"DB clean\")",
                c.id
            );
            true
        }
        Ok(o) => {
            eprintln!(
                "{PROG}: the running server-ID {} did not clean its {what}: cdcc \"{cmd}\": {} {}{}",
                c.id,
                o.status,
                String::from_utf8_lossy(&o.stdout).trim(),
                String::from_utf8_lossy(&o.stderr).trim()
            );
            false
        }
        Err(e) => {
            eprintln!("{PROG}: {}: {e}", cdcc.display());
            false
        }
    }
}
