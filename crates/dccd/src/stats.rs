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
    /// Requests dropped or refused after their sender was looked at, as
    /// the original counts its "bad op": requests with bad checksums or
    /// lengths, over a rate limit, refused to unauthenticated senders,
    /// from blacklisted addresses, and the like (`cdcc stats` "bad op").
    pub bad_op: u64,
    /// Datagrams dropped before their sender is looked at (short, a
    /// header length that is not the datagram's, a version or an
    /// operation not served, an invalid ID): not in `cdcc stats`, as the
    /// original does not count them.
    pub junk: u64,
    /// Requests from unknown IDs or with bad passwords (a server-ID
    /// asking a client's question included), as the original counts them.
    pub passwd: u64,
    /// Blacklisted IDs.
    pub blist: u64,
    /// Requests refused by the checks.
    pub reject: u64,
    /// ERROR answers sent (`cdcc stats` "reject", the original's count of
    /// error answers).
    pub errors: u64,
    /// Retransmissions answered from the cache.
    pub retrans: u64,
    /// Requests of authenticated clients dropped by their rate limit
    /// (`cdcc stats` "answers rate-limited").
    pub rl: u64,
    /// Requests of anonymous or unauthenticated clients dropped by the
    /// rate limits (`cdcc stats` "anon").
    pub anon_rl: u64,
    /// Anonymous requests.
    pub anon: u64,
    /// Reports treated as queries (`-Q`).
    pub report_reject: u64,
    /// Records in the database at the reset, for the records added since.
    pub records_at_reset: u64,
}

