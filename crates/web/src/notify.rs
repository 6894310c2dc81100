//! Mail to users about new log files, as the original's `webuser-notify`
//! script sent it from the daily cron job.
//!
//! A user turns it on in their whiteclnt file with the comment line
//! `#webuser mail-notify=on mailbox=NAME` among the comments that start
//! the file (the line the original's edit-whiteclnt page wrote; `off`, or
//! no such line, is off; an empty mailbox is the user's own name). The
//! cron job hands the program the names of the users with new log files;
//! for each, at most one mail a week, with the same files in the user's
//! directory as the original:
//!
//! - `notify.marker`: touched at each look; a user without log files newer
//!   than it has nothing new;
//! - `notify.block`: dated a week ahead when a mail is sent; new log files
//!   before that date turn it into
//! - `notify.pending`: a mail is sent once its date has passed.

use crate::listing::{is_log_name, is_subdir, MAX_DEPTH};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

/// How long after a mail the next one waits.
pub const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);
/// Longest mailbox name.
pub const MAX_MAILBOX: usize = 64;

/// A user's setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Setting {
    pub on: bool,
    /// The mailbox to write to; empty: the user's own name.
    pub mailbox: String,
}

/// The `#webuser mail-notify=...` line's value, if `line` is one.
fn parse_line(line: &str) -> Option<Setting> {
    let t = line.trim();
    let rest = t.strip_prefix('#')?.trim_start();
    let rest = strip_word(rest, "webuser")?;
    let (sw, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let on = match sw.to_ascii_lowercase().as_str() {
        "mail-notify=on" => true,
        "mail-notify=off" => false,
        _ => return None,
    };
    let rest = rest.trim();
    let mailbox = match rest.get(..8) {
        Some(p) if p.eq_ignore_ascii_case("mailbox=") => rest[8..].to_string(),
        _ if rest.is_empty() => String::new(),
        _ => return None,
    };
    check_mailbox(&mailbox).ok()?;
    Some(Setting { on, mailbox })
}

fn strip_word<'a>(s: &'a str, w: &str) -> Option<&'a str> {
    let head = s.get(..w.len())?;
    let rest = &s[w.len()..];
    (head.eq_ignore_ascii_case(w) && rest.starts_with(char::is_whitespace))
        .then(|| rest.trim_start())
}

/// A mailbox as the original allowed it: letters, digits, `-` and `_`
/// (a local mailbox; nothing a shell or a mailer could take for more).
pub fn check_mailbox(m: &str) -> Result<(), String> {
    if m.len() > MAX_MAILBOX {
        return Err(format!(
            "the mailbox is longer than {MAX_MAILBOX} characters"
        ));
    }
    if let Some(c) = m
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "the mailbox may have only letters, digits, '-' and '_', not {c:?}"
        ));
    }
    Ok(())
}

/// The lines of the comments that start a whiteclnt file (and blank
/// lines among them), as (start, end) byte ranges with their line ends.
fn preamble(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    for l in text.split_inclusive(|&c| c == b'\n') {
        let t = String::from_utf8_lossy(l);
        let t = t.trim();
        if !(t.is_empty() || t.starts_with('#')) {
            break;
        }
        out.push((at, at + l.len()));
        at += l.len();
    }
    out
}

/// The setting of a whiteclnt file (the last such line of its first
/// comments wins, as with the original); off when it has none.
pub fn setting(text: &[u8]) -> Setting {
    preamble(text)
        .into_iter()
        .rev()
        .find_map(|(a, b)| parse_line(&String::from_utf8_lossy(&text[a..b])))
        .unwrap_or_default()
}

