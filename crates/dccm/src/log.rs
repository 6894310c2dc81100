//! dccm's per-message log files (`-l logdir`, dcc(8) "log files"): the
//! envelope, the header and the first part of the body as received, the
//! decision, the X-DCC header, the checksum table, the SMTP reply and the
//! result. The file is kept only when the message deserved logging
//! (spam, a log threshold reached, `option log-all`, problems), and then
//! also copied into the log directories of recipients with per-user
//! files (`userdirs/<dir>/log`, with their `log-subdirectory-*` layout).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
mod per_user;

use tally_engine::logfile::{log_date, LogFile, LogMode, MSG_SEP};

/// Width of the `IP:` line, blank-padded so a relay's client can be
/// written over it.
const IP_LINE: usize = 79;

/// A message's log file in progress.
pub struct MsgLog {
    file: LogFile,
    envelope: String,
    env_done: bool,
    /// `Rcpt To:` lines of recipients refused at RCPT time.
    refused: String,
    /// Complaints about the transaction and sendmail's `${dcc_isspam}`
    /// and `${dcc_notspam}`, written after the body.
    notes: String,
    /// The DNS list checks' hit lines.
    dnsbl: String,
    /// How many recipients were refused.
    n_refused: usize,
    /// The greylist lines, after the checksums.
    grey: String,
    /// The `-X` filter's line, before the result.
    xfltr: String,
    errors: Vec<String>,
}

/// Refused recipients logged at most (an MTA could try many).
const MAX_REFUSED_LOGGED: usize = 1000;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The v6 form the log uses for an address.
fn v6(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => format!("::ffff:{a}"),
        IpAddr::V6(a) => a.to_string(),
    }
}

impl MsgLog {
    /// Start a log file in `dir` for a message from `name`/`ip`; `Err`
    /// holds the line for the system log, if this failure is to be
    /// reported (see [`tally_engine::logfile::failing`]).
    pub fn start(
        dir: &Path,
        mode: LogMode,
        name: &str,
        ip: Option<IpAddr>,
        helo: &str,
        env_from: &str,
        mail_host: &str,
    ) -> Result<MsgLog, Option<String>> {
        let file = LogFile::create(dir, mode).map_err(|e| e.report)?;
        let mut env = format!("VERSION: 3\nDATE: {}\n", log_date(now()));
        if let Some(ip) = ip {
            let mut l = format!("IP: {name} {}", v6(ip));
            while l.len() < IP_LINE {
                l.push(' ');
            }
            env.push_str(&l);
            env.push('\n');
        }
        if !helo.is_empty() {
            env.push_str(&format!("HELO: {helo}\n"));
        }
        env.push_str(&format!("env_From: {env_from}  mail_host={mail_host}\n"));
        Ok(MsgLog {
            file,
            envelope: env,
            env_done: false,
            refused: String::new(),
            notes: String::new(),
            dnsbl: String::new(),
            n_refused: 0,
            grey: String::new(),
            xfltr: String::new(),
            errors: Vec::new(),
        })
    }

    /// The random part of the file name (the `%ID` without `{i}`).
    pub fn id(&self) -> &str {
        self.file.id()
    }

    /// A recipient line.
    pub fn rcpt(&mut self, env_to: &str, addr: &str, dir: &str) {
        if !self.env_done {
            self.envelope
                .push_str(&format!("env_To: {env_to}  addr={addr}  dir={dir}\n"));
        }
    }

    /// The greylist lines of the recipients (see
    /// [`tally_engine::grey::Greylist::log_text`]).
    pub fn grey(&mut self, text: &str) {
        self.grey = text.to_string();
    }

    /// What the `-X` filter answered and whether it acted (see
    /// [`tally_engine::xfltr::gate::report`]), written before the result.
    pub fn xfltr(&mut self, line: &str) {
        self.xfltr = format!("{line}\n");
    }

    /// A recipient refused at RCPT time (incompatible whitelists or
    /// thresholds): listed with the others, and its refusal `reply` is
    /// written after the checksums, as the original does.
    pub fn refused_rcpt(&mut self, env_to: &str, addr: &str, dir: &str, reply: &str) {
        if self.n_refused >= MAX_REFUSED_LOGGED {
            return;
        }
        self.n_refused += 1;
        self.rcpt(env_to, addr, dir);
        self.refused
            .push_str(&format!("Rcpt To:{env_to}: {reply}\n"));
    }

    /// A complaint about the transaction (such as an insecure per-user
    /// directory), written after the body as the original does; at most
    /// as many as refused recipients are logged.
    pub fn note(&mut self, text: &str) {
        if self.n_refused < MAX_REFUSED_LOGGED {
            self.n_refused += 1;
            self.notes.push_str(text);
            self.notes.push('\n');
        }
    }

    /// A note about a relay of the main whiteclnt file (`ADDR is a
    /// whitelisted MX server`, ...): with the remarks, in their order.
    pub fn relay_note(&mut self, line: &str) {
        self.notes.push_str(line);
        self.notes.push('\n');
    }

    /// A `sendmail.cf-->{dcc_isspam}: "..."` line (see
    /// [`crate::msg::Msg::note_mta`]): with the remarks, in their order.
    pub fn sendmail_cf(&mut self, line: &str) {
        self.notes.push_str(line);
        self.notes.push('\n');
    }

