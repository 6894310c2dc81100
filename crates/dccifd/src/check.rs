//! One request: the message's checksums, the whiteclnt files, the DCC
//! server, and the answer (overall result, per-recipient line, then the
//! header, the checksums or the whole message as asked).

use crate::config::Config;
use crate::decide::decide;
pub use crate::decide::Decided;
pub use crate::grey::Servers;
use crate::logs::MsgLogs;
use crate::proto::{self, BadRequest, Head};
use crate::white::{self, Lists};
use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tally_ck::header::Envelope;
use tally_ck::message::{Checksums, CkEntry, Framing, MessageCks};
use tally_ck::simple::ip_sum;
use tally_ck::CkType;
use tally_engine::logfile::NameGen;
use tally_engine::message::{copy_spool, read_message, rewind, ReadInfo};
use tally_engine::mx::MxCheck;
use tally_engine::spool::Spool;
use tally_engine::state::white_sw;
use tally_engine::whitefiles::grey_wanted::complaint_now;

/// A temporary file holding the message while it is checked (removed
/// at once: it lives as long as the handle; it moves to the system
/// temporary directory when `-T` or the log directory is full), and the
/// unique part of its name, which stands for the message (`%ID`) when
/// there is no log file.
pub fn spool_file(cfg: &Config) -> std::io::Result<(Spool, String)> {
    use std::sync::Mutex;
    static GEN: Mutex<Option<NameGen>> = Mutex::new(None);
    let mut gen = {
        let mut g = GEN.lock().unwrap_or_else(|e| e.into_inner());
        let gen = g.get_or_insert_with(NameGen::new);
        let mine = gen.clone();
        // the next caller starts after the names this one may try
        for _ in 0..12 {
            gen.next_name();
        }
        mine
    };
    Spool::create(std::slice::from_ref(&cfg.tmpdir), "dccifd.", &mut gen)
}

/// Handle one connection: read the request from `input`, write the
/// answer to `out`; returns the complaints to log and the `-X` debugging
/// lines (information). A malformed request gets no answer (the
/// original closes the connection); `Err` says why.
pub fn handle<R: BufRead, W: Write>(
    cfg: &Config,
    input: &mut R,
    out: &mut W,
    ask: &mut dyn Servers,
) -> Result<(Vec<String>, Vec<String>), BadRequest> {
    let head = proto::read_head(input)?;
    let want_body = head.opts.body;
    let mut c = check_message(cfg, head, input, want_body, ask)?;
    out.write_all(&c.outcome.head).map_err(BadRequest::Io)?;
    if want_body {
        c.copy_message(cfg, out).map_err(BadRequest::Io)?;
    }
    out.flush().map_err(BadRequest::Io)?;
    c.write_logs(cfg)?;
    c.errors.extend(c.grey_wanted);
    Ok((c.errors, c.infos))
}

/// A message read, checksummed and decided.
pub struct Checked {
    /// The request head (with user names filled in from `-D`).
    pub head: Head,
    /// The decision and the answer's text.
    pub outcome: Decided,
    /// Complaints so far.
    pub errors: Vec<String>,
    info: ReadInfo,
    sums: Checksums,
    spool: Option<Spool>,
    /// The unique part of the spool file's name.
    spool_id: Option<String>,
    logs: MsgLogs,
    user_sws: Vec<u32>,
    /// Proxy mode: the SMTP reply that refused or deferred the message
    /// (without CRLF), for the log files.
    pub smtp_reply: Option<String>,
    /// Proxy mode: the main log's result lines when the proxy decides
    /// them (a discarded message, a message the downstream refused).
    pub main_result: Option<String>,
    /// `-X set:debug` lines for the system log's information messages.
    pub infos: Vec<String>,
    /// A file asks for greylisting without `-G` (for the system log
    /// only, not the log files).
    pub grey_wanted: Option<String>,
    /// Notes for the log files only (relays), each with the number of
    /// complaints before it.
    notes: Vec<(usize, String)>,
}

