//! Reading a whiteclnt file and its included files from disk, with the
//! stamps that tell later whether they changed, and resolving host names.

use std::fs;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tally_white::{parse_file, Built, FileKind, IncludeFailure, Includes, Resolutions};

/// Resolves host names of `ip` lines to addresses.
pub trait HostResolver: Send + Sync {
    /// The addresses of `host`, or the resolver's error text.
    fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, String>;
}

/// The system resolver (`/etc/hosts`, DNS, ...), IPv4 and IPv6.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl HostResolver for SystemResolver {
    fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        match (host, 0u16).to_socket_addrs() {
            Ok(addrs) => {
                let mut out: Vec<IpAddr> = Vec::new();
                for a in addrs {
                    if !out.contains(&a.ip()) {
                        out.push(a.ip());
                    }
                }
                if out.is_empty() {
                    Err("Unknown host".to_string())
                } else {
                    Ok(out)
                }
            }
            Err(e) => Err(crate::lookup_text(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn lookup_errors_are_the_resolvers_text() {
        let e = Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(crate::lookup_text(&e), "Name or service not known");
        assert_eq!(
            crate::lookup_text(&Error::from_raw_os_error(5)),
            "System error"
        );
        let e = Error::new(ErrorKind::InvalidInput, "invalid socket address");
        assert_eq!(crate::lookup_text(&e), "invalid socket address");
    }

    #[test]
    fn an_included_directory_is_a_read_error() {
        let home = std::env::temp_dir().join(format!("tally-white-incdir-{}", std::process::id()));
        let _ = fs::remove_dir_all(&home);
        fs::create_dir_all(home.join("inc.d")).unwrap();
        fs::write(
            home.join("whiteclnt"),
            "include inc.d\ninclude missing\nok from a@b\n",
        )
        .unwrap();
        let l = load(
            &home,
            "whiteclnt",
            &home.join("whiteclnt"),
            FileKind::Global,
            &SystemResolver,
        )
        .unwrap();
        let e: Vec<String> = l.built.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            e,
            [
                "read(inc.d, 1024): Is a directory",
                "\"include missing\": No such file or directory in line 2 of whiteclnt",
            ]
        );
        // it opened, so it takes its place among the included files
        assert_eq!(l.built.list.includes(), ["inc.d"]);
        assert_eq!(l.built.list.entry_count(), 1);
        let _ = fs::remove_dir_all(&home);
    }

    #[test]
    fn unknown_names_fail_without_the_std_prefix() {
        // a label of 64 bytes has no DNS form, so the resolver refuses
        // the name without asking any server; the text depends on the
        // system's resolver, but never carries std's prefix
        let name = format!("{}.invalid", "x".repeat(64));
        let e = SystemResolver.resolve(&name).unwrap_err();
        assert!(!e.is_empty() && !e.starts_with("failed to lookup"), "{e}");
    }
}

/// What identifies one version of a file: modification time, size and
/// inode (a file replaced by rename changes inode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub mtime: Option<SystemTime>,
    pub size: u64,
    pub ino: u64,
}

impl Stamp {
    /// The stamp of a file, `None` when it cannot be looked at.
    pub fn of(path: &Path) -> Option<Stamp> {
        let m = fs::metadata(path).ok()?;
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let ino = 0;
        Some(Stamp {
            mtime: m.modified().ok(),
            size: m.len(),
            ino,
        })
    }
}

/// Most bytes read from one whiteclnt file: far more than the entry
/// limits allow to matter, and bounded.
const MAX_FILE_BYTES: u64 = 64 << 20;

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = fs::File::open(path)?;
    let mut out = Vec::new();
    f.take(MAX_FILE_BYTES).read_to_end(&mut out)?;
    Ok(out)
}

struct DiskIncludes<'a> {
    home: &'a Path,
    stamps: Vec<(PathBuf, Option<Stamp>)>,
}

impl Includes for DiskIncludes<'_> {
    fn read_include(&mut self, name: &str) -> Result<Vec<u8>, String> {
        self.open_include(name).map_err(|e| match e {
            IncludeFailure::Open(t) | IncludeFailure::Read(t) => t,
        })
    }

    /// A file that opens but cannot be read (a directory) is told apart
    /// from one that cannot be opened, as the original words them
    /// differently.
    fn open_include(&mut self, name: &str) -> Result<Vec<u8>, IncludeFailure> {
        use std::io::Read;
        let path = self.home.join(name);
        let stamp = Stamp::of(&path);
        self.stamps.push((path.clone(), stamp));
        let f = fs::File::open(&path).map_err(|e| IncludeFailure::Open(crate::errno_str(&e)))?;
        let mut out = Vec::new();
        f.take(MAX_FILE_BYTES)
            .read_to_end(&mut out)
            .map_err(|e| IncludeFailure::Read(crate::errno_str(&e)))?;
        Ok(out)
    }
}

/// A freshly read and built file.
pub(crate) struct Loaded {
    pub built: Built,
    pub stamps: Vec<(PathBuf, Option<Stamp>)>,
}

/// Read, parse and build the file at `path` (named `name` in messages).
/// The error when the main file cannot be read.
pub(crate) fn load(
    home: &Path,
    name: &str,
    path: &Path,
    kind: FileKind,
    resolver: &dyn HostResolver,
) -> std::io::Result<Loaded> {
    let stamp = Stamp::of(path);
    let text = read_bounded(path)?;
    let mut inc = DiskIncludes {
        home,
        stamps: vec![(path.to_path_buf(), stamp)],
    };
    let parsed = parse_file(name, &text, kind, &mut inc);
    let mut res = Resolutions::new();
    for host in parsed.host_names() {
        res.insert(host, resolver.resolve(host));
    }
    let built = parsed.build(&res);
    Ok(Loaded {
        built,
        stamps: inc.stamps,
    })
}