    /// The DNS list checks' hit lines, written after the remarks about
    /// the transaction, as the original writes them at the decision.
    pub fn dnsbl(&mut self, lines: &[String]) {
        for l in lines {
            self.dnsbl.push_str(l);
            self.dnsbl.push('\n');
        }
    }

    fn flush_env(&mut self) {
        if !self.env_done {
            self.env_done = true;
            let mut e = std::mem::take(&mut self.envelope);
            e.push('\n');
            self.put(e.as_bytes());
        }
    }

    fn put(&mut self, b: &[u8]) {
        if let Err(e) = self.file.write(b) {
            self.errors.push(e);
        }
    }

    /// A header line as received, its bytes as they came.
    pub fn header(&mut self, name: &[u8], value: &[u8]) {
        self.flush_env();
        let line = [name, b": ", value, b"\n"].concat();
        if let Err(e) = self.file.body_write(&line) {
            self.errors.push(e);
        }
    }

    /// The end of the header.
    pub fn eoh(&mut self) {
        self.flush_env();
        if let Err(e) = self.file.body_write(b"\n") {
            self.errors.push(e);
        }
    }

    /// Body bytes (only the first part of a long message is kept).
    pub fn body(&mut self, b: &[u8]) {
        self.flush_env();
        if let Err(e) = self.file.body_write(b) {
            self.errors.push(e);
        }
    }

    /// The end of the message: decision line, header, table, reply and
    /// result; keep the file if `keep`. Returns the kept file's path and
    /// complaints.
    pub fn finish(
        mut self,
        st_line: &str,
        header: Option<&str>,
        table: &str,
        reply: Option<&str>,
        result: &str,
        keep: bool,
    ) -> (Option<PathBuf>, Vec<String>) {
        self.flush_env();
        self.put(MSG_SEP.as_bytes());
        let notes = std::mem::take(&mut self.notes);
        self.put(notes.as_bytes());
        let dnsbl = std::mem::take(&mut self.dnsbl);
        self.put(dnsbl.as_bytes());
        self.put(st_line.as_bytes());
        if let Some(h) = header {
            self.put(h.as_bytes());
        }
        self.put(table.as_bytes());
        let mut tail = String::from("\n");
        tail.push_str(&self.grey);
        tail.push_str(&self.refused);
        tail.push_str(&self.xfltr);
        if let Some(r) = reply {
            tail.push_str(&format!("rejection message: {r}\n"));
        }
        tail.push_str(&format!("result: {result}\n"));
        self.put(tail.as_bytes());
        self.close(keep)
    }

    /// The end of a message the DCC failure under `-x` refused before its
    /// recipients were decided (the original's `msg_tempfail()` before
    /// `users_process()`): the remarks, then the reply and the result,
    /// with no decision line, header, checksums or greylist lines; kept.
    pub fn finish_undecided(mut self, reply: &str, result: &str) -> (Option<PathBuf>, Vec<String>) {
        self.flush_env();
        let mut tail = String::from(MSG_SEP);
        tail.push_str(&std::mem::take(&mut self.notes));
        tail.push_str(&std::mem::take(&mut self.dnsbl));
        tail.push_str(&self.xfltr);
        tail.push_str(&format!("rejection message: {reply}\nresult: {result}\n"));
        self.put(tail.as_bytes());
        self.close(true)
    }

    /// Close the file, kept or not: its path if kept, and the complaints
    /// about it and about writing it.
    fn close(mut self, keep: bool) -> (Option<PathBuf>, Vec<String>) {
        let mut errors = std::mem::take(&mut self.errors);
        let closed = self.file.finish(keep);
        errors.extend(closed.report);
        (closed.kept, errors)
    }
}

/// Copy a kept log file into a recipient's log directory `dir` (made if
/// missing), in the day/hour/minute subdirectories of `mode`.
pub fn copy_to_user(kept: &Path, dir: &Path, mode: LogMode, env_to: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("mkdir({}): {e}", dir.display()))?;
    let mut d = dir.to_path_buf();
    if mode != LogMode::Flat {
        let (t, _) = tally_engine::logfile::localtime(now());
        d.push(format!("{:03}", t.yday + 1));
        if mode != LogMode::Day {
            d.push(format!("{:02}", t.hour));
            if mode == LogMode::Minute {
                d.push(format!("{:02}", t.min));
            }
        }
        std::fs::create_dir_all(&d).map_err(|e| format!("mkdir({}): {e}", d.display()))?;
    }
    let Some(name) = kept.file_name() else {
        return Ok(());
    };
    let text = std::fs::read(kept).map_err(|e| format!("read {}: {e}", kept.display()))?;
    // log files hold the message as received, not necessarily UTF-8
    let text: String = text.iter().map(|&b| char::from(b)).collect();
    let env_to: String = env_to.bytes().map(char::from).collect();
    let copy = per_user::per_user_text(&text, &env_to);
    // each char is one byte of the file (see above)
    let bytes: Vec<u8> = copy
        .chars()
        .map(|c| u8::try_from(c).unwrap_or(b'?'))
        .collect();
    let path = d.join(name);
    std::fs::write(&path, bytes).map_err(|e| format!("copy log to {}: {e}", d.display()))?;
    // group and other read and write permissions as the log directory
    // gives them (dccm(8) -U)
    use std::os::unix::fs::PermissionsExt;
    let dir_mode = std::fs::metadata(dir).map_or(0, |m| m.permissions().mode());
    let mode = 0o600 | (dir_mode & 0o066);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod({}): {e}", path.display()))
}