/// The file with its setting changed: the setting's lines among the first
/// comments replaced by one line where the first was (at the top when
/// there was none); every other line kept.
pub fn set(text: &[u8], s: &Setting) -> Result<Vec<u8>, String> {
    check_mailbox(&s.mailbox)?;
    let line = format!(
        "#webuser mail-notify={} mailbox={}\n",
        if s.on { "on" } else { "off" },
        s.mailbox
    );
    let ours: Vec<(usize, usize)> = preamble(text)
        .into_iter()
        .filter(|&(a, b)| parse_line(&String::from_utf8_lossy(&text[a..b])).is_some())
        .collect();
    let mut out = Vec::with_capacity(text.len() + line.len());
    match ours.first() {
        None => {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(text);
        }
        Some(&(first, _)) => {
            let mut at = 0;
            for &(a, b) in &ours {
                out.extend_from_slice(&text[at..a]);
                if a == first {
                    out.extend_from_slice(line.as_bytes());
                }
                at = b;
            }
            out.extend_from_slice(&text[at..]);
        }
    }
    Ok(out)
}

/// What to do about one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Notifications are off, or there is no whiteclnt file.
    Off,
    /// Nothing new since the last look.
    NothingNew,
    /// New log files, but a mail went out less than a week ago: pending.
    Postponed,
    /// Still pending.
    Pending,
    /// Send a mail to this mailbox.
    Send(String),
}

fn mtime(p: &Path) -> Option<SystemTime> {
    fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn touch(p: &Path, t: SystemTime) -> std::io::Result<()> {
    let f = File::options().create(true).append(true).open(p)?;
    f.set_modified(t)
}

/// Whether a log file below `dir` (its numbered subdirectories included,
/// named as the listing takes them) is newer than `t`.
fn newer_log(dir: &Path, t: SystemTime, depth: usize) -> bool {
    let Ok(rd) = fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let p = e.path();
        if is_log_name(&name) {
            mtime(&p).is_some_and(|m| m > t)
        } else {
            depth < MAX_DEPTH && is_subdir(&name) && p.is_dir() && newer_log(&p, t, depth + 1)
        }
    })
}

/// The mailbox of user `name` (`local/bob` or `esmtp/bob@example.com`)
/// when the setting leaves it empty: the name without its mailer.
pub fn default_mailbox(name: &str) -> &str {
    name.split_once('/').map_or(name, |(_, n)| n)
}

/// Look at user `name`'s directory `dir` at time `now`, moving the marker
/// files as the original's script did. Returns what to do.
pub fn decide(dir: &Path, name: &str, now: SystemTime) -> std::io::Result<Decision> {
    let Ok(white) = fs::read(dir.join("whiteclnt")) else {
        return Ok(Decision::Off);
    };
    let s = setting(&white);
    if !s.on {
        return Ok(Decision::Off);
    }
    let (marker, block, pending) = (
        dir.join("notify.marker"),
        dir.join("notify.block"),
        dir.join("notify.pending"),
    );
    if let Some(p) = mtime(&pending) {
        touch(&marker, now)?;
        if p > now {
            return Ok(Decision::Pending);
        }
        fs::remove_file(&pending)?;
    } else {
        if let Some(m) = mtime(&marker) {
            if !newer_log(&dir.join("log"), m, 0) {
                return Ok(Decision::NothingNew);
            }
        }
        touch(&marker, now)?;
        if mtime(&block).is_some_and(|b| b > now) {
            fs::rename(&block, &pending)?;
            return Ok(Decision::Postponed);
        }
    }
    let mailbox = if s.mailbox.is_empty() {
        default_mailbox(name).to_string()
    } else {
        s.mailbox
    };
    Ok(Decision::Send(mailbox))
}

/// After a mail that could not be sent: pending, so that the next run
/// tries again.
pub fn failed(dir: &Path, now: SystemTime) -> std::io::Result<()> {
    touch(&dir.join("notify.pending"), now)
}

/// After a mail: none again for a week.
pub fn sent(dir: &Path, now: SystemTime) -> std::io::Result<()> {
    let block = dir.join("notify.block");
    let _ = fs::remove_file(&block);
    touch(&block, now + WEEK)
}

