//! The dccproc run: options, home directory, log file, spool, checksums,
//! decision, and the copy of the message with its X-DCC header.

use crate::opts::{self, Opts};
use crate::white::{self, Loaded};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tally_ck::header::Envelope;
use tally_ck::message::{Checksums, MessageCks};
use tally_ck::simple::{ip_sum, ip_to_v6};
use tally_ck::CkType;
use tally_engine::ask::Decision;
use tally_engine::cks::{print_cks, MsgCks};
use tally_engine::logfile::{self, create_unique, LogFile, NameGen};
use tally_engine::message::{copy_spool, read_message, rewind, ReadInfo};
use tally_engine::server::{DccServer, NoServer};
use tally_engine::state::{
    ST_LOGIT, ST_QUERY, ST_RPT_SPAM, ST_WLIST_ISSPAM, ST_WLIST_NOTSPAM, SW_REP_ON, SW_TRAP_DIS,
    SW_TRAP_REJ,
};
use tally_engine::tgts::{self, Tgts};
use tally_engine::{errno_str, xhdr::XHeader};

/// The compiled-in DCC home directory.
pub const DCC_HOMEDIR: &str = "/var/dcc";
const PROGNAME: &str = "dccproc";

/// State of one run.
struct Run {
    out: Option<Box<dyn Write>>,
    input: Option<Box<dyn BufRead>>,
    log: Option<LogFile>,
    early: String,
    spool: Option<File>,
    spool_rewound: bool,
    logit: bool,
    quiet_out: bool,
}

impl Run {
    /// A complaint on stderr (the original also sends it to syslog).
    fn error_msg(&mut self, msg: &str) {
        if let Some(o) = self.out.as_mut() {
            let _ = o.flush();
        }
        let mut e = io::stderr().lock();
        let _ = e.write_all(msg.as_bytes());
        if !msg.ends_with('\n') {
            let _ = e.write_all(b"\n");
        }
        let _ = e.flush();
    }

    /// A complaint that also goes into the log file, which is then kept.
    fn dccproc_error(&mut self, msg: &str) {
        self.error_msg(msg);
        self.logit = true;
        let line = format!("{msg}\n");
        match self.log.as_mut() {
            Some(l) if self.spool_rewound => {
                let _ = l.write(line.as_bytes());
            }
            _ => {
                let room = logfile::EARLY_LOG_MAX.saturating_sub(self.early.len());
                if line.len() < room {
                    self.early.push_str(&line);
                } else if room > 3 {
                    let mut cut = room - 3;
                    while !line.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    self.early.push_str(&line[..cut]);
                    self.early.push_str("...");
                }
            }
        }
    }

    fn log_write(&mut self, b: &[u8]) {
        if let Some(l) = self.log.as_mut() {
            if let Err(e) = l.write(b) {
                self.log = None;
                self.error_msg(&e);
            }
        }
    }

    fn log_late(&mut self) {
        if !self.early.is_empty() {
            let e = std::mem::take(&mut self.early);
            self.log_write(e.as_bytes());
        }
    }

    fn out_write(&mut self, b: &[u8]) {
        if let Some(o) = self.out.as_mut() {
            if let Err(e) = o.write_all(b) {
                self.out = None;
                self.error_msg(&format!("fwrite(output): {}", errno_str(&e)));
            }
        }
    }

    fn finish_log(&mut self) {
        if let Some(l) = self.log.take() {
            if let Err(e) = l.finish(self.logit) {
                self.error_msg(&e);
            }
        }
    }

