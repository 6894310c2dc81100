//! One milter connection of dccm without sockets: the SMTP client's
//! connection, its messages, their recipients, headers and body, and at
//! the end of each message the decision of the shared engine turned into
//! the milter's answer (accept, reject, discard, temporary failure,
//! header changes, recipient deletions).
//!
//! The DCC server is asked between [`Conn::eom_prepare`] and
//! [`Conn::eom_finish`], so the same state machine serves the daemon
//! (which awaits the UDP answer) and the fuzz target (which has none).

mod abort;
mod ending;
mod eom_grey;

use crate::config::Config;
use crate::msg::{Msg, Rcpt};
use crate::reply::Reply;
use std::net::IpAddr;
use tally_engine::ask::Decision;
use tally_engine::cks::MsgCks;
use tally_engine::server::{Answer, AskError, ClientInfo, Request};
use tally_engine::state::{
    ST_CLNT_ISSPAM, ST_LOGIT, ST_MTA_ISSPAM, ST_MTA_NOTSPAM, ST_WLIST_NOTSPAM,
};
use tally_engine::tgts;
use tally_white::verdict::MtaOpinion;

/// Most recipients of one message (the original's `MAX_RCPTS`); more get
/// `452 4.5.3 reject temporarily for too many recipients`.
pub const MAX_RCPTS: usize = 1024;

/// The milter's answer to a step before the end of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Go on.
    Continue,
    /// Refuse with a temporary failure and this reply.
    TempFail(Reply),
}

/// The final answer to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer2 {
    /// Deliver.
    Accept,
    /// Refuse with this reply (4yz: temporary).
    Reply(Reply),
    /// Accept and throw away.
    Discard,
}

/// What to send at the end of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Existing headers to delete: field name and 1-based index.
    pub del_headers: Vec<(String, u32)>,
    /// The header to add: field name and value.
    pub add_header: Option<(String, String)>,
    /// Recipients to remove.
    pub del_rcpts: Vec<String>,
    /// The answer.
    pub answer: Answer2,
    /// Complaints for the system log.
    pub errors: Vec<String>,
    /// What the `-X` filter is told about the message (only when `-X`
    /// names a filter).
    pub xfltr: Option<crate::xfltr::Ask>,
    /// `GREY_SPAM` requests to send to the greylist server (their
    /// answers change nothing).
    pub grey_spam: Vec<tally_engine::grey::GreySpamRequest>,
}

/// What [`Conn::eom_prepare`] wants next.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum EomStep {
    /// Done without asking the DCC server.
    Done(Verdict),
    /// Send this request to the DCC server and call
    /// [`Conn::eom_finish`] with the result.
    Ask(Request),
    /// Send these requests to the greylist server and call
    /// [`Conn::eom_grey`] with their outcomes, in the same order.
    Grey(Vec<tally_engine::grey::GreyRequest>),
}

/// A message between the steps of its end.
struct Pending {
    d: Decision,
    cks: MsgCks,
    local_tgts: tgts::Tgts,
    /// Whitelisted for every recipient: the DCC server is not asked.
    all_white: bool,
    /// `-G`: the greylisting and the recipients asked about.
    grey: Option<tally_engine::grey::Greylist>,
    grey_asked: Vec<usize>,
}

/// A connection's state.
pub struct Conn {
    cfg: std::sync::Arc<Config>,
    clnt_name: String,
    clnt_ip: Option<IpAddr>,
    helo: String,
    msg: Option<Msg>,
    /// The decision waiting for the greylist or DCC server.
    pending: Option<Pending>,
    /// Complaints of an aborted transaction, for the system log.
    aborted_complaints: Vec<String>,
    /// The message whose log file waits for the final verdict
    /// ([`Conn::eom_log`]).
    ending: Option<ending::Ending>,
}

