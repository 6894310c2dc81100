//! The request text sent to the filter: one line per fact, a blank line,
//! then the X-DCC header the program would add (empty when none).
//!
//! ```text
//! id QUEUE-ID
//! client IP NAME
//! helo HELO
//! from ENV_FROM
//! rcpt ENV_TO            (one line per recipient)
//! verdict accept|reject|discard
//!
//! X-DCC-brand-Metrics: ...
//! ```
//!
//! Carriage returns, newlines and NULs inside a value become spaces, so
//! that a value can never start a line of its own.

/// The program's own verdict, before the filter's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Deliver.
    Accept,
    /// Refuse (for good or for now).
    Reject,
    /// Throw away.
    Discard,
}

impl Verdict {
    /// The word of the `verdict` line.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Reject => "reject",
            Verdict::Discard => "discard",
        }
    }
}

/// What the filter is told about one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The queue ID or other identifier (may be empty).
    pub id: String,
    /// The SMTP client's IP address (empty when unknown).
    pub client_ip: String,
    /// The SMTP client's host name (empty when unknown).
    pub client_name: String,
    /// The HELO value.
    pub helo: String,
    /// The envelope sender.
    pub env_from: String,
    /// The envelope recipients.
    pub rcpts: Vec<String>,
    /// The program's verdict (`None` is written as `accept`).
    pub verdict: Option<Verdict>,
    /// The X-DCC header line, field name included.
    pub header: Option<String>,
}

fn clean(s: &str) -> String {
    s.replace(['\r', '\n', '\0'], " ")
}

impl Request {
    /// The request as sent.
    pub fn text(&self) -> String {
        let mut t = format!(
            "id {}\nclient {} {}\nhelo {}\nfrom {}\n",
            clean(&self.id),
            clean(&self.client_ip),
            clean(&self.client_name),
            clean(&self.helo),
            clean(&self.env_from)
        );
        for r in &self.rcpts {
            t.push_str(&format!("rcpt {}\n", clean(r)));
        }
        let v = self.verdict.unwrap_or(Verdict::Accept).word();
        t.push_str(&format!("verdict {v}\n\n"));
        if let Some(h) = &self.header {
            t.push_str(&h.replace('\0', " "));
            if !h.ends_with('\n') {
                t.push('\n');
            }
        } else {
            t.push('\n');
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text() {
        let r = Request {
            id: "Q1".into(),
            client_ip: "192.0.2.1".into(),
            client_name: "mx.example".into(),
            helo: "h\r\nverdict discard".into(),
            env_from: "<a@example.com>".into(),
            rcpts: vec!["<b@example.net>".into(), "<c@example.net>".into()],
            verdict: Some(Verdict::Reject),
            header: Some("X-DCC-x-Metrics: host 1; Body=many".into()),
        };
        assert_eq!(
            r.text(),
            "id Q1\nclient 192.0.2.1 mx.example\nhelo h  verdict discard\n\
             from <a@example.com>\nrcpt <b@example.net>\nrcpt <c@example.net>\n\
             verdict reject\n\nX-DCC-x-Metrics: host 1; Body=many\n"
        );
        let r = Request::default();
        assert_eq!(
            r.text(),
            "id \nclient  \nhelo \nfrom \nverdict accept\n\n\n"
        );
    }
}
