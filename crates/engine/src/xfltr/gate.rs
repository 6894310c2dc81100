//! Whether the filter's answer acts, and what the logs say about it.
//!
//! dccm(8): positive results of the external filter are ignored after
//! being logged unless an `option xfltr-on` line appears in the global or
//! a per-user whiteclnt file. A recipient's setting is that of its
//! per-user file over the global file's (`option xfltr-off` turns it off
//! again); [`Outcome::acting`] gives the answer that acts for a
//! recipient with or without it. Failures (no answer in time, a malformed
//! answer, a filter that could not be reached or ended without
//! answering) never change a verdict.

use super::answer::Answer;
use super::client::XfltrError;
use super::XfltrOpts;
use tally_white::{Switches, WhiteList};

/// The filter's answer to one message, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome(pub Result<Answer, XfltrError>);

impl Outcome {
    /// The answer that acts for a recipient whose whiteclnt files have
    /// (`xfltr_on`) or lack `option xfltr-on`: `None` keeps the
    /// program's verdict.
    pub fn acting(&self, xfltr_on: bool) -> Option<&Answer> {
        // (a program decides `xfltr_on` per recipient, see [`Scope`])
        match &self.0 {
            Ok(a) if xfltr_on && a.is_positive() => Some(a),
            _ => None,
        }
    }
}

/// Whether the `-X` filter's answers act for a recipient: `option
/// xfltr-on` or `xfltr-off` of its per-user whiteclnt file, else of the
/// main file; off when neither says.
pub fn xfltr_on(global: Option<&WhiteList>, user: Option<&WhiteList>) -> bool {
    let mut on = false;
    for l in global.into_iter().chain(user) {
        let s = l.switches();
        if s.has(Switches::XFLTR_ON) {
            on = true;
        } else if s.has(Switches::XFLTR_OFF) {
            on = false;
        }
    }
    on
}

/// What the per-message log file and the system log get.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// The line for the message's log file (without newline).
    pub log_line: String,
    /// A failure for the system log's error messages.
    pub error: Option<String>,
    /// Lines for the system log's information messages (`set:debug`).
    pub info: Vec<String>,
}

/// For whom an answer acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every recipient has `option xfltr-on`.
    All,
    /// No recipient has it: the answer is logged and ignored.
    Nobody,
    /// Some of the recipients (`on` of `total`) have it and the answer
    /// acts for them alone (dccifd's per-recipient results).
    Part {
        /// Recipients with `option xfltr-on`.
        on: usize,
        /// All recipients.
        total: usize,
    },
    /// The recipients differ and the program cannot answer them apart
    /// (dccm with a SUBMIT client): the answer is logged and ignored.
    Differ,
    /// The message is deferred (greylist embargo, `-x` DCC failure) and
    /// comes back later: the answer is logged and ignored.
    Deferred,
}

impl Scope {
    /// The scope for `on` of `total` recipients in a program that can
    /// answer recipients apart.
    pub fn of(on: usize, total: usize) -> Scope {
        if on == 0 {
            Scope::Nobody
        } else if on >= total {
            Scope::All
        } else {
            Scope::Part { on, total }
        }
    }
}

/// The report of one exchange about message `id`.
pub fn report(
    opts: &XfltrOpts,
    id: &str,
    request: &str,
    outcome: &Outcome,
    scope: Scope,
) -> Report {
    let target = opts.target.as_deref().unwrap_or("");
    let id = if id.is_empty() { "the message" } else { id };
    let mut r = Report::default();
    if opts.debug >= 2 {
        r.info.push(format!(
            "-X {target}: request for {id}: {}",
            request.trim_end().replace('\n', "\\n")
        ));
    }
    match &outcome.0 {
        Err(e) => {
            r.log_line = format!("external filter: {e}; verdict kept");
            r.error = Some(format!("-X {target}: {e}; {id} keeps its verdict"));
        }
        Ok(a) => {
            let how = match scope {
                _ if !a.is_positive() => String::new(),
                Scope::All => String::new(),
                Scope::Nobody => "; ignored without option xfltr-on".to_string(),
                Scope::Part { on, total } => {
                    format!("; acted on for {on} of {total} recipients with option xfltr-on")
                }
                Scope::Differ => {
                    "; ignored because the recipients differ in option xfltr-on".to_string()
                }
                Scope::Deferred => "; ignored while the message is deferred".to_string(),
            };
            let shown = a.to_string();
            r.log_line = format!("external filter: {}{how}", shown.trim_end());
            if opts.debug >= 1 {
                r.info
                    .push(format!("-X {target}: {id}: {}{how}", shown.trim_end()));
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xfltr::answer::parse_answer;

    fn opts(debug: u32) -> XfltrOpts {
        XfltrOpts {
            target: Some("unix:/f".into()),
            debug,
            msg_secs: 2,
        }
    }

    #[test]
    fn gating() {
        let rej = Outcome(parse_answer(b"reject 550 5.7.1 no").map_err(|_| XfltrError::Timeout(0)));
        assert!(rej.acting(true).is_some());
        assert!(rej.acting(false).is_none());
        let same = Outcome(Ok(Answer::Same));
        assert!(same.acting(true).is_none());
        let late = Outcome(Err(XfltrError::Timeout(2)));
        assert!(late.acting(true).is_none());
    }

    #[test]
    fn reports() {
        let rej = Outcome(Ok(parse_answer(b"reject 550 5.7.1 no").unwrap()));
        let r = report(&opts(0), "Q1", "id Q1\n", &rej, Scope::of(0, 2));
        assert_eq!(
            r.log_line,
            "external filter: reject 550 5.7.1 no; ignored without option xfltr-on"
        );
        assert!(r.error.is_none() && r.info.is_empty());
        let r = report(&opts(1), "Q1", "id Q1\n", &rej, Scope::of(1, 2));
        assert_eq!(
            r.info,
            vec!["-X unix:/f: Q1: reject 550 5.7.1 no; acted on for 1 of 2 recipients with option xfltr-on"]
        );
        let late = Outcome(Err(XfltrError::Timeout(2)));
        let r = report(&opts(2), "Q1", "id Q1\n", &late, Scope::of(1, 1));
        assert_eq!(
            r.log_line,
            "external filter: no answer after 2 seconds; verdict kept"
        );
        assert_eq!(
            r.error.as_deref(),
            Some("-X unix:/f: no answer after 2 seconds; Q1 keeps its verdict")
        );
        assert_eq!(r.info, vec!["-X unix:/f: request for Q1: id Q1"]);
    }
}
