//! The notification step of `cron-dccd`, as the original's job ran its
//! `webuser-notify` hook: in each per-user directory tree, the users with
//! log files newer than the tree's `notify.marker` (and not newer than the
//! start of this run), or with a `notify.pending` file, are handed by name
//! (`local/bob`) to `webuser-notify` on its standard input; the marker then
//! moves to the start of this run, so that each log file is counted once.
//! tally runs the step when `dcc_conf` sets `WEBUSER_NOTIFY_URL`, the
//! address of dcc-web that the mail points to.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::walk::walk;

/// The name of the user owning `rel` (a file's path below the tree's root,
/// as components): a log file `USER/log/msg.*` (also in numbered
/// subdirectories of `log`) or `USER/notify.pending`.
fn owner(rel: &[String]) -> Option<String> {
    let (file, dirs) = rel.split_last()?;
    if file == "notify.pending" {
        return (!dirs.is_empty()).then(|| dirs.join("/"));
    }
    if !file.starts_with("msg.") {
        return None;
    }
    // the last `log` after which only numbered directories come
    let at = dirs.iter().rposition(|d| d == "log")?;
    let numbered = dirs[at + 1..]
        .iter()
        .all(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    (at > 0 && numbered).then(|| dirs[..at].join("/"))
}

/// The users of the tree `root` with news: log files modified after
/// `since` (any, without a marker) and not after `until`, or a pending
/// notification. Sorted, each once. `follow`: symbolic links to
/// directories are followed (each directory visited once).
pub fn users_with_news(
    root: &Path,
    since: Option<SystemTime>,
    until: SystemTime,
    follow: bool,
) -> (Vec<String>, Vec<String>) {
    let mut users = BTreeSet::new();
    let errors = walk(&[root.to_path_buf()], follow, |e| {
        let Ok(m) = e.meta.modified() else { return };
        if !e.meta.is_file() || m > until {
            return;
        }
        let pending = e.rel.last().is_some_and(|n| n == "notify.pending");
        if pending || since.is_none_or(|s| m > s) {
            if let Some(u) = owner(e.rel) {
                users.insert(u);
            }
        }
    });
    (users.into_iter().collect(), errors)
}

/// What one tree's step did.
#[derive(Debug, Default)]
pub struct Notified {
    /// The users handed to the program.
    pub users: Vec<String>,
    pub errors: Vec<String>,
}

/// The notification step for the tree `root`: users with news handed to
/// `program` (`-d root -u url -m mailer`, `-x` when `verbose`), then the
/// tree's marker moved to the start of this run (left where it was when
/// the program could not be run).
pub fn run(
    root: &Path,
    program: &Path,
    url: &str,
    mailer: &str,
    verbose: bool,
    follow: bool,
) -> Notified {
    let mut out = Notified::default();
    let marker = root.join("notify.marker");
    let fresh = root.join("notify.marker.new");
    let start = SystemTime::now();
    if let Err(e) = File::create(&fresh).and_then(|f| f.set_modified(start)) {
        out.errors.push(format!("{}: {e}", fresh.display()));
        return out;
    }
    let since = fs::metadata(&marker).and_then(|m| m.modified()).ok();
    let (users, errors) = users_with_news(root, since, start, follow);
    out.errors.extend(errors);
    if !users.is_empty() {
        let mut cmd = Command::new(program);
        if verbose {
            cmd.arg("-x");
        }
        cmd.arg("-d").arg(root).args(["-u", url, "-m", mailer]);
        let ran = cmd.stdin(Stdio::piped()).spawn().and_then(|mut c| {
            if let Some(mut i) = c.stdin.take() {
                i.write_all(format!("{}\n", users.join("\n")).as_bytes())?;
            }
            c.wait()
        });
        match ran {
            Ok(s) if s.success() => {}
            // mails it could not send it keeps pending itself
            Ok(s) => out.errors.push(format!("{}: {s}", program.display())),
            Err(e) => {
                // not run: the same users are found again next time
                out.errors.push(format!("{}: {e}", program.display()));
                let _ = fs::remove_file(&fresh);
                out.users = users;
                return out;
            }
        }
    }
    if let Err(e) = fs::rename(&fresh, &marker) {
        out.errors.push(format!("{}: {e}", marker.display()));
    }
    out.users = users;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn v(s: &str) -> Vec<String> {
        s.split('/').map(String::from).collect()
    }

    #[test]
    fn owners_of_files() {
        assert_eq!(
            owner(&v("local/bob/log/msg.AAAAAA")).as_deref(),
            Some("local/bob")
        );
        assert_eq!(
            owner(&v("esmtp/b@example.com/log/123/04/msg.A")).as_deref(),
            Some("esmtp/b@example.com")
        );
        assert_eq!(
            owner(&v("local/bob/notify.pending")).as_deref(),
            Some("local/bob")
        );
        for none in [
            "log/msg.A",
            "local/bob/log/x/msg.A",
            "local/bob/whiteclnt",
            "notify.pending",
        ] {
            assert_eq!(owner(&v(none)), None, "{none}");
        }
    }

    #[test]
    fn news_since_the_marker() {
        let root = std::env::temp_dir().join(format!("tally-notify-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let now = SystemTime::now();
        let at = |p: &str, ago: u64| {
            let f = root.join(p);
            fs::create_dir_all(f.parent().unwrap()).unwrap();
            File::create(&f)
                .unwrap()
                .set_modified(now - Duration::from_secs(ago))
                .unwrap();
        };
        at("local/old/log/msg.A", 7200);
        at("local/new/log/001/msg.B", 60);
        at("local/pend/notify.pending", 90_000);
        at("local/later/log/msg.C", 0);
        let hour_ago = now - Duration::from_secs(3600);
        let until = now - Duration::from_secs(30);
        let (u, e) = users_with_news(&root, Some(hour_ago), until, true);
        assert!(e.is_empty());
        assert_eq!(u, ["local/new", "local/pend"]);
        let (u, _) = users_with_news(&root, None, now, true);
        assert_eq!(u, ["local/later", "local/new", "local/old", "local/pend"]);
        // a program that cannot run leaves the marker alone
        let n = run(
            &root,
            Path::new("/nonexistent/webuser-notify"),
            "https://h",
            "m",
            false,
            true,
        );
        assert_eq!(n.users.len(), 4);
        assert!(
            n.errors[0].contains("/nonexistent/webuser-notify"),
            "{:?}",
            n.errors
        );
        assert!(!root.join("notify.marker").exists() && !root.join("notify.marker.new").exists());
        fs::remove_dir_all(&root).unwrap();
    }
}
