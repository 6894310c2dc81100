//! dccifd and the shared `-X` filter ([`tally_engine::xfltr`],
//! docs/xfltr.md): the filter is told about each message after the
//! decision, and its answer replaces the result of each recipient whose
//! whiteclnt files (per-user over main) have `option xfltr-on`:
//! `accept` gives `A`, `reject` and `discard` give `R`, `tempfail` gives
//! the temporary letter `G`. The overall result follows the recipients':
//! `A` when some recipient accepts, else `T` when some is deferred, else
//! `R`. For recipients without the option the answer is only logged.
//!
//! As an SMTP proxy dccifd answers a recipient whose `xfltr-on` setting
//! differs from the earlier recipients' with `452 4.5.3` (the joining
//! rule of `tally_white::compat`), so there the answer acts for every
//! recipient or for none; when it refuses the whole message the proxy
//! uses the filter's reply code and text (or drops the message quietly
//! for `discard`).
//!
//! A greylist embargo or a `-x` DCC failure stands: the filter is told
//! (verdict `reject`) and its answer logged but not acted on, and the
//! message comes back later.

use crate::config::Config;
use crate::decide::Decided;
use crate::proto::Head;
use crate::white::Lists;
use tally_engine::xfltr::gate::{self, Scope};
use tally_engine::xfltr::{consult, Answer, Outcome, Request, Verdict};

/// What the filter's answer did to a message.
#[derive(Debug, Clone, Default)]
pub struct Done {
    /// The line for the log files.
    pub log_line: String,
    /// The SMTP reply (without CRLF) of a refusal for every recipient.
    pub reply: Option<String>,
    /// The filter discarded the message for every recipient.
    pub discard: bool,
}

/// Ask the filter about a decided message and apply its answer. `id` is
/// the message's name in the logs. Failures go to `errors`, `set:debug`
/// lines to `infos`.
pub fn run(
    cfg: &Config,
    lists: &Lists,
    head: &Head,
    id: &str,
    d: &mut Decided,
    errors: &mut Vec<String>,
    infos: &mut Vec<String>,
) {
    if !cfg.xfltr.on() {
        return;
    }
    let on: Vec<bool> = (0..head.rcpts.len())
        .map(|i| {
            let user = lists.users.get(i).and_then(|u| u.as_deref());
            gate::xfltr_on(lists.global.as_deref(), user)
        })
        .collect();
    let deferred = d.embargo || d.tempfail;
    let verdict = if deferred || d.overall_reject {
        Verdict::Reject
    } else {
        Verdict::Accept
    };
    let request = Request {
        id: id.to_string(),
        client_ip: head.client_ip.map(|i| i.to_string()).unwrap_or_default(),
        client_name: head.client_name.clone().unwrap_or_default(),
        helo: head.helo.clone(),
        env_from: head.sender.clone(),
        rcpts: head.rcpts.iter().map(|r| r.addr.clone()).collect(),
        verdict: Some(verdict),
        header: d.header.as_ref().map(|h| h.as_str().trim_end().to_string()),
    };
    let text = request.text();
    let outcome = Outcome(consult(&cfg.xfltr, &text));
    let n_on = on.iter().filter(|&&o| o).count();
    // a message without recipients (the ASCII protocol allows it) has
    // the main file's setting
    let all_on = if on.is_empty() {
        gate::xfltr_on(lists.global.as_deref(), None)
    } else {
        n_on == on.len()
    };
    let scope = match (n_on, all_on) {
        (0, false) => Scope::Nobody,
        _ if deferred => Scope::Deferred,
        (_, true) => Scope::All,
        _ => Scope::of(n_on, on.len()),
    };
    let report = gate::report(&cfg.xfltr, id, &text, &outcome, scope);
    errors.extend(report.error);
    infos.extend(report.info);
    let mut done = Done {
        log_line: report.log_line,
        ..Done::default()
    };
    if !deferred {
        if let Some(a) = outcome.acting(true) {
            apply(d, &on, all_on, a, &mut done);
        }
    }
    d.xfltr = Some(done);
}

/// The per-recipient letters and the overall result after answer `a`.
fn apply(d: &mut Decided, on: &[bool], all_on: bool, a: &Answer, done: &mut Done) {
    if on.is_empty() && !all_on {
        return;
    }
    let letter = match a {
        Answer::Same => return,
        Answer::Accept => 'A',
        Answer::Reject(_) | Answer::Discard => 'R',
        Answer::Tempfail(_) => 'G',
    };
    let mut letters: Vec<char> = d
        .results
        .iter()
        .map(|&r| if r { 'A' } else { 'R' })
        .collect();
    for (l, &o) in letters.iter_mut().zip(on) {
        if o {
            *l = letter;
        }
    }
    for (r, l) in d.results.iter_mut().zip(&letters) {
        *r = *l == 'A';
    }
    let (overall, reject, temp) = if letters.is_empty() {
        (
            match letter {
                'A' => 'A',
                'G' => 'T',
                _ => 'R',
            },
            letter == 'R',
            letter == 'G',
        )
    } else if letters.contains(&'A') {
        ('A', false, false)
    } else if letters.contains(&'G') {
        ('T', false, true)
    } else {
        ('R', true, false)
    };
    d.overall_reject = reject;
    // the filter's answer, not the recipients' consensus, decides
    d.disposed = None;
    d.tempfail = temp;
    if all_on {
        match a {
            Answer::Reject(r) | Answer::Tempfail(r) => {
                done.reply = Some(
                    format!("{} {} {}", r.rcode, r.xcode, r.text)
                        .trim_end()
                        .to_string(),
                )
            }
            Answer::Discard => done.discard = true,
            _ => {}
        }
    }
    // the answer's first two lines: the overall result and the letters
    let rest = match d.head.iter().position(|&b| b == b'\n') {
        Some(i) => match d.head[i + 1..].iter().position(|&b| b == b'\n') {
            Some(j) => d.head[i + 1 + j + 1..].to_vec(),
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    let line: String = letters.iter().collect();
    let mut head = format!("{overall}\n{line}\n").into_bytes();
    head.extend_from_slice(&rest);
    d.head = head;
}
