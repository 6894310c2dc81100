//! The milter daemon: [`indymilter`] callbacks around [`Conn`], the
//! asynchronous DCC client, the `-j` limit on simultaneous connections,
//! and the counters of the daily statistics report.

mod grey_io;

use crate::config::Config;
use crate::conn::{Answer2, Conn, EomStep, Step, Verdict};
use indymilter::{
    Actions, Callbacks, ContextActions, EomContext, Listener, Macros, NegotiateContext, ProtoOpts,
    SetErrorReply, SocketInfo, Status,
};
use std::ffi::{CStr, CString};
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tally_engine::dcc_client::DccClient;
use tally_engine::server::{AskError, ClientInfo};
use tally_engine::syslog::Syslog;

/// Message counters for SIGUSR1 and the daily report.
#[derive(Default, Debug)]
pub struct Totals {
    /// Messages seen to the end.
    pub msgs: AtomicU64,
    /// Their recipients.
    pub tgts: AtomicU64,
    /// Messages rejected.
    pub rejected: AtomicU64,
    /// Messages discarded.
    pub discarded: AtomicU64,
    /// Messages tempfailed.
    pub tempfailed: AtomicU64,
    /// Connections refused for `-j`.
    pub too_many: AtomicU64,
}

impl Totals {
    /// The report line.
    pub fn report(&self) -> String {
        format!(
            "{} messages with {} recipients: {} rejected, {} discarded, {} temporarily failed; {} connections over the limit",
            self.msgs.load(Ordering::Relaxed),
            self.tgts.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
            self.discarded.load(Ordering::Relaxed),
            self.tempfailed.load(Ordering::Relaxed),
            self.too_many.load(Ordering::Relaxed),
        )
    }
}

/// Connections refused for `-j` and not yet told: as the original, they
/// are summed and told (`N too many simultaneous mail messages`) when an
/// admitted connection ends, at most once a second.
#[derive(Default)]
pub struct OverLimit {
    pending: AtomicU64,
    /// The second (since the epoch) of the last telling.
    told_at: AtomicU64,
}

impl OverLimit {
    /// A connection refused.
    pub fn refused(&self) {
        self.pending.fetch_add(1, Ordering::Relaxed);
    }

    /// At the end of an admitted connection in second `now`: the count
    /// to tell, if any and if none was told in that second.
    pub fn to_tell(&self, now: u64) -> Option<u64> {
        if self.pending.load(Ordering::Relaxed) == 0
            || self.told_at.swap(now, Ordering::Relaxed) == now
        {
            return None;
        }
        Some(self.pending.swap(0, Ordering::Relaxed)).filter(|&n| n > 0)
    }
}

/// What the daemon's connections share.
pub struct Shared {
    /// Decision settings.
    pub cfg: Arc<Config>,
    /// The DCC servers, if the map could be read.
    pub dcc: Option<Arc<DccClient>>,
    /// This host's name for the X-DCC header.
    pub hostname: String,
    /// `-j`.
    pub max_work: usize,
    /// Open connections.
    pub active: AtomicUsize,
    /// Connections refused for `-j`, to be told.
    pub over_limit: OverLimit,
    /// Counters.
    pub totals: Totals,
    /// System log.
    pub syslog: Syslog,
    /// The `-X` external filter.
    pub xfltr: tally_engine::xfltr::XfltrOpts,
}

impl Shared {
    fn client_info(&self) -> ClientInfo {
        match &self.dcc {
            Some(c) => c.client_info(),
            None => ClientInfo {
                hostname: self.hostname.clone(),
                brand: String::new(),
            },
        }
    }
}

fn macro_fn(m: &Macros) -> impl Fn(&str) -> Option<String> + '_ {
    move |name: &str| {
        let c = CString::new(name).ok()?;
        m.get(&c).map(|v| v.to_string_lossy().into_owned())
    }
}

fn text(s: &CStr) -> String {
    s.to_string_lossy().into_owned()
}

fn clean(s: &str) -> String {
    let t: String = s
        .chars()
        .filter(|&c| c != '\0' && c != '\r' && c != '\n')
        .collect();
    let mut end = t.len().min(900);
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    t[..end].to_string()
}

