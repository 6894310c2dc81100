//! The site's and the users' own HTML at the top and the bottom of every
//! page, as the original's scripts included files named `header` and
//! `footer`: each is looked for first in the signed-in user's directory,
//! then in the site's directory (`cgi-bin` in the DCC home, where the
//! original installed its scripts with a `header` and a `footer`). Pages
//! of no signed-in user (sign-in, refusals) take the site's files.
//!
//! The files are HTML put into the pages as they are, not escaped: they
//! are the administrator's own content (the users cannot write their
//! directories through these pages). The pages' content security policy
//! still holds for them: no script runs, and nothing is loaded from
//! elsewhere (images, style sheets); a `<style>` element works.
//!
//! A file is included only when it is a regular file whose real path
//! (symbolic links followed) is inside its directory and it has at most
//! [`MAX_FRAME`] bytes; another is left out (and the site's file taken
//! instead), with a complaint on standard error.
//!
//! [`Frames`] keeps what was read, by the file's stamp: a page asks the
//! file system only for the stamps (`lstat` and `stat` of each name, no
//! open, no read), and the file is read again only when its stamp
//! changed; a file gone is forgotten. An edit shows on the next page.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Most bytes of a `header` or `footer` file included.
pub const MAX_FRAME: u64 = 64 * 1024;

/// The site's directory of the files, in the DCC home.
pub const SITE_DIR: &str = "cgi-bin";

/// The names of the two files.
const NAMES: [&str; 2] = ["header", "footer"];

/// How long after its last change a file's stamp is trusted: a file
/// changed less than this before it was read is read again on the next
/// page. File times are coarse (a clock tick, a whole second on some file
/// systems), so two writes of the same size within one tick leave the
/// same stamp; the second is caught because the first was too recent.
pub const SETTLE: Duration = Duration::from_secs(2);

/// Most files remembered (two per user seen, two of the site).
const MAX_KEPT: usize = 1024;

/// What goes at the top and at the bottom of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    pub header: Option<Arc<str>>,
    pub footer: Option<Arc<str>>,
}

impl Frame {
    /// The files for a page, read now: each from `user_dir` (the
    /// signed-in user's directory) when it has one that may be included,
    /// else from `site_dir`. [`Frames::load`] is the same through the
    /// cache.
    pub fn load(user_dir: Option<&Path>, site_dir: &Path) -> Frame {
        let one = |name: &str| {
            user_dir
                .and_then(|d| included(d, name))
                .or_else(|| included(site_dir, name))
        };
        Frame {
            header: one("header"),
            footer: one("footer"),
        }
    }

    /// Whether there is nothing to add.
    pub fn is_empty(&self) -> bool {
        self.header.is_none() && self.footer.is_none()
    }

    /// `page` with the header right after its `<body>` tag and the
    /// footer right before its `</body>` tag. Every value of a page is
    /// escaped, so those tags of a page are its own.
    pub fn wrap(&self, page: &str) -> String {
        let (Some(top), Some(end)) = (page.find("<body>"), page.rfind("</body>")) else {
            return page.to_string();
        };
        let top = top + "<body>".len();
        if end < top {
            return page.to_string();
        }
        let header = self.header.as_deref().unwrap_or("");
        let footer = self.footer.as_deref().unwrap_or("");
        let mut out = String::with_capacity(page.len() + header.len() + footer.len());
        out.push_str(&page[..top]);
        out.push_str(header);
        out.push_str(&page[top..end]);
        out.push_str(footer);
        out.push_str(&page[end..]);
        out
    }
}

/// A time of a file's metadata: seconds and nanoseconds.
type Time = (i64, i64);

/// What identifies one state of a file name: the name's own entry (a
/// symbolic link or the file) and the file it leads to (`None` for a
/// link that leads nowhere). Any write changes the file's modification
/// and change times and any replacement its inode; a link changed to
/// lead elsewhere changes the link's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    /// device, inode and change time of the name's own entry
    entry: (u64, u64, Time),
    /// device, inode, size, modification and change time of the file
    file: Option<(u64, u64, u64, Time, Time)>,
}

