//! The greylist database logic of a DCC greylist server (`dccd -G`), as
//! DCC 2.3.167 decides: which triples are embargoed, when an embargo ends,
//! familiar triples, the `msg` word, whitelisting, GREY_SPAM and expiry.
//!
//! Pure: no files, sockets, clocks or threads. Time comes in as Unix
//! seconds; what must be persisted comes out as [`Change`]s.
//!
//! # How to use it
//!
//! 1. Build a [`Grey`] with [`Params`] (from `-G`, see
//!    [`Params::parse_arg`]), then replay what was persisted, oldest
//!    first, with [`Grey::apply`], and set the `grey_whitelist` entries
//!    with [`Grey::set_whitelist`].
//! 2. For a GREY_REPORT, GREY_QUERY or GREY_WHITE from an authenticated
//!    client, call [`Grey::decide`]: it changes nothing and returns the
//!    [`Decision`]: the [`Answer`] (`msg`, `triple`) and the changes to
//!    persist. Persist them (so a sent answer survives a crash), then
//!    [`Grey::apply`] each, then answer. [`Grey::work`] does decide+apply
//!    in one step for servers that keep everything in memory (tests).
//! 3. For a GREY_SPAM, [`Grey::spam`] returns the deletions to persist and
//!    apply (the triple, the IP address and the message checksum are
//!    forgotten and the embargo restored); answer with an OK.
//! 4. `dbclean`: [`Grey::clean`] drops expired records in memory;
//!    [`Params::keeps`] is the rule for a store that cleans itself.
//! 5. [`Grey::figures`] for `cdcc stats` and `-M` costs nothing however
//!    large the database: the numbers of checksums and of embargoed and
//!    familiar triples are kept as changes are applied, cleaned or
//!    replayed. They count what is stored, whatever the clock says (see
//!    [`Figures`]).
//!
//! ```
//! use tally_ck::{CkType, Sum};
//! use tally_grey::{Ck, Grey, GreyOp, Params, Request, MANY, OK};
//!
//! let p = Params::default().parse_arg("on,20").unwrap();
//! let mut g = Grey::new(p);
//! let cks = [
//!     Ck::new(CkType::Ip, Sum([1; 16])),
//!     Ck::new(CkType::Body, Sum([2; 16])),
//!     Ck::new(CkType::GreyMsg, Sum([3; 16])),
//!     Ck::new(CkType::GreyTriple, Sum([4; 16])),
//! ];
//! let req = Request::new(GreyOp::Report, &cks);
//! // first delivery: new embargo, number 0, message not seen before
//! let a = g.work(&req, 1000).unwrap();
//! assert_eq!((a.msg, a.triple), (0, 0));
//! // a retry during the embargo: embargo number 1, message already counted
//! let a = g.work(&req, 1005).unwrap();
//! assert_eq!((a.msg, a.triple), (1, 1));
//! // after the embargo: the embargo ends (OK) ...
//! let a = g.work(&req, 1021).unwrap();
//! assert_eq!((a.msg, a.triple), (1, OK));
//! // ... and the triple is familiar from now on
//! let a = g.work(&req, 1030).unwrap();
//! assert_eq!((a.msg, a.triple), (0, MANY));
//! ```

mod counters;
mod db;
pub mod params;
mod types;

use tally_ck::CkType;

pub use counters::Counters;
pub use params::{ParamError, Params, PARAMS_FILE};
pub use types::*;

/// The greylist database and its rules.
#[derive(Debug, Clone)]
pub struct Grey {
    params: Params,
    db: db::Db,
}

/// The operation as the original names it in its messages.
fn op_name(op: GreyOp) -> &'static str {
    match op {
        GreyOp::Report => "GREYLIST REPORT",
        GreyOp::Query => "GREYLIST QUERY",
        GreyOp::White => "GREYLIST WHITELIST",
    }
}

impl Grey {
    /// An empty database with these settings.
    pub fn new(params: Params) -> Grey {
        Grey {
            params,
            db: db::Db::default(),
        }
    }

    /// The settings.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Change the settings (the records stay).
    pub fn set_params(&mut self, params: Params) {
        self.params = params;
    }