fn set_reply(reply: &mut indymilter::SmtpReply, r: &crate::reply::Reply) -> Status {
    let temp = r.is_temp();
    let xcode = (!r.xcode.is_empty()).then_some(r.xcode.as_str());
    let ok = reply
        .set_error_reply(&r.rcode, xcode, [clean(&r.text)])
        .or_else(|_| reply.set_error_reply(&r.rcode, None, [clean(&r.text)]));
    if ok.is_err() {
        // a reply sendmail would refuse: fall back to a plain refusal
        let _ = reply.set_error_reply(if temp { "451" } else { "550" }, None, ["DCC"]);
    }
    if temp {
        Status::Tempfail
    } else {
        Status::Reject
    }
}

fn step(reply: &mut indymilter::SmtpReply, s: Step) -> Status {
    match s {
        Step::Continue => Status::Continue,
        Step::TempFail(r) => set_reply(reply, &r),
    }
}

/// A complaint to the system log and to standard error, as all of
/// dccm's complaints go (standard error is /dev/null once dccm runs in the
/// background).
pub fn complain(log: &Syslog, msg: &str) {
    eprintln!("dccm: {msg}");
    log.error(msg);
}

async fn send_verdict(ctx: &mut EomContext<Session>, sh: &Shared, v: Verdict) -> Status {
    for e in &v.errors {
        complain(&sh.syslog, e);
    }
    if let Answer2::Accept = v.answer {
        for (name, idx) in &v.del_headers {
            let _ = ctx
                .actions
                .change_header(name.as_str(), *idx as i32, None::<CString>)
                .await;
        }
        for r in &v.del_rcpts {
            let _ = ctx.actions.delete_recipient(r.as_str()).await;
        }
        if let Some((n, val)) = &v.add_header {
            let val: String = val.chars().filter(|&c| c != '\0').collect();
            let _ = ctx.actions.add_header(n.as_str(), val).await;
        }
    }
    match &v.answer {
        Answer2::Accept => Status::Accept,
        Answer2::Discard => {
            sh.totals.discarded.fetch_add(1, Ordering::Relaxed);
            Status::Discard
        }
        Answer2::Reply(r) => {
            if r.is_temp() {
                sh.totals.tempfailed.fetch_add(1, Ordering::Relaxed);
            } else {
                sh.totals.rejected.fetch_add(1, Ordering::Relaxed);
            }
            set_reply(&mut ctx.reply, r)
        }
    }
}

/// The steps after which dccm never refuses mail: each header, the end of
/// the headers and each body chunk. When the MTA offers it (milter
/// protocol 6: Postfix 2.6 and later, sendmail 8.14 and later), dccm asks
/// it not to wait for a reply after them, which saves a round trip per
/// header line. The original waits; the mail is treated the same.
const QUIET_STEPS: ProtoOpts = ProtoOpts::NOREPLY_HEADER
    .union(ProtoOpts::NOREPLY_EOH)
    .union(ProtoOpts::NOREPLY_BODY);

/// One MTA connection: what was negotiated, and the connection's state
/// once admitted under the `-j` limit.
#[derive(Default)]
pub struct Session {
    /// The MTA agreed not to wait for replies after [`QUIET_STEPS`].
    quiet: bool,
    /// The admitted connection.
    conn: Option<Conn>,
}

impl Session {
    fn conn(&mut self) -> Option<&mut Conn> {
        self.conn.as_mut()
    }

    /// The status after a header, the end of the headers or a body chunk.
    fn data_step(&self) -> Status {
        if self.quiet {
            Status::Noreply
        } else {
            Status::Continue
        }
    }
}

