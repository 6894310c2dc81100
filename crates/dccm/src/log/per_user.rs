//! The per-user copy of a kept log file (`userdirs/<dir>/log`): as the
//! manual page says, information about the other recipients is removed.
//! As the original writes them, a copy keeps only its own recipient's
//! `env_To:` line and `Rcpt To:` refusal, says `per-user-log` in the
//! decision line, and for a recipient that was refused at RCPT time ends
//! with `result: reject temporarily` instead of the message's rejection.

use tally_engine::logfile::MSG_SEP;

/// The copy of the log `text` for the recipient whose envelope address
/// is `env_to` (as in its `env_To:` line).
pub fn per_user_text(text: &str, env_to: &str) -> String {
    let sep = MSG_SEP.trim_matches('\n');
    let own_env = format!("env_To: {env_to}  ");
    let own_refusal = format!("Rcpt To:{env_to}: ");
    // where the envelope ends and where the part after the body begins
    let env_end = text.lines().position(str::is_empty).unwrap_or(0);
    let tail_start = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == sep)
        .map(|(i, _)| i)
        .last();
    let in_tail = |i: usize| tail_start.is_some_and(|t| i > t);
    let refused = text
        .lines()
        .enumerate()
        .any(|(i, l)| in_tail(i) && l.starts_with(&own_refusal));
    let (grey_skip, embargo_num) = grey_lines(text, env_to, tail_start);
    let mut out = String::with_capacity(text.len());
    let mut decision_done = false;
    for (i, line) in text.lines().enumerate() {
        if i < env_end && line.starts_with("env_To: ") && !line.starts_with(&own_env) {
            continue;
        }
        if grey_skip.contains(&i) {
            continue;
        }
        let mut line = std::borrow::Cow::Borrowed(line);
        if in_tail(i) {
            if line.starts_with("Rcpt To:") && !line.starts_with(&own_refusal) {
                continue;
            }
            if refused && line.starts_with("rejection message: ") {
                continue;
            }
            if refused && line.starts_with("result: ") {
                line = "result: reject temporarily".into();
            } else if line == "result: temporary greylist embargo" {
                if let Some(n) = &embargo_num {
                    line = format!("{line} #{n}").into();
                }
            }
            if !decision_done && line.ends_with("  global-log  ") {
                decision_done = true;
                line = line.replace("  global-log  ", "  per-user-log  ").into();
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    out
}

/// The greylist lines (after the body) that are not the recipient's:
/// their line numbers (the heading and its blank line too when the
/// recipient has none), and the recipient's embargo number, if any.
fn grey_lines(text: &str, env_to: &str, tail_start: Option<usize>) -> (Vec<usize>, Option<String>) {
    let mut addr = env_to;
    if addr.len() > 1 && addr.starts_with('<') && addr.ends_with('>') {
        addr = &addr[1..addr.len() - 1];
    }
    let own = format!("{addr}: ");
    let lines: Vec<&str> = text.lines().collect();
    let Some(head) = lines
        .iter()
        .enumerate()
        .skip(tail_start.unwrap_or(usize::MAX))
        .find(|(_, l)| l.starts_with("       greylist recipient"))
        .map(|(i, _)| i)
    else {
        return (Vec::new(), None);
    };
    let end = (head + 1..lines.len())
        .find(|&i| lines[i].is_empty())
        .unwrap_or(lines.len());
    let mut skip = Vec::new();
    let mut embargo = None;
    let mut found = false;
    for pair in (head + 1..end).collect::<Vec<_>>().chunks(2) {
        let mine = lines[pair[0]].trim_start().starts_with(&own);
        if mine && !found {
            found = true;
            embargo = pair
                .get(1)
                .and_then(|&i| lines[i].rsplit_once(" Embargo #"))
                .map(|(_, n)| n.to_string())
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()));
        } else {
            skip.extend_from_slice(pair);
        }
    }
    if !found {
        skip.push(head);
        if end < lines.len() {
            skip.push(end);
        }
    }
    (skip, embargo)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "VERSION: 3\n\
DATE: 11/22/26 12:07:49 UTC\n\
env_From: <alice@example.com>  mail_host=example.com\n\
env_To: <bob@example.net>  addr=bob  dir=userdirs/local/bob\n\
env_To: <carol@example.net>  addr=carol  dir=userdirs/local/carol\n\
\n\
Subject: hi\n\
\n\
Rcpt To:<carol@example.net>: a body line that looks like a refusal\n\
\n\
### end of message body ########################\n\
DCC-->spam  dccm  global-log  \n\
\n\
X-DCC-b-Metrics: vm 1200; bulk Body=46\n\
\n\
Rcpt To:<carol@example.net>: 452 4.5.3 reject temporarily for incompatible whitelists\n\
rejection message: 550 5.7.1 mail G5 from 203.0.113.75 rejected by DCC\n\
result: reject\n";

    #[test]
    fn accepted_recipient() {
        let t = per_user_text(LOG, "<bob@example.net>");
        assert!(t.contains("env_To: <bob@example.net>"));
        assert!(!t.contains("env_To: <carol"), "{t}");
        assert!(!t.contains("452 4.5.3"), "{t}");
        // the body is left as it was
        assert!(
            t.contains("Rcpt To:<carol@example.net>: a body line"),
            "{t}"
        );
        assert!(t.contains("DCC-->spam  dccm  per-user-log  \n"));
        assert!(t.ends_with(
            "rejection message: 550 5.7.1 mail G5 from 203.0.113.75 rejected by DCC\nresult: reject\n"
        ));
    }

    #[test]
    fn refused_recipient() {
        let t = per_user_text(LOG, "<carol@example.net>");
        assert!(!t.contains("env_To: <bob@example.net>"), "{t}");
        assert!(t.contains("Rcpt To:<carol@example.net>: 452"));
        assert!(!t.contains("rejection message"));
        assert!(t.ends_with("result: reject temporarily\n"), "{t}");
    }

    const GREY_LOG: &str = "VERSION: 3\n\
env_To: <bob@example.net>  addr=bob  dir=ud/local/bob\n\
env_To: <dave@example.net>  addr=dave  dir=ud/local/dave\n\
\n\
Subject: hi\n\
\n\
### end of message body ########################\n\
dccm  global-log  \n\
\n\
\n\
\x20      greylist recipient\n\
\x20         bob@example.net: 11111111 11111111 11111111 11111111 \n\
\x20                          22222222 22222222 22222222 22222222 Pass\n\
\x20        dave@example.net: 33333333 33333333 33333333 33333333 \n\
\x20                          44444444 44444444 44444444 44444444 Embargo #2\n\
\n\
rejection message: 452 4.2.1 mail X from 192.0.2.1 temporary greylist embargoed\n\
result: temporary greylist embargo\n";

    #[test]
    fn greylisted_recipients() {
        let t = per_user_text(GREY_LOG, "<dave@example.net>");
        assert!(!t.contains("bob@example.net: 1111"), "{t}");
        assert!(t.contains("dave@example.net: 3333"), "{t}");
        assert!(t.contains("4444 Embargo #2\n\nrejection message"), "{t}");
        assert!(
            t.ends_with("result: temporary greylist embargo #2\n"),
            "{t}"
        );
        let t = per_user_text(GREY_LOG, "<bob@example.net>");
        assert!(t.contains("2222 Pass\n\nrejection"), "{t}");
        assert!(!t.contains("dave@example.net: 3333"), "{t}");
        assert!(t.ends_with("result: temporary greylist embargo\n"), "{t}");
        // a recipient that was not greylisted has no greylist lines
        let t = per_user_text(GREY_LOG, "<erin@example.net>");
        assert!(!t.contains("greylist recipient"), "{t}");
        assert!(t.contains("\n\nrejection message"), "{t}");
    }
}
