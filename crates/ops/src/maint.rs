//! What the daily maintenance (`cron-dccd`) does, decided from
//! `dcc_conf` as the original's cron job decides it: which databases
//! `dbclean` cleans with which options, and which log directories lose
//! their old files.

use std::path::{Path, PathBuf};

use tally_getopt::{getopt, Item, Style};

use crate::conf::Conf;
use crate::start::{log_facility_args, logdir_path};
use crate::vars::AUTO_GREY_ID;
use crate::words;

/// dccd's option letters (to find its `-a`, `-4` and `-6`).
const DCCD_SPEC: &str = "64dVbfFQi:n:h:a:I:q:G:t:W:K:T:u:C:L:R:";
/// dbclean's option letters.
const DBCLEAN_SPEC: &str = "64dfFNPSVqui:a:h:H:D:G:R:s:e:E:L:";

/// One database to clean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaning {
    /// The greylist database (`dbclean -Gon`).
    pub grey: bool,
    /// The server-ID.
    pub id: String,
    /// The arguments of `dbclean`.
    pub dbclean: Vec<String>,
    /// Where the running server listens (for `cdcc "DB clean"` when
    /// dbclean finds it running): host and port.
    pub host: String,
    /// Its UDP port.
    pub port: u16,
}

impl Cleaning {
    /// The `cdcc` command that asks the running server to clean.
    pub fn cdcc_command(&self) -> String {
        let grey = if self.grey { "grey on; " } else { "" };
        format!(
            "{grey}id {}; host {}; port {}; DB clean",
            self.id, self.host, self.port
        )
    }
}

/// The whole job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The databases, greylist first (as the original).
    pub cleanings: Vec<Cleaning>,
    /// The main log directories of dccm and dccifd (absolute).
    pub logdirs: Vec<PathBuf>,
    /// The per-user directories (absolute).
    pub userdirs: Vec<PathBuf>,
    /// Days log files are kept (`DBCLEAN_LOGDAYS`; `None`: none removed).
    pub logdays: Option<u64>,
}

/// The job's input besides `dcc_conf`.
#[derive(Debug, Clone)]
pub struct JobInput<'a> {
    /// The variables.
    pub conf: &'a Conf,
    /// The file's name, for messages.
    pub file: &'a str,
    /// The home directory (absolute).
    pub home: &'a Path,
    /// The text of `ids`, for the automatic greylist server-ID.
    pub ids: Option<&'a str>,
    /// `-x`: dbclean without `-q`.
    pub verbose: bool,
    /// Words of `-a`: more dbclean options.
    pub extra: &'a [String],
}

fn words_of(inp: &JobInput<'_>, name: &str) -> Result<Vec<String>, String> {
    words::split(inp.conf.val(name)).map_err(|e| match inp.conf.line_of(name) {
        Some(l) => format!("{}:{l}: {name}: {e}", inp.file),
        None => format!("{}: {name}: {e}", inp.file),
    })
}

/// The `-a`, `-4` and `-6` options of a dccd command line, and the host
/// and port they name (default 127.0.0.1 and `port`).
fn server_addr(args: &[String], port: u16) -> (Vec<String>, String, u16) {
    let mut opts = Vec::new();
    let mut host = "127.0.0.1".to_string();
    let mut p = port;
    for it in getopt(args, DCCD_SPEC, Style::Posix).items {
        match it {
            Item::Opt('a', Some(a)) => {
                let (h, pt) = match a.rsplit_once(',') {
                    Some((h, pt)) => (h.to_string(), pt.parse().ok()),
                    None => (a.clone(), None),
                };
                if !h.is_empty() && h != "0.0.0.0" && h != "::" && h != "@" {
                    host = h;
                }
                if let Some(pt) = pt {
                    p = pt;
                }
                opts.extend(["-a".to_string(), a]);
            }
            Item::Opt(c @ ('4' | '6'), _) => opts.push(format!("-{c}")),
            _ => {}
        }
    }
    (opts, host, p)
}

/// The dbclean options without `-e`, `-E` and `-t`, for the greylist
/// database.
fn without_expiry(args: &[String]) -> Vec<String> {
    let mut v = Vec::new();
    for it in getopt(args, DBCLEAN_SPEC, Style::Posix).items {
        if let Item::Opt(c, arg) = it {
            if matches!(c, 'e' | 'E' | 't') {
                continue;
            }
            v.push(format!("-{c}"));
            v.extend(arg);
        }
    }
    v
}

