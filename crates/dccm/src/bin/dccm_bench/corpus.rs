//! The messages of the corpus, each split as an MTA passes it to a milter:
//! unfolded header fields, then the body.

use std::path::{Path, PathBuf};

/// A message split into header fields (name, value) and the body.
pub struct Msg {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Every file under `dir` (sorted, recursively) smaller than 1 MiB.
pub fn collect(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else if let Ok(b) = std::fs::read(&p) {
            if !b.is_empty() && b.len() < 1 << 20 {
                out.push(b);
            }
        }
    }
}

/// Split a raw message at its first empty line.
pub fn split(raw: &[u8]) -> Msg {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = match text.find("\n\n").or_else(|| text.find("\r\n\r\n")) {
        Some(i) => {
            let skip = if text[i..].starts_with("\n\n") { 2 } else { 4 };
            (&text[..i], &raw[(i + skip).min(raw.len())..])
        }
        None => (&text[..], &raw[raw.len()..]),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push('\n');
                last.1.push_str(line);
            }
        } else if let Some((n, v)) = line.split_once(':').filter(|(n, _)| !n.is_empty()) {
            // (an MTA never passes a field without a name)
            headers.push((n.to_string(), v.trim_start().to_string()));
        }
    }
    Msg {
        headers,
        body: body.to_vec(),
    }
}