/// Read the message that follows `head` from `input` (spooled when
/// `keep` or a log file needs it), compute its checksums and decide.
pub fn check_message<R: BufRead>(
    cfg: &Config,
    mut head: Head,
    input: &mut R,
    keep: bool,
    ask: &mut dyn Servers,
) -> Result<Checked, BadRequest> {
    let mut errors = head.warnings.clone();
    // -Q makes every request a query: `spam` is then dropped with the
    // original's complaint, as for the `query` option
    if cfg.query && head.opts.spam {
        errors.push("spam and query are incompatible".to_string());
        head.opts.spam = false;
    }
    let refused = head.refused.iter_mut().map(|(_, r)| r);
    for r in head
        .rcpts
        .iter_mut()
        .chain(refused)
        .filter(|r| r.user.is_empty())
    {
        if let Some(u) = cfg.domains.user_of(&r.addr) {
            r.user = u;
        }
    }
    let lists = white::lists_for(&cfg.white, &head.rcpts, &mut errors);
    let grey_wanted = complaint_now(
        lists
            .global
            .iter()
            .chain(lists.users.iter().flatten())
            .map(|l| &**l),
        cfg.grey.on,
        &cfg.home,
    );
    let user_sws: Vec<u32> = lists
        .users
        .iter()
        .map(|u| u.as_ref().map_or(0, |l| l.switches().0))
        .collect();
    let logs = MsgLogs::open(cfg, &head, &user_sws, &mut errors);
    let (mut spool, spool_id) = if keep || logs.any() {
        let (f, id) = spool_file(cfg).map_err(BadRequest::Io)?;
        (Some(f), Some(id))
    } else {
        (None, None)
    };
    let (info, sums, relays) = read_checksums(cfg, &lists, &head, input, spool.as_mut())?;
    // the relay notes go to the log file only, where the original wrote
    // them: the client's after the head's lines before the recipients
    // (get_sender()), those of Received: headers after the recipients
    // (get_hdrs())
    let rcpt_warning = head
        .warnings
        .last()
        .is_some_and(|w| w == "no recipients specified");
    let at_client = head.warnings.len() - usize::from(rcpt_warning);
    let mut notes: Vec<(usize, String)> = relays
        .client
        .notes
        .iter()
        .map(|n| (at_client, n.clone()))
        .collect();
    notes.extend(
        relays
            .received
            .notes
            .iter()
            .map(|n| (errors.len(), n.clone())),
    );
    errors.extend(sums.error.clone());
    let dnsbl = crate::dnsbl::check(cfg, &head, &sums);
    let mut outcome = decide(cfg, &lists, &head, &sums, relays, ask, dnsbl.as_ref());
    crate::stats::decided(&head, &outcome);
    let mut infos = Vec::new();
    let id = logs
        .global
        .as_ref()
        .map(|l| l.id().to_string())
        .or_else(|| spool_id.clone())
        .unwrap_or_default();
    crate::xfltr::run(
        cfg,
        &lists,
        &head,
        &id,
        &mut outcome,
        &mut errors,
        &mut infos,
    );
    Ok(Checked {
        head,
        outcome,
        errors,
        info,
        sums,
        spool,
        spool_id,
        logs,
        user_sws,
        smtp_reply: None,
        main_result: None,
        infos,
        grey_wanted,
        notes,
    })
}

impl Checked {
    /// Copy the message (without old X-DCC headers unless kept) with the
    /// new X-DCC header after the last header line.
    pub fn copy_message(&mut self, cfg: &Config, out: &mut dyn Write) -> std::io::Result<()> {
        let Some(sp) = self.spool.as_mut() else {
            return Ok(());
        };
        rewind(sp)?;
        let mut o: Option<&mut dyn Write> = Some(out);
        let mut nolog = None;
        let mut errs = Vec::new();
        copy_spool(sp, self.info.hdrs_len, &mut o, &mut nolog, &mut errs)?;
        if let Some(hdr) = self.outcome.header.as_ref().filter(|_| !cfg.no_xhdr_change) {
            // CR LF when more than half of the fields ended so, as the
            // original counted them through its read buffer
            let crlf = self.sums.fields.map_or(self.info.crlf(), |f| f.crlf());
            out.write_all(&hdr.to_bytes(crlf))?;
        }
        std::io::copy(sp, out)?;
        Ok(())
    }

