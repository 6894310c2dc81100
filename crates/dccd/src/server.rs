//! One request in, at most one answer out: authentication, the checks the
//! original makes before working, the retransmission cache, rate limits,
//! anonymous delays, and dispatch to counting or administration.
//!
//! No I/O here: [`Server::handle`] gets the datagram, the client's address
//! and the time, and returns what to send and after how long.
//!
//! Inside, an answer is written unsigned at the end of [`Server::out`]
//! and comes back as a [`Reply`] naming its place and its signer: the UDP
//! pass (`udp.rs`) then signs the answers of a pass two at a time
//! ([`tally_wire::sign_pair`]) and sends them from that one buffer, kept
//! from pass to pass, while [`Server::handle`] signs its one answer and
//! returns it as an [`Action`].

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tally_store::Ts;
use tally_wire::ck::MAX_CKS;
use tally_wire::header::{Header, IdKind, HDR_LEN, ID_ANON, SIG_LEN, VERS_MIN, VERS_SINGLE_COUNTS};
use tally_wire::ids::Ids;
use tally_wire::packet::{Packet, Request, Response};
use tally_wire::response::{Answer, CountPair, OkBody};
use tally_wire::sign::{authenticate, Auth, Signer};
use tally_wire::validate::{check_date, check_request, Refusal};
use tally_wire::{DecodeError, Op};

use crate::clients::Clients;
use crate::ridc::Ridc;
use crate::stats::Stats;
use crate::work::{Counter, Rights};

/// What to do with a request.
#[derive(Debug)]
pub enum Action {
    /// Nothing (the original drops it silently).
    Drop,
    /// Send these bytes after this delay.
    Send(Vec<u8>, Duration),
}

/// An answer written at the end of [`Server::out`], not yet signed.
#[derive(Debug)]
pub enum Reply {
    /// Nothing to send.
    Drop,
    /// The bytes of `Server::out` from `at` to its end, to sign with
    /// `signer` and send after `delay`.
    Send {
        /// Where the answer starts in `Server::out`.
        at: usize,
        /// How it is signed.
        signer: Signer,
        /// When it leaves.
        delay: Duration,
    },
}

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Our server-ID.
    pub srvr_id: u16,
    /// The brand in OK answers.
    pub brand: String,
    /// `-Q`.
    pub query_only: bool,
    /// Anonymous delay (`None`: anonymous clients are not served).
    pub anon_delay_ms: Option<u32>,
    /// `-u ...,inflate`.
    pub anon_inflate: Option<u32>,
    /// The queue delay announced to authenticated clients (0 without
    /// flooding: see the compatibility notes).
    pub qdelay_ms: u16,
    /// `-R`.
    pub rate: crate::opts::RateLimits,
}

/// The request state of the server.
pub struct Server {
    /// Settings.
    pub cfg: Config,
    /// The ids file.
    pub ids: Ids,
    /// Counting and the database.
    pub counter: Counter,
    /// Trace bits.
    pub trace: u32,
    /// Counters for `cdcc stats`.
    pub stats: Stats,
    /// Recent clients.
    pub clients: Clients,
    /// The `blacklist` file's table (see [`crate::blacklist`]).
    pub blacklist: crate::blacklist::Blacklist,
    /// Retransmission cache.
    pub ridc: Ridc,
    /// Set by `cdcc stop`.
    pub stop: bool,
    /// The greylist state of a greylist server (`-G`).
    pub grey: Option<crate::grey::GreyState>,
    /// A fixed clock (Unix seconds) for greylist decisions, for tests.
    pub clock: Option<u64>,
    /// The flooding state, once the server runs (for `cdcc "flood ..."`).
    pub flood: Option<std::sync::Arc<std::sync::Mutex<crate::flood::state::Flood>>>,
    /// Where answers are written, unsigned, one after the other (see
    /// [`Reply`]); the UDP pass lends its own buffer here.
    pub out: Vec<u8>,
    /// The vector of checksums of the last request, to decode the next
    /// one into, and the count pairs of the last answer: kept to spare
    /// two allocations per request.
    pub(crate) spare_cks: Vec<tally_wire::WireCk>,
    pub(crate) pairs: Vec<CountPair>,
    /// Checksums deleted by `cdcc delck` since the start (see
    /// [`Server::note_deleted`]).
    pub(crate) deleted: std::collections::HashSet<tally_store::Ck>,
}

