//! dccm and the shared `-X` filter ([`tally_engine::xfltr`],
//! docs/xfltr.md): what the filter is told at the end of a message and
//! how its answer changes the milter's verdict.
//!
//! dccm refuses, with `452 4.5.3`, a recipient whose `option xfltr-on`
//! setting differs from the transaction's first recipient's, so the
//! answer acts for every recipient or for none. Only mail from a SUBMIT
//! client, whose recipients cannot be refused, can mix them; then the
//! answer is logged and ignored. A greylist embargo or a `-x` DCC
//! failure stands: the filter is told (verdict `reject`) and its answer
//! logged, and the message comes back later.

use crate::conn::{Answer2, Verdict};
use crate::msg::Msg;
use crate::reply::Reply;
use tally_engine::xfltr::gate::Scope;
use tally_engine::xfltr::{Answer, Outcome, Request};

/// The request for one message and what the gating needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// The request.
    pub request: Request,
    /// Recipients with `option xfltr-on`.
    pub on: usize,
    /// All recipients.
    pub total: usize,
    /// The X-DCC header of the message (restored when the filter accepts
    /// a message dccm refused).
    pub header: Option<(String, String)>,
    /// The message is deferred (greylist embargo, `-x` DCC failure): the
    /// answer is logged and ignored, the message comes back later.
    pub deferred: bool,
}

impl Ask {
    /// The request for a message with dccm's verdict `v`; `header` is
    /// the X-DCC header the message gets when delivered.
    pub fn new(
        msg: &Msg,
        cip: &str,
        name: &str,
        helo: &str,
        v: &Verdict,
        header: Option<(String, String)>,
    ) -> Ask {
        let verdict = match &v.answer {
            Answer2::Accept => tally_engine::xfltr::Verdict::Accept,
            Answer2::Discard => tally_engine::xfltr::Verdict::Discard,
            Answer2::Reply(_) => tally_engine::xfltr::Verdict::Reject,
        };
        Ask {
            request: Request {
                id: msg.id.clone(),
                client_ip: cip.to_string(),
                client_name: name.to_string(),
                helo: helo.to_string(),
                env_from: msg.env_from.clone(),
                rcpts: msg.rcpts.iter().map(|r| r.env_to.clone()).collect(),
                verdict: Some(verdict),
                header: header.as_ref().map(|(n, val)| format!("{n}: {val}")),
            },
            on: msg.rcpts.iter().filter(|r| r.xfltr_on).count(),
            total: msg.rcpts.len(),
            header,
            deferred: false,
        }
    }

    /// Whose answer acts.
    pub fn scope(&self) -> Scope {
        if self.on == 0 {
            Scope::Nobody
        } else if self.deferred {
            Scope::Deferred
        } else if self.on == self.total {
            Scope::All
        } else {
            Scope::Differ
        }
    }
}

/// Change the verdict as the filter's answer says, when it acts.
pub fn apply(v: &mut Verdict, ask: &Ask, outcome: &Outcome) {
    let Some(a) = outcome.acting(ask.scope() == Scope::All) else {
        return;
    };
    match a {
        Answer::Same => {}
        Answer::Accept => {
            v.answer = Answer2::Accept;
            v.del_rcpts.clear();
            if v.add_header.is_none() {
                v.add_header = ask.header.clone();
            }
        }
        Answer::Discard => {
            v.answer = Answer2::Discard;
            v.add_header = None;
        }
        Answer::Reject(r) | Answer::Tempfail(r) => {
            v.answer = Answer2::Reply(Reply {
                rcode: r.rcode.clone(),
                xcode: r.xcode.clone(),
                text: r.text.clone(),
            });
            v.add_header = None;
        }
    }
}
