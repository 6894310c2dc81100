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

mod db;
pub mod params;

use tally_ck::{CkType, Sum};

pub use params::{ParamError, Params};

/// Target count `many`: no embargo (a familiar triple or a whitelisted
/// request).
pub const MANY: u32 = 0x00ff_fff0;
/// Target count `OK`: the embargo ends with this delivery.
pub const OK: u32 = 0x00ff_fff1;
/// `OK2`, the value of an entry of the greylist whitelist (the original's
/// `DCC_TGTS_GREY_WHITE`).
pub const GREY_WHITE: u32 = 0x00ff_fff2;

/// One checksum: type and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ck {
    /// The type.
    pub ty: CkType,
    /// The 16-byte value.
    pub sum: Sum,
}

impl Ck {
    /// A checksum of type `ty` and value `sum`.
    pub fn new(ty: CkType, sum: Sum) -> Ck {
        Ck { ty, sum }
    }
}

/// The greylist operation of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreyOp {
    /// GREY_REPORT: check and record the delivery attempt.
    Report,
    /// GREY_QUERY: check without recording.
    Query,
    /// GREY_WHITE: the client whitelisted the message; record the triple
    /// as familiar.
    White,
}

/// A greylist request: its operation and checksums (the message's, then
/// the grey msg and grey triple checksums).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The operation.
    pub op: GreyOp,
    /// The checksums, in request order.
    pub cks: &'a [Ck],
    /// The client may record (false: a report is handled as a query, as
    /// the original does under `-Q` for clients without the right).
    pub may_record: bool,
}

impl<'a> Request<'a> {
    /// A request that may record.
    pub fn new(op: GreyOp, cks: &'a [Ck]) -> Request<'a> {
        Request {
            op,
            cks,
            may_record: true,
        }
    }
}

/// The answer's two words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// 1 when the message (its grey msg checksum) was already counted,
    /// i.e. the client reported it to the DCC server before; else 0.
    pub msg: u32,
    /// The triple's state: the embargo number (0, 1, 2 ...), [`OK`] when
    /// the embargo ends now, or [`MANY`] for no embargo.
    pub triple: u32,
}

/// A record to persist: when, its target count (1 while embargoed, `many`
/// for an accepted message) and its checksums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Unix seconds.
    pub ts: u64,
    /// 1 or [`MANY`].
    pub tgts: u32,
    /// The checksums, in the order the original writes them: Body or IP,
    /// grey msg, grey triple.
    pub cks: Vec<Ck>,
}

/// One change of the database, to persist (in order) before answering and
/// to replay at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new record.
    Add(Record),
    /// A deletion: the checksum's total drops to 0 and its earlier records
    /// no longer count for it.
    Delete {
        /// The checksum.
        ck: Ck,
        /// Unix seconds.
        ts: u64,
    },
}

/// What became of a request, for the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Embargoed (the answer carries the embargo number).
    Embargoed,
    /// The embargo ended with this delivery.
    Released,
    /// No embargo: a familiar triple or whitelisted IP address.
    Passed,
    /// Whitelisted by the client (GREY_WHITE) or by the greylist whitelist.
    Whitelisted,
}

/// The result of [`Grey::decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What to answer.
    pub answer: Answer,
    /// What to persist and apply, in order, before answering.
    pub changes: Vec<Change>,
    /// For statistics.
    pub outcome: Outcome,
    /// A checksum matched the greylist whitelist.
    pub grey_white: bool,
    /// The request was recorded (a report or GREY_WHITE that may record).
    pub recorded: bool,
}

/// A request the original answers with an ERROR packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreyError(pub String);

impl std::fmt::Display for GreyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GreyError {}

/// Figures of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figures {
    /// Records held.
    pub records: u64,
    /// Distinct checksums with a non-zero total.
    pub checksums: u64,
    /// Triples under embargo (total below `many`).
    pub embargoed_triples: u64,
    /// Familiar triples (total `many`).
    pub familiar_triples: u64,
    /// Greylist whitelist entries.
    pub whitelisted: u64,
}

/// The greylist database and its rules.
#[derive(Debug, Clone)]
pub struct Grey {
    params: Params,
    db: db::Db,
}

fn op_name(op: GreyOp) -> &'static str {
    match op {
        GreyOp::Report => "GREY_REPORT",
        GreyOp::Query => "GREY_QUERY",
        GreyOp::White => "GREY_WHITE",
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
            triple.ok_or_else(|| GreyError(format!("missing grey triple checksum for {name}")))?;
        if op == GreyOp::Report && !p.weak_body {
            if body.is_none() {
                return Err(GreyError(format!("missing body checksum for {name}")));
            }
            if msg.is_none() {
                return Err(GreyError(format!("missing grey msg checksum for {name}")));
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
        let Some(e) = self.db.cks.get(triple) else {
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

    /// Figures for `cdcc stats`.
    pub fn figures(&self) -> Figures {
        let mut f = Figures {
            records: self.db.recs.len() as u64,
            whitelisted: self.db.white.len() as u64,
            ..Figures::default()
        };
        for (ck, e) in &self.db.cks {
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

/// Counters of greylist answers for `cdcc stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Answers with an embargo number.
    pub embargoed: u64,
    /// Answers ending an embargo.
    pub released: u64,
    /// Answers without embargo (familiar triples, whitelisted IPs).
    pub passed: u64,
    /// Whitelisted requests (GREY_WHITE or the greylist whitelist).
    pub whitelisted: u64,
    /// Triples forgotten by GREY_SPAM.
    pub forgotten: u64,
    /// Records removed by expiry.
    pub expired: u64,
}

impl Counters {
    /// Count one decision.
    pub fn note(&mut self, d: &Decision) {
        match d.outcome {
            Outcome::Embargoed => self.embargoed += 1,
            Outcome::Released => self.released += 1,
            Outcome::Passed => self.passed += 1,
            Outcome::Whitelisted => self.whitelisted += 1,
        }
    }

    /// Count the deletions of a GREY_SPAM.
    pub fn note_spam(&mut self, changes: &[Change]) {
        if changes
            .iter()
            .any(|c| matches!(c, Change::Delete { ck, .. } if ck.ty == CkType::GreyTriple))
        {
            self.forgotten += 1;
        }
    }
}

#[cfg(test)]
mod tests;
