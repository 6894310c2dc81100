//! The counters `cdcc stats` shows, and the text of its answer in the
//! original's layout (the lines our database can fill).

use crate::work::Outcome;
use tally_store::tgts;

/// Counters since the start or the last `stats clear`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Since (seconds).
    pub since: u64,
    /// NOPs.
    pub nops: u64,
    /// Administrative requests.
    pub admin: u64,
    /// Queries (and reports treated as queries).
    pub queries: u64,
    /// Reports counted.
    pub reports: u64,
    /// Reports with more than 10, 100, 1000 targets and `many`.
    pub report10: u64,
    /// See `report10`.
    pub report100: u64,
    /// See `report10`.
    pub report1000: u64,
    /// See `report10`.
    pub reportmany: u64,
    /// Answers with more than 10, 100, 1000 and `many`.
    pub resp10: u64,
    /// See `resp10`.
    pub resp100: u64,
    /// See `resp10`.
    pub resp1000: u64,
    /// See `resp10`.
    pub respmany: u64,
    /// Whitelisted answers.
    pub respwhite: u64,
    /// Undecodable or unknown requests.
    pub bad_op: u64,
    /// Bad passwords.
    pub passwd: u64,
    /// Blacklisted IDs.
    pub blist: u64,
    /// Requests refused by the checks.
    pub reject: u64,
    /// Retransmissions answered from the cache.
    pub retrans: u64,
    /// Requests dropped by rate limits.
    pub rl: u64,
    /// Anonymous requests.
    pub anon: u64,
    /// Reports treated as queries (`-Q`).
    pub report_reject: u64,
}

impl Stats {
    /// Count an answer's figures.
    pub fn note_answer(&mut self, report: bool, o: &Outcome) {
        if report {
            let g = o.gross;
            if g == tgts::MANY {
                self.reportmany += 1;
            } else if g > 1000 {
                self.report1000 += 1;
            } else if g > 100 {
                self.report100 += 1;
            } else if g > 10 {
                self.report10 += 1;
            }
        }
        let m = o.max;
        if m == tgts::OK || m == tgts::OK2 {
            self.respwhite += 1;
        } else if m == tgts::MANY {
            self.respmany += 1;
        } else if m > 1000 {
            self.resp1000 += 1;
        } else if m > 100 {
            self.resp100 += 1;
        } else if m > 10 {
            self.resp10 += 1;
        }
    }
}

/// Cumulative "more than" counts as the original prints them.
fn cum(a: u64, b: u64, c: u64, d: u64) -> (u64, u64, u64, u64) {
    (a + b + c + d, b + c + d, c + d, d)
}

/// Facts from outside the counters.
pub struct Context<'a> {
    /// Trace mode names.
    pub tracing: &'a str,
    /// Checksums in the database.
    pub checksums: u64,
    /// Records in the database.
    pub records: u64,
    /// Bytes on disk.
    pub db_bytes: u64,
    /// Anonymous delay shown.
    pub delay_ms: u64,
    /// Clients known.
    pub clients: u64,
    /// Flooding figures, when the server floods.
    pub flood: Option<crate::flood::admn::Totals>,
}

/// The text of a STATS answer, at most `max` bytes.
pub fn text(s: &Stats, c: &Context<'_>, max: usize) -> String {
    let since = hms(s.since);
    let (r10, r100, r1000, rmany) = cum(s.report10, s.report100, s.report1000, s.reportmany);
    let (a10, a100, a1000, amany) = cum(s.resp10, s.resp100, s.resp1000, s.respmany);
    let mut t = String::new();
    t.push_str(&format!("    version 2.3.167  tracing {}\n", c.tracing));
    t.push_str(&format!(
        "{:7} hash entries {:6} used {:9} DB bytes\n",
        c.checksums, c.checksums, c.db_bytes
    ));
    t.push_str(&format!(
        "{:5} ms delay  {} NOPs  {} ADMN  {} query  {} clients since {since}\n",
        c.delay_ms, s.nops, s.admin, s.queries, c.clients
    ));
    t.push_str(&format!(
        "{:8} reports {:7}>10 {:7}>100 {:7}>1000 {:7} many\n",
        s.reports, r10, r100, r1000, rmany
    ));
    t.push_str(&format!(
        "         answers {:7}>10 {:7}>100 {:7}>1000 {:7} many\n",
        a10, a100, a1000, amany
    ));
    t.push_str(&format!(
        "{:8} bad op {:4} passwd {:6} blist {:4} reject {:6} retrans\n",
        s.bad_op, s.passwd, s.blist, s.reject, s.retrans
    ));
    t.push_str(&format!(
        "{:8} answers rate-limited {:4} anon {:6} reports rejected\n",
        s.rl, s.anon, s.report_reject
    ));
    let f = c.flood.unwrap_or_default();
    t.push_str(&format!(
        "    flood {:<3}{:3} streams {:2} out active {} in {:8} total flooded in\n",
        if f.on && c.flood.is_some() {
            "on"
        } else {
            "off"
        },
        f.streams,
        f.out_active,
        f.in_active,
        f.received
    ));
    if c.flood.is_some() {
        t.push_str(&format!(
            "{:8} accepted {:6} stale {:8} dup {:6} white {:4} delete\n",
            f.accepted, f.stale, f.dup, 0, f.deleted
        ));
    }
    t.push_str(&format!("{:8} records in the database", c.records));
    t.truncate(max);
    t
}

fn hms(secs: u64) -> String {
    let d = secs % 86_400;
    format!("{:02}:{:02}:{:02}", d / 3600, d / 60 % 60, d % 60)
}