/// The mail to `mailbox` about user `name`, with the addresses of the
/// pages under `url`: header and body.
pub fn message(mailbox: &str, name: &str, url: &str) -> String {
    let url = url.trim_end_matches('/');
    let user = default_mailbox(name);
    // dcc-web's sign-in name: a local mailbox without its mailer
    let signin = name.strip_prefix("local/").unwrap_or(name);
    format!(
        "To: {mailbox}\nSubject: bulk mail notification for {user}\n\
         Precedence: bulk\nAuto-Submitted: auto-generated\n\
         Content-Type: text/plain; charset=utf-8\n\n\
         Recently logged bulk messages for {user} can be viewed at\n\
         {url}/log\n\
         Edit your whitelist at\n\
         {url}/whiteclnt\n\
         if any of those are solicited bulk messages instead of spam,\n\
         or turn these messages off or send them elsewhere at\n\
         {url}/options\n\n\
         The user name for these web pages is {signin}\n"
    )
}

/// Hand `text` to `mailer` (sendmail's interface: `mailer -i mailbox`,
/// the message on its standard input).
pub fn send(mailer: &Path, mailbox: &str, text: &str) -> Result<(), String> {
    let mut child = Command::new(mailer)
        .args(["-i", "--", mailbox])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", mailer.display()))?;
    if let Some(mut i) = child.stdin.take() {
        i.write_all(text.as_bytes())
            .map_err(|e| format!("{}: {e}", mailer.display()))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{}: {e}", mailer.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {mailbox}: {} {}",
            mailer.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// The directory of a user name as the cron job gives it (`local/bob`),
/// checked as dcc-web checks the names users sign in with
/// ([`crate::userdir::parts`]: nothing that could leave `userdirs`).
pub fn user_dir(userdirs: &Path, name: &str) -> Option<PathBuf> {
    let (mailer, addr) = crate::userdir::parts(name).ok()?;
    Some(userdirs.join(mailer).join(addr))
}

/// The options form's mail notification fields (`on`: `on` or `off`)
/// applied to a whiteclnt file's `text`; a change only where the setting
/// differs, so that saving other options leaves the file's comments alone.
pub fn apply_form(
    text: Vec<u8>,
    on: Option<String>,
    mailbox: Option<String>,
) -> Result<Vec<u8>, String> {
    let cur = setting(&text);
    let on = match on.as_deref() {
        None => return Ok(text),
        Some("on") => true,
        Some("off") => false,
        Some(v) => return Err(format!("mail notifications {v:?}: not on or off")),
    };
    let want = Setting {
        on,
        mailbox: mailbox.unwrap_or(cur.mailbox.clone()).trim().to_string(),
    };
    if want == cur {
        return Ok(text);
    }
    set(&text, &want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_in_the_first_comments() {
        assert_eq!(setting(b""), Setting::default());
        let t = b"# bob\n#webuser mail-notify=on mailbox=bob-x\n\nok env_from a@b\n";
        assert_eq!(
            setting(t),
            Setting {
                on: true,
                mailbox: "bob-x".into()
            }
        );
        // as the original: only the comments that start the file
        assert!(!setting(b"ok env_from a@b\n#webuser mail-notify=on mailbox=\n").on);
        // the last one wins; spacing and case as the original's pattern
        let t = b"#  WebUser  Mail-Notify=on mailbox=\n#webuser mail-notify=off mailbox=x\n";
        assert!(!setting(t).on);
        // a mailbox with other characters is no setting
        assert!(!setting(b"#webuser mail-notify=on mailbox=a;b\n").on);
    }

    #[test]
    fn setting_replaces_its_line_and_keeps_the_rest() {
        let s = Setting {
            on: true,
            mailbox: String::new(),
        };
        let t = set(b"ok env_from a@b\n", &s).unwrap();
        assert_eq!(t, b"#webuser mail-notify=on mailbox=\nok env_from a@b\n");
        let t2 = set(
            &t,
            &Setting {
                on: false,
                mailbox: "m".into(),
            },
        )
        .unwrap();
        assert_eq!(t2, b"#webuser mail-notify=off mailbox=m\nok env_from a@b\n");
        let t = b"# mine\n#webuser mail-notify=on mailbox=a\n# note\n#webuser mail-notify=on mailbox=b\nok ip 1.2.3.4\n";
        let t2 = set(t, &s).unwrap();
        assert_eq!(
            t2,
            b"# mine\n#webuser mail-notify=on mailbox=\n# note\nok ip 1.2.3.4\n"
        );
        assert!(set(
            b"",
            &Setting {
                on: true,
                mailbox: "a b".into()
            }
        )
        .is_err());
        assert!(set(
            b"",
            &Setting {
                on: true,
                mailbox: "x".repeat(65)
            }
        )
        .is_err());
    }

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dcc-notify-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("log/123")).unwrap();
        d
    }

    #[test]
    fn at_most_one_mail_a_week() {
        let d = dir("week");
        let t0 = SystemTime::now() - Duration::from_secs(30 * 86_400);
        let day = Duration::from_secs(86_400);
        fs::write(d.join("whiteclnt"), "#webuser mail-notify=off mailbox=\n").unwrap();
        assert_eq!(decide(&d, "local/bob", t0).unwrap(), Decision::Off);
        fs::write(d.join("whiteclnt"), "#webuser mail-notify=on mailbox=\n").unwrap();
        // day 0: a first look sends
        let log = d.join("log/123/msg.AAAAAA");
        fs::write(&log, "x").unwrap();
        touch(&log, t0).unwrap();
        assert_eq!(
            decide(&d, "local/bob", t0).unwrap(),
            Decision::Send("bob".into())
        );
        sent(&d, t0).unwrap();
        // day 1: nothing new
        assert_eq!(
            decide(&d, "local/bob", t0 + day).unwrap(),
            Decision::NothingNew
        );
        // day 2: a new log file, but within the week: pending until day 7
        touch(&log, t0 + day * 2).unwrap();
        assert_eq!(
            decide(&d, "local/bob", t0 + day * 2).unwrap(),
            Decision::Postponed
        );
        assert_eq!(
            decide(&d, "local/bob", t0 + day * 3).unwrap(),
            Decision::Pending
        );
        assert_eq!(
            decide(&d, "local/bob", t0 + day * 8).unwrap(),
            Decision::Send("bob".into())
        );
        assert!(!d.join("notify.pending").exists());
        fs::write(
            d.join("whiteclnt"),
            "#webuser mail-notify=on mailbox=postmaster\n",
        )
        .unwrap();
        sent(&d, t0 + day * 8).unwrap();
        touch(&log, t0 + day * 20).unwrap();
        assert_eq!(
            decide(&d, "esmtp/bob@example.com", t0 + day * 20).unwrap(),
            Decision::Send("postmaster".into())
        );
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn names_and_mail() {
        let u = Path::new("/u");
        assert_eq!(
            user_dir(u, "local/bob"),
            Some(PathBuf::from("/u/local/bob"))
        );
        for bad in ["", "/etc", "local/../..", "a//b", "a/./b", "a b", "a\nb"] {
            assert_eq!(user_dir(u, bad), None, "{bad:?}");
        }
        assert_eq!(default_mailbox("esmtp/bob@example.com"), "bob@example.com");
        let m = message("bob", "local/bob", "https://dcc.example.com/");
        assert!(m.starts_with("To: bob\nSubject: bulk mail notification for bob\n"));
        assert!(m.contains("\nhttps://dcc.example.com/log\n"));
        assert!(m.contains("user name for these web pages is bob\n"));
        let m = message("x", "esmtp/bob@example.com", "https://h");
        assert!(
            m.contains("for bob@example.com\n") && m.contains("pages is esmtp/bob@example.com\n")
        );
    }
}
