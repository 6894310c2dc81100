//! Where the message goes: the output, the log file, and the complaints,
//! with the original's rule that the mail is always delivered.

use std::io::{self, BufRead, Read, Write};
use tally_engine::logfile::{self, LogFile};
use tally_engine::message::{copy_spool, output_failure, rewind, write_counted, ReadInfo};
use tally_engine::spool::Spool;
use tally_engine::syslog::Syslog;
use tally_engine::xhdr::XHeader;
use tally_engine::{clip_complaint, errno_str, COMPLAINT_BUF};

/// State of one run.
pub struct Run {
    pub out: Option<Box<dyn Write>>,
    pub input: Option<Box<dyn BufRead>>,
    pub log: Option<LogFile>,
    pub early: String,
    pub spool: Option<Spool>,
    pub spool_rewound: bool,
    pub logit: bool,
    pub quiet_out: bool,
    /// The system log.
    pub syslog: Syslog,
    /// Names of the input and the output in complaints: the `-i` and
    /// `-o` files, else `stdin` and `stdout`, as the original says.
    pub in_name: String,
    pub out_name: String,
}

impl Run {
    /// A complaint on stderr (the original also sends it to syslog).
    pub fn error_msg(&mut self, msg: &str) {
        let msg = clip_complaint(msg);
        if msg.is_empty() {
            self.stderr_msg("(empty error message)");
        } else {
            self.stderr_msg(&msg);
        }
    }

    /// A line on stderr and in the system log, as it is.
    fn stderr_msg(&mut self, msg: &str) {
        if let Some(o) = self.out.as_mut() {
            let _ = o.flush();
        }
        let mut e = io::stderr().lock();
        let _ = e.write_all(msg.as_bytes());
        if !msg.ends_with('\n') {
            let _ = e.write_all(b"\n");
        }
        let _ = e.flush();
        self.syslog.error(msg);
    }

    /// A complaint that also goes into the log file, which is then kept.
    pub fn dccproc_error(&mut self, msg: &str) {
        let msg = clip_complaint(msg).into_owned();
        self.error_msg(&msg);
        self.logit = true;
        let line = format!("{msg}\n");
        match self.log.as_mut() {
            Some(l) if self.spool_rewound => {
                // the original formats log lines in a buffer of the same
                // size: a clipped complaint loses its line end there
                let _ = l.write(&line.as_bytes()[..line.len().min(COMPLAINT_BUF - 1)]);
            }
            _ => self.early_push(&line),
        }
    }

    /// Keep a line for the log file until the message is in it, as the
    /// original's 500-byte buffer does: what does not fit is cut and the
    /// buffer ends with `...` and a line end; once full, nothing more.
    fn early_push(&mut self, line: &str) {
        let max = logfile::EARLY_LOG_MAX;
        let room = max.saturating_sub(self.early.len());
        if room == 0 {
            return;
        }
        if line.len() < room {
            self.early.push_str(line);
            return;
        }
        let mut b = std::mem::take(&mut self.early).into_bytes();
        b.extend_from_slice(&line.as_bytes()[..room]);
        b.truncate(max - 4);
        b.extend_from_slice(b"...\n");
        self.early = String::from_utf8_lossy(&b).into_owned();
    }

    pub fn log_write(&mut self, b: &[u8]) {
        if let Some(l) = self.log.as_mut() {
            if let Err(e) = l.write(b) {
                self.log = None;
                self.error_msg(&e);
            }
        }
    }

    pub fn log_late(&mut self) {
        if !self.early.is_empty() {
            let e = std::mem::take(&mut self.early);
            self.log_write(e.as_bytes());
        }
    }

    pub fn out_write(&mut self, b: &[u8]) {
        if let Some(o) = self.out.as_mut() {
            if let Err(e) = o.write_all(b) {
                self.out = None;
                let m = format!("fwrite({}): {}", self.out_name, errno_str(&e));
                self.error_msg(&m);
            }
        }
    }

