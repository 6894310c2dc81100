//! One message of a connection: envelope, recipients with their
//! whitelists, the checksums being computed, the X-DCC headers already
//! present, and what sendmail said through `${dcc_isspam}` and
//! `${dcc_notspam}`.

mod mta;
mod white_lines;

pub use mta::MtaEffect;

use crate::config::Config;
use crate::opts::Action;
use crate::reply::{Reply, INCOMPAT_THOLD, INCOMPAT_WLIST};
use crate::white;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tally_ck::header::Envelope;
use tally_ck::message::MessageCks;
use tally_engine::ask::{Listing, WhiteVerdict};
use tally_engine::cks::MsgCks;
use tally_engine::dnsbl::{On, GROUPS};
use tally_engine::mx::MxCheck;
use tally_engine::rcpts_milter::{engine_thresholds, white_thresholds, RcptSetup};
use tally_engine::state::white_sw;
use tally_engine::whitefiles::{user_dir, WhiteFiles};
use tally_white::compat::{Compat, Transaction};
use tally_white::{SpamAction, WhiteList};

/// Most distinct X-DCC header brands remembered for deletion.
const MAX_XHDRS: usize = 5;

/// A recipient.
pub struct Rcpt {
    /// The RCPT TO address as given.
    pub env_to: String,
    /// Whitelisted by env_To (global or own file) or by the own file.
    pub white: bool,
    /// The mailbox after aliases (`{rcpt_addr}`), when the MTA sent one
    /// that differs from the envelope address.
    pub mailbox: Option<String>,
    /// The per-user directory below userdirs.
    pub dir: Option<String>,
    /// The per-user whiteclnt list.
    pub user: Option<Arc<WhiteList>>,
    /// Why the per-user directory was not used (an insecure path).
    pub complaint: Option<String>,
    /// `option xfltr-on` in the per-user file, else in the main file:
    /// the `-X` filter's answers act for this recipient.
    pub xfltr_on: bool,
    /// Whitelisted after sendmail's opinion (`${dcc_isspam}`,
    /// `${dcc_notspam}`), when it gave one ([`Msg::mta_effect`]).
    pub mta_white: bool,
    /// What the recipient's log line shows when `option MTA-first` let
    /// sendmail decide for it.
    pub mta_shown: Option<Listing>,
}

fn lock(w: &Mutex<WhiteFiles>) -> std::sync::MutexGuard<'_, WhiteFiles> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}

impl Rcpt {
    /// A recipient with its per-user directory (`{dcc_userdir}` or
    /// `mailer/addr`) and its mailbox after aliases (`{rcpt_addr}`).
    pub fn new(cfg: &Config, to: &str, mailbox: Option<&str>, dir: Option<&str>) -> Rcpt {
        let mut r = Rcpt {
            env_to: to.to_string(),
            white: false,
            mailbox: mailbox
                .filter(|m| !m.is_empty() && *m != to)
                .map(str::to_string),
            dir: None,
            user: None,
            complaint: None,
            xfltr_on: false,
            mta_white: false,
            mta_shown: None,
        };
        let Some(w) = cfg.white.as_ref() else {
            return r;
        };
        let mut files = lock(w);
        if let (Some(ud), Some(dir)) = (cfg.userdirs.as_deref(), dir) {
            match user_dir(ud, &[dir]) {
                Ok(d) => {
                    r.user = files.user(&d).0;
                    r.dir = Some(d);
                }
                Err(e) => r.complaint = Some(e),
            }
        }
        let global = files.global().0;
        drop(files);
        // the envelope address, then the mailbox, each in the global file
        // and then in the recipient's own (which has the last word)
        r.xfltr_on = tally_engine::xfltr::gate::xfltr_on(global.as_deref(), r.user.as_deref());
        for l in global.iter().chain(r.user.iter()) {
            let listed = white::env_to(l, to)
                .or_else(|| r.mailbox.as_deref().and_then(|m| white::env_to(l, m)));
            if let Some(t) = listed {
                r.white = crate::conn::white_value(t);
            }
        }
        r
    }
}

