//! The check plan of one message, sans-I/O: it says which DNS questions to ask,
//! takes their answers, and ends with the hits.
//!
//! ```text
//! let mut plan = Plan::new(&settings, Mode::Daemon, targets);
//! loop {
//!     match plan.step(parallel) {
//!         Step::Ask(questions) => for each: plan.answer(question, answer),
//!         Step::Done(outcome) => break outcome,
//!     }
//! }
//! ```
//!
//! Each step replays the checks in the original's order over the answers
//! known so far (a pass costs microseconds), so the logical order of questions
//! and the time budgets are those of the original however the answers arrive.
//! With `parallel` above 1 the plan also names questions further on, taking
//! the unknown answers as empty, so that a resolver can ask them at once.
//!
//! Time: each answer carries the milliseconds it took. A target (the client,
//! the sender domain, one URL host) may use `URL-secs`, the message
//! `msg-secs`; [`Want::budget_ms`] says what is left when a question is asked,
//! and [`resolver_timeout`] how long the resolver should wait for it.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::addr::to_bits;
use crate::answer::{Answer, Question};
use crate::option::{src, Settings, GROUPS};
use crate::outcome::{GroupResult, Hit, Outcome};
use crate::walk::{Group, Walk, TIMEO, WHITE};

/// URL hosts looked at in one message (repeats included): the checks of a
/// message stay bounded whatever its size.
pub const MAX_URLS: usize = 1000;

/// How the program checks, as the original's programs differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// dccm and dccifd (the original's helper processes): each target is checked
    /// in every list its kind is wanted for, whatever earlier targets found.
    Daemon,
    /// dccproc: checks carry the group state from target to target; a group
    /// marked out of time is not probed again for later targets (10c run i).
    Direct,
}

/// The SMTP client of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub ip: IpAddr,
    /// The client's name as the program knows it: the reverse DNS name, or
    /// `[192.0.2.66]` (dccm, dccifd) for none; `None` (dccproc without a name).
    pub name: Option<String>,
}

/// What a message offers to check, supplied by the engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Targets {
    pub client: Option<Client>,
    /// The envelope sender's domain.
    pub mail_host: Option<String>,
    /// Host names (or literal addresses) of the body's http:// and https:// URLs,
    /// lower-cased, in order; repeats are asked once.
    pub urls: Vec<String>,
}

/// A question to ask, with the time the checks can still give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Want {
    pub question: Question,
    pub budget_ms: u64,
}

/// What to do next.
#[derive(Clone, Debug)]
pub enum Step {
    /// Ask these (the first is the one the checks wait for).
    Ask(Vec<Want>),
    Done(Box<Outcome>),
}

/// How long a resolver waits for a question with `budget_ms` left, as the
/// original sets its resolver from the system's defaults (two tries of 5 s,
/// or of a third of the budget when that is too long): (tries, milliseconds
/// per try).
pub fn resolver_timeout(budget_ms: u64) -> (u32, u64) {
    resolver_timeout_from(budget_ms, 5000, 2)
}

/// The same from the system resolver's own timeout and tries (resolv.conf's
/// `options timeout:` and `attempts:`): kept when their worst case (doubling
/// waits) fits the budget, else two tries, of a third of the budget if need be.
pub fn resolver_timeout_from(budget_ms: u64, retrans_ms: u64, retry: u32) -> (u32, u64) {
    let budget_s = (budget_ms / 1000).max(1);
    let retrans_s = (retrans_ms / 1000).max(1);
    let retry = retry.clamp(1, 8);
    let worst = ((1u64 << retry) - 1) * retrans_s;
    if worst <= budget_s {
        return (retry, retrans_s * 1000);
    }
    if 3 * retrans_s < budget_s {
        (2, retrans_s * 1000)
    } else {
        (2, (budget_s / 3).max(1) * 1000)
    }
}

/// The checks of one message.
#[derive(Clone, Debug)]
pub struct Plan<'s> {
    settings: &'s Settings,
    mode: Mode,
    targets: Targets,
    answers: HashMap<Question, Answer>,
}