    /// Replace the greylist whitelist (`grey_whitelist`): each checksum is
    /// answered as whitelisted ([`GREY_WHITE`]); other values are kept as
    /// they are and count as totals.
    pub fn set_whitelist(&mut self, entries: &[(Ck, u32)]) {
        self.db.white = entries.iter().copied().collect();
    }

    /// The current total of a checksum (its whitelist value if listed).
    pub fn total(&self, ck: &Ck) -> u32 {
        self.db.total(ck)
    }

    /// Replay or apply one change.
    pub fn apply(&mut self, change: &Change) {
        self.db.apply(change);
    }

    /// Decide a request at time `now` (Unix seconds) without changing the
    /// database.
    pub fn decide(&self, req: &Request<'_>, now: u64) -> Result<Decision, GreyError> {
        let p = &self.params;
        let mut op = req.op;
        // an embargo of 0 seconds: only collect names
        if op == GreyOp::Report && p.embargo == 0 {
            op = GreyOp::White;
        }
        let mut ip: Option<&Ck> = None;
        let mut body: Option<&Ck> = None;
        let mut msg: Option<&Ck> = None;
        let mut triple: Option<&Ck> = None;
        let mut body_known = p.weak_body;
        let (mut ip_tgts, mut msg_tgts, mut eff_msg) = (0u32, 0u32, 0u32);
        let mut grey_white = false;
        for ck in req.cks {
            if ck.ty == CkType::GreyTriple {
                triple = Some(ck);
                continue;
            }
            if ck.ty.number() > CkType::GreyTriple.number() {
                continue;
            }
            match ck.ty {
                CkType::Ip => ip = Some(ck),
                CkType::Body => body = Some(ck),
                CkType::GreyMsg => msg = Some(ck),
                _ => {}
            }
            let tgts = self.db.total(ck);
            if tgts == 0 {
                continue;
            }
            if tgts == GREY_WHITE && op != GreyOp::White {
                op = GreyOp::White;
                grey_white = true;
            }
            match ck.ty {
                CkType::Body => body_known = true,
                CkType::GreyMsg => {
                    msg_tgts = tgts;
                    if tgts != MANY {
                        eff_msg = 1;
                    }
                }
                CkType::Ip => ip_tgts = tgts,
                _ => {}
            }
        }
        let name = op_name(req.op);
        let triple =
            triple.ok_or_else(|| GreyError(format!("missing Grey3 checksum for {name}")))?;
        if op == GreyOp::Report && !p.weak_body {
            if body.is_none() {
                return Err(GreyError(format!("missing body checksum for {name}")));
            }
            if msg.is_none() {
                return Err(GreyError(format!("missing Grey_Msg checksum for {name}")));
            }
        }

        let triple_tgts = self.search(triple, body, body_known, now);
        let auto_white = p
            .auto_white_ip
            .is_some_and(|n| ip_tgts >= n && ip_tgts < MANY);
        let result = if triple_tgts >= MANY {
            triple_tgts
        } else if op == GreyOp::White {
            if eff_msg != 0 {
                OK
            } else {
                MANY
            }
        } else if ip_tgts == MANY || auto_white {
            MANY
        } else {
            triple_tgts
        };

        let mut changes = Vec::new();
        let recorded = op != GreyOp::Query && req.may_record;
        if recorded {
            let mut cks = Vec::with_capacity(4);
            let (tgts, new_msg) = if result < MANY {
                if let Some(b) = body {
                    cks.push(*b);
                }
                (1, 1)
            } else {
                if let (true, Some(ip)) = (p.weak_ip, ip) {
                    cks.push(*ip);
                }
                (MANY, 0)
            };
            if let (true, Some(m)) = (eff_msg != new_msg, msg) {
                if msg_tgts == MANY {
                    changes.push(Change::Delete { ck: *m, ts: now });
                }
                cks.push(*m);
            }
            if !(p.weak_ip && ip.is_some()) || result != MANY {
                cks.push(*triple);
            }
            changes.push(Change::Add(Record { ts: now, tgts, cks }));
            // ours: count the triples of an IP address that passed the
            // embargo, for auto-white-IP
            if let (Some(_), true, false, Some(ip)) = (p.auto_white_ip, result == OK, p.weak_ip, ip)
            {
                changes.push(Change::Add(Record {
                    ts: now,
                    tgts: 1,
                    cks: vec![*ip],
                }));
            }
        }
        let outcome = if op == GreyOp::White {
            Outcome::Whitelisted
        } else if result == OK {
            Outcome::Released
        } else if result >= MANY {
            Outcome::Passed
        } else {
            Outcome::Embargoed
        };
        Ok(Decision {
            answer: Answer {
                msg: eff_msg,
                triple: result,
            },
            changes,
            outcome,
            grey_white,
            recorded,
        })
    }