/// The most checksums [`Server::deleted`] remembers.
const MAX_DELETED: usize = 100_000;

/// How a request's sender is treated.
pub(crate) struct Who {
    pub auth: Auth,
    /// Authenticated client-ID (trusted for counting and reputations).
    pub trusted: bool,
}

impl Server {
    /// Work on one datagram from `from` received at `now`.
    pub fn handle(&mut self, buf: &[u8], from: SocketAddr, now: Instant) -> Action {
        let base = self.out.len();
        let a = match self.reply(buf, from, now, None) {
            Reply::Drop => Action::Drop,
            Reply::Send { at, signer, delay } => {
                let mut bytes = self.out.get(at..).unwrap_or_default().to_vec();
                signer.sign(&mut bytes);
                Action::Send(bytes, delay)
            }
        };
        self.out.truncate(base);
        a
    }

    /// [`Server::handle`] with the answer left unsigned at the end of
    /// [`Server::out`], and the outcome of the signature check when it is
    /// already known (see [`crate::verify::verify_batch`]).
    pub(crate) fn reply(
        &mut self,
        buf: &[u8],
        from: SocketAddr,
        now: Instant,
        checked: Option<Auth>,
    ) -> Reply {
        let Ok(h) = Header::decode(buf) else {
            self.stats.junk += 1;
            return Reply::Drop;
        };
        // An anonymous QUERY or REPORT over the rate limits is dropped
        // before anything costly (see `Clients::anon_refused`).
        if h.sender == ID_ANON && matches!(h.op, Op::Query | Op::Report) {
            if let Some(over) =
                self.clients
                    .anon_refused(from.ip(), &self.cfg.rate, now, unix_now())
            {
                let at = || {
                    format!(
                        " from anonymous at {}",
                        crate::blacklist::requests::addr_str(from)
                    )
                };
                return self.rate_dropped(None, over, at, from, now);
            }
        }
        let spare = std::mem::take(&mut self.spare_cks);
        let req = match Packet::<Request>::decode_with(buf, spare) {
            Ok(r) => r,
            Err(DecodeError::BadBodyLength { op: Op::Delete, .. })
                if h.pkt_vers >= VERS_MIN && h.pkt_vers <= 12 =>
            {
                let text = format!("wrong packet length {} for DELETE", buf.len());
                return self.bad_delete(buf, &h, text);
            }
            // the checksum of a DELETE: its length, then its type, in
            // the original's words (its misspelling too)
            Err(DecodeError::BadCkLen { .. } | DecodeError::UnknownCkType(_))
                if h.op == Op::Delete && h.pkt_vers >= VERS_MIN && h.pkt_vers <= 12 =>
            {
                let ty = buf.get(HDR_LEN + 4).copied().unwrap_or(0);
                let len = buf.get(HDR_LEN + 5).copied().unwrap_or(0);
                let text = if usize::from(len) != tally_wire::ck::CK_LEN {
                    format!("unknown checksum length {len}")
                } else {
                    format!("unknown checkksum type {ty}")
                };
                return self.bad_delete(buf, &h, text);
            }
            Err(e) => {
                // As the original: a datagram whose header does not fit
                // it, or of a version or an operation not served, is
                // dropped uncounted; bad lengths and checksums of a
                // request are counted as bad operations.
                if is_junk(&e) {
                    self.stats.junk += 1;
                } else {
                    self.stats.bad_op += 1;
                }
                return Reply::Drop;
            }
        };
        // greylist operations sent to a DCC server are junk to the
        // original: dropped before anything else, uncounted
        let r = if self.grey.is_none() && is_grey_op(&req.body) {
            self.stats.junk += 1;
            Reply::Drop
        } else {
            self.reply_to(&req, buf, from, now, checked)
        };
        // the vector of checksums, for the next request
        if let Some(cks) = req.body.into_cks() {
            self.spare_cks = cks;
        }
        r
    }

