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

use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Most bytes of a `header` or `footer` file included.
pub const MAX_FRAME: u64 = 64 * 1024;

/// The site's directory of the files, in the DCC home.
pub const SITE_DIR: &str = "cgi-bin";

/// What goes at the top and at the bottom of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    pub header: Option<String>,
    pub footer: Option<String>,
}

impl Frame {
    /// The files for a page: each from `user_dir` (the signed-in user's
    /// directory) when it has one that may be included, else from
    /// `site_dir`.
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

/// The text of `dir/name` when it may be included; a refusal is told on
/// standard error.
fn included(dir: &Path, name: &str) -> Option<String> {
    match read_inside(dir, name, MAX_FRAME) {
        Ok(b) => b.map(|b| String::from_utf8_lossy(&b).into_owned()),
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