    /// Decide and apply in one step (for servers that keep the database
    /// only in memory).
    pub fn work(&mut self, req: &Request<'_>, now: u64) -> Result<Answer, GreyError> {
        let d = self.decide(req, now)?;
        for c in &d.changes {
            self.apply(c);
        }
        Ok(d.answer)
    }

    /// The embargo state of a triple: 0 for a new embargo, the number of
    /// recent attempts with this body for a running one, [`MANY`] for a
    /// familiar triple, [`OK`] when an attempt with this body (any body
    /// with weak-body) is older than the embargo.
    fn search(&self, triple: &Ck, body: Option<&Ck>, body_known: bool, now: u64) -> u32 {
        let Some(e) = self.db.entry(triple) else {
            return 0;
        };
        let total = self.db.total(triple);
        if total == MANY || total == 0 {
            return total;
        }
        let embargo = u64::from(self.params.embargo);
        let mut n = 0;
        for id in e.chain.iter().rev() {
            let Some(r) = self.db.recs.get(id) else {
                continue;
            };
            let matches = match (self.params.weak_body, body) {
                (false, Some(b)) => r.cks.iter().any(|c| c.ty == CkType::Body && c.sum == b.sum),
                _ => true,
            };
            if matches {
                if r.ts.saturating_add(embargo) < now {
                    return OK;
                }
                n += 1;
            }
            if !body_known {
                return 0;
            }
        }
        n
    }

    /// GREY_SPAM at `now`: forget the IP address, the triple and the
    /// message checksum (the ones the database holds), restoring the
    /// embargo. The deletions are to be persisted and applied.
    pub fn spam(&self, ip: &Ck, msg: &Ck, triple: &Ck, now: u64) -> Vec<Change> {
        [ip, triple, msg]
            .into_iter()
            .filter(|ck| self.db.rcd_total(ck) != 0)
            .map(|ck| Change::Delete { ck: *ck, ts: now })
            .collect()
    }

    /// Expire at `now` as `dbclean -G on` does: embargo records older than
    /// the window, records of accepted messages older than the white time.
    /// Returns the number of records removed.
    pub fn clean(&mut self, now: u64) -> u64 {
        let p = self.params;
        self.db
            .remove_where(|r| !p.keeps(r.tgts, now.saturating_sub(r.ts)))
    }

    /// Figures for `cdcc stats` and the `-M` gauges, in constant time: the
    /// numbers of checksums and triples are kept as the database changes
    /// (see [`Figures`] for what counts as embargoed or familiar).
    pub fn figures(&self) -> Figures {
        let c = self.db.counts();
        Figures {
            records: self.db.recs.len() as u64,
            checksums: c.checksums,
            embargoed_triples: c.embargoed,
            familiar_triples: c.familiar,
            whitelisted: self.db.white.len() as u64,
        }
    }

    /// The figures counted by walking every checksum: what [`Grey::figures`]
    /// must always equal.
    #[cfg(test)]
    pub(crate) fn figures_by_walk(&self) -> Figures {
        let mut f = Figures {
            records: self.db.recs.len() as u64,
            whitelisted: self.db.white.len() as u64,
            ..Figures::default()
        };
        for (ck, e) in self.db.entries() {
            if e.total == 0 {
                continue;
            }
            f.checksums += 1;
            if ck.ty == CkType::GreyTriple {
                if e.total >= MANY {
                    f.familiar_triples += 1;
                } else {
                    f.embargoed_triples += 1;
                }
            }
        }
        f
    }
}

#[cfg(test)]
mod tests;
