//! `-M`: the server's counters in Prometheus text and the graphs page (see
//! `tally-stats` and docs/statistics.md).
//!
//! The request path keeps counting in the plain integers of
//! [`crate::stats::Stats`] under the server's lock, as for `cdcc stats`;
//! nothing is added to it. At each scrape and each sample the figures are
//! copied into the registry (a [`Mirror`], so that `cdcc "stats clear"`
//! does not make the exported counters go down). The greylist triples
//! gauges read the numbers the greylist database keeps as it changes
//! ([`tally_grey::Grey::figures`]): constant time under the lock however
//! many triples it holds. They count what is stored: a triple stays
//! embargoed after its embargo has run out until a retry ends it (or its
//! records expire).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tally_stats::mirror::{Fam, Mirror};
use tally_stats::{Exporter, Registry};

use crate::flood::state::Flood;
use crate::server::Server;

const REQUESTS: Fam = Fam {
    name: "tally_dccd_requests_total",
    help: "Requests answered, by operation (report: reports counted; query: \
           queries and reports treated as queries).",
    labels: &["op"],
};
const ANSWERS: Fam = Fam {
    name: "tally_dccd_answers_total",
    help: "Answers to queries and reports by the highest count of their \
           checksums: over 10, over 100, over 1000, many, or whitelisted \
           (answers below 11 are not counted here).",
    labels: &["count"],
};
const REPORTS: Fam = Fam {
    name: "tally_dccd_reports_total",
    help: "Reports counted by their number of targets: over 10, over 100, \
           over 1000, many.",
    labels: &["targets"],
};
const DROPPED: Fam = Fam {
    name: "tally_dccd_dropped_total",
    help: "Requests not answered or refused, by reason: bad_op (undecodable \
           or unknown), passwd (bad signature), blacklist, reject (refused \
           by the checks), rate_limit.",
    labels: &["reason"],
};
const OTHER: Fam = Fam {
    name: "tally_dccd_other_total",
    help: "Other figures of cdcc stats: retrans (retransmissions answered \
           from the cache), anon (anonymous requests), report_as_query \
           (reports treated as queries, -Q).",
    labels: &["what"],
};
const GREY: Fam = Fam {
    name: "tally_dccd_greylist_total",
    help: "Greylist answers (-G on) by result: embargoed, released, passed, \
           whitelisted; and triples forgotten as spam, records expired, \
           unauthenticated requests dropped.",
    labels: &["result"],
};
const FLOOD_SENT: Fam = Fam {
    name: "tally_dccd_flood_sent_total",
    help: "Records flooded to a peer (outgoing stream).",
    labels: &["peer"],
};
const FLOOD_IN: Fam = Fam {
    name: "tally_dccd_flood_received_total",
    help: "Records received from a peer by result: accepted (counted), \
           dup (seen before), stale (too old or too new), deleted \
           (deletions applied), and all received.",
    labels: &["peer", "result"],
};

/// Start the listener of `-M` at `addr` over the server's state; returns
/// the bound address.
pub fn start(
    addr: SocketAddr,
    state: Arc<Mutex<Server>>,
    flood: Arc<Mutex<Flood>>,
) -> Result<SocketAddr, String> {
    let reg = Arc::new(Registry::new());
    let mirror = Mutex::new(Mirror::new());
    let exp = Exporter::new(reg, tally_stats::interval_from_env()).with_collect(move |r| {
        let mut m = mirror.lock().unwrap_or_else(|e| e.into_inner());
        collect(r, &mut m, &state, &flood);
    });
    // the families in a stable order from the first scrape on
    collect_zero(exp.registry());
    tally_stats::http::start(Arc::new(exp), addr)
}

fn collect_zero(r: &Registry) {
    let mut m = Mirror::new();
    for op in ["nop", "query", "report", "admin"] {
        let _ = m.update(r, REQUESTS, &[op], 0, 0);
    }
    for c in ["over10", "over100", "over1000", "many", "whitelisted"] {
        let _ = m.update(r, ANSWERS, &[c], 0, 0);
    }
    for c in ["over10", "over100", "over1000", "many"] {
        let _ = m.update(r, REPORTS, &[c], 0, 0);
    }
    for c in ["bad_op", "passwd", "blacklist", "reject", "rate_limit"] {
        let _ = m.update(r, DROPPED, &[c], 0, 0);
    }
    for c in ["retrans", "anon", "report_as_query"] {
        let _ = m.update(r, OTHER, &[c], 0, 0);
    }
}

