//! The client table kept across restarts: `dccd_clients` in the home
//! directory (`grey_clients` for a greylist server), as dccd(8) FILES
//! names them: each client's IP address and activity counts, so that
//! `cdcc clients` still knows them after a restart.
//!
//! The original's file is a binary image of its rate-limit blocks; ours is
//! text, one client a line:
//!
//! ```text
//! # client-ID address last-seen requests NOPs version flags
//! 32800 192.0.2.1 1765036800 1204 3 12 -
//! 1 2001:db8::7 1765036815 7 7 12 a
//! ```
//!
//! `last-seen` is in seconds since the epoch; the flags are `a` for an
//! anonymous client, `b` for a password that failed, `-` for none. A bad
//! line is named with the file and its number and skipped. The file is
//! written at every orderly stop and every ten minutes, through a
//! temporary file renamed over the old one, so that a crash leaves the
//! previous complete table.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::clients::{Clients, Saved};

/// The file of a server with home `home`.
pub fn path(home: &Path, grey: bool) -> PathBuf {
    home.join(if grey { "grey_clients" } else { "dccd_clients" })
}

/// The text of the table.
pub fn text(c: &Clients) -> String {
    let mut t = String::from("# client-ID address last-seen requests NOPs version flags\n");
    for s in c.saved() {
        let flags = match (s.anon, s.bad_auth) {
            (true, _) => "a",
            (false, true) => "b",
            (false, false) => "-",
        };
        t.push_str(&format!(
            "{} {} {} {} {} {} {flags}\n",
            s.id, s.ip, s.last, s.reqs, s.nops, s.vers
        ));
    }
    t
}

/// Parse the text of a table file named `name`: the entries, and a
/// complaint for each bad line.
pub fn parse(text: &str, name: &str) -> (Vec<Saved>, Vec<String>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line) {
            Some(s) => out.push(s),
            None => bad.push(format!("{name} line {}: unrecognized \"{line}\"", n + 1)),
        }
    }
    (out, bad)
}

fn parse_line(line: &str) -> Option<Saved> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let [id, ip, last, reqs, nops, vers, flags] = f.as_slice() else {
        return None;
    };
    let (anon, bad_auth) = match *flags {
        "a" => (true, false),
        "b" => (false, true),
        "-" => (false, false),
        _ => return None,
    };
    Some(Saved {
        id: id.parse().ok()?,
        ip: ip.parse::<IpAddr>().ok()?,
        last: last.parse().ok()?,
        reqs: reqs.parse().ok()?,
        nops: nops.parse().ok()?,
        vers: vers.parse().ok()?,
        anon,
        bad_auth,
    })
}

/// Write the [`text`] of a table to `file` (through a temporary file and a
/// rename).
pub fn write(file: &Path, text: &str) -> std::io::Result<()> {
    let tmp = file.with_extension("new");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, file)
}

/// Read `file` into `c`, if it exists; the complaints about it.
pub fn load(c: &mut Clients, file: &Path) -> Vec<String> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => return vec![format!("{}: {e}", file.display())],
    };
    let (entries, bad) = parse(&text, &file.display().to_string());
    c.restore(entries);
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_lines() {
        let text = "# comment\n32800 192.0.2.1 1765036800 1204 3 12 -\n\
                    1 2001:db8::7 1765036815 7 7 12 a\n\
                    32801 192.0.2.9 1765036816 2 0 12 b\n\
                    bogus line\n32800 999.1.1.1 1 1 1 12 -\n";
        let (entries, bad) = parse(text, "dccd_clients");
        assert_eq!(entries.len(), 3);
        assert_eq!(
            bad,
            [
                "dccd_clients line 5: unrecognized \"bogus line\"",
                "dccd_clients line 6: unrecognized \"32800 999.1.1.1 1 1 1 12 -\""
            ]
        );
        let mut c = Clients::default();
        c.restore(entries);
        assert_eq!(c.len(), 3);
        let again = text_sorted(&c);
        let (entries2, bad2) = parse(&again, "x");
        assert!(bad2.is_empty());
        let mut c2 = Clients::default();
        c2.restore(entries2);
        assert_eq!(text_sorted(&c2), again);
    }

    fn text_sorted(c: &Clients) -> String {
        let t = text(c);
        let mut lines: Vec<&str> = t.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    }

    #[test]
    fn save_and_load_a_file() {
        let dir = std::env::temp_dir().join(format!("tally-clients-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = path(&dir, true);
        assert!(f.ends_with("grey_clients"));
        let (entries, _) = parse("32800 127.0.0.1 5 6 7 12 -\n", "t");
        let mut c = Clients::default();
        c.restore(entries);
        write(&f, &text(&c)).unwrap();
        let mut d = Clients::default();
        assert!(load(&mut d, &f).is_empty());
        assert_eq!(d.len(), 1);
        assert!(load(&mut d, &dir.join("missing")).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
