#![no_main]
//! The dccifd request parser (options, client, HELO, sender and recipient
//! lines, then the message) on arbitrary bytes: never a panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tally_dccifd::fuzz_request(data);
});
