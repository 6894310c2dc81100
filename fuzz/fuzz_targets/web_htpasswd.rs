#![no_main]
//! dcc-web's htpasswd parser and the hash checks other than bcrypt (whose
//! cost an input could make enormous) on arbitrary bytes: never a panic.
//! A password change of each user replaces that user's hash and no other.
use libfuzzer_sys::fuzz_target;
use tally_web::auth::{form, verify, Form, Htpasswd};
use tally_web::password::replace_hash;

fuzz_target!(|data: &[u8]| {
    let h = Htpasswd::parse("webusers", data);
    let _ = h.len();
    // a few users each time: every one of them would make the run quadratic
    for user in h.users().take(4) {
        let new = replace_hash(data, user, "NEW").expect("a listed user is found");
        let after = Htpasswd::parse("webusers", &new);
        assert_eq!(after.hash_of(user), Some("NEW"));
        for other in h.users().filter(|o| o != &user) {
            assert_eq!(after.hash_of(other), h.hash_of(other));
        }
        assert_eq!(after.len(), h.len());
    }
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
