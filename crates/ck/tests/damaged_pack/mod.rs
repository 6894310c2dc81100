//! The damaged messages of `tests/data/damaged/`, rebuilt from the edits
//! in `messages.pack` (see `pack.py` there) and the corpus messages they
//! were made from.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The vector lines of `checksums.jsonl`.
#[allow(dead_code)] // not every test reads the vectors
pub fn vector_lines() -> Vec<String> {
    let path = root().join("tests/data/damaged/checksums.jsonl");
    let text = std::fs::read_to_string(path).expect("damaged vectors");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> usize {
        let mut n = 0usize;
        let mut shift = 0;
        loop {
            let b = self.b[self.at];
            self.at += 1;
            n |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return n;
            }
            shift += 7;
        }
    }

    fn bytes(&mut self) -> &'a [u8] {
        let n = self.varint();
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        s
    }
}

/// Every damaged message as (file name of its vector, bytes), in the order
/// of the vectors.
pub fn messages() -> Vec<(String, Vec<u8>)> {
    let pack = std::fs::read(root().join("tests/data/damaged/messages.pack")).expect("pack");
    let corpus = root().join("../../testdata/corpus");
    const MAGIC: &[u8] = b"tally-damaged 1\n";
    assert!(pack.starts_with(MAGIC), "messages.pack: bad magic");
    let mut r = Reader {
        b: &pack,
        at: MAGIC.len(),
    };
    let mut out = Vec::new();
    while r.at < pack.len() {
        let name = String::from_utf8(r.bytes().to_vec()).expect("name");
        let src = r.bytes();
        let src = if src.is_empty() {
            Vec::new()
        } else {
            let p = corpus.join(std::str::from_utf8(src).expect("source path"));
            std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        let mut msg = Vec::new();
        for _ in 0..r.varint() {
            match r.b[r.at] {
                0 => {
                    r.at += 1;
                    let (off, len) = (r.varint(), r.varint());
                    msg.extend_from_slice(&src[off..off + len]);
                }
                1 => {
                    r.at += 1;
                    msg.extend_from_slice(r.bytes());
                }
                t => panic!("messages.pack: bad edit {t} in {name}"),
            }
        }
        out.push((name, msg));
    }
    out
}
