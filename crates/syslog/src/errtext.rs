//! The words of a system error as the original prints them.

use std::io;

/// The text of an I/O error as C's `strerror()` prints it, without Rust's
/// " (os error N)" suffix: the original's words in complaints. An error
/// without that suffix (one made by Rust, not the system) is its whole
/// text.
pub fn os_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s.get(..i).unwrap_or(&s).to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_errors_lose_their_number() {
        // ENOENT
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(os_text(&e), "No such file or directory");
        assert!(e.to_string().ends_with(" (os error 2)"));
        let e = io::Error::from_raw_os_error(28);
        assert_eq!(os_text(&e), "No space left on device");
    }

    #[test]
    fn other_errors_are_kept_whole() {
        let e = io::Error::new(io::ErrorKind::InvalidData, "bad line (os error");
        assert_eq!(os_text(&e), "bad line (os error");
        let e = io::Error::other("stream did not contain valid UTF-8");
        assert_eq!(os_text(&e), "stream did not contain valid UTF-8");
    }
}
