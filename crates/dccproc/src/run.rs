//! The dccproc run: options, checksums, decision, delivery, exit code.

use crate::delivery::Run;
use crate::online::Server;
use crate::opts::{self, Opts};
use crate::setup::{absolute, home_dir, hostname, make_spool, open_log};
use crate::white::{self, Loaded};
use std::io::{self, BufRead, BufReader, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tally_ck::header::Envelope;
use tally_ck::message::{Checksums, MessageCks};
use tally_ck::simple::{ip_sum, ip_to_v6};
use tally_engine::ask::Decision;
use tally_engine::cks::print_cks;
use tally_engine::errno_str;
use tally_engine::logfile;
use tally_engine::message::{read_message, ReadInfo};
use tally_engine::mx::MxCheck;
use tally_engine::server::DccServer;
use tally_engine::state::{
    white_sw, ST_LOGIT, ST_QUERY, ST_RPT_SPAM, ST_WLIST_ISSPAM, ST_WLIST_NOTSPAM, SW_REP_ON,
    SW_TRAP_DIS, SW_TRAP_REJ,
};
use tally_engine::syslog::Syslog;
use tally_engine::tgts::{self, Tgts};
use tally_engine::white_verdict::msg_slots;

const PROGNAME: &str = "dccproc";

/// Run dccproc with these arguments; returns the exit code.
pub fn main_run(args: &[String]) -> i32 {
    let (mut o, fatal) = opts::parse(args);
    let quiet_out = o.cksums_only || o.xhdr_only;
    let mut in_name = "stdin".to_string();
    let mut out_name = "stdout".to_string();
    let input: Option<Box<dyn BufRead>> = if o.input_failed {
        None
    } else {
        match o.infile.take() {
            Some((n, f)) => {
                in_name = n;
                Some(Box::new(BufReader::with_capacity(65536, f)))
            }
            None => Some(Box::new(BufReader::with_capacity(65536, io::stdin()))),
        }
    };
    let out: Option<Box<dyn Write>> = if o.output_failed {
        None
    } else {
        match o.outfile.take() {
            Some((n, f)) => {
                out_name = n;
                Some(Box::new(io::BufWriter::new(f)))
            }
            None => Some(Box::new(io::BufWriter::new(io::stdout()))),
        }
    };
    let mut r = Run {
        out,
        input,
        log: None,
        early: String::new(),
        spool: None,
        spool_rewound: false,
        logit: false,
        quiet_out,
        syslog: Syslog::new(PROGNAME),
        in_name,
        out_name,
    };
    for l in std::mem::take(&mut o.log_opts) {
        r.syslog.apply(l);
    }
    for (logged, m) in std::mem::take(&mut o.msgs) {
        if logged {
            r.dccproc_error(&m);
        } else {
            r.error_msg(&m);
        }
    }
    if let Some(f) = fatal {
        return r.fatal(&f.msg);
    }
    if o.version > 0 {
        return 0;
    }
    // as the original, once the options are read
    crate::catch_signals();
    process(&mut r, o)
}

/// Targets to report (`-t`, `-Q`) and whether `-t many` called it spam.
fn targets(r: &mut Run, o: &mut Opts) -> (Tgts, bool) {
    match o.local_tgts {
        None => (if o.query { 0 } else { 1 }, false),
        Some((0, _)) => {
            o.query = true;
            (0, false)
        }
        Some((n, s)) if o.query => {
            let t = if s {
                "many".to_string()
            } else {
                tgts::tgts_to_str(n)
            };
            r.error_msg(&format!("\"-t {t}\" is incompatible with \"-Q\""));
            (0, false)
        }
        Some(v) => v,
    }
}

/// What the whiteclnt file says about the `-a` client as a relay:
/// (do not report its address, turn reports into queries).
fn relay_check(r: &mut Run, ip: Option<IpAddr>, white: Option<&Arc<Loaded>>) -> (bool, bool) {
    let (Some(ip), Some(w)) = (ip, white) else {
        return (false, false);
    };
    relay_listing(r, &mut MxCheck::default(), ip, w.relay(&ip_sum(ip), ip))
}

/// What a relay listing of the SMTP client means (the engine's
/// `check_mx_listing()`), with its note in the log file: (do not report
/// its address, turn reports into queries so far).
fn relay_listing(r: &mut Run, mx: &mut MxCheck, ip: IpAddr, listing: Option<Tgts>) -> (bool, bool) {
    let before = mx.notes.len();
    mx.check(ip, listing);
    for n in mx.notes.get(before..).unwrap_or(&[]) {
        r.early_note(n);
    }
    (mx.unreported, mx.query)
}

/// Read the message into the spool while computing its checksums, and
/// the whiteclnt file's say about the clients of `-R`: (do not report
/// the client's address, turn reports into queries).
/// `Err` holds the exit code after giving up (the message was delivered).
fn read_checksums(
    r: &mut Run,
    o: &Opts,
    white: Option<&Arc<Loaded>>,
) -> Result<(ReadInfo, Checksums, (bool, bool)), i32> {
    let env = Envelope {
        client_ip: o.client_ip,
        env_from: o.env_from.clone(),
        ..Envelope::default()
    };
    let mut cfg = o.ck_cfg.clone();
    cfg.use_received = o.std_received > 0 && o.client_ip.is_none();
    cfg.received_index = u32::try_from(o.std_received).unwrap_or(u32::MAX);
    cfg.keep_xdcc = o.add_xhdr;
    cfg.helo_from_received = o.fake_envelope && r.log.is_some();
    let mut mc = MessageCks::new(&cfg, &env);
    // the clients found in Received headers (-R) and the headers passed
    // over, in order
    let relays: Arc<Mutex<MxCheck>> = Arc::default();
    if cfg.use_received {
        mc.set_skip_note(MxCheck::skip_noter(&relays));
        if let Some(w) = white.cloned() {
            let seen = relays.clone();
            mc.set_relay_filter(Box::new(move |ip: IpAddr| {
                let listing = w.relay(&ip_sum(ip), ip);
                // MX servers are looked past to the next Received header
                seen.lock()
                    .map(|mut m| m.check(ip, listing))
                    .unwrap_or(false)
            }));
        }
    }
    let Some(mut input) = r.input.take() else {
        return Err(r.fatal("no input"));
    };
    let mut spool = r.spool.take();
    let info = {
        let mut sp: Option<&mut dyn Write> = spool.as_mut().map(|f| f as &mut dyn Write);
        read_message(&mut input, &mut sp, &mut |b| mc.feed(b), o.add_xhdr)
    };
    r.spool = spool;
    r.input = Some(input);
    let info = match info {
        Ok(i) => i,
        Err(e) => {
            let m = format!("fgets({}): {}", r.in_name, errno_str(&e));
            return Err(r.fatal(&m));
        }
    };
    let sums = mc.finish();
    if let Some(e) = sums.error.as_deref() {
        return Err(r.fatal(e));
    }
    if !info.complete {
        // also for empty input, which never reached the checksums
        return Err(r.fatal("missing message body"));
    }
    // as for -a: the last client found decides whether its address is
    // reported (an `ok` or `submit` listing also stops the search)
    let mx = relays.lock().map(|m| m.clone()).unwrap_or_default();
    for n in &mx.notes {
        r.early_note(n);
    }
    Ok((info, sums, (mx.unreported, mx.query)))
}

/// The `-E` lines describing the envelope, for the log file.
fn envelope_lines(sums: &Checksums) -> String {
    let mut s = String::new();
    if let Some(ip) = sums.client_ip {
        s.push_str(&format!(
            "IP: {} {}\n",
            sums.client_name.as_deref().unwrap_or(""),
            ip_to_v6(ip)
        ));
    }
    if let Some(h) = sums.helo.as_deref().filter(|h| !h.is_empty()) {
        s.push_str(&format!("HELO: {h}\n"));
    }
    if let Some(f) = sums.env_from.as_deref() {
        s.push_str(&format!(
            "env_From: {f}  mail_host={}\n",
            sums.mail_host.as_deref().unwrap_or("")
        ));
    }
    s.push('\n');
    s
}

/// The `-E` lines after the message: the whiteclnt answer, the decision
/// line and the header.
fn decision_lines(d: &Decision, white_name: Option<PathBuf>) -> String {
    let wname = white_name
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut s = String::new();
    if d.st & ST_WLIST_NOTSPAM != 0 {
        s.push_str(&format!("{wname}-->OK\n"));
    } else if d.st & ST_WLIST_ISSPAM != 0 {
        let what = if d.sws & SW_TRAP_DIS != 0 {
            "-->spam-trap-discard"
        } else if d.sws & SW_TRAP_REJ != 0 {
            "-->spam-trap-reject"
        } else {
            "-->spam"
        };
        s.push_str(&format!("{wname}{what}\n"));
    }
    s.push_str(&d.log_st_line(PROGNAME));
    if let Some(h) = d.header.as_ref() {
        s.push_str(h.as_str());
    }
    s
}

fn load_white(r: &mut Run, home: &Path, o: &Opts) -> (Option<Arc<Loaded>>, Option<String>) {
    let Some(w) = o.whiteclnt.as_deref() else {
        return (None, None);
    };
    match white::load(home, w) {
        Ok(None) => (None, None),
        Ok(Some((l, errs))) => {
            let complaint = (!errs.is_empty()).then(|| errs.join("\n"));
            (Some(Arc::new(l)), complaint)
        }
        Err(e) => {
            // the message is then treated as not listed
            r.dccproc_error(&e);
            (None, None)
        }
    }
}

/// The DNS list checks of the message (`-B`), applied to the decision.
fn dnsbl(r: &mut Run, o: &mut Opts, sums: &Checksums, d: &mut Decision) {
    use tally_engine::dnsbl::{self, Checker, Mode};
    let settings = std::mem::take(&mut o.dnsbl_parser).finish();
    let checker = match Checker::new(settings, None, 1) {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(e) => {
            r.dccproc_error(&format!("DNS blacklists: {e}"));
            return;
        }
    };
    let t = dnsbl::targets(
        Mode::Direct,
        sums.client_ip,
        None,
        sums.mail_host.as_deref(),
        sums.url_hosts.clone(),
    );
    // one question at a time: dccproc asks exactly the original's
    let outcome = checker.check_blocking(Mode::Direct, t, 1);
    for l in outcome.log_lines(checker.settings.debug > 0, "") {
        r.early_note(l.trim_start());
    }
    d.apply_dnsbl(&outcome, dnsbl::ALL_ON);
}

fn process(r: &mut Run, mut o: Opts) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let home = home_dir(r, &o, &cwd);
    // with -E, open_log also writes the VERSION and DATE lines
    let tmp = open_log(r, &o, &home);
    let (mut local_tgts, mut local_spam) = targets(r, &mut o);
    if r.log.is_some() || !r.quiet_out {
        match make_spool(&tmp) {
            Ok(f) => r.spool = Some(f),
            Err(e) => return r.fatal(&e),
        }
    }

    // the DCC servers of the map file, if there is one
    let map = absolute(&home, o.map.as_deref().unwrap_or("map"));
    let mut server = Server::open(&map, &hostname(), &mut |e| r.dccproc_error(e));
    let client = match server.start() {
        Ok(c) => Some(c),
        Err(e) => {
            r.dccproc_error(&e);
            None
        }
    };

    let (white, white_complaint) = load_white(r, &home, &o);
    let (ip_unreported, mut query) = relay_check(r, o.client_ip, white.as_ref());
    query |= o.query;
    let (info, sums, (rcvd_unreported, mxdcc)) = match read_checksums(r, &o, white.as_ref()) {
        Ok(v) => v,
        Err(code) => return code,
    };
    query |= mxdcc;
    let mut cks = msg_slots(&sums);
    if ip_unreported || rcvd_unreported {
        cks.no_ip_rpt2srvr();
    }

    // the decision
    let tholds = o.tholds.clone();
    let mut d = Decision::new(query);
    let verdict = white
        .as_ref()
        .map(|w| w.verdict(&cks, sums.client_ip, white_complaint.clone()));
    d.ask_white(&tholds, verdict.as_ref().map(Ok));
    // -B: no whiteclnt option is needed, every group counts (dccproc(8);
    // `option DNSBLx-off` is ignored, as recorded)
    dnsbl(r, &mut o, &sums, &mut d);
    let white_sws = verdict.as_ref().map_or(0, |v| v.sws);
    if o.rep_tholds_set && white_sws & white_sw::REP_OFF == 0 {
        d.sws |= SW_REP_ON;
    }
    if let Some(ci) = client.as_ref() {
        if d.st & ST_QUERY != 0 {
            local_spam = false;
            local_tgts = 0;
        }
        d.ask_dcc(
            &tholds,
            // dccproc(8): Body is forced to "many" in a bulk header unless -P
            !o.no_body_kludge,
            &mut server,
            ci,
            &mut cks,
            local_spam,
            local_tgts,
        );
        // remember failures and RTTs for the next run
        if let Err(e) = server.save() {
            r.dccproc_error(&e);
        }
    }
    for e in std::mem::take(&mut d.errors) {
        r.dccproc_error(&e);
    }
    if o.fake_envelope && r.log.is_some() {
        r.log_write(envelope_lines(&sums).as_bytes());
    }
    // -X: the external filter's say
    let xf = crate::xfltr::run(r, &o, white.as_deref(), &sums, &d);

    // deliver
    if let Err(code) = r.copy_out(&info, d.header.as_ref()) {
        return code;
    }
    r.log_write(logfile::MSG_SEP.as_bytes());
    r.log_late();
    if o.fake_envelope {
        let wname = o.whiteclnt.as_deref().map(|w| absolute(&home, w));
        r.log_write(decision_lines(&d, wname).as_bytes());
    }
    if let Some(out) = r.out.as_mut() {
        if let Err(e) = out.flush() {
            r.out = None;
            let m = format!("fflush({}): {}", r.out_name, errno_str(&e));
            r.error_msg(&m);
        }
    }
    let table = print_cks(
        d.st & ST_RPT_SPAM != 0,
        local_tgts,
        &cks,
        Some(&d.tholds_rej),
        Some(&d.wtgts),
    );
    if o.cksums_only {
        r.out_write(table.as_bytes());
    }
    r.log_write(table.as_bytes());
    if let Some(mut out) = r.out.take() {
        if let Err(e) = out.flush() {
            // fatal as in the original: exit 0, no result line
            return r.fatal(&format!("fclose({}): {}", r.out_name, errno_str(&e)));
        }
    }

    // the result line follows the decision, not the exit code: spam is
    // "reject" even with -x 0, as in the original
    let (exit, result) = match xf.as_ref().and_then(|x| x.act) {
        Some(act) => act,
        None if d.is_spam() => (o.exit_code, "reject"),
        None => (0, "accept"),
    };
    if let Some(x) = xf.as_ref() {
        r.log_write(format!("{}\n", x.log_line).as_bytes());
    }
    if o.fake_envelope {
        r.log_write(format!("\nresult: {result}\n").as_bytes());
    }
    if d.st & ST_LOGIT != 0 {
        r.logit = true;
    }
    r.finish_log();
    exit
}