    /// Give up on the message but deliver it: what was spooled, then the
    /// rest of the input. Always exits 0 so that no mail is rejected.
    fn fatal(&mut self, msg: &str) -> i32 {
        self.log_late();
        let printed = !self.spool_rewound;
        if printed {
            self.error_msg(&format!("{msg}; fatal error"));
            self.logit = true;
            if self.log.as_ref().is_some_and(LogFile::used) {
                self.log_write(b"\n");
            }
            self.log_write(msg.as_bytes());
            self.log_write(b"\n\n");
        }
        if let Some(mut s) = self.spool.take() {
            if !self.spool_rewound {
                let _ = rewind(&mut s);
            }
            let mut buf = vec![0u8; 8192];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Some(l) = self.log.as_mut() {
                    let _ = l.body_write(&buf[..n]);
                }
                if !self.quiet_out {
                    self.out_write(&buf[..n]);
                }
            }
        }
        if !self.quiet_out && self.out.is_some() {
            if let Some(mut inp) = self.input.take() {
                let mut buf = vec![0u8; 8192];
                while let Ok(n) = inp.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Some(l) = self.log.as_mut() {
                        let _ = l.body_write(&buf[..n]);
                    }
                    self.out_write(&buf[..n]);
                    if self.out.is_none() {
                        break;
                    }
                }
            }
        }
        if !printed {
            self.error_msg(&format!("{msg}; fatal error"));
            self.log_write(b"\n\n");
            self.log_write(msg.as_bytes());
            self.log_write(b"\n");
        }
        if let Some(o) = self.out.as_mut() {
            let _ = o.flush();
        }
        self.finish_log();
        0
    }
}

/// This host's name for X-DCC headers.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

