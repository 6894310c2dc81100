#![no_main]
//! dccsight's reading of checksum lines on arbitrary input: pieces that
//! cover the input, a checksum or a complaint naming the line, never a
//! panic.
use libfuzzer_sys::fuzz_target;
use tally_dccsight::lines::{piece_len, Lines, LINE_BUF};

fuzz_target!(|data: &[u8]| {
    let mut lines = Lines::new("stdin");
    let mut rest = data;
    while !rest.is_empty() {
        let n = piece_len(rest);
        assert!(n > 0 && n < LINE_BUF);
        if let Err(e) = lines.piece(&rest[..n]) {
            assert!(e.msg.contains(" in line "));
            assert!(e.code == 64 || e.code == 65);
        }
        rest = &rest[n..];
    }
});