/// Macro lookup: a name such as `i` or `{rcpt_addr}`.
pub type Macros<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Find a macro by either spelling (`i` or `{i}`).
pub fn mac(m: Macros, name: &str) -> Option<String> {
    m(name).or_else(|| {
        if name.starts_with('{') {
            m(name.trim_start_matches('{').trim_end_matches('}'))
        } else {
            m(&format!("{{{name}}}"))
        }
    })
}

impl Conn {
    /// A new connection.
    pub fn new(cfg: std::sync::Arc<Config>) -> Conn {
        Conn {
            cfg,
            clnt_name: String::new(),
            clnt_ip: None,
            helo: String::new(),
            msg: None,
            pending: None,
            aborted_complaints: Vec::new(),
            ending: None,
        }
    }

    /// The SMTP client connected: its name and address (`None` for an
    /// unknown or non-IP address; "localhost" without an address is
    /// 127.0.0.1 as in the original).
    pub fn connect(&mut self, name: &str, ip: Option<IpAddr>) -> Step {
        self.clnt_name = if name.is_empty() {
            "(null name)".to_string()
        } else {
            name.to_string()
        };
        self.clnt_ip = ip.or_else(|| {
            name.eq_ignore_ascii_case("localhost")
                .then_some(IpAddr::from([127, 0, 0, 1]))
        });
        Step::Continue
    }

    /// Without an address from the connect step (an MTA talking over a
    /// unix socket, or a proxy), take the client from `{client_addr}` /
    /// `{client_name}`, else from `{_}` (`name [addr]`).
    fn client_from_macros(&mut self, m: Macros) {
        if self.clnt_ip.is_none() {
            let from_underscore = mac(m, "_").and_then(|u| {
                let (name, rest) = u.split_once(" [")?;
                let ip = rest
                    .split(']')
                    .next()?
                    .trim_start_matches("IPv6:")
                    .parse()
                    .ok()?;
                Some((name.to_string(), ip))
            });
            let ip = mac(m, "{client_addr}")
                .and_then(|a| a.trim_start_matches("IPv6:").parse().ok())
                .or(from_underscore.as_ref().map(|u| u.1));
            if let Some(ip) = ip {
                self.clnt_ip = Some(ip);
            }
            if self.clnt_name.is_empty() || self.clnt_name == "(null name)" {
                if let Some(n) = mac(m, "{client_name}")
                    .filter(|n| !n.is_empty())
                    .or(from_underscore.map(|u| u.0))
                {
                    self.clnt_name = n;
                }
            }
        }
    }

    /// HELO/EHLO.
    pub fn helo(&mut self, helo: &str) -> Step {
        self.helo = helo.chars().take(256).collect();
        Step::Continue
    }

    /// MAIL FROM: starts a message.
    pub fn mail(&mut self, from: &str, m: Macros) -> Step {
        self.pending = None;
        self.client_from_macros(m);
        let mut msg = Msg::new(
            &self.cfg,
            from,
            mac(m, "i").unwrap_or_default(),
            self.clnt_ip,
            &self.clnt_name,
            &self.helo,
        );
        let mail_host = mac(m, "{dcc_mail_host}")
            .filter(|s| !s.is_empty())
            .or_else(|| mac(m, "{mail_host}"));
        msg.mail_host = mail_host.filter(|s| !s.is_empty());
        if let Some((dir, mode)) = self.cfg.logdir.as_ref() {
            match crate::log::MsgLog::start(
                dir,
                *mode,
                &self.clnt_name,
                self.clnt_ip,
                &self.helo,
                from,
                &msg.mail_host_or_domain(),
            ) {
                Ok(l) => msg.log = Some(l),
                Err(e) => msg.errors.extend(e),
            }
        }
        // check_mx_listing() from dccm_envfrom()
        if let Some(l) = msg.log.as_mut() {
            for n in &msg.client_notes {
                l.relay_note(n);
            }
        }
        self.msg = Some(msg);
        Step::Continue
    }

    /// The recipients of the message so far (for the statistics report).
    pub fn rcpt_count(&self) -> usize {
        self.msg.as_ref().map_or(0, |m| m.rcpts.len())
    }