    /// [`Server::reply`] to a decoded request.
    fn reply_to(
        &mut self,
        req: &Packet<Request>,
        buf: &[u8],
        from: SocketAddr,
        now: Instant,
        checked: Option<Auth>,
    ) -> Reply {
        let auth = match checked {
            Some(a) => a,
            None => authenticate(&self.ids, req.sender, buf),
        };
        if matches!(auth, Auth::Blacklisted) {
            // `delay=forever` in the ids file: never answered.
            self.stats.blist += 1;
            return Reply::Drop;
        }
        let trusted =
            matches!(auth, Auth::Verified { .. }) && IdKind::of(req.sender) == IdKind::Client;
        let who = Who { auth, trusted };
        // The blacklist file (see `crate::blacklist`): nothing to do
        // while it has no line.
        let listed = self.blacklist.lookup(from.ip());
        if let Some(hit) = listed {
            if hit
                .flags
                .black(crate::blacklist::requests::unauthenticated(req, &who))
            {
                return self.blacklisted(req, from, &who, hit);
            }
        }
        if self.bad_auth(req, &who) {
            self.stats.passwd += 1;
        }
        if let Err(refusal) = self.check(req, &who) {
            // an invalid sender ID is junk to the original, uncounted
            if matches!(refusal, Refusal::BadSenderId(_)) {
                self.stats.junk += 1;
                return Reply::Drop;
            }
            self.stats.reject += 1;
            return match refusal {
                Refusal::AdmnSize { .. } if who.auth.passwd().is_some() => {
                    let text = refusal.error_text().unwrap_or_default();
                    self.error(req, &who, &text)
                }
                // a greylist server tells an authenticated client what is
                // wrong with its GREY_SPAM, as the original
                Refusal::GreySpamTypes if self.grey.is_some() && who.trusted => match &req.body {
                    Request::GreySpam(g) => {
                        let text = crate::grey::spam_types_error(g);
                        self.error(req, &who, &text)
                    }
                    _ => Reply::Drop,
                },
                _ => {
                    self.stats.bad_op += 1;
                    Reply::Drop
                }
            };
        }
        // One reading of the clock for the request (the time stamp of
        // its report, and the seconds of the client table).
        let ts = Ts::now();
        let secs = ts.secs();
        let anon = !who.trusted;
        let is_nop = matches!(req.body, Request::Nop);
        self.clients.note(req, from, &who, is_nop, secs, false);
        // the anonymous delay of a sender that is not trusted (a server-ID
        // too), worked out once: `Some(None)` when it is not served
        let anon_delay = anon.then(|| self.anon_delay(req, from, &who));
        if who.auth.passwd().is_none() && self.unauth_dropped(req, &who, anon_delay.flatten()) {
            match req.body {
                Request::Nop => self.stats.nops += 1,
                Request::Admn(_) => self.stats.admin += 1,
                _ => {}
            }
            self.stats.bad_op += 1;
            return Reply::Drop;
        }
        if listed.is_some_and(|h| h.flags.trace()) {
            let delay_ms = match anon_delay {
                Some(d) => d.unwrap_or(0),
                None => u64::from(self.id_delay_ms(req.sender)),
            };
            self.trace_request(req, from, &who, delay_ms);
        }
        // As the original's `ck_id`, NOPs, `cdcc` requests and DELETEs
        // are held to the rate limits too (QUERY and REPORT below, after
        // their anonymous delay; the greylist operations in `grey`), an
        // authenticated ID (a server-ID too) at the rate of clients. A
        // NOP or ADMN over the limit still counts as one, as there.
        if matches!(
            req.body,
            Request::Nop | Request::Admn(_) | Request::Delete(_)
        ) {
            let as_known = Who {
                auth: who.auth.clone(),
                trusted: who.auth.passwd().is_some(),
            };
            if let Some(over) = self.clients.over(req, from, &as_known, &self.cfg.rate, now) {
                match req.body {
                    Request::Nop => self.stats.nops += 1,
                    Request::Admn(_) => self.stats.admin += 1,
                    _ => {}
                }
                let client = as_known.trusted.then_some((req.sender, from.ip()));
                let at = || crate::blacklist::requests::sender_str(req, &who, from, false);
                return self.rate_dropped(client, over, at, from, now);
            }
        }
        if self.grey.is_some()
            && matches!(
                req.body,
                Request::Report(_)
                    | Request::Query(_)
                    | Request::GreyReport(_)
                    | Request::GreyQuery(_)
                    | Request::GreyWhite(_)
                    | Request::GreySpam(_)
            )
        {
            return self.grey_request(req, &who, from, buf, now);
        }

        match &req.body {
            Request::Nop => {
                self.stats.nops += 1;
                // As the original, the OK announces the delay the sender's
                // answers get: for authenticated IDs (server-IDs of cdcc
                // too) the queue delay plus their own `delay=` of the ids
                // file; for the others the anonymous delay, inflated by
                // their recent requests (`-u delay,inflate`).
                let qd = if who.auth.passwd().is_none() {
                    match anon_delay.flatten() {
                        Some(ms) => ms.min(65535) as u16,
                        None => self
                            .cfg
                            .anon_delay_ms
                            .map_or(u16::MAX, |d| d.min(65535) as u16),
                    }
                } else {
                    let own = self.id_delay_ms(req.sender);
                    (u32::from(self.cfg.qdelay_ms) + own).min(65535) as u16
                };
                let ok = OkBody::new(
                    tally_wire::header::answer_version(req.pkt_vers),
                    qd,
                    &self.cfg.brand,
                );
                self.answer(req, &who, Response::Ok(ok), Duration::ZERO)
            }
            Request::Report(r) | Request::Query(r) => {
                // decided before any counting
                let anon_ms = match anon_delay {
                    None => 0,
                    Some(Some(ms)) => ms,
                    Some(None) => {
                        self.stats.bad_op += 1;
                        return Reply::Drop;
                    }
                };
                if let Some(over) = self.clients.over(req, from, &who, &self.cfg.rate, now) {
                    // the sender without the operation, as the original
                    // words it
                    let at = || crate::blacklist::requests::sender_str(req, &who, from, false);
                    let client = (!anon).then_some((req.sender, from.ip()));
                    return self.rate_dropped(client, over, at, from, now);
                }
                let is_report = req.body.op() == Op::Report;
                // As the original (`start_work`), a retransmitted QUERY
                // is answered from the cache as a REPORT is: the answer
                // sent the first time, counted as a retransmission and
                // not as another query.
                if let Some(a) =
                    self.ridc
                        .replay(from, buf, req, &who, self.cfg.srvr_id, now, &mut self.out)
                {
                    self.stats.retrans += 1;
                    return a;
                }
                let entry = self.ids.get(req.sender).filter(|_| who.trusted);
                let rights = Rights {
                    report: is_report && self.reports_counted(req.sender, &who),
                    reps: who.trusted && !entry.is_some_and(|e| e.no_reps),
                    rep_answers: !entry.is_some_and(|e| e.no_reps),
                };
                // -Q: only the reports answered as queries are "rejected"
                if is_report && !rights.report {
                    self.stats.report_reject += 1;
                    let client = who.trusted.then_some((req.sender, from.ip()));
                    self.complain(client, now, || {
                        let text = crate::blacklist::requests::from_id_ip(req, &who, from, false);
                        format!("treat {text} as query")
                    });
                }
                let rep_spam = r.tgts.is_rep_spam();
                if is_report && rights.report {
                    // the notice of a reputation hit is no new report
                    if !rep_spam {
                        self.stats.reports += 1;
                    }
                } else {
                    self.stats.queries += 1;
                }
                if anon {
                    self.stats.anon += 1;
                }
                let vers = tally_wire::header::answer_version(req.pkt_vers);
                let mut pairs = std::mem::take(&mut self.pairs);
                let worked = self.counter.work_into(r, rights, ts, &mut pairs);
                let a = match worked {
                    Ok(out) => {
                        self.stats.note_answer(rights.report, rep_spam, &out);
                        let delay = if anon {
                            Duration::from_millis(anon_ms)
                        } else {
                            Duration::from_millis(u64::from(self.id_delay_ms(req.sender)))
                        };
                        let a = if vers <= VERS_SINGLE_COUNTS {
                            let singles = pairs.iter().map(|cp| cp.c).collect();
                            let body = Response::Answer(Answer::Singles(singles));
                            self.answer(req, &who, body, delay)
                        } else {
                            self.answer_pairs(req, &who, &pairs, delay)
                        };
                        self.remember(&a, from, buf, now);
                        a
                    }
                    Err(e) => {
                        crate::trace::log(&format!("database: {e}"));
                        Reply::Drop
                    }
                };
                self.pairs = pairs;
                a
            }
            Request::Delete(d) => {
                if !self.is_admin(req, &who) {
                    // the original drops it as a bad operation
                    self.stats.bad_op += 1;
                    return Reply::Drop;
                }
                if let Err(off) = check_date(d.date, secs as i64) {
                    return self.error(
                        req,
                        &who,
                        &format!("drop DELETE; timestamp off by {off} seconds"),
                    );
                }
                if let Some(a) =
                    self.ridc
                        .replay(from, buf, req, &who, self.cfg.srvr_id, now, &mut self.out)
                {
                    self.stats.retrans += 1;
                    return a;
                }
                self.stats.admin += 1;
                let ck = tally_store::Ck::new(d.ck.ty, d.ck.sum);
                // Absent or already deleted: the original still records
                // and floods the deletion (another server may have the
                // checksum) but answers with an ERROR saying so.
                let gone = match self.counter.store.total(&ck) {
                    Ok(0) if self.deleted.contains(&ck) => {
                        Some(format!("{} {} already deleted", d.ck.ty, d.ck.sum))
                    }
                    Ok(0) => Some(format!("\"{} {}\" not found to delete", d.ck.ty, d.ck.sum)),
                    _ => None,
                };
                match self.counter.store.delete(ck, self.cfg.srvr_id, Ts::now()) {
                    Ok(_) => {
                        crate::trace::log(&format!("deleted {} {}", d.ck.ty, d.ck.sum));
                        self.note_deleted(ck);
                        // `cdcc delck` on a greylist server forgets the checksum too
                        let secs = self.grey_secs();
                        if let Some(g) = self.grey.as_mut() {
                            g.grey.apply(&tally_grey::Change::Delete { ck, ts: secs });
                        }
                        let body = match gone {
                            Some(t) => {
                                crate::trace::log(&t);
                                Response::Error(t.into_bytes())
                            }
                            None => Response::Ok(self.ok_body(req)),
                        };
                        self.answer_remembered(req, &who, body, from, buf, now)
                    }
                    Err(e) => self.error(req, &who, &format!("delete failed: {e}")),
                }
            }
            Request::Admn(a) => {
                let a = a.clone();
                crate::admn::admn(self, req, &a, &who, from, buf, now)
            }
            // (greylist operations of a DCC server never get here)
            _ => {
                self.stats.junk += 1;
                Reply::Drop
            }
        }
    }