    /// Write and close the log files.
    pub fn write_logs(&mut self, cfg: &Config) -> Result<(), BadRequest> {
        let logs = std::mem::take(&mut self.logs);
        let (Some(sp), true) = (self.spool.as_mut(), logs.any()) else {
            self.errors.append(&mut self.outcome.errors);
            return Ok(());
        };
        let mut logs = logs;
        rewind(sp).map_err(BadRequest::Io)?;
        let mut errors = logs.preamble(cfg, &self.head, &self.sums, sp);
        let outcome = &self.outcome;
        // the DNS list checks' hit lines come first
        let mut early = Vec::with_capacity(self.errors.len() + self.notes.len());
        let mut notes = self.notes.iter().peekable();
        for (i, e) in self.errors.iter().enumerate() {
            while let Some((_, n)) = notes.next_if(|(at, _)| *at <= i) {
                early.push(n.clone());
            }
            early.push(e.clone());
        }
        early.extend(notes.map(|(_, n)| n.clone()));
        let complaints: Vec<String> = outcome
            .dnsbl_lines
            .iter()
            .chain(early.iter())
            .chain(errors.iter())
            .chain(outcome.errors.iter())
            .chain(outcome.xfltr.as_ref().map(|x| &x.log_line))
            .cloned()
            .collect();
        let log_req = self.head.opts.log;
        let logit = outcome.logit;
        let user_sws = &self.user_sws;
        let keep_user = |i: usize| {
            log_req
                || logit
                || outcome.grey.wants_user_log(i)
                || user_sws.get(i).is_some_and(|s| s & white_sw::LOG_ALL != 0)
        };
        let embargo = outcome.embargo;
        // proxy mode: the SMTP reply refusing or deferring the message
        // comes before the result, as the original logs it
        let reply = self
            .smtp_reply
            .as_deref()
            .map(|r| format!("rejection message: {r}\n"));
        let with_reply = |result: &str| format!("{}{result}", reply.as_deref().unwrap_or(""));
        let main_result = self.main_result.clone();
        let grey = |who: Option<usize>| match who {
            None => (
                outcome.grey.log_text(),
                if embargo {
                    Some(with_reply("result: temporary greylist embargo\n"))
                } else if main_result.is_some() {
                    main_result.clone()
                } else if let Some(dp) = outcome.disposed.as_ref() {
                    Some(dp.main.clone())
                } else if outcome.overall_reject && reply.is_some() {
                    Some(with_reply("result: reject\n"))
                } else {
                    None
                },
            ),
            Some(i) => {
                let delivered = outcome.results.get(i).copied().unwrap_or(true);
                let disposed = outcome
                    .disposed
                    .as_ref()
                    .filter(|_| !embargo)
                    .and_then(|dp| dp.users.get(i).cloned());
                let result = match outcome.grey.rcpt_result(i, embargo, delivered) {
                    _ if disposed.is_some() => disposed,
                    Some(r) if embargo => Some(with_reply(&r)),
                    None if !delivered && reply.is_some() => Some(with_reply("result: reject\n")),
                    r => r,
                };
                (outcome.grey.rcpt_log_text(i), result)
            }
        };
        let st = |p: &str| outcome.st_line(p);
        errors.extend(logs.finish(
            &complaints,
            &outcome.white_line,
            &st,
            &outcome.log_tail,
            outcome.overall_reject,
            &self.head,
            &outcome.results,
            &keep_user,
            &grey,
        ));
        self.errors.append(&mut errors);
        self.errors.append(&mut self.outcome.errors);
        Ok(())
    }

    /// The header fields as the original counted them through its read
    /// buffer.
    pub fn field_counts(&self) -> Option<tally_ck::header::FieldCounts> {
        self.sums.fields
    }

    /// What stands for the message in SMTP replies (`%ID`): the unique
    /// part of the main log file's name, else of the spool file's.
    pub fn log_id(&self) -> Option<String> {
        self.logs
            .global
            .as_ref()
            .map(|l| l.id().to_string())
            .or_else(|| self.spool_id.clone())
    }
}

/// What the main whiteclnt file says about the SMTP client and the
/// clients found in Received: headers behind relays (the original's
/// `check_mx_listing()` from `get_sender()` and `get_hdrs()`).
#[derive(Debug, Clone, Default)]
pub struct Relays {
    /// The SMTP client's listing: greylisting is off for a listed `mx`,
    /// `mxdcc` or `submit` client (the recipients' switches come after it).
    pub client: MxCheck,
    /// The clients of Received: headers checked (without a client
    /// address, or behind an `mx` or `mxdcc` client): they come after the
    /// recipients' switches.
    pub received: MxCheck,
}