    /// RCPT TO.
    pub fn rcpt(&mut self, to: &str, m: Macros) -> Step {
        let cfg = self.cfg.clone();
        let Some(msg) = self.msg.as_mut() else {
            // a recipient without a sender: answer as for an unknown state
            return Step::Continue;
        };
        if msg.rcpt_cmds >= MAX_RCPTS {
            // complained about in the system log and the log file, which is
            // kept, as the original
            let e = "too many recipients";
            if let Some(l) = msg.log.as_mut() {
                l.note(e);
            }
            msg.errors.push(e.to_string());
            return Step::TempFail(crate::reply::fixed(crate::reply::TOO_MANY_RCPTS));
        }
        msg.rcpt_cmds += 1;
        let mailer = mac(m, "{rcpt_mailer}");
        let addr = mac(m, "{rcpt_addr}");
        if mailer.as_deref() == Some("error") {
            if !addr.as_deref().is_some_and(|a| a.starts_with('4')) {
                msg.mta_rej_tgts += 1;
            }
            return Step::Continue;
        }
        let dir = match (mac(m, "{dcc_userdir}"), mailer, addr.as_deref()) {
            (Some(d), _, _) => Some(d),
            (None, Some(ml), Some(a)) => Some(format!("{ml}/{a}")),
            _ => None,
        };
        let rcpt = Rcpt::new(&cfg, to, addr.as_deref(), dir.as_deref());
        let ud = match (cfg.userdirs.as_deref(), rcpt.dir.as_deref()) {
            (Some(u), Some(d)) => format!("{}/{d}", u.trim_end_matches('/')),
            _ => String::new(),
        };
        let addr = addr.unwrap_or_default();
        if let (Some(c), Some(l)) = (rcpt.complaint.as_deref(), msg.log.as_mut()) {
            l.note(c);
        }
        // sendmail's opinion, as the original reads it: not for recipients
        // over the limit or refused by the MTA, before the joining rule
        msg.note_mta(m);
        if let Some(reply) = msg.compat(&rcpt) {
            if let Some(l) = msg.log.as_mut() {
                let line = format!("{} {} {}", reply.rcode, reply.xcode, reply.text);
                l.refused_rcpt(to, &addr, &ud, &line);
            }
            if rcpt.user.is_some() && msg.refused.len() < MAX_RCPTS {
                msg.refused.push(rcpt);
            }
            return Step::TempFail(reply);
        }
        if let Some(l) = msg.log.as_mut() {
            l.rcpt(to, &addr, &ud);
        }
        msg.rcpts.push(rcpt);
        Step::Continue
    }

    /// One header field: its name and value as the MTA sent them.
    pub fn header(&mut self, name: &[u8], value: &[u8]) -> Step {
        if let Some(msg) = self.msg.as_mut() {
            msg.header(name, value);
        }
        Step::Continue
    }

    /// End of the header.
    pub fn eoh(&mut self) -> Step {
        if let Some(msg) = self.msg.as_mut() {
            msg.eoh();
        }
        self.dnsbl_start();
        Step::Continue
    }

    /// A body chunk.
    pub fn body(&mut self, chunk: &[u8]) -> Step {
        if let Some(msg) = self.msg.as_mut() {
            msg.body(chunk);
            if msg.dnsbl.is_some() {
                let hosts = msg.take_url_hosts();
                if let Some(run) = msg.dnsbl.as_mut() {
                    run.urls(hosts);
                }
            }
        }
        Step::Continue
    }

    /// Start the DNS list checks of the message (`-B`): the client, the
    /// sender's domain, and later the URL hosts.
    fn dnsbl_start(&mut self) {
        let (Some(c), Some(msg)) = (self.cfg.dnsbl.as_ref(), self.msg.as_mut()) else {
            return;
        };
        if msg.dnsbl.is_some() || msg.dnsbl_outcome.is_some() {
            return;
        }
        let mail_host = msg.mail_host_or_domain();
        let t = tally_engine::dnsbl::targets(
            tally_engine::dnsbl::Mode::Daemon,
            self.clnt_ip,
            Some(&self.clnt_name),
            Some(&mail_host),
            Vec::new(),
        );
        msg.dnsbl = crate::dnsbl::start(c, t);
    }