/// The message.
pub struct Msg {
    /// A header line, the end of the header or body bytes arrived.
    pub data_started: bool,
    /// Queue ID (`{i}`).
    pub id: String,
    /// MAIL FROM.
    pub env_from: String,
    /// `{dcc_mail_host}` or `{mail_host}`.
    pub mail_host: Option<String>,
    /// Accepted recipients.
    pub rcpts: Vec<Rcpt>,
    /// Recipients refused at RCPT time that have a per-user directory
    /// (they get a copy of a kept log file), at most `MAX_RCPTS`.
    pub refused: Vec<Rcpt>,
    /// Recipients the MTA refused permanently (still counted).
    pub mta_rej_tgts: u32,
    /// RCPT commands seen, whatever became of them (the limit
    /// [`crate::conn::MAX_RCPTS`] counts them all, as the original).
    pub rcpt_cmds: usize,
    /// `${dcc_isspam}` text.
    pub mta_isspam: Option<String>,
    /// That text was sendmail's `DISCARD: Relaying denied` or `REJECT:
    /// Relaying denied` (a relay attack, [`crate::reply::relay_denied`]):
    /// later values of the macros do not count for this message.
    pub bad_relay: bool,
    /// `${dcc_notspam}` was set.
    pub mta_notspam: bool,
    /// The client is an MX or MXDCC relay: spam is discarded.
    pub forced_discard: bool,
    /// The client, or a relay behind an MX relay client, is an MXDCC
    /// relay: query instead of report.
    pub mxdcc: bool,
    /// The client is a SUBMIT client of the main file: recipients are
    /// never refused for incompatible whitelists.
    pub via_submit: bool,
    /// How recipients' switches and thresholds start.
    setup: RcptSetup,
    /// `-G` turned greylisting on.
    grey_on: bool,
    /// `-X` names a filter: recipients must agree about `xfltr-on`.
    xfltr: bool,
    /// The recipients as the joining rule sees them.
    tx: Transaction,
    env: Envelope,
    ck_cfg: tally_ck::header::CkConfig,
    cks: Option<MessageCks>,
    global: Option<Arc<WhiteList>>,
    /// X-DCC header field names and how often each occurred.
    xdcc: Vec<(String, u32)>,
    /// The log file, with `-l`.
    pub log: Option<crate::log::MsgLog>,
    /// Complaints for the system log.
    pub errors: Vec<String>,
    /// The DNS list checks running while the message arrives (`-B`).
    pub dnsbl: Option<crate::dnsbl::Run>,
    /// Their outcome, at the end of the message.
    pub dnsbl_outcome: Option<tally_engine::dnsbl::Outcome>,
    /// The checksums, finished early for the DNS list checks.
    finished: Option<(MsgCks, bool)>,
    /// The clients found in Received headers (without a client address,
    /// or behind an MX relay client), as check_mx_listing() from
    /// dccm_header() sees them; their notes are taken as they go to the
    /// log file.
    received: Arc<Mutex<MxCheck>>,
    /// The SMTP client's relay notes, for the log file (check_mx_listing()
    /// from dccm_envfrom()).
    pub client_notes: Vec<String>,
    /// The MTA gave no client address: it is taken from Received headers.
    no_client: bool,
}

