//! The SMTP replies of proxy mode (`-o`) that `-r` can replace: the
//! first `-r` the bulk mail rejection, the second the greylist embargo
//! (which must stay a temporary 4yz reply), each `x.y.z NNN text` (codes
//! first, as the original wants them) or only a text, with `%ID` (the
//! log file's unique part) and `%CIP` (the SMTP client's address)
//! replaced.

/// The default bulk rejection (replaced by the first `-r`), the same as
/// that of DNS blacklist hits.
pub use tally_engine::dnsbl::DEFAULT_REJECT;
/// The default greylist embargo (replaced by the second `-r`).
pub const DEFAULT_GREY: &str = "4.2.1 452 mail %ID from %CIP temporary greylist embargoed";

/// The status code, reply code and text of a `-r` template: its own
/// when it starts with both, else those of `default`.
fn split_codes<'a>(m: &'a str, default: &'a str) -> (&'a str, &'a str, &'a str) {
    let mut words = m.splitn(3, ' ');
    let (x, n) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let is_x = x.split('.').count() == 3 && x.chars().all(|c| c.is_ascii_digit() || c == '.');
    let is_n = n.len() == 3 && n.chars().all(|c| c.is_ascii_digit());
    if is_x && is_n {
        return (x, n, words.next().unwrap_or(""));
    }
    let mut d = default.splitn(3, ' ');
    (d.next().unwrap_or(""), d.next().unwrap_or(""), m)
}

/// Whether a `-r` text can be the greylist reply: its codes, its own or
/// the default's, must be temporary (4yz), as the original checks.
pub fn valid_grey_msg(m: &str) -> bool {
    let (x, n, _) = split_codes(m, DEFAULT_GREY);
    x.starts_with('4') && n.starts_with('4')
}

/// An SMTP reply from a `-r` template (codes first, as the original
/// wants them; an empty or absent one means `default`), with `%ID` and
/// `%CIP` replaced.
pub fn smtp_reply(msg: Option<&str>, default: &str, id: &str, cip: &str) -> String {
    let m = msg.filter(|m| !m.is_empty()).unwrap_or(default);
    let (xcode, code, text) = split_codes(m, default);
    let text = text
        .replace("%ID", id)
        .replace("%CIP", cip)
        .replace("%%", "%");
    format!("{code} {xcode} {text}\r\n")
}

/// The bulk rejection reply from the first `-r`.
pub fn reject_reply(msg: Option<&str>, id: &str, cip: &str) -> String {
    smtp_reply(msg, DEFAULT_REJECT, id, cip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        assert_eq!(
            reject_reply(None, "AB12", "192.0.2.1"),
            "550 5.7.1 mail AB12 from 192.0.2.1 rejected by DCC\r\n"
        );
        assert_eq!(
            reject_reply(Some("4.7.1 451 Access denied by DCC"), "", ""),
            "451 4.7.1 Access denied by DCC\r\n"
        );
        assert_eq!(
            reject_reply(Some("go away"), "", ""),
            "550 5.7.1 go away\r\n"
        );
        assert_eq!(
            smtp_reply(None, DEFAULT_GREY, "L1", "198.51.100.201"),
            "452 4.2.1 mail L1 from 198.51.100.201 temporary greylist embargoed\r\n"
        );
        assert_eq!(
            smtp_reply(
                Some("4.7.0 451 Greylisted %ID from %CIP, retry later"),
                DEFAULT_GREY,
                "L4",
                "198.51.100.241"
            ),
            "451 4.7.0 Greylisted L4 from 198.51.100.241, retry later\r\n"
        );
        assert!(valid_grey_msg("try again later"));
        assert!(!valid_grey_msg("5.7.1 550 no"));
    }
}