    /// Drop a request over a rate limit (`client`: the authenticated
    /// sender's ID and address, `None` for the others), counted as the
    /// original counts it (a bad operation, and among the rate-limited
    /// answers of authenticated or of anonymous clients) and logged in
    /// its words (`400.0 requests/sec are too many from ID 32800 at
    /// 192.0.2.1,1234`, `192.0.2.1,1234 contributed to 2000.0 anonymous
    /// requests/sec`), as [`Server::complain`] does. The figure is the
    /// limit in force (the original prints its own measure of the rate,
    /// which its limit caps). `at` is the sender as ` from ... at ...`.
    pub(crate) fn rate_dropped(
        &mut self,
        client: Option<(u32, std::net::IpAddr)>,
        over: crate::clients::Over,
        at: impl FnOnce() -> String,
        from: SocketAddr,
        now: Instant,
    ) -> Reply {
        if client.is_some() {
            self.stats.rl += 1;
        } else {
            self.stats.anon_rl += 1;
        }
        self.stats.bad_op += 1;
        let rl = &self.cfg.rate;
        let (sub, anon, all_anon) = (rl.sub, rl.anon, rl.all_anon);
        self.complain(client, now, || match over {
            crate::clients::Over::Client => {
                let rate = if client.is_some() { sub } else { anon };
                format!("{rate:.1} requests/sec are too many{}", at())
            }
            crate::clients::Over::AllAnon => format!(
                "{} contributed to {all_anon:.1} anonymous requests/sec",
                crate::blacklist::requests::addr_str(from),
            ),
        });
        Reply::Drop
    }

