//! Log files of a message: the main `-l` directory and the per-user
//! directories `userdirs/<user>/log` of recipients given with a user name
//! (when that directory exists).
//!
//! Each file holds the envelope (`VERSION`, `DATE`, `IP`, `HELO`,
//! `env_From`, `env_To` lines), the first part of the message as received,
//! the end-of-body mark, complaints, the whiteclnt and decision lines, the
//! X-DCC header, the checksum table and the result. As the recorded
//! original does, the main log keeps every message; a per-user log is
//! kept when the message is interesting (thresholds, blacklisting), when
//! the request asked for `log`, or with `option log-all` in the user's file.

use crate::config::Config;
use crate::proto::{Head, Rcpt};
use std::io::Read;
use tally_ck::message::Checksums;
use tally_ck::simple::ip_to_v6;
use tally_engine::logfile::{log_date, LogFile, LogMode, MSG_SEP};
use tally_engine::state::white_sw;
use tally_engine::whitefiles::user_dir;

/// Most per-user log files written for one message.
pub const MAX_USER_LOGS: usize = 64;

/// The open log files of one message.
#[derive(Default)]
pub struct MsgLogs {
    /// The main log.
    pub global: Option<LogFile>,
    /// Per-user logs: recipient index, file.
    pub users: Vec<(usize, LogFile)>,
}

/// The log mode a user's whiteclnt switches ask for.
fn user_mode(sws: u32) -> LogMode {
    if sws & white_sw::LOG_M != 0 {
        LogMode::Minute
    } else if sws & white_sw::LOG_H != 0 {
        LogMode::Hour
    } else if sws & white_sw::LOG_D != 0 {
        LogMode::Day
    } else {
        LogMode::Flat
    }
}

impl MsgLogs {
    /// Open the files for a request; `user_sws` are the switches of each
    /// recipient's per-user file (0 without one).
    pub fn open(cfg: &Config, head: &Head, user_sws: &[u32], errors: &mut Vec<String>) -> MsgLogs {
        let mut l = MsgLogs::default();
        if let Some((dir, mode)) = &cfg.logdir {
            match LogFile::create(dir, *mode) {
                Ok(f) => l.global = Some(f),
                Err(e) => errors.extend(e.report),
            }
        }
        // as the original: per-user logs only with a -l directory
        let (Some((_, udirs)), Some(_)) = (&cfg.userdirs, &cfg.logdir) else {
            return l;
        };
        for (i, r) in head.rcpts.iter().enumerate() {
            if r.user.is_empty() || l.users.len() >= MAX_USER_LOGS {
                continue;
            }
            let Ok(d) = user_dir("userdirs", &[r.user.as_str()]) else {
                continue;
            };
            let dir = udirs.join(d).join("log");
            if !dir.is_dir() {
                continue;
            }
            let sws = user_sws.get(i).copied().unwrap_or(0);
            match LogFile::create(&dir, user_mode(sws)) {
                Ok(f) => l.users.push((i, f)),
                Err(e) => errors.extend(e.report),
            }
        }
        l
    }

    /// Whether any file is open.
    pub fn any(&self) -> bool {
        self.global.is_some() || !self.users.is_empty()
    }

    fn each(
        &mut self,
        mut f: impl FnMut(Option<usize>, &mut LogFile) -> Result<(), String>,
    ) -> Vec<String> {
        let mut errs = Vec::new();
        if let Some(g) = self.global.as_mut() {
            if let Err(e) = f(None, g) {
                errs.push(e);
            }
        }
        for (i, u) in self.users.iter_mut() {
            if let Err(e) = f(Some(*i), u) {
                errs.push(e);
            }
        }
        errs
    }