/// Absolute paths of a log directory value (quotes and `D?` removed).
fn in_home(home: &Path, v: &str) -> Option<PathBuf> {
    let v: String = v.chars().filter(|c| *c != '"' && *c != '\'').collect();
    let v = logdir_path(&v);
    (!v.is_empty()).then(|| home.join(v))
}

/// Decide the job.
pub fn job(inp: &JobInput<'_>) -> Result<Job, String> {
    let c = inp.conf;
    let mut base = Vec::new();
    if !inp.verbose {
        base.push("-q".to_string());
    }
    base.extend(["-h".to_string(), inp.home.display().to_string()]);
    base.extend(words_of(inp, "DCC_LOG_ARGS")?);
    base.extend(log_facility_args(c));
    base.extend(words_of(inp, "DBCLEAN_ARGS")?);
    base.extend(inp.extra.iter().cloned());
    let grey_base = without_expiry(&base);

    let mut cleanings = Vec::new();
    let grey_en = c.val("GREY_ENABLE");
    let grey_on = if grey_en.is_empty() {
        !c.val("GREY_CLIENT_ARGS").is_empty()
    } else {
        grey_en.eq_ignore_ascii_case("on")
    };
    let mut grey_id = c.val("GREY_SRVR_ID").to_string();
    if grey_id.is_empty()
        && inp.ids.is_some_and(|t| {
            t.contains("# auto local greylist server-ID")
                && t.lines().any(|l| {
                    l.strip_prefix(AUTO_GREY_ID)
                        .is_some_and(|r| r.starts_with([' ', '\t']))
                })
        })
    {
        grey_id = AUTO_GREY_ID.to_string();
    }
    if grey_on && !grey_id.is_empty() {
        let (addr, host, port) = server_addr(&words_of(inp, "GREY_DCCD_ARGS")?, 6276);
        let mut a = vec!["-Gon".to_string(), "-i".to_string(), grey_id.clone()];
        a.extend(addr);
        a.extend(grey_base);
        cleanings.push(Cleaning {
            grey: true,
            id: grey_id,
            dbclean: a,
            host,
            port,
        });
    }
    let id = c.val("SRVR_ID");
    if !c.val("DCCD_ENABLE").eq_ignore_ascii_case("off") && !id.is_empty() {
        let (addr, host, port) = server_addr(&words_of(inp, "DCCD_ARGS")?, 6277);
        let mut a = vec!["-i".to_string(), id.to_string()];
        a.extend(addr);
        a.extend(base);
        cleanings.push(Cleaning {
            grey: false,
            id: id.to_string(),
            dbclean: a,
            host,
            port,
        });
    }

    let mut logdirs = Vec::new();
    let m_log = in_home(inp.home, c.val("DCCM_LOGDIR"));
    let i_log = in_home(inp.home, c.val("DCCIFD_LOGDIR"));
    if let Some(d) = &m_log {
        logdirs.push(d.clone());
    }
    if let Some(d) = i_log {
        if Some(&d) != m_log.as_ref() {
            logdirs.push(d);
        }
    }
    let mut userdirs = Vec::new();
    let m_users = c.val("DCCM_USERDIRS");
    let i_users = c.val("DCCIFD_USERDIRS");
    if !m_users.is_empty() {
        userdirs.push(inp.home.join(m_users));
    }
    if !i_users.is_empty() && (m_users.is_empty() || !i_users.starts_with(m_users)) {
        userdirs.push(inp.home.join(i_users));
    }
    let days = c.val("DBCLEAN_LOGDAYS");
    let logdays = if days.is_empty() {
        None
    } else {
        Some(days.trim().parse::<u64>().map_err(|_| {
            let at = c
                .line_of("DBCLEAN_LOGDAYS")
                .map_or(String::new(), |l| format!(":{l}"));
            format!(
                "{}{at}: DBCLEAN_LOGDAYS={days} is not a number of days",
                inp.file
            )
        })?)
    };
    Ok(Job {
        cleanings,
        logdirs,
        userdirs,
        logdays,
    })
}