/// What is copied under the server's lock.
struct Copy {
    stats: crate::stats::Stats,
    grey: Option<(tally_grey::Counters, u64, tally_grey::Figures)>,
    clients: usize,
    db: tally_store::Stats,
}

fn collect(r: &Registry, m: &mut Mirror, state: &Mutex<Server>, flood: &Mutex<Flood>) {
    let copy = {
        let Ok(s) = state.lock() else { return };
        Copy {
            stats: s.stats.clone(),
            grey: s
                .grey
                .as_ref()
                .map(|g| (g.counters, g.unauth, g.grey.figures())),
            clients: s.clients.len(),
            db: s.counter.store.stats().unwrap_or_default(),
        }
    };
    let s = &copy.stats;
    let e = s.since;
    let mut put = |fam: Fam, label: &str, v: u64| {
        let _ = m.update(r, fam, &[label], v, e);
    };
    put(REQUESTS, "nop", s.nops);
    put(REQUESTS, "query", s.queries);
    put(REQUESTS, "report", s.reports);
    put(REQUESTS, "admin", s.admin);
    put(ANSWERS, "over10", s.resp10);
    put(ANSWERS, "over100", s.resp100);
    put(ANSWERS, "over1000", s.resp1000);
    put(ANSWERS, "many", s.respmany);
    put(ANSWERS, "whitelisted", s.respwhite);
    put(REPORTS, "over10", s.report10);
    put(REPORTS, "over100", s.report100);
    put(REPORTS, "over1000", s.report1000);
    put(REPORTS, "many", s.reportmany);
    put(DROPPED, "bad_op", s.bad_op + s.junk);
    put(DROPPED, "passwd", s.passwd);
    put(DROPPED, "blacklist", s.blist);
    put(DROPPED, "reject", s.reject);
    put(DROPPED, "rate_limit", s.rl + s.anon_rl);
    put(OTHER, "retrans", s.retrans);
    put(OTHER, "anon", s.anon);
    put(OTHER, "report_as_query", s.report_reject);
    if let Some((c, unauth, f)) = copy.grey {
        // the greylist counters are never cleared
        put(GREY, "embargoed", c.embargoed);
        put(GREY, "released", c.released);
        put(GREY, "passed", c.passed);
        put(GREY, "whitelisted", c.whitelisted);
        put(GREY, "forgotten", c.forgotten);
        put(GREY, "expired", c.expired);
        put(GREY, "unauthenticated", unauth);
        let g = |state: &str, v: u64| {
            if let Ok(g) = r.gauge_with(
                "tally_dccd_greylist_triples",
                "Triples in the greylist database: embargoed (total below \
                 many, also after the embargo time until a retry ends it), \
                 familiar.",
                &["state"],
                &[state],
            ) {
                g.set(v as i64);
            }
        };
        g("embargoed", f.embargoed_triples);
        g("familiar", f.familiar_triples);
    }
    let gauge = |name: &str, help: &str, v: u64| {
        if let Ok(g) = r.gauge(name, help) {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        }
    };
    gauge(
        "tally_dccd_clients",
        "Clients in the table of recent clients (cdcc clients).",
        copy.clients as u64,
    );
    gauge(
        "tally_dccd_db_checksums",
        "Checksums in the database.",
        copy.db.checksums,
    );
    gauge(
        "tally_dccd_db_records",
        "Records in the database.",
        copy.db.records,
    );
    gauge(
        "tally_dccd_db_bytes",
        "Bytes of the database on disk.",
        copy.db.disk_bytes,
    );
    collect_flood(r, m, flood);
}

fn collect_flood(r: &Registry, m: &mut Mirror, flood: &Mutex<Flood>) {
    let Ok(f) = flood.lock() else { return };
    let mut peers: Vec<_> = f.status.iter().collect();
    peers.sort_by_key(|(id, _)| **id);
    for (id, st) in peers {
        let peer = id.to_string();
        let e = st.cleared;
        let _ = m.update(r, FLOOD_SENT, &[&peer], st.sent, e);
        for (res, v) in [
            ("all", st.received),
            ("accepted", st.accepted),
            ("dup", st.dup),
            ("stale", st.stale),
            ("deleted", st.deleted),
        ] {
            let _ = m.update(r, FLOOD_IN, &[&peer, res], v, e);
        }
        for (dir, up) in [("out", u64::from(st.out_up)), ("in", u64::from(st.in_up))] {
            if let Ok(g) = r.gauge_with(
                "tally_dccd_flood_streams_up",
                "Flooding streams up with a peer, by direction.",
                &["peer", "direction"],
                &[&peer, dir],
            ) {
                g.set(up as i64);
            }
        }
    }
}