    /// The end of the message, before the decision: the DNS list checks
    /// to await (with the body's last URL hosts), if any.
    pub fn eom_dnsbl(&mut self) -> Option<(crate::dnsbl::Run, Vec<String>)> {
        self.cfg.dnsbl.as_ref()?;
        self.dnsbl_start();
        let msg = self.msg.as_mut()?;
        let run = msg.dnsbl.take()?;
        let mut hosts = msg.take_url_hosts();
        hosts.extend(msg.finish_body());
        Some((run, hosts))
    }

    /// The outcome of the message's DNS list checks.
    pub fn set_dnsbl(&mut self, o: tally_engine::dnsbl::Outcome) {
        if let Some(msg) = self.msg.as_mut() {
            msg.dnsbl_outcome = Some(o);
        }
    }

    /// The message was abandoned (or Postfix's ABORT after the end),
    /// without asking the DCC server ([`Conn::abort_report`] says what
    /// the original would report).
    pub fn abort(&mut self) {
        let none = ClientInfo {
            hostname: String::new(),
            brand: String::new(),
        };
        let _ = self.abort_report(&none);
        self.aborted_complaints.clear();
    }

    /// End of the message: the decision up to the DCC server.
    pub fn eom_prepare(&mut self, m: Macros, client: &ClientInfo) -> EomStep {
        let Some(msg) = self.msg.as_mut() else {
            return EomStep::Done(crate::eom::no_message());
        };
        msg.note_mta(m);
        if msg.id.is_empty() {
            // Postfix gives the queue ID only after MAIL
            msg.id = mac(m, "i").unwrap_or_default();
        }
        if msg.id.is_empty() {
            // without {i} the log file's name stands in, as in the original
            if let Some(l) = msg.log.as_ref() {
                msg.id = l.id().to_string();
            }
        }
        let (cks, query) = msg.finish_cks();
        let cfg = self.cfg.clone();
        let global = msg.global_verdict(&cks);
        // per-user files first: they can whitelist their recipients
        let user = msg.user_verdict(&cks);
        let white_tgts = msg.white_tgts(global.as_ref());
        let tgts = msg.tgts();
        // sendmail's opinion before or after the whiteclnt files
        let mta = msg.mta_effect(&cks, global.as_ref());
        let mut d = Decision::new(query || cfg.query);
        if msg.mta_opinion() == MtaOpinion::NotSpam {
            d.st |= ST_MTA_NOTSPAM;
        }
        // whitelisted for every recipient?
        let all_white = match mta {
            Some(e) => e.all_white,
            None => tgts <= white_tgts,
        };
        if !all_white {
            let verdict = user.or(global);
            d.ask_white(&cfg.tholds, verdict.as_ref().map(Ok));
            // -W: DCC filtering only where a whiteclnt file turns it on
            let dcc_on = verdict
                .as_ref()
                .is_some_and(|v| v.sws & tally_engine::state::white_sw::DCC_ON != 0);
            if cfg.to_white_only && !dcc_on {
                d.sws |= tally_engine::state::SW_DCC_OFF;
            }
            if msg.mta_isspam.is_some() {
                d.st |= ST_MTA_ISSPAM;
            }
            if mta.is_some_and(|e| e.spam) {
                // spam by sendmail's word for some recipient: reported to
                // the DCC server as spam, as the original's blacklisting
                d.st &= !ST_WLIST_NOTSPAM;
                d.st |= ST_CLNT_ISSPAM | ST_LOGIT;
            }
        }
        if msg.mta_first() {
            // the decision line names sendmail's opinion first
            d.sws |= tally_engine::state::SW_MTA_FIRST;
        }
        if let Some(o) = msg.dnsbl_outcome.as_ref() {
            let (on, on_any) = msg.dnsbl_on();
            let debug = cfg.dnsbl.as_ref().is_some_and(|c| c.settings.debug > 0);
            if let Some(l) = msg.log.as_mut() {
                l.dnsbl(&o.log_lines(debug, &msg.id));
            }
            if !all_white {
                d.apply_dnsbl(o, on_any);
                d.dnsbl = o.decision(on);
            }
        }
        let grey = crate::grey::start(&cfg, msg, &cks, msg.client_ip(), d.st, all_white);
        let (grey, asked, reqs) = match grey {
            Some((g, list)) => {
                let (asked, reqs): (Vec<usize>, Vec<_>) = list.into_iter().unzip();
                (Some(g), asked, reqs)
            }
            None => (None, Vec::new(), Vec::new()),
        };
        self.pending = Some(Pending {
            d,
            cks,
            local_tgts: 0,
            all_white,
            grey,
            grey_asked: asked,
        });
        if !reqs.is_empty() {
            return EomStep::Grey(reqs);
        }
        self.eom_ask(client)
    }