/// The milter callbacks.
pub fn callbacks(sh: Arc<Shared>) -> Callbacks<Session> {
    let s_neg = sh.clone();
    let s_conn = sh.clone();
    let s_eom = sh.clone();
    let s_close = sh.clone();
    let s_abort = sh.clone();
    Callbacks::new()
        .on_negotiate(
            move |ctx: &mut NegotiateContext<Session>, _a: Actions, p: ProtoOpts| {
                let _ = &s_neg;
                Box::pin(async move {
                    ctx.requested_actions =
                        Actions::ADD_HEADER | Actions::CHANGE_HEADER | Actions::DELETE_RCPT;
                    // hear about recipients the MTA rejected, as the original asks
                    ctx.requested_opts = p & ProtoOpts::REJECTED_RCPT;
                    let quiet = p.contains(QUIET_STEPS);
                    if quiet {
                        ctx.requested_opts |= QUIET_STEPS;
                    }
                    ctx.data = Some(Session { quiet, conn: None });
                    Status::Continue
                })
            },
        )
        .on_connect(move |ctx, name, sock| {
            let sh = s_conn.clone();
            Box::pin(async move {
                let n = sh.active.fetch_add(1, Ordering::SeqCst) + 1;
                if n > sh.max_work {
                    sh.active.fetch_sub(1, Ordering::SeqCst);
                    sh.totals.too_many.fetch_add(1, Ordering::Relaxed);
                    sh.over_limit.refused();
                    return Status::Tempfail;
                }
                let ip: Option<IpAddr> = match sock {
                    SocketInfo::Inet(a) => Some(a.ip()),
                    _ => None,
                };
                let mut s = Conn::new(sh.cfg.clone());
                let st = s.connect(&text(&name), ip);
                ctx.data.get_or_insert_with(Session::default).conn = Some(s);
                step(&mut ctx.reply, st)
            })
        })
        .on_helo(|ctx, helo| {
            Box::pin(async move {
                match ctx.data.as_mut().and_then(Session::conn) {
                    Some(s) => step(&mut ctx.reply, s.helo(&text(&helo))),
                    None => Status::Continue,
                }
            })
        })
        .on_mail(|ctx, args| {
            Box::pin(async move {
                let from = args.first().map(|a| text(a)).unwrap_or_default();
                let m = macro_fn(&ctx.macros);
                match ctx.data.as_mut().and_then(Session::conn) {
                    Some(s) => {
                        let st = s.mail(&from, &m);
                        step(&mut ctx.reply, st)
                    }
                    None => Status::Continue,
                }
            })
        })
        .on_rcpt(|ctx, args| {
            Box::pin(async move {
                let to = args.first().map(|a| text(a)).unwrap_or_default();
                let m = macro_fn(&ctx.macros);
                match ctx.data.as_mut().and_then(Session::conn) {
                    Some(s) => {
                        let st = s.rcpt(&to, &m);
                        step(&mut ctx.reply, st)
                    }
                    None => Status::Continue,
                }
            })
        })
        .on_header(|ctx, name, value| {
            Box::pin(async move {
                match ctx.data.as_mut() {
                    Some(d) => {
                        if let Some(s) = d.conn() {
                            s.header(name.to_bytes(), value.to_bytes());
                        }
                        d.data_step()
                    }
                    None => Status::Continue,
                }
            })
        })
        .on_eoh(|ctx| {
            Box::pin(async move {
                match ctx.data.as_mut() {
                    Some(d) => {
                        if let Some(s) = d.conn() {
                            s.eoh();
                        }
                        d.data_step()
                    }
                    None => Status::Continue,
                }
            })
        })
        .on_body(|ctx, chunk| {
            Box::pin(async move {
                match ctx.data.as_mut() {
                    Some(d) => {
                        if let Some(s) = d.conn() {
                            s.body(&chunk);
                        }
                        d.data_step()
                    }
                    None => Status::Continue,
                }
            })
        })
        .on_eom(move |ctx| {
            let sh = s_eom.clone();
            Box::pin(async move { eom(ctx, &sh).await })
        })
        .on_abort(move |ctx| {
            let sh = s_abort.clone();
            Box::pin(async move {
                if let Some(s) = ctx.data.as_mut().and_then(Session::conn) {
                    aborted(s, &sh).await;
                }
                Status::Continue
            })
        })
        .on_close(move |ctx| {
            let sh = s_close.clone();
            Box::pin(async move {
                if let Some(mut s) = ctx.data.take().and_then(|d| d.conn) {
                    // a transaction cut off by the end of the connection
                    aborted(&mut s, &sh).await;
                    sh.active.fetch_sub(1, Ordering::SeqCst);
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    if let Some(n) = sh.over_limit.to_tell(now) {
                        complain(
                            &sh.syslog,
                            &format!("{n} too many simultaneous mail messages"),
                        );
                    }
                }
                Status::Continue
            })
        })
}

/// An aborted transaction: report it to the DCC server when the original
/// would (a likely dictionary probe), then forget it.
async fn aborted(s: &mut Conn, sh: &Shared) {
    let info = sh.client_info();
    let req = s.abort_report(&info);
    for e in s.take_aborted_complaints() {
        complain(&sh.syslog, &e);
    }
    if let (Some(req), Some(c)) = (req, sh.dcc.as_ref()) {
        let _ = c.ask(&req).await;
    }
}

