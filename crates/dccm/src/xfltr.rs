//! The `-X` external filter: a local program or unix socket consulted
//! once per message after DCC's decision.
//!
//! Interface (defined by this implementation): dccm connects to the unix
//! socket `unix:PATH` (or runs PROGRAM with no arguments) and writes one
//! request of text lines: `id ID`, `client IP NAME`, `helo HELO`,
//! `from ENV_FROM`, one `rcpt ADDR` per recipient, `verdict accept|reject|
//! discard`, then a blank line and the X-DCC header value. The filter
//! answers with a single line: `accept`, `discard`, `reject CODE XCODE
//! TEXT`, `tempfail CODE XCODE TEXT` or `same` (keep dccm's verdict). No
//! answer within `set:msg-secs` (default 10) seconds, or a malformed one,
//! keeps dccm's verdict and is logged. `set:debug` logs each exchange.

/// The filter's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XAnswer {
    /// Keep dccm's verdict.
    Same,
    /// Deliver.
    Accept,
    /// Throw away.
    Discard,
    /// Refuse (rcode, xcode, text); 4yz codes are temporary.
    Refuse(String, String, String),
}

/// Parse the filter's answer line.
pub fn parse_answer(line: &str) -> Option<XAnswer> {
    let line = line.trim_end_matches(['\r', '\n']);
    let mut w = line.splitn(4, ' ');
    let verb = w.next()?.to_ascii_lowercase();
    match verb.as_str() {
        "same" => Some(XAnswer::Same),
        "accept" => Some(XAnswer::Accept),
        "discard" => Some(XAnswer::Discard),
        "reject" | "tempfail" => {
            let rcode = w.next()?.to_string();
            let xcode = w.next()?.to_string();
            let text = w.next().unwrap_or("").to_string();
            let ok = rcode.len() == 3
                && rcode.bytes().all(|b| b.is_ascii_digit())
                && matches!(rcode.as_bytes()[0], b'4' | b'5');
            ok.then_some(XAnswer::Refuse(rcode, xcode, text))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        assert_eq!(parse_answer("accept\n"), Some(XAnswer::Accept));
        assert_eq!(
            parse_answer("reject 550 5.7.1 no"),
            Some(XAnswer::Refuse("550".into(), "5.7.1".into(), "no".into()))
        );
        assert_eq!(parse_answer("reject 250 x y"), None);
        assert_eq!(parse_answer(""), None);
    }
}
