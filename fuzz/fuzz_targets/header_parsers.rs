#![no_main]
//! The header field parsers on arbitrary text: Received (dccproc -R),
//! Return-Path, the mbox "From " line, mail_host and -S names. Never a panic.
use libfuzzer_sys::fuzz_target;
use tally_ck::header::{
    parse_mail_host, parse_received, parse_return_path, parse_unix_from, SubName,
};

fuzz_target!(|data: &[u8]| {
    let _ = parse_received(data);
    let _ = parse_return_path(data);
    let _ = parse_unix_from(data);
    let _ = parse_mail_host(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = SubName::parse(s);
    }
});