fn absolute(cwd: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// Run dccproc with these arguments; returns the exit code.
pub fn main_run(args: &[String]) -> i32 {
    let (mut o, fatal) = opts::parse(args);
    let quiet_out = o.cksums_only || o.xhdr_only;
    let input: Option<Box<dyn BufRead>> = if o.input_failed {
        None
    } else {
        match o.infile.take() {
            Some((_, f)) => Some(Box::new(BufReader::with_capacity(65536, f))),
            None => Some(Box::new(BufReader::with_capacity(65536, io::stdin()))),
        }
    };
    let out: Option<Box<dyn Write>> = if o.output_failed {
        None
    } else {
        match o.outfile.take() {
            Some((_, f)) => Some(Box::new(io::BufWriter::new(f))),
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
    };
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
    process(&mut r, o)
}

/// The DCC home directory, complaining as the original does when it
/// cannot be used.
fn home_dir(r: &mut Run, o: &Opts, cwd: &Path) -> PathBuf {
    let try_dir = |r: &mut Run, d: &Path| -> bool {
        match std::fs::metadata(d) {
            Ok(m) if m.is_dir() => true,
            Ok(_) => {
                r.error_msg(&format!("chdir({}): Not a directory", d.display()));
                false
            }
            Err(e) => {
                r.error_msg(&format!("chdir({}): {}", d.display(), errno_str(&e)));
                false
            }
        }
    };
    let default = PathBuf::from(DCC_HOMEDIR);
    if let Some(h) = o.homedir.as_deref() {
        if h.is_empty() {
            r.error_msg("invalid null DCC home directory");
        } else {
            let d = absolute(cwd, h);
            if try_dir(r, &d) {
                return d;
            }
        }
    }
    if try_dir(r, &default) {
        default
    } else {
        cwd.to_path_buf()
    }
}

/// The directories for the spool file: -T, the log directory, /tmp.
fn tmp_dirs(r: &mut Run, o: &Opts, cwd: &Path, logdir: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(t) = o.tmpdir.as_deref() {
        if t.is_empty() {
            r.error_msg("null -T temporary directory");
        } else {
            let d = absolute(cwd, t);
            match std::fs::metadata(&d) {
                Err(e) => r.error_msg(&format!(
                    "stat(temporary directory \"{}\"): {}",
                    d.display(),
                    errno_str(&e)
                )),
                Ok(m) if !m.is_dir() => {
                    r.error_msg(&format!("\"{}\" is not a temporary directory", d.display()))
                }
                Ok(_) => {}
            }
            dirs.push(d);
        }
    }
    if let Some(l) = logdir {
        dirs.push(l.to_path_buf());
    }
    dirs.push(std::env::temp_dir());
    dirs
}

/// Create the spool file (removed at once, so nothing is left behind).
fn make_spool(dirs: &[PathBuf]) -> Result<File, String> {
    let mut gen = NameGen::new();
    let mut last = String::from("no temporary directory");
    for d in dirs {
        match create_unique(d, "tmp.", &mut gen) {
            Ok((f, path, _)) => {
                let _ = std::fs::remove_file(&path);
                return Ok(f);
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// Fill the engine's checksum slots from the computed checksums.
fn to_slots(c: &Checksums) -> MsgCks {
    let mut m = MsgCks::new();
    let mut ip_unreported = false;
    for e in &c.entries {
        match e.ck_type {
            CkType::Ip => {
                m.set_ip(e.sum);
                ip_unreported = !e.report;
            }
            CkType::Sub => {
                if let Some(n) = e.sub_name.as_deref() {
                    m.add_sub(n, e.sum);
                }
            }
            CkType::EnvTo | CkType::GreyMsg | CkType::GreyTriple | CkType::SrvrId => {}
            t => m.set(t, e.sum, e.report),
        }
    }
    if ip_unreported {
        m.no_ip_rpt2srvr();
    }
    m
}

fn process(r: &mut Run, mut o: Opts) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let home = home_dir(r, &o, &cwd);

    // log directory
    let mut logdir: Option<(PathBuf, logfile::LogMode)> = None;
    if let Some(l) = o.logdir.as_deref() {
        let (mode, d) = logfile::parse_logdir(l);
        let p = absolute(&home, d);
        match std::fs::metadata(&p) {
            Err(e) => r.error_msg(&format!("stat(log directory \"{d}\"): {}", errno_str(&e))),
            Ok(m) if !m.is_dir() => r.error_msg(&format!("\"{d}\" is not a log directory")),
            Ok(_) => logdir = Some((p, mode)),
        }
    }
    let tmp = tmp_dirs(r, &o, &cwd, logdir.as_ref().map(|(p, _)| p.as_path()));
    match &logdir {
        None => {
            if o.log_tgts_set {
                r.dccproc_error("log thresholds set with -c but no -l directory");
            }
        }
        Some((p, mode)) => match LogFile::create(p, *mode) {
            Ok(l) => r.log = Some(l),
            Err(e) => r.dccproc_error(&e.to_string()),
        },
    }
    if o.fake_envelope && r.log.is_some() {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let v = format!("VERSION: 3\nDATE: {}\n", logfile::log_date(secs));
        r.log_write(v.as_bytes());
    }

    // targets
    let (mut local_tgts, mut local_spam): (Tgts, bool) = match o.local_tgts {
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
    };

    if r.log.is_some() || !r.quiet_out {
        match make_spool(&tmp) {
            Ok(f) => r.spool = Some(f),
            Err(e) => return r.fatal(&e),
        }
    }

    // the DCC server: none yet
    let map = absolute(&home, o.map.as_deref().unwrap_or("map"));
    let mut server = NoServer::new(&map, &hostname());
    let client = match server.start() {
        Ok(c) => Some(c),
        Err(e) => {
            r.dccproc_error(&e);
            None
        }
    };

    // the whiteclnt file
    let mut white: Option<Loaded> = None;
    let mut white_complaint: Option<String> = None;
    if let Some(w) = o.whiteclnt.as_deref() {
        if let Some((l, errs)) = white::load(&home, w) {
            if !errs.is_empty() {
                white_complaint = Some(errs.join("\n"));
            }
            white = Some(l);
        }
    }
    let white = white.map(Arc::new);

    // SMTP client given with -a: look past it when it is a listed relay
    let mut query = o.query;
    let mut ip_unreported = false;
    if let (Some(ip), Some(w)) = (o.client_ip, white.as_ref()) {
        match w.relay(&ip_sum(ip), ip) {
            Some(tgts::OK) => ip_unreported = true,
            Some(tgts::SUBMIT_CLIENT) => {
                ip_unreported = true;
                r.early_note(&format!("{} is a listed 'submit' client", trim_ffff(ip)));
            }
            Some(tgts::OK_MXDCC) => {
                ip_unreported = true;
                query = true;
                r.early_note(&format!(
                    "{} is a whitelisted MX server with DCC client",
                    trim_ffff(ip)
                ));
            }
            Some(tgts::OK_MX) => {
                ip_unreported = true;
                r.early_note(&format!("{} is a whitelisted MX server", trim_ffff(ip)));
            }
            _ => {}
        }
    }

    // read the message and compute its checksums
    let env = Envelope {
        client_ip: o.client_ip,
        env_from: o.env_from.clone(),
        ..Envelope::default()
    };
    let mut cfg = o.ck_cfg.clone();
    cfg.use_received = o.std_received > 0 && o.client_ip.is_none();
    let mut mc = MessageCks::new(&cfg, &env);
    let mxdcc_seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if cfg.use_received {
        if let Some(w) = white.clone() {
            let seen = mxdcc_seen.clone();
            mc.set_relay_filter(Box::new(move |ip: IpAddr| match w.relay(&ip_sum(ip), ip) {
                Some(tgts::OK_MX) => true,
                Some(tgts::OK_MXDCC) => {
                    seen.store(true, std::sync::atomic::Ordering::Relaxed);
                    true
                }
                _ => false,
            }));
        }
    }
    let Some(mut input) = r.input.take() else {
        return r.fatal("no input");
    };
    let mut spool = r.spool.take();
    let info = {
        let mut sp: Option<&mut dyn Write> = spool.as_mut().map(|f| f as &mut dyn Write);
        read_message(&mut input, &mut sp, &mut |b| mc.feed(b), o.add_xhdr)
    };
    r.spool = spool;
    r.input = Some(input);
    let info: ReadInfo = match info {
        Ok(i) => i,
        Err(e) => return r.fatal(&format!("fgets(stdin): {}", errno_str(&e))),
    };
    let sums = mc.finish();
    if let Some(e) = sums.error.as_deref() {
        return r.fatal(e);
    }
    if mxdcc_seen.load(std::sync::atomic::Ordering::Relaxed) {
        query = true;
    }
    let mut cks = to_slots(&sums);
    if ip_unreported {
        cks.no_ip_rpt2srvr();
    }

    // the decision
    let tholds = o.tholds.clone();
    let mut d = Decision::new(query);
    let verdict = white
        .as_ref()
        .map(|w| w.verdict(&cks, sums.client_ip, white_complaint.clone()));
    let white_arg = verdict.as_ref().map(Ok);
    d.ask_white(&tholds, white_arg);
    let white_sws = verdict.as_ref().map_or(0, |v| v.sws);
    if o.rep_tholds_set && white_sws & tally_engine::state::white_sw::REP_OFF == 0 {
        d.sws |= SW_REP_ON;
    }
    if let Some(ci) = client.as_ref() {
        if d.st & ST_QUERY != 0 {
            local_spam = false;
            local_tgts = 0;
        }
        d.ask_dcc(
            &tholds,
            false,
            &mut server,
            ci,
            &mut cks,
            local_spam,
            local_tgts,
        );
    }
    for e in std::mem::take(&mut d.errors) {
        r.dccproc_error(&e);
    }

    if o.fake_envelope && r.log.is_some() {
        let mut env_lines = String::new();
        if let Some(ip) = sums.client_ip {
            env_lines.push_str(&format!(
                "IP: {} {}\n",
                sums.client_name.as_deref().unwrap_or(""),
                ip_to_v6(ip)
            ));
        }
        if let Some(h) = sums.helo.as_deref().filter(|h| !h.is_empty()) {
            env_lines.push_str(&format!("HELO: {h}\n"));
        }
        if let Some(f) = sums.env_from.as_deref() {
            env_lines.push_str(&format!(
                "env_From: {f}  mail_host={}\n",
                sums.mail_host.as_deref().unwrap_or("")
            ));
        }
        env_lines.push('\n');
        r.log_write(env_lines.as_bytes());
    }

    // copy the message with the new header
    if let Some(mut s) = r.spool.take() {
        r.spool_rewound = true;
        if let Err(e) = rewind(&mut s) {
            return r.fatal(&format!("rewind(spool): {}", errno_str(&e)));
        }
        let mut errors = Vec::new();
        let res = {
            let mut out: Option<&mut dyn Write> = if r.quiet_out {
                None
            } else {
                r.out.as_mut().map(|b| b.as_mut() as &mut dyn Write)
            };
            copy_spool(&mut s, info.hdrs_len, &mut out, &mut r.log, &mut errors)
        };
        if let Err(e) = res {
            r.spool = Some(s);
            return r.fatal(&format!("read(spool): {}", errno_str(&e)));
        }
        write_header(r, d.header.as_ref(), info.crlf());
        let res = {
            let mut out: Option<&mut dyn Write> = if r.quiet_out {
                None
            } else {
                r.out.as_mut().map(|b| b.as_mut() as &mut dyn Write)
            };
            copy_spool(&mut s, info.body_len, &mut out, &mut r.log, &mut errors)
        };
        for e in errors {
            r.error_msg(&e);
        }
        if let Err(e) = res {
            return r.fatal(&format!("read(spool): {}", errno_str(&e)));
        }
    } else {
        write_header(r, d.header.as_ref(), info.crlf());
    }
    r.log_write(logfile::MSG_SEP.as_bytes());
    r.log_late();

    if o.fake_envelope {
        let wname = o
            .whiteclnt
            .as_deref()
            .map(|w| absolute(&home, w).display().to_string());
        if d.st & ST_WLIST_NOTSPAM != 0 {
            let l = format!("{}-->OK\n", wname.unwrap_or_default());
            r.log_write(l.as_bytes());
        } else if d.st & ST_WLIST_ISSPAM != 0 {
            let what = if d.sws & SW_TRAP_DIS != 0 {
                "-->spam-trap-discard"
            } else if d.sws & SW_TRAP_REJ != 0 {
                "-->spam-trap-reject"
            } else {
                "-->spam"
            };
            let l = format!("{}{what}\n", wname.unwrap_or_default());
            r.log_write(l.as_bytes());
        }
        let line = d.log_st_line(PROGNAME);
        r.log_write(line.as_bytes());
        if let Some(h) = d.header.as_ref() {
            r.log_write(h.as_str().as_bytes());
        }
    }
    if let Some(out) = r.out.as_mut() {
        if let Err(e) = out.flush() {
            r.out = None;
            r.error_msg(&format!("fflush(stdout): {}", errno_str(&e)));
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
            r.error_msg(&format!("fclose(stdout): {}; fatal error", errno_str(&e)));
        }
    }

    let spam = d.is_spam();
    if o.fake_envelope {
        let l = if spam {
            "\nresult: reject\n"
        } else {
            "\nresult: accept\n"
        };
        r.log_write(l.as_bytes());
    }
    if d.st & ST_LOGIT != 0 {
        r.logit = true;
    }
    r.finish_log();
    if spam {
        o.exit_code
    } else {
        0
    }
}

/// Add the X-DCC header to the output and the log.
fn write_header(r: &mut Run, h: Option<&XHeader>, crlf: bool) {
    let Some(h) = h else { return };
    let b = h.to_bytes(crlf);
    if let Some(l) = r.log.as_mut() {
        let _ = l.body_write(&b);
    }
    r.out_write(&b);
}

/// An IPv4 address without the `::ffff:` of its IPv6 form.
fn trim_ffff(ip: IpAddr) -> String {
    ip.to_string()
}

impl Run {
    /// A note for the log file only.
    fn early_note(&mut self, msg: &str) {
        let line = format!("{msg}\n");
        if line.len() < logfile::EARLY_LOG_MAX.saturating_sub(self.early.len()) {
            self.early.push_str(&line);
        }
    }
}