impl Stamp {
    /// The stamp of `path`: `Ok(None)` when there is no such name, an
    /// error when it cannot be asked (the file is then read, and refused,
    /// as without a cache).
    fn of(path: &Path) -> std::io::Result<Option<Stamp>> {
        let entry = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let file = if entry.file_type().is_symlink() {
            fs::metadata(path).ok()
        } else {
            Some(entry.clone())
        };
        Ok(Some(Stamp {
            entry: (
                entry.dev(),
                entry.ino(),
                (entry.ctime(), entry.ctime_nsec()),
            ),
            file: file.map(|m| {
                (
                    m.dev(),
                    m.ino(),
                    m.size(),
                    (m.mtime(), m.mtime_nsec()),
                    (m.ctime(), m.ctime_nsec()),
                )
            }),
        }))
    }

    /// The last change the stamp records.
    fn newest(&self) -> Time {
        let mut t = self.entry.2;
        if let Some((_, _, _, m, c)) = self.file {
            t = t.max(m).max(c);
        }
        t
    }
}

/// One file as last read.
struct Kept {
    stamp: Stamp,
    /// Its text; `None` when it was refused.
    text: Option<Arc<str>>,
    /// Whether its stamp may be trusted: it had not changed for
    /// [`SETTLE`] when it was read.
    settled: bool,
}

/// The `header` and `footer` files of the pages, kept by stamp and
/// shared by all requests.
pub struct Frames {
    kept: Mutex<HashMap<PathBuf, Kept>>,
    reads: AtomicU64,
    settle: Duration,
}

impl Default for Frames {
    fn default() -> Frames {
        Frames::new()
    }
}

impl Frames {
    /// An empty cache that trusts a stamp [`SETTLE`] after its change.
    pub fn new() -> Frames {
        Frames::with_settle(SETTLE)
    }

    /// An empty cache that trusts a stamp `settle` after its change (for
    /// tests, which cannot wait).
    pub fn with_settle(settle: Duration) -> Frames {
        Frames {
            kept: Mutex::new(HashMap::new()),
            reads: AtomicU64::new(0),
            settle,
        }
    }

    /// How many times a file was read (opened), since the start.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// The frame of a page ([`Frame::load`]) when every file it takes is
    /// known and unchanged: asks only for stamps. `None` when a file must
    /// be read, which [`Frames::load`] does.
    pub fn cached(&self, user_dir: Option<&Path>, site_dir: &Path) -> Option<Frame> {
        self.frame(user_dir, site_dir, false)
    }

    /// The frame of a page ([`Frame::load`]), reading the files that
    /// changed or are not known yet.
    pub fn load(&self, user_dir: Option<&Path>, site_dir: &Path) -> Frame {
        self.frame(user_dir, site_dir, true).unwrap_or_default()
    }

    fn frame(&self, user_dir: Option<&Path>, site_dir: &Path, read: bool) -> Option<Frame> {
        let [header, footer] = NAMES.map(|name| {
            if let Some(d) = user_dir {
                match self.one(d, name, read) {
                    Some(Some(t)) => return Some(Some(t)),
                    Some(None) => {}
                    None => return None,
                }
            }
            self.one(site_dir, name, read)
        });
        Some(Frame {
            header: header?,
            footer: footer?,
        })
    }

