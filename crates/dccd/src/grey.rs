//! The greylist server (`dccd -G`): GREY_REPORT, GREY_QUERY, GREY_WHITE
//! and GREY_SPAM from authenticated clients, decided by `tally-grey` and
//! persisted in the greylist database (`HOME/tally-grey-db/`) before the
//! answer leaves.
//!
//! As the original: clients must be authenticated (anonymous or
//! unauthenticated greylist requests are dropped and counted), DCC
//! QUERY and REPORT sent to a greylist server are dropped, a request
//! without the checksums it needs is answered with an ERROR, GREY_SPAM is
//! answered with an OK. The settings of `-G` are saved beside the database
//! (`grey-params`) so that `dbclean -G on` expires with them.
//!
//! Beyond the original, off by default: `-G auto-white-IP=N` whitelists an
//! SMTP client's IP address once N of its triples have passed the embargo
//! (see `tally_grey::params::AUTO_WHITE_WORD`).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use tally_grey::{Change, Counters, Grey, GreyOp, Outcome, Params, Request as GReq};
use tally_store::{Ck, Pos, Report, Store, Ts};
use tally_wire::packet::{CkRequest, GreySpam, Packet, Request, Response};
use tally_wire::sign::Auth;
use tally_wire::Tgts;

use crate::server::{Reply, Server, Who};
use crate::trace::Trace;

/// The greylist database directory in the home directory.
pub const DB_DIR: &str = "tally-grey-db";
pub use tally_grey::PARAMS_FILE;
/// The default UDP port of greylist servers.
pub const GREY_PORT: u16 = 6276;

/// The greylist state of a server.
pub struct GreyState {
    /// Decisions.
    pub grey: Grey,
    /// Counters for `cdcc stats`.
    pub counters: Counters,
    /// Greylist requests dropped because their sender was not an
    /// authenticated client.
    pub unauth: u64,
    /// DCC QUERY or REPORT requests dropped.
    pub dcc_dropped: u64,
}

impl GreyState {
    /// A greylist state with these settings, rebuilt from `store`'s records
    /// and whitelist.
    pub fn rebuild(params: Params, store: &dyn Store) -> tally_store::Result<GreyState> {
        let mut grey = Grey::new(params);
        let mut after = Pos::START;
        loop {
            let batch = store.read_log(after, 4096)?;
            let Some(last) = batch.last() else { break };
            after = last.pos;
            for e in &batch {
                if let Some(c) = change_of(&e.report) {
                    grey.apply(&c);
                }
            }
        }
        grey.set_whitelist(&store.whitelist()?);
        Ok(GreyState {
            grey,
            counters: Counters::default(),
            unauth: 0,
            dcc_dropped: 0,
        })
    }
}

/// The change a stored record stands for.
pub fn change_of(r: &Report) -> Option<Change> {
    let secs = r.ts.secs();
    if r.is_delete() {
        let c = r.cks.first()?;
        return Some(Change::Delete { ck: *c, ts: secs });
    }
    Some(Change::Add(tally_grey::Record {
        ts: secs,
        tgts: r.tgts,
        cks: r.cks.clone(),
    }))
}

/// Write a change to the store.
pub fn persist(store: &mut dyn Store, srvr_id: u16, c: &Change, ts: Ts) -> tally_store::Result<()> {
    match c {
        Change::Add(r) => {
            store.add(&Report::new(ts, srvr_id, r.tgts, r.cks.clone()))?;
        }
        Change::Delete { ck, .. } => {
            store.delete(*ck, srvr_id, ts)?;
        }
    }
    Ok(())
}

/// Read the saved `-G` settings of a greylist database directory.
pub fn load_params(dir: &Path) -> Option<Params> {
    let text = std::fs::read_to_string(dir.join(PARAMS_FILE)).ok()?;
    Params::default().parse_arg(text.trim()).ok()
}

/// Save the `-G` settings beside the database.
pub fn save_params(dir: &Path, p: &Params) -> std::io::Result<()> {
    let tmp = dir.join(format!("{PARAMS_FILE}.new"));
    std::fs::write(&tmp, format!("{}\n", p.to_arg()))?;
    std::fs::rename(&tmp, dir.join(PARAMS_FILE))
}

