//! `webuser-notify`: mail to users about their new log files, run by
//! `cron-dccd` with the names of the users that have new log files on its
//! standard input, one per line (`local/bob`), as the original's script
//! of that name. See the `notify` module of tally-web.
//!
//! `webuser-notify [-x] -d userdirs -u url [-m mailer]`
//!
//! - `-d userdirs`: the per-user directories the names are in;
//! - `-u url`: where users reach dcc-web, for the mail's links;
//! - `-m mailer`: the program mail is handed to, with sendmail's interface
//!   (default `/usr/sbin/sendmail`);
//! - `-x`: say what is done for each user, not only the mails sent.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;
use tally_getopt::{getopt, Item, Style};
use tally_web::notify::{self, Decision};

const USAGE: &str = "usage: webuser-notify [-x] -d userdirs -u url [-m mailer]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scan = getopt(&args, "xd:u:m:", Style::Posix);
    let (mut verbose, mut userdirs, mut url) = (false, None, None);
    let mut mailer = PathBuf::from("/usr/sbin/sendmail");
    for it in &scan.items {
        match it {
            Item::Opt('x', _) => verbose = true,
            Item::Opt('d', Some(v)) => userdirs = Some(PathBuf::from(v)),
            Item::Opt('u', Some(v)) => url = Some(v.clone()),
            Item::Opt('m', Some(v)) => mailer = PathBuf::from(v),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(1);
            }
        }
    }
    let (Some(userdirs), Some(url)) = (userdirs, url) else {
        eprintln!("{USAGE}");
        return ExitCode::from(1);
    };
    if !scan.operands.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(1);
    }
    if !userdirs.is_dir() {
        eprintln!(
            "webuser-notify: userdirs {} is not a directory",
            userdirs.display()
        );
        return ExitCode::from(1);
    }
    let now = SystemTime::now();
    let mut failed = false;
    for line in std::io::stdin().lock().lines() {
        let Ok(name) = line else { break };
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        let Some(dir) = notify::user_dir(&userdirs, name) else {
            eprintln!("webuser-notify: {name:?}: not a user name; skipped");
            failed = true;
            continue;
        };
        match notify::decide(&dir, name, now) {
            Ok(Decision::Send(mailbox)) => {
                let text = notify::message(&mailbox, name, &url);
                match notify::send(&mailer, &mailbox, &text) {
                    Ok(()) => {
                        eprintln!("webuser-notify: {name}: mail sent to {mailbox}");
                        if let Err(e) = notify::sent(&dir, now) {
                            eprintln!("webuser-notify: {}: {e}", dir.display());
                            failed = true;
                        }
                    }
                    Err(e) => {
                        eprintln!("webuser-notify: {name}: {e}; tried again next time");
                        let _ = notify::failed(&dir, now);
                        failed = true;
                    }
                }
            }
            Ok(d) => {
                if verbose {
                    eprintln!("webuser-notify: {name}: {d:?}");
                }
            }
            Err(e) => {
                eprintln!("webuser-notify: {}: {e}", dir.display());
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
