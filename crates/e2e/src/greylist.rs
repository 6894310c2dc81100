//! What the greylisting scenes through Postfix and through sendmail
//! share: dccm's options, the short embargo of the greylist server and
//! waiting it out.

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
