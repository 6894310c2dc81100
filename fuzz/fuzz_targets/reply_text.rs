#![no_main]
//! `-r` texts and DNS-list `rej-msg` texts on arbitrary input: scanned
//! and filled in without a panic, the finished text never longer than the
//! original's 255-byte buffer, and the whole SMTP reply starting with its
//! codes.
use libfuzzer_sys::fuzz_target;
use tally_dnsbl::reply::{Macro, Names, Pattern, Template};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // macro values as long as anything a message gives, and multi-byte
    let value = |m: Macro| match m {
        Macro::Id => "1A2B3C4D5E".repeat(30),
        Macro::ClientIp => "2001:db8::1".to_string(),
        _ => "é".repeat(200),
    };
    for names in [Names::Reject, Names::Dnsbl] {
        let out = Pattern::scan(text, names).expand(value);
        assert!(out.len() <= 255, "{} bytes", out.len());
    }
    for t in [Template::parse(text), Template::parse_reject(text)] {
        let filled = t.expand(value);
        assert!(filled.len() <= 255, "{} bytes", filled.len());
        let reply = t.reply(value);
        assert!(reply.starts_with('4') || reply.starts_with('5'), "{reply}");
    }
});
