#![no_main]
//! dccd's `flod` file on arbitrary bytes: never a panic; every refused
//! line names a line of the input, no server-ID is kept twice, and each
//! kept peer's line parses alone to the same peer.
use libfuzzer_sys::fuzz_target;
use tally_dccd::flood::file::{parse, parse_line_off};

fuzz_target!(|data: &[u8]| {
    let (peers, errors) = parse(data);
    let lines = data.split(|&c| c == b'\n').count();
    for e in &errors {
        assert!(e.line >= 1 && e.line <= lines, "{e}");
        let _ = e.to_string();
    }
    for (i, p) in peers.iter().enumerate() {
        assert!(
            peers[..i].iter().all(|q| q.rem_id != p.rem_id),
            "server-ID {} kept twice",
            p.rem_id
        );
    }
    // each line alone: the same answer as within the file
    for (i, raw) in data.split(|&c| c == b'\n').enumerate().take(64) {
        let s = String::from_utf8_lossy(raw);
        let s = s.split('#').next().unwrap_or("").trim();
        if s.is_empty() {
            continue;
        }
        let (alone, _) = parse_line_off(s, i + 1);
        if let Some(a) = alone {
            assert!(
                peers.iter().any(|p| p.rem_id == a.rem_id),
                "line {} lost",
                i + 1
            );
        }
    }
});
