//! Counting: how a REPORT changes the totals and what a QUERY or REPORT is
//! answered, as dccd 2.3.167 does it.
//!
//! * Checksum types the server does not keep (`-K`; by default everything
//!   but Body, Fuz1, Fuz2 and the reputation types) are not stored and are
//!   answered with their whitelist value or `0`, the "previous" count then
//!   being the "no value" marker.
//! * A report's target count goes to the body types; a report flagged spam
//!   (or `many`) adds `many` to them but its real count (at least 1) to the
//!   reputation total of the client's IP address; the bulk reputation is
//!   only counted when the message is bulk (10 or more targets, counting
//!   this report).
//! * Reputation data is only recorded for authenticated clients; when a
//!   spam report carries them, they go into a second record with the real
//!   count, and the answer for them is computed from the totals after both
//!   records, as the original does (its answer then counts the report twice
//!   for those two checksums).

use tally_ck::CkType;
use tally_store::{tgts as st, Ck, Report, Store, Ts};
use tally_wire::packet::CkRequest;
use tally_wire::response::CountPair;
use tally_wire::Tgts;

/// Totals from which a message counts as bulk.
pub const BULK_THRESHOLD: u32 = 10;

/// What the request is allowed to do.
#[derive(Debug, Clone, Copy)]
pub struct Rights {
    /// The report is counted (false for queries and with `-Q`).
    pub report: bool,
    /// Reputation checksums are recorded (authenticated clients).
    pub reps: bool,
    /// Reputation counts are answered. False only for a known client
    /// marked `no-reps` in `ids`, which gets `0` with the "no value"
    /// marker for both reputation types, as the original answers clients
    /// not allowed reputations; anonymous and unauthenticated clients do
    /// get them, as there.
    pub rep_answers: bool,
}

/// Figures for `cdcc stats` from one answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// The largest count in the answer (below the whitelist values).
    pub max: u32,
    /// The report's gross count (`many` for spam).
    pub gross: u32,
}

/// The counting engine around the database.
pub struct Counter {
    /// The database.
    pub store: Box<dyn Store>,
    /// Bit `1 << type` set for types not kept.
    pub nokeep: u32,
    /// Our server-ID, recorded in reports.
    pub srvr_id: u16,
    /// The checksums stored of the last request, kept to spare an
    /// allocation per request.
    pub(crate) main: Vec<Ck>,
}

fn sum(total: u32, n: u32) -> u32 {
    if total > st::MANY {
        total
    } else {
        st::add(total, n)
    }
}

fn is_rep_total(t: CkType) -> bool {
    t == CkType::GreyMsg
}

fn is_rep_bulk(t: CkType) -> bool {
    t == CkType::GreyTriple
}

impl Counter {
    fn keeps(&self, t: CkType) -> bool {
        self.nokeep & (1u32 << t.number()) == 0
    }