    /// The text of `dir/name` to include: `Some(None)` when there is
    /// none or it is refused, `None` when it must be read and `read` is
    /// false.
    fn one(&self, dir: &Path, name: &str, read: bool) -> Option<Option<Arc<str>>> {
        let path = dir.join(name);
        let stamp = match Stamp::of(&path) {
            Ok(None) => {
                // gone: forget it
                self.lock().remove(&path);
                return Some(None);
            }
            Ok(Some(s)) => Some(s),
            Err(_) => None,
        };
        if let Some(s) = stamp {
            if let Some(k) = self.lock().get(&path) {
                if k.settled && k.stamp == s {
                    return Some(k.text.clone());
                }
            }
        }
        if !read {
            return None;
        }
        // the stamp is taken before the read: a change during the read
        // leaves a newer stamp, and the next page reads again
        let start = SystemTime::now();
        self.reads.fetch_add(1, Ordering::Relaxed);
        let text = included(dir, name);
        if let Some(s) = stamp {
            let settled = match (start.duration_since(UNIX_EPOCH), to_duration(s.newest())) {
                (Ok(now), Some(t)) => t.checked_add(self.settle).is_some_and(|t| now >= t),
                _ => false,
            };
            let mut kept = self.lock();
            if kept.len() >= MAX_KEPT && !kept.contains_key(&path) {
                if let Some(k) = kept.keys().next().cloned() {
                    kept.remove(&k);
                }
            }
            kept.insert(
                path,
                Kept {
                    stamp: s,
                    text: text.clone(),
                    settled,
                },
            );
        }
        Some(text)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Kept>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A file time as a duration since the epoch (`None` before it).
fn to_duration((secs, nanos): Time) -> Option<Duration> {
    let secs = u64::try_from(secs).ok()?;
    let nanos = u32::try_from(nanos).ok()?;
    Some(Duration::new(secs, 0) + Duration::from_nanos(u64::from(nanos)))
}

/// The text of `dir/name` when it may be included; a refusal is told on
/// standard error.
fn included(dir: &Path, name: &str) -> Option<Arc<str>> {
    match read_inside(dir, name, MAX_FRAME) {
        Ok(b) => b.map(|b| Arc::from(String::from_utf8_lossy(&b))),
        Err(e) => {
            eprintln!("dcc-web: {e}; not included");
            None
        }
    }
}

/// The file `name` of the directory `dir`; `None` when there is none.
/// Refused (an error) when its real path is not inside `dir`, when it is
/// not a regular file or has more than `max` bytes, or when it is
/// replaced by another file while it is opened.
pub fn read_inside(dir: &Path, name: &str, max: u64) -> Result<Option<Vec<u8>>, String> {
    let path = dir.join(name);
    let shown = path.display();
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{shown}: {e}")),
        Ok(_) => {}
    }
    let base = dir.canonicalize().map_err(|e| format!("{shown}: {e}"))?;
    let real = path.canonicalize().map_err(|e| format!("{shown}: {e}"))?;
    if !real.starts_with(&base) || real == base {
        return Err(format!("{shown}: outside {}", dir.display()));
    }
    // `real` has no symbolic link left; the file opened must be the one
    // looked at, or it was replaced in between
    let meta = fs::metadata(&real).map_err(|e| format!("{shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown}: not a regular file"));
    }
    if meta.len() > max {
        return Err(format!("{shown}: larger than {max} bytes"));
    }
    let f = File::open(&real).map_err(|e| format!("{shown}: {e}"))?;
    let opened = f.metadata().map_err(|e| format!("{shown}: {e}"))?;
    if !opened.is_file() || opened.dev() != meta.dev() || opened.ino() != meta.ino() {
        return Err(format!("{shown}: replaced while it was opened"));
    }
    let mut b = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut b)
        .map_err(|e| format!("{shown}: {e}"))?;
    if b.len() as u64 > max {
        return Err(format!("{shown}: larger than {max} bytes"));
    }
    Ok(Some(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn files_and_refusals() {
        let top = std::env::temp_dir().join(format!("dcc-web-frame-{}", std::process::id()));
        let _ = fs::remove_dir_all(&top);
        let (user, site) = (top.join("user"), top.join("site"));
        fs::create_dir_all(&user).unwrap();
        fs::create_dir_all(&site).unwrap();
        fs::write(site.join("header"), "<p>site top</p>").unwrap();
        fs::write(site.join("footer"), "<p>site end</p>").unwrap();
        fs::write(top.join("secret"), "outside").unwrap();
        // none of the user's own: the site's
        let f = Frame::load(Some(&user), &site);
        assert_eq!(f.header.as_deref(), Some("<p>site top</p>"));
        assert_eq!(f.footer.as_deref(), Some("<p>site end</p>"));
        // the user's own, also through a link inside the directory
        fs::write(user.join("mine.html"), "<b>mine</b>").unwrap();
        symlink(user.join("mine.html"), user.join("header")).unwrap();
        let f = Frame::load(Some(&user), &site);
        assert_eq!(f.header.as_deref(), Some("<b>mine</b>"));
        assert_eq!(f.footer.as_deref(), Some("<p>site end</p>"));
        // a link out of the directory, an oversize file, a directory
        fs::remove_file(user.join("header")).unwrap();
        symlink(top.join("secret"), user.join("header")).unwrap();
        assert!(read_inside(&user, "header", MAX_FRAME)
            .unwrap_err()
            .contains("outside"));
        fs::write(user.join("footer"), vec![b'x'; MAX_FRAME as usize + 1]).unwrap();
        assert!(read_inside(&user, "footer", MAX_FRAME)
            .unwrap_err()
            .contains("larger"));
        let f = Frame::load(Some(&user), &site);
        assert_eq!(f.header.as_deref(), Some("<p>site top</p>"));
        assert_eq!(f.footer.as_deref(), Some("<p>site end</p>"));
        fs::create_dir(site.join("x")).unwrap();
        assert!(read_inside(&site, "x", MAX_FRAME)
            .unwrap_err()
            .contains("regular"));
        assert_eq!(read_inside(&site, "none", MAX_FRAME), Ok(None));
        assert_eq!(
            read_inside(&top.join("no-dir"), "header", MAX_FRAME),
            Ok(None)
        );
        // no site directory and no user: nothing
        assert!(Frame::load(None, &top.join("no-dir")).is_empty());
        let _ = fs::remove_dir_all(&top);
    }

    /// A fresh directory `dcc-web-<tag>-<pid>` with `user` and `site`.
    fn dirs(tag: &str) -> (PathBuf, PathBuf, PathBuf) {
        let top = std::env::temp_dir().join(format!("dcc-web-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&top);
        let (user, site) = (top.join("user"), top.join("site"));
        fs::create_dir_all(&user).unwrap();
        fs::create_dir_all(&site).unwrap();
        (top, user, site)
    }

    #[test]
    fn kept_until_changed() {
        let (top, user, site) = dirs("frames");
        fs::write(site.join("header"), "<p>site top</p>").unwrap();
        fs::write(site.join("footer"), "<p>site end</p>").unwrap();
        // trust a stamp at once: only a changed stamp makes a read
        let f = Frames::with_settle(Duration::ZERO);
        assert_eq!(f.cached(Some(&user), &site), None, "nothing known yet");
        assert_eq!(f.reads(), 0);
        let first = f.load(Some(&user), &site);
        assert_eq!(first, Frame::load(Some(&user), &site));
        assert_eq!(f.reads(), 2);
        // unchanged: from the cache, nothing read
        for _ in 0..3 {
            assert_eq!(f.cached(Some(&user), &site).as_ref(), Some(&first));
            assert_eq!(f.load(Some(&user), &site), first);
        }
        assert_eq!(f.reads(), 2);

        // an edit: read again, once
        fs::write(site.join("header"), "<p>new site top</p>").unwrap();
        assert_eq!(f.cached(Some(&user), &site), None);
        let g = f.load(Some(&user), &site);
        assert_eq!(g.header.as_deref(), Some("<p>new site top</p>"));
        assert_eq!(f.reads(), 3);
        assert_eq!(f.cached(Some(&user), &site), Some(g));

        // another file of the same size and times put in its place: its
        // inode differs
        let other = top.join("other");
        fs::write(&other, "<p>NEW SITE TOP</p>").unwrap();
        let old = fs::metadata(site.join("header"))
            .unwrap()
            .modified()
            .unwrap();
        File::options()
            .write(true)
            .open(&other)
            .unwrap()
            .set_modified(old)
            .unwrap();
        fs::rename(&other, site.join("header")).unwrap();
        assert_eq!(
            f.load(Some(&user), &site).header.as_deref(),
            Some("<p>NEW SITE TOP</p>")
        );
        assert_eq!(f.reads(), 4);

        // the footer removed: gone from the page and from the cache,
        // without a read
        fs::remove_file(site.join("footer")).unwrap();
        let g = f.cached(Some(&user), &site).expect("no read needed");
        assert_eq!(g.footer, None);
        assert!(!f.lock().contains_key(&site.join("footer")));
        assert_eq!(f.reads(), 4);

        // the user's own header comes before the site's; a refused one is
        // refused once, not read again while unchanged
        fs::write(user.join("header"), "<b>mine</b>").unwrap();
        assert_eq!(
            f.load(Some(&user), &site).header.as_deref(),
            Some("<b>mine</b>")
        );
        assert_eq!(f.reads(), 5);
        fs::write(top.join("secret"), "outside").unwrap();
        fs::remove_file(user.join("header")).unwrap();
        symlink(top.join("secret"), user.join("header")).unwrap();
        let g = f.load(Some(&user), &site);
        assert_eq!(g.header.as_deref(), Some("<p>NEW SITE TOP</p>"));
        assert_eq!(f.reads(), 6);
        assert_eq!(f.cached(Some(&user), &site), Some(g));
        assert_eq!(f.reads(), 6);
        // the link changed to lead inside: read
        fs::write(user.join("mine.html"), "<b>mine again</b>").unwrap();
        fs::remove_file(user.join("header")).unwrap();
        symlink(user.join("mine.html"), user.join("header")).unwrap();
        assert_eq!(f.cached(Some(&user), &site), None);
        assert_eq!(
            f.load(Some(&user), &site).header.as_deref(),
            Some("<b>mine again</b>")
        );
        // the file behind the link edited
        fs::write(user.join("mine.html"), "<b>mine, edited</b>").unwrap();
        assert_eq!(
            f.load(Some(&user), &site).header.as_deref(),
            Some("<b>mine, edited</b>")
        );
        let _ = fs::remove_dir_all(&top);
    }

    /// A file changed less than [`SETTLE`] before it was read is read
    /// again: a second write in the same clock tick, of the same size,
    /// leaves the same stamp.
    #[test]
    fn recent_changes_read_again() {
        let (top, user, site) = dirs("settle");
        let f = Frames::new();
        for text in ["<p>one</p>", "<p>two</p>", "<p>six</p>"] {
            fs::write(site.join("header"), text).unwrap();
            assert_eq!(f.cached(Some(&user), &site), None);
            assert_eq!(f.load(Some(&user), &site).header.as_deref(), Some(text));
        }
        assert_eq!(f.reads(), 3);
        // unchanged but recent: still read for each page (here the clock
        // is fine enough to tell the writes apart; a coarse one is not)
        assert_eq!(f.cached(Some(&user), &site), None);
        f.load(Some(&user), &site);
        assert_eq!(f.reads(), 4);
        let _ = fs::remove_dir_all(&top);
    }

    #[test]
    fn wrap() {
        let f = Frame {
            header: Some("<p>top</p>".into()),
            footer: None,
        };
        let page = "<html><body><h1>x &lt;/body&gt;</h1></body></html>";
        assert_eq!(
            f.wrap(page),
            "<html><body><p>top</p><h1>x &lt;/body&gt;</h1></body></html>"
        );
        let f = Frame {
            header: None,
            footer: Some("<p>end</p>".into()),
        };
        assert_eq!(
            f.wrap(page),
            "<html><body><h1>x &lt;/body&gt;</h1><p>end</p></body></html>"
        );
        assert_eq!(f.wrap("no body"), "no body");
    }
}