impl Relays {
    /// An `mxdcc` relay: the message is a query.
    pub fn query(&self) -> bool {
        self.client.query || self.received.query
    }

    /// An `mx` or `mxdcc` relay: spam is discarded rather than rejected.
    pub fn via_mx(&self) -> bool {
        self.client.via_mx || self.received.via_mx
    }

    /// The SMTP client is a listed `mx`, `mxdcc` or `submit` client.
    pub fn client_relay(&self) -> bool {
        self.client.via_mx || self.client.via_submit
    }
}

/// Read the message (into the spool when one is given) while computing
/// its checksums.
fn read_checksums<R: BufRead>(
    cfg: &Config,
    lists: &Lists,
    head: &Head,
    input: &mut R,
    spool: Option<&mut Spool>,
) -> Result<(ReadInfo, Checksums, Relays), BadRequest> {
    let mut env = Envelope {
        client_ip: head.client_ip,
        client_name: head.client_name.clone(),
        helo: (!head.helo.is_empty()).then(|| head.helo.clone()),
        env_from: (!head.sender.is_empty()).then(|| head.sender.clone()),
        ..Envelope::default()
    };
    // get_sender(): the SMTP client as a relay; an `mx` or `mxdcc` client
    // sends the search for the real client to the Received: headers
    let mut relays = Relays::default();
    if let (Some(ip), Some(g)) = (head.client_ip, lists.global.as_ref()) {
        relays
            .client
            .check(ip, g.relay(&ip_sum(ip), ip).map(|t| t.0));
    }
    let mut ck = cfg.ck_cfg.clone();
    // a client line with an address that cannot be read leaves the
    // client unknown: the original then does not look in Received:
    let from_received = (head.client_ip.is_none() && !head.client_bad) || relays.client.search;
    if relays.client.search {
        env.client_ip = None;
    }
    ck.use_received = from_received;
    ck.received_index = head.opts.rcvd_next.saturating_add(1);
    ck.helo_from_received = from_received && head.helo.is_empty();
    ck.keep_xdcc = cfg.keep_xhdrs;
    // the header is cut into fields as the original dccifd reads it
    let mut mc = MessageCks::with_framing(&ck, &env, Framing::Dccifd(head.ifd_start));
    let seen = Arc::new(Mutex::new(MxCheck::default()));
    if ck.use_received {
        mc.set_skip_note(MxCheck::skip_noter(&seen));
        if let Some(g) = lists.global.clone() {
            let seen = seen.clone();
            mc.set_relay_filter(Box::new(move |ip: IpAddr| {
                let listing = g.relay(&ip_sum(ip), ip).map(|t| t.0);
                seen.lock()
                    .map(|mut m| m.check(ip, listing))
                    .unwrap_or(false)
            }));
        }
    }
    let info = {
        let mut sp: Option<&mut dyn Write> = spool.map(|f| f as &mut dyn Write);
        read_message(input, &mut sp, &mut |b| mc.feed(b), cfg.keep_xhdrs).map_err(BadRequest::Io)?
    };
    // a message without a body or without headers is still answered
    // (with the checksums it has); the complaint is logged
    let mut sums = mc.finish();
    relays.received = seen.lock().map(|m| m.clone()).unwrap_or_default();
    // whether the address of the checksums is reported: the last address
    // checked decides
    let unreported = if head.client_ip.is_some() && !relays.client.search {
        relays.client.unreported
    } else {
        relays.received.unreported
    };
    if let (None, Some(ip), true) = (sums.client_ip, head.client_ip, relays.client.search) {
        // no Received: header named another client: the relay stays the
        // client, its address not reported
        sums.client_ip = Some(ip);
        sums.client_name = head.client_name.clone();
        sums.entries.insert(
            0,
            CkEntry {
                ck_type: CkType::Ip,
                sub_name: None,
                sum: ip_sum(ip),
                report: false,
            },
        );
    } else if unreported {
        // the client is listed `ok`, `submit` or as a relay
        for e in sums.entries.iter_mut().filter(|e| e.ck_type == CkType::Ip) {
            e.report = false;
        }
    }
    Ok((info, sums, relays))
}