    /// Log a complaint about a client as the original's `clnt_msg`: with
    /// the trace mode CLNT for an authenticated `client` (its ID and
    /// address), ANON for the others, at most one message each
    /// `1/RL_BUGS` seconds (`-R`; 10 s by default) per authenticated
    /// client and one for all the others together, unless the trace mode
    /// RLIM is on.
    fn complain(
        &mut self,
        client: Option<(u32, std::net::IpAddr)>,
        now: Instant,
        text: impl FnOnce() -> String,
    ) {
        use crate::trace::Trace;
        let bit = if client.is_some() {
            Trace::CLNT
        } else {
            Trace::ANON
        };
        if self.trace & bit == 0 {
            return;
        }
        let bugs = self.cfg.rate.bugs;
        let every = if bugs > 0.0 {
            Duration::try_from_secs_f64(1.0 / bugs).unwrap_or(Duration::MAX)
        } else {
            Duration::MAX
        };
        if self.trace & Trace::RLIM == 0 && !self.clients.may_complain(client, every, now) {
            return;
        }
        crate::trace::log(&text());
    }

    /// Whether the sender counts as a bad password for `cdcc stats`, as
    /// the original counts them: an unknown ID, a bad password, or a
    /// server-ID asking what only clients ask (its password "fails" for
    /// QUERY, REPORT and the greylist operations).
    fn bad_auth(&self, req: &Packet<Request>, who: &Who) -> bool {
        match who.auth {
            Auth::UnknownId | Auth::BadPasswd => true,
            Auth::Verified { .. } => {
                IdKind::of(req.sender) == IdKind::Server
                    && !matches!(
                        req.body,
                        Request::Nop | Request::Admn(_) | Request::Delete(_)
                    )
            }
            Auth::Anonymous | Auth::Blacklisted => false,
        }
    }