impl Msg {
    /// Start a message.
    pub fn new(
        cfg: &Config,
        from: &str,
        id: String,
        ip: Option<IpAddr>,
        name: &str,
        helo: &str,
    ) -> Msg {
        let global = cfg.white.as_ref().and_then(|w| lock(w).global().0);
        let mut m = Msg {
            id,
            env_from: from.to_string(),
            mail_host: None,
            rcpts: Vec::new(),
            mta_rej_tgts: 0,
            rcpt_cmds: 0,
            mta_isspam: None,
            bad_relay: false,
            mta_notspam: false,
            forced_discard: false,
            mxdcc: false,
            via_submit: false,
            setup: RcptSetup {
                action: SpamAction::Reject,
                to_white_only: cfg.to_white_only,
                via_relay: false,
                can_discard_one: true,
                base: white_thresholds(&cfg.tholds.rej),
                have_dnsbls: cfg.dnsbl.is_some(),
            },
            grey_on: cfg.grey.on,
            xfltr: cfg.xfltr,
            tx: Transaction::new(),
            env: Envelope {
                client_ip: ip,
                client_name: Some(name.to_string()),
                helo: (!helo.is_empty()).then(|| helo.to_string()),
                env_from: Some(from.to_string()),
                ..Envelope::default()
            },
            ck_cfg: cfg.ck_cfg.clone(),
            cks: None,
            global,
            xdcc: Vec::new(),
            data_started: false,
            refused: Vec::new(),
            log: None,
            errors: Vec::new(),
            dnsbl: None,
            dnsbl_outcome: None,
            finished: None,
            received: Arc::default(),
            client_notes: Vec::new(),
            no_client: ip.is_none(),
        };
        if let (Some(g), Some(ip)) = (m.global.as_ref(), ip) {
            let mut c = MxCheck::default();
            c.check(ip, white::relay(g, ip));
            m.forced_discard = c.via_mx;
            m.mxdcc = c.query;
            m.via_submit = c.via_submit;
            m.client_notes = c.notes;
        }
        // spam through an MX relay is discarded, never rejected
        m.setup.action = match cfg.action {
            Action::Ignore => SpamAction::Ignore,
            Action::Discard => SpamAction::Discard,
            Action::Reject if m.forced_discard => SpamAction::Discard,
            Action::Reject => SpamAction::Reject,
        };
        m.setup.via_relay = m.forced_discard || m.via_submit;
        m
    }

    fn cks(&mut self) -> &mut MessageCks {
        if self.cks.is_none() {
            let mut env = self.env.clone();
            env.mail_host = self.mail_host.clone();
            let mut cfg = self.ck_cfg.clone();
            let search = self.forced_discard || self.no_client;
            if search {
                // the real client is in the relay's Received header, or
                // the MTA gave none (dccm_envfrom() sets CMN_FG_PARSE_RCVD)
                cfg.use_received = true;
                env.client_ip = None;
            }
            let mut mc = MessageCks::new(&cfg, &env);
            mc.helo_first();
            if search {
                mc.set_skip_note(MxCheck::skip_noter(&self.received));
            }
            if let Some(g) = self.global.clone().filter(|_| search) {
                let seen = self.received.clone();
                mc.set_relay_filter(Box::new(move |ip: IpAddr| {
                    let listing = white::relay(&g, ip);
                    seen.lock()
                        .map(|mut m| m.check(ip, listing))
                        .unwrap_or(false)
                }));
            }
            self.cks = Some(mc);
        }
        self.cks
            .get_or_insert_with(|| MessageCks::new(&Default::default(), &Envelope::default()))
    }

    /// Let a recipient join the transaction, or answer it with a 452
    /// when its whitelist files, switches or thresholds are incompatible
    /// with the earlier recipients' ([`tally_white::compat`]). Mail from
    /// a SUBMIT client cannot be refused recipient by recipient: the
    /// recipient joins anyway.
    pub fn compat(&mut self, new: &Rcpt) -> Option<Reply> {
        let (profile, decided) = self.setup.profile_grey(
            self.global.as_deref(),
            new.user.as_deref(),
            new.env_to.as_bytes(),
            new.mailbox.as_deref().map(str::as_bytes),
            self.grey_on,
        );
        let can_refuse = !self.via_submit;
        // with -X, the filter's answer acts for every recipient or for none
        let xfltr_differs = self.xfltr
            && self
                .rcpts
                .first()
                .is_some_and(|f| f.xfltr_on != new.xfltr_on);
        if xfltr_differs && can_refuse {
            return Some(crate::reply::fixed(INCOMPAT_WLIST));
        }
        match self.tx.admit(profile, decided, can_refuse) {
            Compat::Ok => None,
            _ if !can_refuse => {
                // taken anyway, and said in the log file as the original
                if let Some(l) = self.log.as_mut() {
                    l.note("incompatible whitelists");
                }
                None
            }
            Compat::IncompatibleWhitelists => Some(crate::reply::fixed(INCOMPAT_WLIST)),
            Compat::ThresholdConflict => Some(crate::reply::fixed(INCOMPAT_THOLD)),
        }
    }

