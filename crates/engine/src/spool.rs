//! The temporary file holding a message while it is checked (dccproc and
//! dccifd spool there; by default in the `-l` log directory, dccifd(8)
//! `-T`).
//!
//! The file is removed as soon as it is made: it lives as long as the
//! handle. When writing to it fails (a full file system) it moves to the
//! next of its directories with what it held, so that the message is
//! still checked and delivered; the system temporary directory is always
//! the last resort.

use crate::logfile::{create_unique, NameGen};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A spooled message.
#[derive(Debug)]
pub struct Spool {
    file: File,
    /// Where it may move next, in order.
    rest: Vec<PathBuf>,
    prefix: String,
    gen: NameGen,
}

impl Spool {
    /// Make `<dir>/<prefix>XXXXXX` in the first of `dirs` (then the system
    /// temporary directory) where that works, and remove its name; the
    /// unique part of the name is returned with the spool.
    pub fn create(
        dirs: &[PathBuf],
        prefix: &str,
        gen: &mut NameGen,
    ) -> io::Result<(Spool, String)> {
        let mut rest = dirs.to_vec();
        let tmp = std::env::temp_dir();
        if !rest.contains(&tmp) {
            rest.push(tmp);
        }
        rest.reverse();
        let mut last = io::Error::other("no temporary directory");
        while let Some(d) = rest.pop() {
            match make(&d, prefix, gen) {
                Ok((file, id)) => {
                    rest.reverse();
                    let s = Spool {
                        file,
                        rest,
                        prefix: prefix.to_string(),
                        gen: gen.clone(),
                    };
                    return Ok((s, id));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Move the contents and the position to a file in the next
    /// directory; `Err(why)` when there is none left.
    fn move_on(&mut self, why: io::Error) -> io::Result<()> {
        let pos = self.file.stream_position()?;
        let mut why = why;
        while !self.rest.is_empty() {
            let d = self.rest.remove(0);
            let Ok((mut f, _)) = make(&d, &self.prefix, &mut self.gen) else {
                continue;
            };
            self.file.seek(SeekFrom::Start(0))?;
            match io::copy(&mut self.file, &mut f).and_then(|_| f.seek(SeekFrom::Start(pos))) {
                Ok(_) => {
                    self.file = f;
                    return Ok(());
                }
                Err(e) => why = e,
            }
        }
        self.file.seek(SeekFrom::Start(pos))?;
        Err(why)
    }
}

fn make(dir: &Path, prefix: &str, gen: &mut NameGen) -> io::Result<(File, String)> {
    let (f, path, id) = create_unique(dir, prefix, gen, 0o600)?;
    let _ = std::fs::remove_file(&path);
    Ok((f, id))
}

impl Write for Spool {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        // bounded: each failure uses up a directory
        loop {
            match self.file.write(b) {
                Err(e) if e.kind() != io::ErrorKind::Interrupted => self.move_on(e)?,
                r => return r,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Read for Spool {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        self.file.read(b)
    }
}

impl Seek for Spool {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.file.seek(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_and_rewinds() {
        let (mut s, id) = Spool::create(&[], "spooltest.", &mut NameGen::new()).expect("spool");
        assert_eq!(id.len(), 6);
        s.write_all(b"Subject: x\n\nbody\n").expect("write");
        s.seek(SeekFrom::Start(0)).expect("rewind");
        let mut t = String::new();
        s.read_to_string(&mut t).expect("read");
        assert_eq!(t, "Subject: x\n\nbody\n");
    }

    #[test]
    fn a_missing_directory_is_passed_over() {
        let gone = std::env::temp_dir().join(format!("no-such-spool-dir-{}", std::process::id()));
        let (mut s, _) = Spool::create(&[gone], "spooltest.", &mut NameGen::new()).expect("spool");
        s.write_all(b"x").expect("write");
    }
}
