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

use crate::opts::Xfltr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Default longest wait for the filter's answer.
pub const DEFAULT_MSG_SECS: u64 = 10;

/// Ask the filter about one message; `request` is the text described
/// above. Errors are worded for the system log.
pub async fn consult(x: &Xfltr, request: &str) -> Result<XAnswer, String> {
    let Some(target) = x.target.as_deref() else {
        return Ok(XAnswer::Same);
    };
    let secs = if x.msg_secs == 0 {
        DEFAULT_MSG_SECS
    } else {
        x.msg_secs
    };
    let work = async {
        if let Some(path) = target.strip_prefix("unix:") {
            let mut s = tokio::net::UnixStream::connect(path)
                .await
                .map_err(|e| format!("-X {target}: {e}"))?;
            s.write_all(request.as_bytes())
                .await
                .map_err(|e| format!("-X {target}: {e}"))?;
            s.shutdown()
                .await
                .map_err(|e| format!("-X {target}: {e}"))?;
            read_answer(BufReader::new(s), target).await
        } else {
            let mut child = tokio::process::Command::new(target)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("-X {target}: {e}"))?;
            if let Some(mut i) = child.stdin.take() {
                i.write_all(request.as_bytes())
                    .await
                    .map_err(|e| format!("-X {target}: {e}"))?;
            }
            let out = child
                .stdout
                .take()
                .ok_or_else(|| format!("-X {target}: no output"))?;
            read_answer(BufReader::new(out), target).await
        }
    };
    match tokio::time::timeout(Duration::from_secs(secs), work).await {
        Ok(r) => r,
        Err(_) => Err(format!("-X {target}: no answer after {secs} seconds")),
    }
}

async fn read_answer<R: tokio::io::AsyncRead + Unpin>(
    r: BufReader<R>,
    target: &str,
) -> Result<XAnswer, String> {
    let mut line = String::new();
    // one line, bounded
    let mut limited = BufReader::new(r.take(4096));
    limited
        .read_line(&mut line)
        .await
        .map_err(|e| format!("-X {target}: {e}"))?;
    parse_answer(&line).ok_or_else(|| format!("-X {target}: bad answer \"{}\"", line.trim_end()))
}

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

/// The request text for one message.
pub fn request(summary: &str, verdict: &str, header: Option<&str>) -> String {
    format!("{summary}verdict {verdict}\n\n{}\n", header.unwrap_or(""))
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