    /// The transaction's rejection thresholds: the lowest of its
    /// recipients' (program, main file, per-user file), for a verdict.
    fn merged_tholds(&self, v: &mut WhiteVerdict) {
        if let Some(t) = self.tx.thresholds() {
            v.tholds_rej = engine_thresholds(t);
        }
    }

    /// One header field, its bytes as the MTA sent them: the original
    /// checksums the whole value, whatever its length and bytes.
    pub fn header(&mut self, name: &[u8], value: &[u8]) {
        self.data_started = true;
        if tally_engine::xhdr::is_xhdr(name) {
            let name = String::from_utf8_lossy(name);
            let len = self.xdcc.len();
            match self
                .xdcc
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
            {
                Some((_, c)) => *c = c.saturating_add(1).min(255),
                None if len < MAX_XHDRS => self.xdcc.push((name.into_owned(), 1)),
                None => {}
            }
        }
        if let Some(l) = self.log.as_mut() {
            l.header(name, value);
        }
        self.cks().header(name, value);
        // the notes of relays found in Received:, in their order among the
        // remarks about the transaction
        let new: Vec<String> = self
            .received
            .lock()
            .map(|mut m| std::mem::take(&mut m.notes))
            .unwrap_or_default();
        if let Some(l) = self.log.as_mut() {
            for n in &new {
                l.relay_note(n);
            }
        }
    }

    /// End of the header.
    pub fn eoh(&mut self) {
        self.data_started = true;
        if let Some(l) = self.log.as_mut() {
            l.eoh();
        }
        self.cks().end_of_headers();
    }

    /// Body bytes.
    pub fn body(&mut self, chunk: &[u8]) {
        self.data_started = true;
        if let Some(l) = self.log.as_mut() {
            l.body(chunk);
        }
        self.cks().body(chunk);
    }

    /// The host names of the body's URLs found since the last call.
    pub fn take_url_hosts(&mut self) -> Vec<String> {
        self.cks
            .as_mut()
            .map(|c| c.take_url_hosts())
            .unwrap_or_default()
    }

    /// Finish the checksums before the decision (the DNS list checks want
    /// the last URL hosts); returns those hosts.
    pub fn finish_body(&mut self) -> Vec<String> {
        if self.finished.is_some() {
            return Vec::new();
        }
        let (cks, hosts) = self.finish_sums();
        self.finished = Some(cks);
        hosts
    }

    /// The finished checksums and whether to only query.
    pub fn finish_cks(&mut self) -> (MsgCks, bool) {
        match self.finished.take() {
            Some(f) => f,
            None => self.finish_sums().0,
        }
    }

    fn finish_sums(&mut self) -> ((MsgCks, bool), Vec<String>) {
        self.cks();
        let mut sums = match self.cks.take() {
            Some(mc) => mc.finish(),
            None => return ((MsgCks::new(), self.mxdcc), Vec::new()),
        };
        let hosts = std::mem::take(&mut sums.url_hosts);
        let mut slots = white::to_slots(&sums);
        let received = self.received.lock().map(|m| m.clone()).unwrap_or_default();
        match (sums.client_ip, self.env.client_ip) {
            (None, Some(ip)) if self.forced_discard => {
                // no Received header named another client: the relay
                // stays the client, its address not reported
                slots.set_ip(tally_ck::simple::ip_sum(ip));
                slots.no_ip_rpt2srvr();
            }
            (Some(_), _) if received.unreported => slots.no_ip_rpt2srvr(),
            _ => {}
        }
        if received.via_mx && self.setup.action == SpamAction::Reject {
            // check_mx_listing() from dccm_header(): spam through a relay
            // is discarded (after the recipients' switches were set)
            self.forced_discard = true;
        }
        self.env.client_ip = sums.client_ip.or(self.env.client_ip);
        self.mxdcc |= received.query;
        ((slots, self.mxdcc), hosts)
    }

