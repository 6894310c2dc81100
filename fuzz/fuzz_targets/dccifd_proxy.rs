#![no_main]
//! dccifd's SMTP proxy dialogue (`-o /dev/null`) on arbitrary bytes from
//! the SMTP client: commands and their arguments, XFORWARD and XCLIENT,
//! DATA and its end, with a DCC server that fails: never a panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tally_dccifd::fuzz_proxy(data);
});
