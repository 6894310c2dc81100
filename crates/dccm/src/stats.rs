//! `-M`: dccm's counters in Prometheus text and the graphs page (see
//! `tally-stats` and docs/statistics.md).
//!
//! Messages, recipients, rejections, discards, temporary failures and
//! connections refused for `-j` are the counters of the SIGUSR1 report
//! ([`crate::daemon::Totals`]), copied at each scrape and sample; the
//! greylist embargoes, whitelisted messages, DNS list hits and the DCC and
//! greylist servers' answers are the `static` [`COUNTS`], counted where
//! they happen (one relaxed atomic addition each).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tally_stats::filter::FilterCounts;
use tally_stats::mirror::{Fam, Mirror};
use tally_stats::{Exporter, Registry};

use crate::daemon::Shared;

/// The counts shared with dccifd's kind.
pub static COUNTS: FilterCounts = FilterCounts::new();

/// Count what the DNS lists said about a message; gives the outcome back.
pub fn dnsbl(o: tally_engine::dnsbl::Outcome) -> tally_engine::dnsbl::Outcome {
    let black = (0..tally_engine::dnsbl::GROUPS).any(|g| o.black(g).is_some());
    let white = (0..tally_engine::dnsbl::GROUPS).any(|g| o.white(g));
    COUNTS.dnsbl(black, white);
    o
}

const MESSAGES: Fam = Fam {
    name: "tally_dccm_messages_total",
    help: "Messages seen to their end.",
    labels: &[],
};
const RECIPIENTS: Fam = Fam {
    name: "tally_dccm_recipients_total",
    help: "Recipients of the messages seen to their end.",
    labels: &[],
};
const RESULTS: Fam = Fam {
    name: "tally_dccm_results_total",
    help: "Messages not simply accepted, by result: rejected, discarded, \
           tempfailed (temporary failures, greylist embargoes included).",
    labels: &["result"],
};
const REFUSED: Fam = Fam {
    name: "tally_dccm_connections_refused_total",
    help: "MTA connections refused over the -j limit.",
    labels: &[],
};

/// Start the listener of `-M` at `addr`; returns the bound address.
pub fn start(addr: SocketAddr, sh: Arc<Shared>) -> Result<SocketAddr, String> {
    let reg = Arc::new(Registry::new());
    COUNTS
        .register(&reg, "tally_dccm")
        .map_err(|e| e.to_string())?;
    let mirror = Mutex::new(Mirror::new());
    let exp = Exporter::new(reg, tally_stats::interval_from_env()).with_collect(move |r| {
        let mut m = mirror.lock().unwrap_or_else(|e| e.into_inner());
        let t = &sh.totals;
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = m.update(r, MESSAGES, &[], n(&t.msgs), 0);
        let _ = m.update(r, RECIPIENTS, &[], n(&t.tgts), 0);
        let _ = m.update(r, RESULTS, &["rejected"], n(&t.rejected), 0);
        let _ = m.update(r, RESULTS, &["discarded"], n(&t.discarded), 0);
        let _ = m.update(r, RESULTS, &["tempfailed"], n(&t.tempfailed), 0);
        let _ = m.update(r, REFUSED, &[], n(&t.too_many), 0);
        if let Ok(g) = r.gauge("tally_dccm_connections", "MTA connections open now.") {
            let open = sh.active.load(Ordering::Relaxed);
            g.set(i64::try_from(open).unwrap_or(i64::MAX));
        }
    });
    tally_stats::http::start(Arc::new(exp), addr)
}
