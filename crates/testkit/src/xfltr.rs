//! Test filters for `-X` (docs/xfltr.md): a unix-socket filter and a
//! filter program that answer each message by a key taken from its
//! request: `acc` accept, `rej` reject, `dis` discard, `tmp` tempfail,
//! `same` same, `junk` an answer that is not one; `sleep` says nothing
//! for a while and `crash` ends without a word (keys in either case).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::Duration;

/// Where a filter finds a message's key in its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The sender's local part up to its first `-` (`from <KEY-…@…>`).
    Sender,
    /// The queue ID up to its first `-` (the first line, `id KEY-…`).
    QueueId,
}

/// The keys and their answers.
const ANSWERS: [(&str, &str); 6] = [
    ("acc", "accept"),
    ("rej", "reject 554 5.7.9 refused by the local filter"),
    ("dis", "discard"),
    ("tmp", "tempfail 451 4.7.1 try again later"),
    ("same", "same"),
    ("junk", "perhaps tomorrow"),
];

/// The answer line (newline included) for `key`, if it has one.
pub fn answer_for(key: &str) -> Option<String> {
    ANSWERS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, a)| format!("{a}\n"))
}

/// The key of a whole request (for [`Key::Sender`], of its last `from`
/// line).
fn key_of(request: &str, by: Key) -> String {
    let field = match by {
        Key::Sender => request
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("from "))
            .map(|f| f.trim_start_matches('<')),
        Key::QueueId => request.lines().next().and_then(|l| l.strip_prefix("id ")),
    };
    field
        .and_then(|f| f.split(['-', '@']).next())
        .unwrap_or("")
        .to_string()
}

/// A unix-socket filter bound at `path`, answering each request (read to
/// its end) by its key; a `sleep` key waits four seconds before closing.
/// It stops when the test's process ends.
pub fn socket_filter(path: &Path, by: Key) {
    let l = UnixListener::bind(path).unwrap_or_else(|e| panic!("bind {}: {e}", path.display()));
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let Ok(c) = s.try_clone() else { return };
                let mut r = BufReader::new(c);
                let mut request = String::new();
                let mut line = String::new();
                while r.read_line(&mut line).unwrap_or(0) > 0 {
                    request.push_str(&line);
                    line.clear();
                }
                let key = key_of(&request, by);
                match answer_for(&key) {
                    Some(a) => {
                        let _ = (&s).write_all(a.as_bytes());
                    }
                    None if key.eq_ignore_ascii_case("sleep") => {
                        std::thread::sleep(Duration::from_secs(4))
                    }
                    None => {}
                }
            });
        }
    });
}

/// Write at `path` a filter program doing what [`socket_filter`] does
/// (`sleep` sleeps 30 s, `crash` kills itself with SIGSEGV).
pub fn program_filter(path: &Path, by: Key) {
    let read = match by {
        Key::Sender => {
            "key=\nwhile IFS= read -r line; do\n  case \"$line\" in\n  \
             \"from \"*) key=${line#from }; key=${key#<}; key=${key%%[-@]*} ;;\n  \
             esac\ndone\n"
        }
        Key::QueueId => "read -r first\nid=${first#id }\ncat >/dev/null\nkey=${id%%-*}\n",
    };
    let mut script = format!("#!/bin/sh\n{read}case \"$key\" in\n");
    let mut arm = |k: &str, what: &str| {
        script.push_str(&format!("{k}|{}) {what} ;;\n", k.to_ascii_uppercase()));
    };
    for (k, a) in ANSWERS {
        arm(k, &format!("echo '{a}'"));
    }
    arm("sleep", "exec sleep 30");
    arm("crash", "kill -SEGV $$");
    script.push_str("esac\n");
    std::fs::write(path, script).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