    /// The envelope lines, then the message from the spool.
    pub fn preamble(
        &mut self,
        cfg: &Config,
        head: &Head,
        sums: &Checksums,
        spool: &mut dyn Read,
    ) -> Vec<String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut top = format!("VERSION: 3\nDATE: {}\n", log_date(now));
        if let Some(ip) = sums.client_ip {
            top.push_str(&format!(
                "IP: {} {}\n",
                sums.client_name.as_deref().unwrap_or(""),
                ip_to_v6(ip)
            ));
        }
        if let Some(h) = sums.helo.as_deref().filter(|h| !h.is_empty()) {
            top.push_str(&format!("HELO: {h}\n"));
        }
        if let Some(f) = sums.env_from.as_deref() {
            top.push_str(&format!(
                "env_From: {f}  mail_host={}\n",
                sums.mail_host.as_deref().unwrap_or("")
            ));
        }
        let udirs = cfg.userdirs.as_ref().map_or("", |u| u.0.as_str());
        let line_of = |r: &Rcpt| -> String {
            if r.user.is_empty() {
                format!("env_To: {}  addr=  dir=\n", r.addr)
            } else {
                let d = user_dir(udirs, &[r.user.as_str()]).unwrap_or_default();
                format!("env_To: {}  addr={}  dir={udirs}/{d}\n", r.addr, r.user)
            }
        };
        let rcpt_line = |i: usize| -> String { head.rcpts.get(i).map(line_of).unwrap_or_default() };
        // the main log lists the recipients refused at RCPT where they came
        let all_lines = || -> String {
            let mut t = String::new();
            for i in 0..=head.rcpts.len() {
                for (_, r) in head.refused.iter().filter(|(at, _)| *at == i) {
                    t.push_str(&line_of(r));
                }
                t.push_str(&rcpt_line(i));
            }
            t
        };
        let mut errs = self.each(|who, f| {
            let mut t = top.clone();
            match who {
                None => t.push_str(&all_lines()),
                Some(i) => t.push_str(&rcpt_line(i)),
            }
            t.push('\n');
            f.write(t.as_bytes())
        });
        let mut buf = vec![0u8; 8192];
        loop {
            let n = match spool.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    errs.push(format!("read(spool): {}", tally_engine::errno_str(&e)));
                    break;
                }
            };
            let chunk = buf.get(..n).unwrap_or(&[]);
            errs.extend(self.each(|_, f| f.body_write(chunk)));
        }
        errs
    }

    /// The lines after the message: complaints, the decision, the header
    /// and checksums, the greylist lines, the result; `results` gives each
    /// recipient's disposition (`true` = delivered), `keep_user` whether
    /// each per-user file is kept. `grey` gives the greylist lines of the
    /// main (`None`) or a recipient's log and the result line greylisting
    /// decides, if it does. Files not kept are removed.
    ///
    /// An empty decision line means that nothing was decided (a `-x` DCC
    /// failure, [`crate::decide::Decided::st_line`]): as the original's
    /// answer before `users_process()`, the main log then ends with the
    /// complaints, the whiteclnt lines and what `grey` gives as the main
    /// result (the proxy's reply), and no per-user log is kept.
    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        mut self,
        complaints: &[String],
        white_lines: &str,
        st_line: &dyn Fn(&str) -> String,
        header_and_table: &str,
        overall_reject: bool,
        head: &Head,
        results: &[bool],
        keep_user: &dyn Fn(usize) -> bool,
        grey: &dyn Fn(Option<usize>) -> (String, Option<String>),
    ) -> Vec<String> {
        let mut decided = true;
        let mut errs = self.each(|who, f| {
            let mut t = String::from(MSG_SEP);
            for c in complaints {
                t.push_str(c);
                t.push('\n');
            }
            t.push_str(white_lines);
            let st = st_line(if who.is_none() {
                "dccifd  global-log"
            } else {
                "dccifd  per-user-log"
            });
            if st.is_empty() {
                decided = false;
                if let (None, (_, Some(r))) = (who, grey(who)) {
                    t.push_str(&r);
                }
                return f.write(t.as_bytes());
            }
            t.push_str(&st);
            t.push_str(header_and_table);
            t.push('\n');
            let (grey_lines, grey_result) = grey(who);
            t.push_str(&grey_lines);
            if let Some(r) = grey_result {
                t.push_str(&r);
                return f.write(t.as_bytes());
            }
            match who {
                Some(i) => {
                    let ok = results.get(i).copied().unwrap_or(true);
                    t.push_str(if ok {
                        "result: accept\n"
                    } else {
                        "result: reject\n"
                    });
                }
                None if overall_reject => t.push_str("result: reject\n"),
                None => {
                    let refused: Vec<usize> = results
                        .iter()
                        .enumerate()
                        .filter(|(_, &ok)| !ok)
                        .map(|(i, _)| i)
                        .collect();
                    if refused.is_empty() {
                        t.push_str("result: accept\n");
                    } else {
                        t.push_str(&format!("forced discard for {} targets\n", refused.len()));
                        for i in refused {
                            if let Some(r) = head.rcpts.get(i) {
                                t.push_str(&format!("result: discard forced for {}\n", r.addr));
                            }
                        }
                    }
                }
            }
            f.write(t.as_bytes())
        });
        if let Some(g) = self.global.take() {
            errs.extend(g.finish(true).report);
        }
        for (i, u) in self.users.drain(..) {
            errs.extend(u.finish(decided && keep_user(i)).report);
        }
        errs
    }
}