    /// The DNSBL groups that count: (for the accepted recipients, for them
    /// and those refused at RCPT time). The original lets a refused
    /// recipient's groups make the message spam for the header, while only
    /// the accepted recipients' groups reject it (recorded, 11a).
    pub fn dnsbl_on(&self) -> (On, On) {
        let global = self.global.as_deref();
        let on = |r: &Rcpt| self.setup.filters(global, r.user.as_deref()).dnsbl;
        let or = |a: On, b: On| std::array::from_fn(|i| a[i] || b[i]);
        let mut acc = [false; GROUPS];
        if self.rcpts.is_empty() {
            acc = self.setup.filters(global, None).dnsbl;
        }
        for r in &self.rcpts {
            acc = or(acc, on(r));
        }
        let mut any = acc;
        for r in &self.refused {
            any = or(any, on(r));
        }
        (acc, any)
    }

    /// The global whiteclnt verdict, with the transaction's thresholds.
    pub fn global_verdict(&self, cks: &MsgCks) -> Option<WhiteVerdict> {
        let mut v = white::verdict(self.global.as_ref()?, cks, self.env.client_ip);
        self.merged_tholds(&mut v);
        Some(v)
    }

    /// The verdict of the first recipient's own file, if it has one,
    /// combined with the global one, with the transaction's thresholds.
    pub fn user_verdict(&mut self, cks: &MsgCks) -> Option<WhiteVerdict> {
        let ip = self.env.client_ip;
        let mut first = None;
        for r in self.rcpts.iter_mut() {
            let Some(u) = r.user.as_ref() else { continue };
            let v = white::verdict(u, cks, ip);
            if v.listing == Listing::Listed {
                r.white = true;
            } else if first.is_none() && !r.white {
                first = Some(v);
            }
        }
        let mut v = first?;
        if let Some(g) = self.global_verdict(cks) {
            if v.listing == Listing::Unlisted {
                v.listing = g.listing;
                v.wtgts = g.wtgts;
            }
            if v.sws == 0 {
                v.sws = g.sws;
            }
        }
        self.merged_tholds(&mut v);
        Some(v)
    }

    /// Recipients counted for the report.
    pub fn tgts(&self) -> u32 {
        (self.rcpts.len() as u32)
            .saturating_add(self.mta_rej_tgts)
            .max(1)
    }

    /// Recipients that whitelist the message.
    pub fn white_tgts(&self, global: Option<&WhiteVerdict>) -> u32 {
        if global.is_some_and(|g| g.listing == Listing::Listed && g.sws & white_sw::DCC_OFF == 0) {
            return self.tgts();
        }
        let n = self.rcpts.iter().filter(|r| r.white).count() as u32;
        if n == 0 {
            return 0;
        }
        n
    }

    /// The X-DCC headers to delete, last instance first.
    pub fn xdcc_deletions(&self) -> Vec<(String, u32)> {
        let mut v = Vec::new();
        for (name, n) in &self.xdcc {
            for i in (1..=*n).rev() {
                v.push((name.clone(), i));
            }
        }
        v
    }

    /// How recipients' switches and thresholds start.
    pub fn setup(&self) -> &RcptSetup {
        &self.setup
    }

    /// The main whiteclnt list, if any.
    pub fn global_list(&self) -> Option<&Arc<WhiteList>> {
        self.global.as_ref()
    }

    /// The client address the checksums were made of (the real client
    /// behind an MX relay).
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.env.client_ip
    }

    /// `option` switches of the main whiteclnt file.
    pub fn global_switches(&self) -> Option<u32> {
        self.global.as_ref().map(|g| g.switches().0)
    }

    /// The mail_host of the log: the macro, else the sender's domain.
    pub fn mail_host_or_domain(&self) -> String {
        if let Some(h) = &self.mail_host {
            return h.clone();
        }
        let a = self
            .env_from
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>');
        a.rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_default()
    }
}
