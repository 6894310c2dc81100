#![no_main]
//! dccm's per-connection state machine on arbitrary milter-side input
//! (macros, envelope, headers and body pieces in any order and size),
//! without sockets: never a panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tally_dccm::fuzz_connection(data);
});