    pub fn finish_log(&mut self) {
        if let Some(l) = self.log.take() {
            if let Some(m) = l.finish(self.logit).report {
                self.error_msg(&m);
            }
        }
    }

    /// Give up on the message but deliver it: what was spooled, then the
    /// rest of the input. Always exits 0 so that no mail is rejected.
    pub fn fatal(&mut self, msg: &str) -> i32 {
        self.log_late();
        let printed = !self.spool_rewound;
        // the complaint is cut as the original's buffers cut it: with
        // "..." on standard error, bare in the log file
        let clipped = clip_complaint(msg).into_owned();
        let log_msg = &msg.as_bytes()[..msg.len().min(COMPLAINT_BUF - 1)];
        if printed {
            self.stderr_msg(&format!("{clipped}; fatal error"));
            self.logit = true;
            if self.log.as_ref().is_some_and(LogFile::used) {
                self.log_write(b"\n");
            }
            self.log_write(log_msg);
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
            self.stderr_msg(&format!("{clipped}; fatal error"));
            self.log_write(b"\n\n");
            self.log_write(log_msg);
            self.log_write(b"\n");
        }
        if let Some(o) = self.out.as_mut() {
            let _ = o.flush();
        }
        self.finish_log();
        0
    }
}

impl Run {
    /// A note for the log file only.
    pub fn early_note(&mut self, msg: &str) {
        self.early_push(&format!("{msg}\n"));
    }

    /// Add the X-DCC header to the output and the log; `Err` holds the
    /// complaint to give up with when writing the output failed (it is
    /// then closed).
    pub fn write_header(&mut self, h: Option<&XHeader>, crlf: bool) -> Result<(), String> {
        let Some(h) = h else { return Ok(()) };
        let b = h.to_bytes(crlf);
        if let Some(l) = self.log.as_mut() {
            let _ = l.body_write(&b);
        }
        let Some(o) = self.out.as_mut() else {
            return Ok(());
        };
        match write_counted(o.as_mut(), &b) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.out = None;
                Err(format!(
                    "fwrite(add_hdr {},{})={}: {}",
                    self.out_name,
                    e.len,
                    e.written,
                    errno_str(&e.source)
                ))
            }
        }
    }

    /// The complaint for a failed copy of the spool: a write error of the
    /// output names the output (which is then closed), anything else is a
    /// failure to read the spool.
    fn copy_failed(&mut self, e: &io::Error) -> String {
        match output_failure(e) {
            Some(o) => {
                self.out = None;
                format!(
                    "fwrite(scopy {}, {})={}: {}",
                    self.out_name,
                    o.len,
                    o.written,
                    errno_str(&o.source)
                )
            }
            None => format!("read(spool): {}", errno_str(e)),
        }
    }

    /// Copy the spooled message to the output and the log with the new
    /// header between the header fields and the blank line; `Err` holds
    /// the exit code after giving up.
    pub fn copy_out(&mut self, info: &ReadInfo, header: Option<&XHeader>) -> Result<(), i32> {
        let r = self;
        if let Some(mut s) = r.spool.take() {
            r.spool_rewound = true;
            if let Err(e) = rewind(&mut s) {
                return Err(r.fatal(&format!("rewind(spool): {}", errno_str(&e))));
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
                let m = r.copy_failed(&e);
                return Err(r.fatal(&m));
            }
            if let Err(m) = r.write_header(header, info.crlf_dccproc()) {
                // the rest of the spool still goes to the log
                r.spool = Some(s);
                return Err(r.fatal(&m));
            }
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
                r.spool = Some(s);
                let m = r.copy_failed(&e);
                return Err(r.fatal(&m));
            }
        } else if let Err(m) = r.write_header(header, info.crlf_dccproc()) {
            return Err(r.fatal(&m));
        }
        Ok(())
    }
}
