//! The `-X` external filter shared by dccm, dccifd and dccproc: a local
//! program or unix socket told about each message after the DCC decision,
//! whose answer can change the verdict. docs/xfltr.md is the description
//! for a filter's author; this module follows it.
//!
//! - [`XfltrOpts`]: the `-X` arguments (`unix:PATH` or a program,
//!   `set:debug[=N]`, `set:msg-secs=S`).
//! - [`answer`]: the answer line, parsed without I/O.
//! - [`request`]: the request text.
//! - [`client`]: asking the filter (program or unix socket) with a time
//!   limit.
//! - [`gate`]: whether an answer acts (`option xfltr-on`) and the lines
//!   the log file and the system log get.

pub mod answer;
pub mod client;
pub mod gate;
pub mod request;

pub use answer::{parse_answer, Answer, AnswerError, Refusal};
pub use client::{consult, XfltrError};
pub use gate::{Outcome, Report, Scope};
pub use request::{Request, Verdict};

/// The default longest wait for an answer, in seconds (dccm(8)).
pub const DEFAULT_MSG_SECS: u64 = 20;
/// The largest `set:msg-secs`.
pub const MAX_MSG_SECS: u64 = 300;
/// The largest `set:debug=N`.
pub const MAX_DEBUG: u32 = 2;

/// The `-X` settings of a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XfltrOpts {
    /// The filter: `unix:PATH` or the path of a program; `None` when no
    /// `-X` named one.
    pub target: Option<String>,
    /// `set:debug` (each adds one) or `set:debug=N`: 0 logs only
    /// failures to the system log, 1 also every answer, 2 also every
    /// request.
    pub debug: u32,
    /// `set:msg-secs=S`: the longest wait for an answer.
    pub msg_secs: u64,
}

impl Default for XfltrOpts {
    fn default() -> Self {
        XfltrOpts {
            target: None,
            debug: 0,
            msg_secs: DEFAULT_MSG_SECS,
        }
    }
}

impl XfltrOpts {
    /// Apply one `-X` argument. The error names the option and is worded
    /// for the program's complaints.
    pub fn parse_arg(&mut self, arg: &str) -> Result<(), String> {
        let Some(set) = arg.strip_prefix("set:") else {
            if arg.is_empty() || arg == "unix:" {
                return Err(format!("invalid -X \"{arg}\": no filter named"));
            }
            self.target = Some(arg.to_string());
            return Ok(());
        };
        let (name, value) = match set.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (set, None),
        };
        if name.eq_ignore_ascii_case("debug") {
            match value {
                None => self.debug = self.debug.saturating_add(1).min(MAX_DEBUG),
                Some(v) => match v.parse::<u32>() {
                    Ok(n) if n <= MAX_DEBUG => self.debug = n,
                    _ => {
                        return Err(format!(
                            "invalid -X \"{arg}\": the level must be 0 to {MAX_DEBUG}"
                        ))
                    }
                },
            }
            Ok(())
        } else if name.eq_ignore_ascii_case("msg-secs") {
            match value.map(str::parse::<u64>) {
                Some(Ok(s)) if (1..=MAX_MSG_SECS).contains(&s) => {
                    self.msg_secs = s;
                    Ok(())
                }
                _ => Err(format!(
                    "invalid -X \"{arg}\": seconds must be 1 to {MAX_MSG_SECS}"
                )),
            }
        } else {
            Err(format!("unrecognized -X \"{arg}\""))
        }
    }

    /// Whether a filter is configured.
    pub fn on(&self) -> bool {
        self.target.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let mut o = XfltrOpts::default();
        assert_eq!(o.msg_secs, 20);
        assert!(!o.on());
        o.parse_arg("unix:/run/f.sock").unwrap();
        o.parse_arg("set:debug").unwrap();
        o.parse_arg("set:debug").unwrap();
        assert_eq!(o.debug, 2);
        o.parse_arg("set:debug=0").unwrap();
        assert_eq!(o.debug, 0);
        o.parse_arg("set:MSG-SECS=3").unwrap();
        assert_eq!(o.msg_secs, 3);
        assert_eq!(o.target.as_deref(), Some("unix:/run/f.sock"));
        assert!(o.parse_arg("set:msg-secs=0").is_err());
        assert!(o.parse_arg("set:msg-secs=301").is_err());
        assert!(o.parse_arg("set:msg-secs").is_err());
        assert!(o.parse_arg("set:debug=9").is_err());
        assert!(o
            .parse_arg("set:bogus")
            .unwrap_err()
            .starts_with("unrecognized"));
        assert!(o.parse_arg("").is_err());
        assert_eq!(o.msg_secs, 3);
    }
}
