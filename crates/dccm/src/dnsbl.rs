//! DNS list checks (`-B`) of a message while it arrives: the client and
//! sender checks start at the end of the header, each URL host of the body
//! joins as it is found, and the outcome is awaited at the end of the
//! message, never longer than `msg-secs` from then.

use std::sync::Arc;
use std::time::Duration;

use tally_engine::dnsbl::{Checker, Mode, Outcome, Targets, MAX_URLS};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The checks of one message.
pub struct Run {
    tx: Option<mpsc::Sender<String>>,
    handle: Option<JoinHandle<Outcome>>,
    msg_secs: u64,
}

/// Start the checks (on the current tokio runtime; `None` without one).
pub fn start(c: &Arc<Checker>, targets: Targets) -> Option<Run> {
    let rt = tokio::runtime::Handle::try_current().ok()?;
    // room for every host a message can give: sending never waits
    let (tx, rx) = mpsc::channel(MAX_URLS + 1);
    let c2 = c.clone();
    let handle = rt.spawn(async move {
        c2.resolver
            .check_streaming(&c2.settings, Mode::Daemon, targets, rx, c2.parallel)
            .await
    });
    Some(Run {
        tx: Some(tx),
        handle: Some(handle),
        msg_secs: u64::from(c.settings.msg_secs),
    })
}

impl Run {
    /// URL hosts found in the body.
    pub fn urls(&mut self, hosts: Vec<String>) {
        if let Some(tx) = self.tx.as_ref() {
            for h in hosts {
                if tx.try_send(h).is_err() {
                    break;
                }
            }
        }
    }

    /// The end of the message: the last hosts, then the outcome (nothing
    /// found if the checks failed; at most `msg-secs` and a little).
    pub async fn finish(mut self, rest: Vec<String>) -> Outcome {
        self.urls(rest);
        self.tx = None;
        let Some(h) = self.handle.take() else {
            return Outcome::default();
        };
        let limit = Duration::from_secs(self.msg_secs) + Duration::from_millis(500);
        match tokio::time::timeout(limit, h).await {
            Ok(Ok(o)) => crate::stats::dnsbl(o),
            _ => Outcome::default(),
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // an abandoned message: its checks are of no use
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}