impl Stats {
    /// Count an answer's figures. As the original, a counted report
    /// flagged as the notice of a reputation hit (`rep_spam`: its target
    /// count's [`tally_wire::Tgts::is_rep_spam`], a commercial client's
    /// second report of a message) adds to none of the size figures, and
    /// only a whitelisted answer to it is counted.
    pub fn note_answer(&mut self, report: bool, rep_spam: bool, o: &Outcome) {
        let rep_spam = report && rep_spam;
        if report && !rep_spam {
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
        } else if !rep_spam {
            if m == tgts::MANY {
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
    /// Clients with requests since the last `stats clear`.
    pub clients: u64,
    /// Flooding figures, when the server floods.
    pub flood: Option<crate::flood::admn::Totals>,
    /// A greylist server (`-G`): the original's greylist lines.
    pub grey: bool,
    /// `-Q`.
    pub query_only: bool,
    /// The time of the answer (seconds).
    pub now: u64,
}

/// The text of a STATS answer, at most `max` bytes, in the original's
/// layout (its field widths and words, so that scripts reading it keep
/// working). The last line counts the records added to our database
/// since the reset, where the original counts its own additions; the
/// reputation line (`no rep ...`) is left out, since we do not keep
/// those figures.
pub fn text(s: &Stats, c: &Context<'_>, max: usize) -> String {
    let mut t = String::new();
    let q_mode = if c.query_only { "Q-mode  " } else { "" };
    let grey = if c.grey { "greylist  " } else { "" };
    let tracing = if c.tracing.is_empty() {
        "nothing"
    } else {
        c.tracing
    };
    t.push_str(&format!(
        "    version 2.3.167  {q_mode}{grey}tracing {tracing}\n"
    ));
    t.push_str(&format!(
        "{:7} hash entries {:6} used {:9} DB bytes\n",
        c.checksums, c.checksums, c.db_bytes
    ));
    t.push_str(&format!(
        "{:5} ms delay  {} NOPs  {} ADMN  {} query  {} clients {}\n",
        c.delay_ms,
        s.nops,
        s.admin,
        s.queries,
        c.clients,
        clients_age(s.since, c.now)
    ));
    if c.grey {
        t.push_str(&format!(
            "{:7} reports {:2} whitelisted\n",
            s.reports, s.respwhite
        ));
    } else {
        let (r10, r100, r1000, rmany) = cum(s.report10, s.report100, s.report1000, s.reportmany);
        let (a10, a100, a1000, amany) = cum(s.resp10, s.resp100, s.resp1000, s.respmany);
        t.push_str(&format!(
            "{:8} reports {:7}>10 {:7}>100 {:7}>1000 {:7} many\n",
            s.reports, r10, r100, r1000, rmany
        ));
        t.push_str(&format!(
            "         answers {:7}>10 {:7}>100 {:7}>1000 {:7} many\n",
            a10, a100, a1000, amany
        ));
    }
    t.push_str(&format!(
        "{:8} bad op {:4} passwd {:6} blist {:4} reject {:6} retrans\n",
        s.bad_op, s.passwd, s.blist, s.errors, s.retrans
    ));
    if !c.grey {
        t.push_str(&format!(
            "{:8} answers rate-limited {:4} anon {:5} reports rejected\n",
            s.rl, s.anon_rl, s.report_reject
        ));
    }
    let f = c.flood.unwrap_or_default();
    let state = if f.on && c.flood.is_some() {
        "on"
    } else {
        "off"
    };
    t.push_str(&format!(
        "    {} {:8} total flooded in\n",
        flood_line(state, f.streams, f.out_active, f.in_active),
        f.received
    ));
    t.push_str(&format!(
        "{:8} accepted {:6} stale {:8} dup  {:5} white    {} delete\n",
        f.accepted, f.stale, f.dup, f.white, f.deleted
    ));
    t.push_str(&format!(
        "{:8} reports added between {} and {} UTC",
        c.records.saturating_sub(s.records_at_reset),
        month_day_time(s.since),
        month_day_time(c.now)
    ));
    t.truncate(max);
    t
}

/// The original's summary of flooding (`cdcc stats` and `flood check`):
/// its state, the peers and the streams up.
pub fn flood_line(state: &str, streams: u64, out_active: u64, in_active: u64) -> String {
    format!("flood {state} {streams:3} streams  {out_active} out active {in_active} in")
}

/// `since HH:MM:SS` for a client list younger than a day, then `in N
/// hours` up to three days, then `in N days`, rounded as the original.
fn clients_age(since: u64, now: u64) -> String {
    let age = now.saturating_sub(since);
    if age <= 86_400 {
        format!("since {}", hms(since))
    } else if age <= 3 * 86_400 {
        format!("in {} hours", (age + 1800) / 3600)
    } else {
        format!("in {} days", (age + 43_200) / 86_400)
    }
}

fn month_day_time(secs: u64) -> String {
    tally_syslog::civil::month_day_time(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn hms(secs: u64) -> String {
    let d = secs % 86_400;
    format!("{:02}:{:02}:{:02}", d / 3600, d / 60 % 60, d % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flood::admn::Totals;

    /// The text the original's dccd answered in the recorded `cdcc stats`.
    fn golden() -> String {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/udp_vectors.json")).unwrap();
        let e = v
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "admn_stats#2_ADMN")
            .unwrap();
        e["decoded"]["response"]["body"]["text"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// With the recorded figures, every line we write is the original's
    /// byte for byte (the hash table line with our one figure for both
    /// counts); the reputation line is the one we leave out.
    #[test]
    fn the_recorded_stats_layout() {
        let since = 1_732_276_515; // Nov 22 11:55:15 UTC
        let s = Stats {
            since,
            nops: 5,
            admin: 1,
            queries: 4,
            reports: 4,
            reportmany: 2,
            respmany: 3,
            passwd: 2,
            records_at_reset: 100,
            ..Default::default()
        };
        let flood = Totals {
            on: true,
            streams: 1,
            out_active: 1,
            in_active: 1,
            received: 3,
            accepted: 1,
            dup: 1,
            ..Default::default()
        };
        let c = Context {
            tracing: "ADMN ANON CLNT QUERY FLOOD1 FLOOD2 WLIST ",
            checksums: 14,
            records: 108,
            db_bytes: 1296,
            delay_ms: 0,
            clients: 4,
            flood: Some(flood),
            grey: false,
            query_only: false,
            now: since + 111,
        };
        let ours = text(&s, &c, 1460);
        let want = golden();
        let want: Vec<&str> = want.lines().collect();
        let ours: Vec<&str> = ours.lines().collect();
        assert_eq!(ours.len(), want.len() - 1);
        for (i, (o, w)) in ours.iter().zip(&want).enumerate() {
            if i == 1 {
                assert_eq!(*o, "     14 hash entries     14 used      1296 DB bytes");
            } else {
                assert_eq!(o, w, "line {i}");
            }
        }
    }

    /// No trace bits, `-Q` and `-G`: the original's words and its
    /// greylist lines in place of the counting ones.
    #[test]
    fn markers_and_greylist_lines() {
        let s = Stats {
            reports: 12,
            respwhite: 3,
            ..Default::default()
        };
        let c = Context {
            tracing: "",
            checksums: 0,
            records: 0,
            db_bytes: 0,
            delay_ms: 0,
            clients: 0,
            flood: None,
            grey: true,
            query_only: true,
            now: 4 * 86_400,
        };
        let t = text(&s, &c, 1460);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "    version 2.3.167  Q-mode  greylist  tracing nothing"
        );
        assert_eq!(
            lines[2],
            "    0 ms delay  0 NOPs  0 ADMN  0 query  0 clients in 4 days"
        );
        assert_eq!(lines[3], "     12 reports  3 whitelisted");
        assert!(
            !t.contains("rate-limited") && !t.contains("answers "),
            "{t}"
        );
        assert_eq!(
            lines[5],
            "    flood off   0 streams  0 out active 0 in        0 total flooded in"
        );
        assert_eq!(clients_age(0, 86_401), "in 24 hours");
    }
}
