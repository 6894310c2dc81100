//! `-M`: dccifd's counters in Prometheus text and the graphs page (see
//! `tally-stats` and docs/statistics.md).
//!
//! The answers by result, proxied and dropped connections are those of
//! the SIGUSR1 report ([`crate::totals`]), copied at each scrape and
//! sample; recipients, whitelisted messages, DNS list hits and the DCC and
//! greylist servers' answers are the `static` [`COUNTS`], counted where
//! they happen (one relaxed atomic addition each).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tally_engine::state::ST_WLIST_NOTSPAM;
use tally_stats::filter::FilterCounts;
use tally_stats::mirror::{Fam, Mirror};
use tally_stats::{Exporter, Registry};

use crate::daemon::Shared;
use crate::decide::Decided;
use crate::proto::Head;

/// The counts shared with dccm's kind.
pub static COUNTS: FilterCounts = FilterCounts::new();
/// Recipients of the messages checked.
pub static RECIPIENTS: AtomicU64 = AtomicU64::new(0);

/// Count a message once decided: its recipients, whether it was
/// whitelisted for all of them, what the DNS lists said.
pub fn decided(head: &Head, d: &Decided) {
    RECIPIENTS.fetch_add(head.rcpts.len() as u64, Ordering::Relaxed);
    if d.st() & ST_WLIST_NOTSPAM != 0 {
        FilterCounts::one(&COUNTS.whitelisted);
    }
    if d.embargo {
        FilterCounts::one(&COUNTS.embargoed);
    }
    if let Some((o, _)) = &d.dnsbl {
        let black = (0..tally_engine::dnsbl::GROUPS).any(|g| o.black(g).is_some());
        let white = (0..tally_engine::dnsbl::GROUPS).any(|g| o.white(g));
        COUNTS.dnsbl(black, white);
    }
}

const ANSWERS: Fam = Fam {
    name: "tally_dccifd_messages_total",
    help: "Messages answered, by overall result: accepted (A or S), \
           rejected (R), embargoed (G, greylisting), tempfailed (T).",
    labels: &["result"],
};
const OTHER: Fam = Fam {
    name: "tally_dccifd_connections_total",
    help: "Connections by kind: proxied (-o SMTP proxy), dropped (ended \
           without an answer: bad or cut-off requests).",
    labels: &["kind"],
};

/// Start the listener of `-M` at `addr`; returns the bound address.
pub fn start(addr: SocketAddr, sh: Arc<Shared>) -> Result<SocketAddr, String> {
    let reg = Arc::new(Registry::new());
    COUNTS
        .register(&reg, "tally_dccifd")
        .map_err(|e| e.to_string())?;
    reg.counter_static(
        "tally_dccifd_recipients_total",
        "Recipients of the messages checked.",
        &[],
        &[],
        &RECIPIENTS,
    )
    .map_err(|e| e.to_string())?;
    let mirror = Mutex::new(Mirror::new());
    let exp = Exporter::new(reg, tally_stats::interval_from_env()).with_collect(move |r| {
        let mut m = mirror.lock().unwrap_or_else(|e| e.into_inner());
        let t = &sh.totals;
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        for (fam, label, v) in [
            (ANSWERS, "accepted", n(&t.accepted)),
            (ANSWERS, "rejected", n(&t.rejected)),
            (ANSWERS, "embargoed", n(&t.embargoed)),
            (ANSWERS, "tempfailed", n(&t.tempfailed)),
            (OTHER, "proxied", n(&t.proxied)),
            (OTHER, "dropped", n(&t.dropped)),
        ] {
            let _ = m.update(r, fam, &[label], v, 0);
        }
    });
    tally_stats::http::start(Arc::new(exp), addr)
}