    /// Remember a checksum deleted by `cdcc delck`, so that deleting it
    /// again answers "already deleted" (our databases drop a deleted
    /// checksum's total, where the original keeps a zero until cleaning);
    /// bounded: the set starts afresh when full.
    fn note_deleted(&mut self, ck: tally_store::Ck) {
        if self.deleted.len() >= MAX_DELETED {
            self.deleted.clear();
        }
        self.deleted.insert(ck);
    }

    /// The anonymous delay (ms) of a request from a client that is not
    /// trusted, or `None` when it is dropped: anonymous clients refused
    /// (`-u FOREVER`), or the delay, inflated by the client's recent
    /// requests (`-u delay,inflate`), reaching 4 s, as the original's
    /// "max anon delay drop" (see [`crate::anon_delay`]).
    fn anon_delay(&self, req: &Packet<Request>, from: SocketAddr, who: &Who) -> Option<u64> {
        let recent = match self.cfg.anon_inflate {
            Some(_) => self.clients.recent(req, from, who, unix_now()),
            None => 0,
        };
        crate::anon_delay::delay_ms(self.cfg.anon_delay_ms, self.cfg.anon_inflate, recent)
    }

    /// Whether a request from a sender that is not authenticated
    /// (anonymous, an unknown ID, a bad password) is dropped whatever it
    /// asks, NOPs and `cdcc stats` included, as the original's `ck_id`
    /// does: on a DCC server when its anonymous delay (`delay`, see
    /// [`Server::anon_delay`]) is not served (dccd(8) says `-u FOREVER`
    /// also shuts off `cdcc stats` for them); on a greylist server, which
    /// serves no anonymous clients but answers their NOPs and `cdcc
    /// stats`, when the ID is unknown or its password bad.
    fn unauth_dropped(&self, req: &Packet<Request>, who: &Who, delay: Option<u64>) -> bool {
        if self.grey.is_some() {
            // (its greylist requests are refused and counted by `grey`)
            return !matches!(who.auth, Auth::Anonymous)
                && matches!(req.body, Request::Nop | Request::Admn(_));
        }
        delay.is_none()
    }