fn cks_of(r: &CkRequest) -> Vec<Ck> {
    r.cks.iter().map(|c| Ck::new(c.ty, c.sum)).collect()
}

/// A checksum type as a greylist server names it in its messages.
fn db_type_name(t: tally_wire::CkType) -> &'static str {
    match t {
        tally_wire::CkType::EnvTo => "flood path",
        t => t.grey_name(),
    }
}

/// The ERROR the original sends an authenticated client for a GREY_SPAM
/// whose checksums are not, in order, IP, grey msg and grey triple (as
/// [`tally_wire::validate::check_request`] refused it, the one check of
/// the types): the triple is named first, then the msg, then the IP, and
/// each text names the type found in the msg's place (as the original
/// does).
pub fn spam_types_error(g: &GreySpam) -> String {
    use tally_wire::CkType;
    let want = if g.triple.ty != CkType::GreyTriple {
        CkType::GreyTriple
    } else if g.msg.ty != CkType::GreyMsg {
        CkType::GreyMsg
    } else {
        CkType::Ip
    };
    format!(
        "{} instead of {} for GREYLIST SPAM",
        db_type_name(g.msg.ty),
        db_type_name(want)
    )
}

/// The expiry `dbclean -G on` applies with these settings: embargo
/// records (small totals) go after the window, every record after the
/// white time, so a familiar triple (total `many`) is remembered for the
/// white time after its last accepted message.
pub fn expiry(p: &Params) -> tally_store::Expiry {
    tally_store::Expiry::greylist(p.window.into(), p.white.into())
}

/// The lines `cdcc stats` adds for a greylist server (after the
/// original's layout).
pub fn stats_lines(g: &GreyState) -> String {
    let c = &g.counters;
    let f = g.grey.figures();
    format!(
        "\n greylist {} embargoed {} released {} passed {} whitelisted\n\
         {:8} forgotten as spam {} expired {} unauthenticated dropped\n\
         {:8} triples embargoed {} familiar",
        c.embargoed,
        c.released,
        c.passed,
        c.whitelisted,
        c.forgotten,
        c.expired,
        g.unauth,
        f.embargoed_triples,
        f.familiar_triples
    )
}

impl Server {
    /// Expire old records (`cdcc clean`); a greylist server then rebuilds
    /// its decisions from what is left.
    pub fn clean_db(
        &mut self,
        now: u64,
        policy: &tally_store::Expiry,
    ) -> tally_store::Result<tally_store::CleanReport> {
        let r = self.counter.store.clean(now, policy)?;
        if let Some(g) = self.grey.as_mut() {
            let mut fresh = GreyState::rebuild(*g.grey.params(), self.counter.store.as_ref())?;
            fresh.counters = g.counters;
            fresh.counters.expired += r.removed;
            fresh.unauth = g.unauth;
            fresh.dcc_dropped = g.dcc_dropped;
            *g = fresh;
        }
        Ok(r)
    }

    /// The time greylist decisions use: the injected clock of tests, else now.
    pub fn grey_secs(&self) -> u64 {
        self.clock.unwrap_or_else(crate::server::unix_now)
    }

