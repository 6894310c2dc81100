//! Map files on disk: `<homedir>/map` by default, private to its owner
//! because it holds passwords.

use super::parse::{parse_map, MapError};
use super::print::print_map;
use super::Map;
use crate::clock;
use crate::error::os_text;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The default map file of a DCC home directory.
pub fn default_path(home: &Path) -> PathBuf {
    home.join("map")
}

/// Most bytes read from a map file (a full map is a few kilobytes).
pub const MAX_MAP_FILE: u64 = 1 << 20;

fn io_err(path: &Path, e: impl std::fmt::Display) -> MapError {
    MapError {
        file: Some(path.display().to_string()),
        line: 0,
        msg: e.to_string(),
    }
}

/// A failed system call on a map file in the original's words,
/// `open(PATH): No such file or directory`: the C library's text, without
/// Rust's "(os error N)".
fn sys_err(call: &str, path: &Path, e: &std::io::Error) -> MapError {
    MapError {
        file: None,
        line: 0,
        msg: format!("{call}({}): {}", path.display(), os_text(e)),
    }
}

/// [`load`], but first refuse a map file the group may read or write or
/// others may write, as the original's clients do (it holds passwords):
/// `PATH is not private`. `cdcc` reads its map this way.
pub fn load_private(path: &Path) -> Result<Map, MapError> {
    let meta = fs::metadata(path).map_err(|e| sys_err("open", path, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o063 != 0 {
            return Err(MapError {
                file: None,
                line: 0,
                msg: format!("{} is not private", path.display()),
            });
        }
    }
    let _ = meta;
    load(path)
}

/// Read and parse a map file. The map's label is the path.
pub fn load(path: &Path) -> Result<Map, MapError> {
    let meta = fs::metadata(path).map_err(|e| sys_err("open", path, &e))?;
    if meta.len() > MAX_MAP_FILE {
        return Err(io_err(path, "file too large for a map"));
    }
    let bytes = fs::read(path).map_err(|e| sys_err("read", path, &e))?;
    let text = String::from_utf8(bytes).map_err(|_| io_err(path, "not text"))?;
    let name = path.display().to_string();
    let mut map = parse_map(&text, Some(&name))?;
    map.label = name;
    Ok(map)
}

/// Write a map file with passwords and state, replacing the old one
/// atomically. The file is created readable by its owner only.
pub fn save(path: &Path, map: &Map) -> Result<(), MapError> {
    let text = print_map(map, clock::now_secs(), true);
    let tmp = path.with_extension("tmp-new");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(|e| io_err(&tmp, e))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| io_err(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// Create a new empty map file as `cdcc "new map"` does; it must not
/// exist (`open(PATH): File exists`, in the original's words).
pub fn create_new(path: &Path) -> Result<Map, MapError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    drop(opts.open(path).map_err(|e| sys_err("open", path, &e))?);
    let map = Map::new(&path.display().to_string());
    save(path, &map)?;
    Ok(map)
}