    /// Answer a QUERY or REPORT (counting it when `rights.report`): the
    /// answer's count pairs, one per checksum of the request, put into
    /// `pairs` (emptied first; the layout of old versions keeps only their
    /// first counts), which the server encodes straight into its answer.
    pub fn work_into(
        &mut self,
        req: &CkRequest,
        rights: Rights,
        ts: Ts,
        pairs: &mut Vec<CountPair>,
    ) -> tally_store::Result<Outcome> {
        pairs.clear();
        let t0 = req.tgts;
        let (net, gross) = if !rights.report {
            (0, 0)
        } else if t0.is_spam() || t0.is_rep_spam() {
            (t0.count().max(1), st::MANY)
        } else if t0.0 == st::MANY {
            (1, st::MANY)
        } else {
            (t0.0, t0.0)
        };
        let report = rights.report && gross != 0;
        let rep_ok = rights.reps && !t0.is_rep_spam();

        let mut bulk = false;
        let mut main = std::mem::take(&mut self.main);
        main.clear();
        let mut rep_total_sum = None;
        let mut rep_bulk_sum = None;
        for ck in &req.cks {
            let t = ck.ty;
            if t == CkType::Ip && rep_ok {
                rep_total_sum = Some(ck.sum);
                rep_bulk_sum = Some(ck.sum);
            }
            if !self.keeps(t) {
                continue;
            }
            let c = Ck::new(t, ck.sum);
            if t.is_body() {
                if !bulk {
                    bulk = gross >= BULK_THRESHOLD || {
                        let now = sum(self.store.total(&c)?, net);
                        (BULK_THRESHOLD..=st::MANY).contains(&now)
                    };
                }
            } else if is_rep_total(t) {
                if !rep_ok {
                    rep_total_sum = None;
                    continue;
                }
                if (BULK_THRESHOLD..=st::MANY).contains(&gross) {
                    bulk = true;
                }
                if gross == st::MANY {
                    rep_total_sum = Some(ck.sum);
                    continue;
                }
                rep_total_sum = None;
            } else if is_rep_bulk(t) {
                if !rep_ok || !bulk {
                    rep_bulk_sum = None;
                    continue;
                }
                if gross == st::MANY {
                    rep_bulk_sum = Some(ck.sum);
                    continue;
                }
                rep_bulk_sum = None;
            }
            main.push(c);
        }

        let mut main_counts = Vec::new();
        if report {
            if !main.is_empty() {
                // the checksums lent to the record and taken back
                let record = Report::new(ts, self.srvr_id, gross, std::mem::take(&mut main));
                let added = self.store.add(&record);
                main = record.cks;
                main_counts = added?.counts;
            }
            let mut extra = Vec::new();
            if let Some(s) = rep_total_sum {
                extra.push(Ck::new(CkType::GreyMsg, s));
            }
            if let (Some(s), true) = (rep_bulk_sum, bulk) {
                extra.push(Ck::new(CkType::GreyTriple, s));
            }
            if !extra.is_empty() {
                self.store.add(&Report::new(ts, self.srvr_id, net, extra))?;
            }
        } else {
            main.clear();
        }

        let mut out = Outcome { max: 0, gross };
        let mut in_main = main.iter().zip(main_counts.iter()).peekable();
        for ck in &req.cks {
            let t = ck.ty;
            let (c, p) = match in_main.peek() {
                Some((m, cp)) if m.ty == t => {
                    let r = (cp.c, cp.p);
                    in_main.next();
                    r
                }
                _ => {
                    let p = self.store.total(&Ck::new(t, ck.sum))?;
                    if !self.keeps(t) {
                        (p, if p == 0 { Tgts::INVALID.0 } else { p })
                    } else if (is_rep_total(t) || is_rep_bulk(t)) && !rights.rep_answers {
                        (0, Tgts::INVALID.0)
                    } else if is_rep_total(t) {
                        (sum(p, net), p)
                    } else if is_rep_bulk(t) {
                        (if bulk { sum(p, net) } else { p }, p)
                    } else {
                        (sum(p, gross), p)
                    }
                }
            };
            if !is_rep_total(t) && !is_rep_bulk(t) && c > out.max && c <= st::OK2 {
                out.max = c;
            }
            pairs.push(CountPair {
                c: Tgts(c),
                p: Tgts(p),
            });
        }
        self.main = main;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_ck::Sum;
    use tally_wire::header::VERS_SINGLE_COUNTS;
    use tally_wire::response::Answer;
    use tally_wire::WireCk;

    impl Counter {
        /// [`Counter::work_into`] as an answer in the layout of protocol
        /// version `vers`.
        fn work(
            &mut self,
            req: &CkRequest,
            rights: Rights,
            ts: Ts,
            vers: u8,
        ) -> tally_store::Result<(Answer, Outcome)> {
            let mut pairs = Vec::with_capacity(req.cks.len());
            let out = self.work_into(req, rights, ts, &mut pairs)?;
            let answer = if vers <= VERS_SINGLE_COUNTS {
                Answer::Singles(pairs.iter().map(|cp| cp.c).collect())
            } else {
                Answer::Pairs(pairs)
            };
            Ok((answer, out))
        }
    }

    fn counter(dir: &std::path::Path) -> Counter {
        Counter {
            store: Box::new(tally_store::LogStore::open(dir).unwrap()),
            nokeep: crate::opts::default_nokeep(),
            srvr_id: 1100,
            main: Vec::new(),
        }
    }

    fn req(tgts: u32) -> CkRequest {
        let s = |b: u8| Sum([b; 16]);
        CkRequest {
            tgts: Tgts(tgts),
            cks: vec![
                WireCk::new(CkType::Ip, s(1)),
                WireCk::new(CkType::Body, s(7)),
                WireCk::new(CkType::Fuz1, s(8)),
                WireCk::new(CkType::GreyMsg, s(1)),
                WireCk::new(CkType::GreyTriple, s(1)),
            ],
        }
    }

    fn pairs(a: Answer) -> Vec<(u32, u32)> {
        match a {
            Answer::Pairs(v) => v.iter().map(|p| (p.c.0, p.p.0)).collect(),
            Answer::Singles(v) => v.iter().map(|c| (c.0, 0)).collect(),
        }
    }

    #[test]
    fn report_query_spam() {
        let dir = std::env::temp_dir().join(format!("dccd-work-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = counter(&dir);
        let rpt = Rights {
            report: true,
            reps: true,
            rep_answers: true,
        };
        let q = Rights {
            report: false,
            reps: true,
            rep_answers: true,
        };
        let (a, _) = c.work(&req(1), rpt, Ts::now(), 12).unwrap();
        assert_eq!(
            pairs(a),
            vec![(0, 0x0100_0000), (1, 0), (1, 0), (1, 0), (0, 0)]
        );
        let (a, _) = c.work(&req(0), q, Ts::now(), 12).unwrap();
        assert_eq!(
            pairs(a),
            vec![(0, 0x0100_0000), (1, 1), (1, 1), (1, 1), (0, 0)]
        );
        // spam: body types go to many, reputations in a second record
        let (a, _) = c.work(&req(0x0100_0001), rpt, Ts::now(), 12).unwrap();
        assert_eq!(
            pairs(a),
            vec![
                (0, 0x0100_0000),
                (st::MANY, 1),
                (st::MANY, 1),
                (3, 2),
                (2, 1)
            ]
        );
        let (a, _) = c.work(&req(0), q, Ts::now(), 5).unwrap();
        assert_eq!(
            pairs(a),
            vec![(0, 0), (st::MANY, 0), (st::MANY, 0), (2, 0), (1, 0)]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A client marked `no-reps`: its reports are counted, its
    /// reputations neither recorded nor answered (0, "no value"), while
    /// an anonymous client's query gets them.
    #[test]
    fn no_reps_client() {
        let dir = std::env::temp_dir().join(format!("dccd-work-noreps-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = counter(&dir);
        let no_reps = Rights {
            report: true,
            reps: false,
            rep_answers: false,
        };
        let inv = Tgts::INVALID.0;
        for (n, spam) in [(1, 1), (2, 0x0100_0001)] {
            let (a, _) = c.work(&req(spam), no_reps, Ts::now(), 12).unwrap();
            let body = if n == 1 { (1, 0) } else { (st::MANY, 1) };
            assert_eq!(
                pairs(a),
                vec![(0, inv), body, body, (0, inv), (0, inv)],
                "report {n}"
            );
        }
        let q = Rights {
            report: false,
            ..no_reps
        };
        let (a, _) = c.work(&req(0), q, Ts::now(), 12).unwrap();
        assert_eq!(pairs(a)[3..], [(0, inv), (0, inv)]);
        // nothing was recorded for the reputations: anonymous sees 0
        let anon = Rights {
            rep_answers: true,
            ..q
        };
        let (a, _) = c.work(&req(0), anon, Ts::now(), 12).unwrap();
        assert_eq!(pairs(a)[3..], [(0, 0), (0, 0)]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
