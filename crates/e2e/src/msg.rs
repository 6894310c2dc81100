//! Test messages and looking at delivered ones.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A token unique to this process and call, to make a message's checksums
/// new to the server.
pub fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}x{}x{nanos}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// A plain message with a body that differs from every other call's (so
/// its Body, Fuz1 and Fuz2 checksums are new), unless the same `seed` is
/// given again.
pub fn message(from: &str, to: &str, subject: &str, seed: &str) -> Vec<u8> {
    format!(
        "From: Sender <{from}>\n\
To: {to}\n\
Subject: {subject}\n\
Message-ID: <{}@example.org>\n\
Date: Mon, 23 Nov 2026 01:00:00 +0000\n\
MIME-Version: 1.0\n\
Content-Type: text/plain; charset=us-ascii\n\
\n\
Hello,\n\
\n\
this is a message for the end-to-end tests of the checksum clearinghouse.\n\
{}\n\
Marker {seed} keeps this text apart from the text of other messages.\n\
\n\
Regards,\n\
The sender\n",
        unique(),
        words(seed)
    )
    .into_bytes()
}

/// Ordinary words for the seed-dependent part of a body.
const WORDS: &[&str] = &[
    "apple", "river", "garden", "window", "market", "yellow", "silver", "forest", "bridge",
    "candle", "harbor", "winter", "summer", "planet", "rocket", "violin", "pepper", "tunnel",
    "island", "meadow", "copper", "basket", "pillow", "ladder", "orange", "saddle", "mirror",
    "pencil", "button", "wallet", "carpet", "kettle",
];

/// Four lines of twelve words chosen by a hash of `seed`: different seeds
/// give texts that differ for the fuzzy checksums too (which ignore digits
/// and short tokens such as the marker).
fn words(seed: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut lines = Vec::new();
    for _ in 0..4 {
        let mut line = Vec::new();
        for _ in 0..12 {
            h ^= h >> 29;
            h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            h ^= h >> 32;
            let i = usize::try_from(h % WORDS.len() as u64).unwrap_or(0);
            line.push(WORDS.get(i).copied().unwrap_or("word"));
        }
        lines.push(line.join(" "));
    }
    lines.join("\n")
}

/// The header section of a delivered message (up to the first empty line).
pub fn header_section(msg: &str) -> &str {
    let end = msg
        .find("\n\n")
        .or_else(|| msg.find("\r\n\r\n"))
        .unwrap_or(msg.len());
    msg.get(..end).unwrap_or(msg)
}

/// The first header line (with continuation lines) whose name starts with
/// `prefix` (case-insensitive), e.g. `X-DCC-`.
pub fn header_starting(msg: &str, prefix: &str) -> Option<String> {
    let head = header_section(msg);
    let mut lines = head.lines().peekable();
    let p = prefix.to_ascii_lowercase();
    while let Some(line) = lines.next() {
        if line.to_ascii_lowercase().starts_with(&p) {
            let mut h = line.to_string();
            while let Some(next) = lines.peek() {
                if next.starts_with([' ', '\t']) {
                    h.push('\n');
                    h.push_str(next);
                    lines.next();
                } else {
                    break;
                }
            }
            return Some(h);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_body_other_seed_other_words() {
        let a = String::from_utf8_lossy(&message("a@x", "b@y", "s", "one")).into_owned();
        let b = String::from_utf8_lossy(&message("a@x", "b@y", "s", "one")).into_owned();
        let c = String::from_utf8_lossy(&message("a@x", "b@y", "s", "two")).into_owned();
        let body = |m: &str| m.split_once("\n\n").map(|(_, b)| b.to_string());
        assert_eq!(body(&a), body(&b));
        assert_ne!(words("one"), words("two"));
        assert_ne!(body(&a), body(&c));
    }

    #[test]
    fn folded_header_is_found() {
        let m =
            "Subject: x\nX-DCC-b-Metrics: h 1100; Body=1\n\tFuz1=1\nTo: y\n\nX-DCC-b-Metrics: no\n";
        assert_eq!(
            header_starting(m, "x-dcc-").as_deref(),
            Some("X-DCC-b-Metrics: h 1100; Body=1\n\tFuz1=1")
        );
        assert_eq!(header_starting("A: b\n\nX-DCC-q: c\n", "X-DCC-"), None);
    }
}
