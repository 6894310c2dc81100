//! The daemon's greylist requests (`-G`): each recipient's request to the
//! greylist server of the map, and `GREY_SPAM` for spam.

use super::Shared;
use crate::conn::Verdict;

/// The greylist requests of a message's recipients, sent at the same
/// time; the outcomes in the order of the requests.
pub(super) async fn ask_grey(
    sh: &Shared,
    reqs: Vec<tally_engine::grey::GreyRequest>,
) -> Vec<Result<tally_engine::grey::GreyAnswer, String>> {
    let out = ask_all(sh, reqs).await;
    for r in &out {
        crate::stats::COUNTS.grey(r.is_ok());
    }
    out
}

async fn ask_all(
    sh: &Shared,
    reqs: Vec<tally_engine::grey::GreyRequest>,
) -> Vec<Result<tally_engine::grey::GreyAnswer, String>> {
    let Some(c) = sh.dcc.as_ref() else {
        return reqs
            .iter()
            .map(|_| Err("no greylist server".to_string()))
            .collect();
    };
    if let [r] = reqs.as_slice() {
        return vec![c.grey(r).await];
    }
    let tasks: Vec<_> = reqs
        .into_iter()
        .map(|r| {
            let c = c.clone();
            tokio::spawn(async move { c.grey(&r).await })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(
            t.await
                .unwrap_or_else(|e| Err(format!("greylist request: {e}"))),
        );
    }
    out
}

/// `GREY_SPAM` requests, sent before answering the MTA as the original
/// does (their answers change nothing; a failure is logged).
pub(super) async fn send_grey_spam(sh: &Shared, v: &Verdict) {
    let Some(c) = sh.dcc.as_ref() else {
        return;
    };
    for req in &v.grey_spam {
        if let Err(e) = c.grey_spam(req).await {
            sh.syslog.error(&e);
        }
    }
}