impl<'s> Plan<'s> {
    pub fn new(settings: &'s Settings, mode: Mode, targets: Targets) -> Plan<'s> {
        Plan {
            settings,
            mode,
            targets,
            answers: HashMap::new(),
        }
    }

    /// Gives the answer to a question.
    pub fn answer(&mut self, q: Question, a: Answer) {
        self.answers.insert(q, a);
    }

    /// Adds a URL host found later in the body; the checks go on with it.
    pub fn push_url(&mut self, host: String) {
        if self.targets.urls.len() < MAX_URLS {
            self.targets.urls.push(host);
        }
    }

    /// Whether a question has its answer.
    pub fn answered(&self, q: &Question) -> bool {
        self.answers.contains_key(q)
    }

    /// The next questions (at most `parallel`, at least one), or the outcome.
    pub fn step(&self, parallel: usize) -> Step {
        let (walk, complete) = self.run(parallel.max(1) - 1);
        if !complete {
            let wants = walk
                .wants
                .into_iter()
                .map(|(question, budget_ms)| Want {
                    question,
                    budget_ms,
                })
                .collect();
            return Step::Ask(wants);
        }
        Step::Done(Box::new(self.outcome(walk)))
    }

    fn run(&self, speculate: usize) -> (Walk<'_>, bool) {
        let s = self.settings;
        let mut w = Walk {
            s,
            answers: &self.answers,
            groups: Default::default(),
            tgt_hits: 0,
            cur_name: String::new(),
            cur_addr: 0,
            msg_left: i64::from(s.msg_secs) * 1000,
            url_budget: 0,
            url_used: 0,
            url_out: false,
            trace: Vec::new(),
            wants: Vec::new(),
            speculate,
        };
        if !s.enabled() {
            return (w, true);
        }
        w.fix_tgt_hits();
        let done = self.run_targets(&mut w).is_ok() && w.wants.is_empty();
        (w, done)
    }

    fn run_targets(&self, w: &mut Walk<'_>) -> Result<(), crate::walk::Pending> {
        if let Some(c) = &self.targets.client {
            if w.tgt_hits & src::CLIENT != 0 && w.msg_start(src::CLIENT) {
                w.cur_name = c.name.clone().unwrap_or_default();
                w.cur_addr = to_bits(c.ip);
                self.target(w, src::CLIENT)?;
            }
        }
        if let Some(h) = self.targets.mail_host.as_deref().filter(|h| !h.is_empty()) {
            if w.tgt_hits & src::MHOST != 0 && w.msg_start(src::MHOST) {
                w.cur_name = h.to_string();
                self.target(w, src::MHOST)?;
            }
        }
        let mut seen = HashSet::new();
        for u in self.targets.urls.iter().take(MAX_URLS) {
            if w.tgt_hits & src::URL == 0 {
                break;
            }
            let valid = u
                .bytes()
                .all(|b| matches!(b, b'-' | b'_' | b'.' | b'a'..=b'z' | b'0'..=b'9'));
            if !valid || !w.msg_start(src::URL) || !seen.insert(u.as_str()) {
                continue;
            }
            w.cur_name = u.clone();
            self.target(w, src::URL)?;
        }
        Ok(())
    }

    /// Checks one target and accounts for its time.
    fn target(&self, w: &mut Walk<'_>, hit: u16) -> Result<(), crate::walk::Pending> {
        let saved = match self.mode {
            Mode::Direct => None,
            Mode::Daemon => {
                let main = std::mem::take(&mut w.groups);
                w.fix_tgt_hits();
                Some(main)
            }
        };
        match hit {
            src::CLIENT => w.client()?,
            _ => w.name_url_mhost(hit)?,
        }
        if let Some(main) = saved {
            let found = std::mem::replace(&mut w.groups, main);
            w.time_post(hit);
            merge(&mut w.groups, found);
        } else {
            w.time_post(hit);
        }
        w.fix_tgt_hits();
        w.msg_fin();
        Ok(())
    }

    fn outcome(&self, w: Walk<'_>) -> Outcome {
        let groups = w.groups.map(|g| {
            if g.real() {
                GroupResult::Hit(Hit {
                    white: g.bits & WHITE != 0,
                    kind: g.bits & src::ALL,
                    list: g.list,
                    btype: g.btype,
                    target: g.target,
                    probe: g.probe,
                    result: g.result,
                })
            } else if g.bits & TIMEO != 0 {
                GroupResult::Timeout
            } else {
                GroupResult::None
            }
        });
        Outcome {
            groups,
            have_groups: self.settings.have_groups,
            questions: w.trace,
        }
    }
}

/// Takes what a target's checks found into the message's groups. A timeout of
/// a later target does not undo an earlier hit (a departure: the original's
/// helper answer would overwrite it).
fn merge(main: &mut [Group; GROUPS], found: [Group; GROUPS]) {
    for (m, f) in main.iter_mut().zip(found) {
        if f.bits == 0 || (!f.real() && m.real()) {
            continue;
        }
        *m = f;
    }
}
