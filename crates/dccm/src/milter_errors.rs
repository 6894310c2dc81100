//! Bad milter input, logged.
//!
//! The milter protocol library ends a session when the MTA sends a packet
//! it cannot decode (a length over its limit, a truncated command, a
//! connection closed in mid-packet) and skips unexpected commands and
//! undecodable macro packets. It reports those only as `tracing` events at
//! trace level, which nobody would see. This module is a small `tracing`
//! subscriber that listens to exactly those events of the library's session
//! code and writes them to the system log (and to standard error when dccm
//! runs in the foreground), so that an administrator learns why an MTA's
//! connection was dropped. The MTA then applies its own default for a milter
//! that went away (Postfix: `milter_default_action`; sendmail: the `F=`
//! flag), so no mail is lost.
//!
//! Per-message events of the library (every command read, every state
//! change) are turned off at their call sites, so they cost nothing.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use tally_engine::syslog::Syslog;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// The library's module whose events say why a session ended.
const SESSION_TARGET: &str = "indymilter::session";

/// What one library event means for the log, from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MilterTrouble {
    /// The session ended because of bad input or a broken connection.
    SessionError(String),
    /// The MTA closed the connection without saying QUIT first, possibly
    /// in the middle of a packet.
    Closed,
    /// A command that is not allowed at this point was ignored.
    UnexpectedCommand,
    /// A macro packet that could not be decoded was skipped.
    BadMacros(String),
}

impl MilterTrouble {
    /// Classify the text of a session event; `None` for routine ones.
    pub fn from_text(text: &str) -> Option<MilterTrouble> {
        if let Some(rest) = text.strip_prefix("error in session while processing commands") {
            let why = rest.trim_start_matches(':').trim();
            if why.contains("unexpected end of file") {
                return Some(MilterTrouble::Closed);
            }
            return Some(MilterTrouble::SessionError(why.to_string()));
        }
        if text.starts_with("ignoring unexpected command") {
            return Some(MilterTrouble::UnexpectedCommand);
        }
        if let Some(rest) = text.strip_prefix("skipping unrecognized macro command") {
            let why = rest.trim_start_matches(':').trim();
            return Some(MilterTrouble::BadMacros(why.to_string()));
        }
        None
    }

    /// Whether this is worth an error-level message: an MTA that merely
    /// hangs up is only noted at the informational level.
    pub fn is_error(&self) -> bool {
        !matches!(self, MilterTrouble::Closed)
    }

    /// The log line.
    pub fn line(&self) -> String {
        match self {
            MilterTrouble::SessionError(why) => {
                format!("milter connection dropped: {why}; the MTA applies its default action")
            }
            MilterTrouble::Closed => {
                "the MTA closed its milter connection without QUIT".to_string()
            }
            MilterTrouble::UnexpectedCommand => {
                "milter command out of order from the MTA ignored".to_string()
            }
            MilterTrouble::BadMacros(why) => format!("undecodable milter macros ignored: {why}"),
        }
    }
}

/// The subscriber: forwards [`MilterTrouble`] events to the log.
pub struct MilterErrors {
    syslog: Syslog,
    stderr: bool,
    next_span: AtomicU64,
}

impl MilterErrors {
    /// Log through `syslog`, and also to standard error when `stderr`.
    pub fn new(syslog: Syslog, stderr: bool) -> MilterErrors {
        MilterErrors {
            syslog,
            stderr,
            next_span: AtomicU64::new(1),
        }
    }

    /// Make this the process-wide subscriber; false when one was already
    /// installed (a second daemon in the same process, as in tests).
    pub fn install(self) -> bool {
        tracing::subscriber::set_global_default(self).is_ok()
    }

    fn wanted(meta: &Metadata<'_>) -> bool {
        // Only the session's plain-text events: the per-command ones carry
        // extra fields (the command, the state, the macros).
        meta.is_event()
            && meta.target() == SESSION_TARGET
            && meta.fields().iter().all(|f| f.name() == "message")
    }
}

/// Collects an event's `message` field.
#[derive(Default)]
struct MessageText(String);

impl Visit for MessageText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for MilterErrors {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if Self::wanted(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        Self::wanted(meta)
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        // Spans are never enabled; an id is still owed to the caller.
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed).max(1))
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut text = MessageText::default();
        event.record(&mut text);
        if let Some(t) = MilterTrouble::from_text(&text.0) {
            let line = t.line();
            if t.is_error() {
                self.syslog.error(&line);
            } else {
                self.syslog.info(&line);
            }
            if self.stderr {
                eprintln!("dccm: {line}");
            }
        }
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_library_texts() {
        assert_eq!(
            MilterTrouble::from_text(
                "error in session while processing commands: invalid message length: 99999999"
            ),
            Some(MilterTrouble::SessionError(
                "invalid message length: 99999999".into()
            ))
        );
        let eof = MilterTrouble::from_text(
            "error in session while processing commands: I/O error: unexpected end of file",
        );
        assert_eq!(eof, Some(MilterTrouble::Closed));
        assert!(!MilterTrouble::Closed.is_error());
        assert_eq!(
            MilterTrouble::from_text("ignoring unexpected command"),
            Some(MilterTrouble::UnexpectedCommand)
        );
        assert!(matches!(
            MilterTrouble::from_text("skipping unrecognized macro command: bad"),
            Some(MilterTrouble::BadMacros(_))
        ));
        assert_eq!(
            MilterTrouble::from_text("session done processing commands"),
            None
        );
        assert_eq!(MilterTrouble::from_text("milter starting"), None);
    }

    #[test]
    fn lines_name_the_cause() {
        let l = MilterTrouble::SessionError("connection closed".into()).line();
        assert!(l.contains("connection closed"), "{l}");
        assert!(l.contains("default action"), "{l}");
    }
}