    /// Whether the REPORTs of this sender are counted: always without
    /// `-Q`, else only those of known clients marked `rpt-ok`.
    fn reports_counted(&self, sender: u32, who: &Who) -> bool {
        !self.cfg.query_only || (who.trusted && self.ids.get(sender).is_some_and(|e| e.rpt_ok))
    }

    /// [`check_request`], except that the target count of a REPORT
    /// answered as a query (`-Q`) is not looked at: the original sets it
    /// to 0 before checking it, so that a count above 2000 is answered as
    /// a query rather than dropped.
    fn check(&self, req: &Packet<Request>, who: &Who) -> Result<(), Refusal> {
        match (check_request(req), &req.body) {
            (Err(Refusal::BogusTargets(_)), Request::Report(r))
                if !self.reports_counted(req.sender, who) =>
            {
                let mut as_query = req.clone();
                as_query.body = Request::Query(r.clone());
                check_request(&as_query)
            }
            (checked, _) => checked,
        }
    }

    /// The `delay=` of an ID in the ids file, in ms.
    fn id_delay_ms(&self, id: u32) -> u32 {
        match self.ids.get(id).and_then(|e| e.delay) {
            Some(tally_wire::ids::IdDelay::Ms { ms, .. }) => ms,
            _ => 0,
        }
    }

    /// The server's own server-ID, authenticated.
    pub(crate) fn is_admin(&self, req: &Packet<Request>, who: &Who) -> bool {
        who.auth.passwd().is_some() && req.sender == u32::from(self.cfg.srvr_id)
    }

    pub(crate) fn ok_body(&self, req: &Packet<Request>) -> OkBody {
        OkBody::new(
            tally_wire::header::answer_version(req.pkt_vers),
            self.cfg.qdelay_ms,
            &self.cfg.brand,
        )
    }

    /// Write an answer at the end of [`Server::out`], to be signed and
    /// sent; an ERROR is counted here for `cdcc stats` (`reject`).
    pub(crate) fn answer(
        &mut self,
        req: &Packet<Request>,
        who: &Who,
        body: Response,
        delay: Duration,
    ) -> Reply {
        let at = self.out.len();
        if matches!(body, Response::Error(_)) {
            self.stats.errors += 1;
        }
        match &body {
            Response::Answer(Answer::Pairs(pairs)) => {
                encode_pairs(req, u32::from(self.cfg.srvr_id), pairs, &mut self.out)
            }
            _ => self.out.extend_from_slice(
                &Packet::response_to(req, u32::from(self.cfg.srvr_id), body).encode(),
            ),
        }
        Reply::Send {
            at,
            signer: who.auth.answer_signer(req.pkt_vers, &req.op_nums),
            delay,
        }
    }

    /// [`Server::answer`] with an answer of count pairs.
    fn answer_pairs(
        &mut self,
        req: &Packet<Request>,
        who: &Who,
        pairs: &[CountPair],
        delay: Duration,
    ) -> Reply {
        let at = self.out.len();
        encode_pairs(req, u32::from(self.cfg.srvr_id), pairs, &mut self.out);
        Reply::Send {
            at,
            signer: who.auth.answer_signer(req.pkt_vers, &req.op_nums),
            delay,
        }
    }

    /// Remember an answer for retransmissions.
    fn remember(&mut self, a: &Reply, from: SocketAddr, buf: &[u8], now: Instant) {
        if let Reply::Send { at, .. } = a {
            if let Some(bytes) = self.out.get(*at..) {
                self.ridc.remember(from, buf, bytes, now);
            }
        }
    }

    /// Sign and send an answer at once, remembering it for
    /// retransmissions.
    pub(crate) fn answer_remembered(
        &mut self,
        req: &Packet<Request>,
        who: &Who,
        body: Response,
        from: SocketAddr,
        buf: &[u8],
        now: Instant,
    ) -> Reply {
        let a = self.answer(req, who, body, Duration::ZERO);
        self.remember(&a, from, buf, now);
        a
    }

    /// An ERROR answer.
    pub(crate) fn error(&mut self, req: &Packet<Request>, who: &Who, text: &str) -> Reply {
        crate::trace::log(text);
        let mut t = text.as_bytes().to_vec();
        t.truncate(127);
        self.answer(req, who, Response::Error(t), Duration::ZERO)
    }

