//! What the greylisting scenes through Postfix and through sendmail
//! share: dccm's options, the short embargo of the greylist server and
//! waiting it out.

use crate::smtp::Outcome;
use std::time::Duration;

/// The embargo of the greylist server, in seconds.
pub const EMBARGO: u64 = 3;

/// The greylist server's `-G` argument: greylisting with an embargo of
/// [`EMBARGO`] seconds.
pub fn grey_arg() -> String {
    format!("on,{EMBARGO}")
}

/// dccm's options: greylisting (`-G on`), thresholds `-t CMN,2,3`, and
/// `-w whiteclnt` when the scene has a whiteclnt file.
pub fn dccm_opts(whiteclnt: bool) -> Vec<String> {
    let mut opts: Vec<String> = ["-G", "on", "-t", "CMN,2,3"].map(String::from).to_vec();
    if whiteclnt {
        opts.extend(["-w".to_string(), "whiteclnt".to_string()]);
    }
    opts
}

/// Sleep until the embargo of a triple first seen now has passed.
pub fn outwait_embargo() {
    std::thread::sleep(Duration::from_millis(EMBARGO * 1000 + 1500));
}

/// The whiteclnt file of the scenes with a whitelisted sender, and that
/// sender.
pub const FRIEND_WHITECLNT: &str = "ok env_From friend@sender.example\n";
pub const FRIEND: &str = "friend@sender.example";

/// A new message from [`FRIEND`] to `to`.
pub fn friend_message(to: &str) -> Vec<u8> {
    crate::msg::message(FRIEND, to, "news", &crate::msg::unique())
}

/// The transaction ended in a greylist embargo: 452 with 4.2.1 and
/// `text` in the reply (the scene's `logs` shown when not 452).
pub fn assert_embargo_reply(out: &Outcome, text: &str, logs: impl Fn() -> String) {
    assert_eq!(out.last.code, 452, "{out:?}\n{}", logs());
    assert!(
        out.last.text.contains("4.2.1") && out.last.text.contains(text),
        "{out:?}"
    );
}