    /// Work on a greylist request (the server is a greylist server).
    pub(crate) fn grey_request(
        &mut self,
        req: &Packet<Request>,
        who: &Who,
        from: SocketAddr,
        buf: &[u8],
        now: Instant,
    ) -> Reply {
        let Some(g) = self.grey.as_mut() else {
            self.stats.bad_op += 1;
            return Reply::Drop;
        };
        match &req.body {
            Request::Report(_) | Request::Query(_) => {
                // a DCC request to a greylist server
                g.dcc_dropped += 1;
                self.stats.reject += 1;
                return Reply::Drop;
            }
            _ => {}
        }
        if !who.trusted {
            g.unauth += 1;
            self.stats.anon += 1;
            // As the original: an anonymous request is dropped with a
            // complaint; an unknown ID or a bad password (a server-ID's
            // too: no client here) is a bad operation.
            let prefix = match who.auth {
                Auth::Anonymous => "drop ",
                Auth::UnknownId => "ID unknown drop ",
                _ => "bad password drop ",
            };
            if !matches!(who.auth, Auth::Anonymous) {
                self.stats.bad_op += 1;
            }
            if self.trace & Trace::ANON != 0 {
                crate::trace::log(&format!(
                    "{prefix}{}",
                    crate::blacklist::requests::from_id_ip(req, who, from, false)
                ));
            }
            return Reply::Drop;
        }
        if let Some(over) = self.clients.over(req, from, who, &self.cfg.rate, now) {
            let at = || crate::blacklist::requests::sender_str(req, who, from, false);
            return self.rate_dropped(Some((req.sender, from.ip())), over, at, from, now);
        }
        // as the original's `start_work`, every greylist operation is
        // answered from the retransmission cache, GREY_QUERY too
        if let Some(a) = self
            .ridc
            .replay(from, buf, req, who, self.cfg.srvr_id, now, &mut self.out)
        {
            self.stats.retrans += 1;
            return a;
        }
        let secs = self.grey_secs();
        let ts = match self.clock {
            Some(s) => Ts::new(s, 0),
            None => Ts::now(),
        };
        let srvr_id = self.cfg.srvr_id;
        let body = match &req.body {
            Request::GreySpam(GreySpam {
                ip, msg, triple, ..
            }) => {
                let Some(g) = self.grey.as_mut() else {
                    return Reply::Drop;
                };
                let changes = g.grey.spam(
                    &Ck::new(ip.ty, ip.sum),
                    &Ck::new(msg.ty, msg.sum),
                    &Ck::new(triple.ty, triple.sum),
                    secs,
                );
                for c in &changes {
                    if let Err(e) = persist(self.counter.store.as_mut(), srvr_id, c, ts) {
                        crate::trace::log(&format!("greylist database: {e}"));
                        return Reply::Drop;
                    }
                    g.grey.apply(c);
                }
                g.counters.note_spam(&changes);
                Response::Ok(self.ok_body(req))
            }
            Request::GreyReport(r) | Request::GreyQuery(r) | Request::GreyWhite(r) => {
                let op = match req.body {
                    Request::GreyReport(_) => GreyOp::Report,
                    Request::GreyQuery(_) => GreyOp::Query,
                    _ => GreyOp::White,
                };
                let cks = cks_of(r);
                let entry = self.ids.get(req.sender);
                let may_record = !self.cfg.query_only || entry.is_some_and(|e| e.rpt_ok);
                let mut greq = GReq::new(op, &cks);
                greq.may_record = may_record;
                let Some(g) = self.grey.as_mut() else {
                    return Reply::Drop;
                };
                let d = match g.grey.decide(&greq, secs) {
                    Ok(d) => d,
                    Err(e) => {
                        let text = e.to_string();
                        return self.error(req, who, &text);
                    }
                };
                for c in &d.changes {
                    if let Err(e) = persist(self.counter.store.as_mut(), srvr_id, c, ts) {
                        crate::trace::log(&format!("greylist database: {e}"));
                        return Reply::Drop;
                    }
                    g.grey.apply(c);
                }
                g.counters.note(&d);
                if d.grey_white {
                    self.stats.respwhite += 1;
                }
                if d.recorded {
                    self.stats.reports += 1;
                } else {
                    // a GREY_QUERY that hit the greylist whitelist is
                    // worked as a GREY_WHITE, as the original: a report
                    // the client may not make
                    if op != GreyOp::Query || d.outcome == Outcome::Whitelisted {
                        self.stats.report_reject += 1;
                    }
                    self.stats.queries += 1;
                }
                Response::GreyAnswer {
                    msg: Tgts(d.answer.msg),
                    triple: Tgts(d.answer.triple),
                }
            }
            _ => {
                self.stats.bad_op += 1;
                return Reply::Drop;
            }
        };
        self.answer_remembered(req, who, body, from, buf, now)
    }
}