    /// A DELETE that cannot be decoded, from the server's own ID: its
    /// date is checked first, then answered with the ERROR `text`.
    fn bad_delete(&mut self, buf: &[u8], h: &Header, text: String) -> Reply {
        let auth = authenticate(&self.ids, h.sender, buf);
        if auth.passwd().is_none() || h.sender != u32::from(self.cfg.srvr_id) {
            // the original drops it as a bad operation
            self.stats.bad_op += 1;
            return Reply::Drop;
        }
        let req = Packet {
            pkt_vers: h.pkt_vers,
            sender: h.sender,
            op_nums: h.op_nums,
            body: Request::Nop,
            signature: [0; 16],
        };
        let who = Who {
            auth,
            trusted: false,
        };
        // the date first, as the original checks it before the length
        // (when the datagram is too short to hold one, only the length)
        let date = buf
            .get(HDR_LEN..HDR_LEN + 4)
            .filter(|_| buf.len() >= HDR_LEN + 4 + SIG_LEN)
            .and_then(|d| <[u8; 4]>::try_from(d).ok());
        if let Some(date) = date {
            if let Err(off) = check_date(u32::from_be_bytes(date), unix_now() as i64) {
                let text = format!("drop DELETE; timestamp off by {off} seconds");
                return self.error(&req, &who, &text);
            }
        }
        self.stats.admin += 1;
        self.error(&req, &who, &text)
    }
}

/// The datagram of an answer of count pairs, unsigned, as
/// `Packet::response_to(req, srvr_id, body).encode()` makes it, but
/// written at the end of `out` (the answer of every REPORT and QUERY).
fn encode_pairs(req: &Packet<Request>, srvr_id: u32, pairs: &[CountPair], out: &mut Vec<u8>) {
    let pairs = pairs.get(..pairs.len().min(MAX_CKS)).unwrap_or_default();
    let total = HDR_LEN + 8 * pairs.len() + SIG_LEN;
    out.reserve(total);
    Header {
        len: u16::try_from(total).unwrap_or(u16::MAX),
        pkt_vers: tally_wire::header::answer_version(req.pkt_vers),
        op: Op::Answer,
        sender: srvr_id,
        op_nums: req.op_nums,
    }
    .encode_into(out);
    for cp in pairs {
        out.extend_from_slice(&cp.c.to_bytes());
        out.extend_from_slice(&cp.p.to_bytes());
    }
    out.extend_from_slice(&[0; SIG_LEN]);
}

/// Whether a request that cannot be decoded is junk to the original
/// (dropped before its sender is looked at, and not counted): a header
/// length that is not the datagram's, a version or an operation not
/// served. Bad lengths of a request's body and bad checksums are bad
/// operations.
fn is_junk(e: &DecodeError) -> bool {
    matches!(
        e,
        DecodeError::LengthMismatch { .. }
            | DecodeError::UnknownOp(_)
            | DecodeError::NotARequest(_)
            | DecodeError::BadVersion { .. }
    )
}

/// A greylist operation.
fn is_grey_op(b: &Request) -> bool {
    tally_wire::packet::Expect::for_request(b) == tally_wire::packet::Expect::Grey
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_wire::{OpNums, Tgts};

    #[test]
    fn pairs_encoded_as_the_wire_crate_does() {
        for vers in [5u8, 8, 12, 40] {
            for n in [0usize, 1, 10, 14, 15, 20] {
                let req =
                    Packet::request(vers, 32800, OpNums::from_le_words(1, 2, 3, 4), Request::Nop);
                let pairs: Vec<CountPair> = (0..n as u32)
                    .map(|i| CountPair {
                        c: Tgts(i * 3),
                        p: Tgts(0x00ff_fff0 - i),
                    })
                    .collect();
                let want =
                    Packet::response_to(&req, 1100, Response::Answer(Answer::Pairs(pairs.clone())))
                        .encode();
                let mut out = vec![7u8; 3];
                encode_pairs(&req, 1100, &pairs, &mut out);
                assert_eq!(out[..3], [7; 3]);
                assert_eq!(out[3..], want, "vers {vers}, {n} pairs");
            }
        }
    }
}
