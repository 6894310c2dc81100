#![no_main]
//! dcc-web's htpasswd parser and the hash checks other than bcrypt (whose
//! cost an input could make enormous) on arbitrary bytes: never a panic.
use libfuzzer_sys::fuzz_target;
use tally_web::auth::{form, verify, Form, Htpasswd};

fuzz_target!(|data: &[u8]| {
    let h = Htpasswd::parse("webusers", data);
    let _ = h.len();
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines() {
            if let Some((_, hash)) = line.split_once(':') {
                if form(hash) != Form::Bcrypt {
                    let _ = verify(hash, "password");
                }
            }
        }
    }
});