async fn eom(ctx: &mut EomContext<Session>, sh: &Shared) -> Status {
    let rcpts = ctx
        .data
        .as_mut()
        .and_then(Session::conn)
        .map_or(0, |c| c.rcpt_count());
    // the DNS list checks first: their outcome is part of the decision
    let run = ctx
        .data
        .as_mut()
        .and_then(Session::conn)
        .and_then(Conn::eom_dnsbl);
    if let Some((run, rest)) = run {
        let o = run.finish(rest).await;
        if let Some(s) = ctx.data.as_mut().and_then(Session::conn) {
            s.set_dnsbl(o);
        }
    }
    let info = sh.client_info();
    let step = {
        let m = macro_fn(&ctx.macros);
        match ctx.data.as_mut().and_then(Session::conn) {
            Some(s) => s.eom_prepare(&m, &info),
            None => return Status::Tempfail,
        }
    };
    let step = match step {
        EomStep::Grey(reqs) => {
            let answers = grey_io::ask_grey(sh, reqs).await;
            let info = sh.client_info();
            match ctx.data.as_mut().and_then(Session::conn) {
                Some(s) => s.eom_grey(answers, &info),
                None => return Status::Tempfail,
            }
        }
        other => other,
    };
    let v = match step {
        EomStep::Done(v) => v,
        EomStep::Grey(_) => crate::eom::no_message(),
        EomStep::Ask(req) => {
            let answer = match &sh.dcc {
                Some(c) => c.ask(&req).await,
                None => Err(AskError {
                    msg: "no DCC servers".to_string(),
                    srvr_id: 0,
                }),
            };
            crate::stats::COUNTS.dcc(answer.is_ok());
            let info = sh.client_info();
            match ctx.data.as_mut().and_then(Session::conn) {
                Some(s) => s.eom_finish(answer, &info),
                None => return Status::Tempfail,
            }
        }
    };
    sh.totals.msgs.fetch_add(1, Ordering::Relaxed);
    sh.totals.tgts.fetch_add(rcpts as u64, Ordering::Relaxed);
    grey_io::send_grey_spam(sh, &v).await;
    let mut v = v;
    let line = external(sh, &mut v).await;
    if let Some(s) = ctx.data.as_mut().and_then(Session::conn) {
        s.eom_log(&mut v, line.as_deref());
    }
    send_verdict(ctx, sh, v).await
}

/// Let the `-X` filter change the verdict; returns the filter's line
/// for the log file, if it was asked.
async fn external(sh: &Shared, v: &mut Verdict) -> Option<String> {
    use tally_engine::xfltr::{consult, gate, Outcome};
    let ask = v.xfltr.take()?;
    if !sh.xfltr.on() {
        return None;
    }
    let text = ask.request.text();
    let opts = sh.xfltr.clone();
    let t = text.clone();
    let outcome = match tokio::task::spawn_blocking(move || consult(&opts, &t)).await {
        Ok(r) => Outcome(r),
        Err(e) => Outcome(Err(tally_engine::xfltr::XfltrError::Io(e.to_string()))),
    };
    let report = gate::report(&sh.xfltr, &ask.request.id, &text, &outcome, ask.scope());
    // set:debug lines are information; failures are complaints
    for line in &report.info {
        eprintln!("dccm: {line}");
        sh.syslog.info(line);
    }
    v.errors.extend(report.error);
    crate::xfltr::apply(v, &ask, &outcome);
    Some(report.log_line)
}

/// Serve connections until `shutdown` completes.
pub async fn serve(
    listener: impl Listener,
    sh: Arc<Shared>,
    shutdown: impl Future,
) -> std::io::Result<()> {
    let config = indymilter::Config {
        max_connections: sh.max_work.saturating_add(16),
        actions: Actions::ADD_HEADER | Actions::CHANGE_HEADER | Actions::DELETE_RCPT,
        ..Default::default()
    };
    indymilter::run(listener, callbacks(sh), config, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::OverLimit;

    #[test]
    fn refusals_summed_and_told_once_a_second() {
        let o = OverLimit::default();
        assert_eq!(o.to_tell(5), None, "nothing refused");
        o.refused();
        o.refused();
        assert_eq!(o.to_tell(5), Some(2));
        o.refused();
        assert_eq!(o.to_tell(5), None, "told in this second already");
        o.refused();
        assert_eq!(o.to_tell(6), Some(2));
        assert_eq!(o.to_tell(7), None);
    }
}
