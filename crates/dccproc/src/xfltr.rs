//! dccproc and the shared `-X` filter ([`tally_engine::xfltr`],
//! docs/xfltr.md): after the decision the filter is told about the
//! message (no recipients: dccproc knows none), and with `option
//! xfltr-on` in the `-w` whiteclnt file its answer sets the exit code:
//! `accept` 0, `reject` and `discard` the `-x` code (dccproc cannot
//! discard; the caller does what it does with spam), `tempfail` 75
//! (EX_TEMPFAIL). The message is copied out with its X-DCC header as
//! always. Without the option the answer is only logged.

use crate::delivery::Run;
use crate::opts::Opts;
use crate::white::Loaded;
use tally_ck::message::Checksums;
use tally_engine::ask::Decision;
use tally_engine::xfltr::gate::{self, Scope};
use tally_engine::xfltr::{consult, Answer, Outcome, Request, Verdict};

/// EX_TEMPFAIL, the exit code of a `tempfail` answer.
pub const EX_TEMPFAIL: i32 = 75;

/// What the filter's answer did.
pub struct Done {
    /// The exit code it asks for and the word of the log file's `result:`
    /// line; `None` keeps dccproc's own.
    pub act: Option<(i32, &'static str)>,
    /// The line for the log file.
    pub log_line: String,
}

/// Ask the filter about the decided message `d`.
pub fn run(
    r: &mut Run,
    o: &Opts,
    white: Option<&Loaded>,
    sums: &Checksums,
    d: &Decision,
) -> Option<Done> {
    if !o.xfltr.on() {
        return None;
    }
    let id = r
        .log
        .as_ref()
        .map(|l| l.id().to_string())
        .unwrap_or_default();
    let request = Request {
        id: id.clone(),
        client_ip: sums.client_ip.map(|i| i.to_string()).unwrap_or_default(),
        client_name: sums.client_name.clone().unwrap_or_default(),
        helo: sums.helo.clone().unwrap_or_default(),
        env_from: sums.env_from.clone().unwrap_or_default(),
        rcpts: Vec::new(),
        verdict: Some(if d.is_spam() {
            Verdict::Reject
        } else {
            Verdict::Accept
        }),
        header: d.header.as_ref().map(|h| h.as_str().trim_end().to_string()),
    };
    let text = request.text();
    let outcome = Outcome(consult(&o.xfltr, &text));
    let on = white.is_some_and(Loaded::xfltr_on);
    let scope = if on { Scope::All } else { Scope::Nobody };
    let report = gate::report(&o.xfltr, &id, &text, &outcome, scope);
    for i in &report.info {
        eprintln!("{i}");
        r.syslog.info(i);
    }
    if let Some(e) = &report.error {
        r.error_msg(e);
    }
    let act = outcome.acting(on).and_then(|a| match a {
        Answer::Same => None,
        Answer::Accept => Some((0, "accept")),
        Answer::Reject(_) | Answer::Discard => Some((o.exit_code, "reject")),
        Answer::Tempfail(_) => Some((EX_TEMPFAIL, "temporary failure")),
    });
    Some(Done {
        act,
        log_line: report.log_line,
    })
}