    /// End of the message after the DCC server's answer (or failure).
    pub fn eom_finish(&mut self, answer: Result<Answer, AskError>, client: &ClientInfo) -> Verdict {
        let Some(mut p) = self.pending.take() else {
            return self.end(
                Some(Decision::new(false)),
                MsgCks::new(),
                0,
                false,
                client,
                None,
            );
        };
        let failed = answer.is_err();
        let cfg = self.cfg.clone();
        p.d.apply_answer(&cfg.tholds, cfg.body_kludge, client, &mut p.cks, answer);
        self.end(Some(p.d), p.cks, p.local_tgts, failed, client, p.grey)
    }

    /// The verdict (`d` is `None` for a message whitelisted for all
    /// recipients); the log file waits for [`Conn::eom_log`].
    fn end(
        &mut self,
        d: Option<Decision>,
        cks: MsgCks,
        local_tgts: tgts::Tgts,
        failed: bool,
        client: &ClientInfo,
        mut grey: Option<tally_engine::grey::Greylist>,
    ) -> Verdict {
        let Some(msg) = self.msg.take() else {
            return crate::eom::no_message();
        };
        let cip = self.clnt_ip.map(|i| i.to_string()).unwrap_or_default();
        let mut v = match d.as_ref() {
            None => crate::eom::white(&self.cfg, &msg, &cip, client),
            Some(d) => crate::eom::decide(&self.cfg, &msg, &cip, d, failed),
        };
        if let Some(d) = d.as_ref() {
            v.errors.extend(d.errors.iter().cloned());
        }
        if let Some(g) = grey.as_mut() {
            crate::grey::finish(&self.cfg, &msg, &cip, d.as_ref(), &cks, failed, g, &mut v);
        }
        if self.cfg.xfltr {
            let header = v.add_header.clone().or_else(|| {
                let h = d.as_ref()?.header.as_ref()?;
                (self.cfg.hdr != crate::opts::HdrMode::None)
                    .then(|| crate::eom::split_header(h, &client.brand))?
            });
            let mut ask =
                crate::xfltr::Ask::new(&msg, &cip, &self.clnt_name, &self.helo, &v, header);
            let embargo = grey
                .as_ref()
                .is_some_and(|g| g.st & tally_engine::state::ST_GREY_EMBARGO != 0);
            // a relay attack is refused whatever the filter says
            ask.deferred = embargo || (failed && self.cfg.try_extra_hard) || msg.bad_relay;
            v.xfltr = Some(ask);
        }
        // the log file is finished with the final verdict (eom_log)
        self.ending = Some(ending::Ending {
            msg,
            d,
            cks,
            local_tgts,
            grey,
        });
        v
    }
}

/// Whether a whiteclnt value is a whitelisting one.
pub fn white_value(t: tgts::Tgts) -> bool {
    matches!(t, tgts::OK | tgts::OK2 | tgts::OK_MX | tgts::OK_MXDCC)
}
