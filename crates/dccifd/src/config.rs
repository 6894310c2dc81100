//! What every request needs from the command line, shared by the
//! connections.

use crate::opts::Opts;
use crate::replies::{self, Template};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tally_ck::header::CkConfig;
use tally_engine::logfile::{parse_logdir, LogMode};
use tally_engine::tholds::Thresholds;
use tally_engine::whitefiles::{SystemResolver, Timing, WhiteFiles};

/// The daemon's settings.
pub struct Config {
    /// The DCC home directory.
    pub home: PathBuf,
    /// This host's name, for the X-DCC header.
    pub hostname: String,
    /// `-t`/`-g` thresholds.
    pub tholds: Thresholds,
    /// Checksum settings (`-S`).
    pub ck_cfg: CkConfig,
    /// `-Q`.
    pub query: bool,
    /// `-G`.
    pub grey: tally_engine::grey::GreyOpt,
    /// `-x`: a greylist server that cannot be reached embargoes the
    /// message instead of letting it pass.
    pub try_hard: bool,
    /// `-a IGNORE`: never an overall `R`.
    pub ignore: bool,
    /// `-P`: no forced Body=many in bulk headers.
    pub no_body_kludge: bool,
    /// `-A` or `-N`: keep existing X-DCC headers.
    pub keep_xhdrs: bool,
    /// `-N`: add no X-DCC header to a returned message.
    pub no_xhdr_change: bool,
    /// Directory for spooled messages (`-T`, else `-l`, else the system's).
    pub tmpdir: PathBuf,
    /// The whiteclnt files.
    pub white: Mutex<WhiteFiles>,
    /// The `-w` file name as given, for log lines.
    pub white_name: Option<String>,
    /// `-l`: the main log directory and its subdirectory scheme.
    pub logdir: Option<(PathBuf, LogMode)>,
    /// `-o`: SMTP proxy mode and where mail goes.
    pub proxy: Option<crate::proxy::Downstream>,
    /// `-a DISCARD`: the proxy drops spam instead of refusing it.
    pub discard: bool,
    /// The first `-r` (or its default): the proxy's bulk rejection reply.
    pub rej_reply: Template,
    /// The second `-r` (or its default): the proxy's greylist embargo
    /// reply.
    pub grey_reply: Template,
    /// `-D`: local domains for recipients without a user name.
    pub domains: crate::users::LocalDomains,
    /// `-U`: the name as given (for log lines) and the directory.
    pub userdirs: Option<(String, PathBuf)>,
    /// `-B`: the DNS list checks, when a list is declared and a resolver
    /// could be set up.
    pub dnsbl: Option<std::sync::Arc<tally_engine::dnsbl::Checker>>,
    /// Why the DNS list checks could not be set up.
    pub dnsbl_error: Option<String>,
    /// `-X`: the external filter.
    pub xfltr: tally_engine::xfltr::XfltrOpts,
}

/// Questions at once for DNS list checks without `-j`.
const DEFAULT_JOBS: usize = 32;

/// This host's name as the original finds it.
pub use tally_engine::home::hostname;

/// `p` relative to `home` unless absolute.
pub fn in_home(home: &Path, p: &str) -> PathBuf {
    home.join(p)
}

impl Config {
    /// Settings from the options, with `home` the DCC home directory;
    /// `Err` for a bad `-D`.
    pub fn new(o: &Opts, home: &Path) -> Result<Config, String> {
        let from_log = o
            .logdir
            .as_deref()
            .map(|l| in_home(home, tally_engine::logfile::parse_logdir(l).1))
            .filter(|d| d.is_dir());
        let tmpdir = o
            .tmpdir
            .as_deref()
            .map(|d| in_home(home, d))
            .or(from_log)
            .unwrap_or_else(std::env::temp_dir);
        let (dnsbl, dnsbl_error) = match tally_engine::dnsbl::Checker::new(
            o.dnsbl.clone().finish(),
            o.rej_msgs
                .first()
                .map(String::as_str)
                .filter(|r| !r.is_empty()),
            o.maxjobs.unwrap_or(DEFAULT_JOBS),
        ) {
            Ok(c) => (c.map(std::sync::Arc::new), None),
            Err(e) => (None, Some(format!("DNS blacklists: {e}"))),
        };
        let hostname = hostname();
        let domains = crate::users::LocalDomains::new(&o.local_domains, &hostname)?;
        Ok(Config {
            home: home.to_path_buf(),
            proxy: o.proxy.clone(),
            discard: o.discard,
            rej_reply: replies::template(
                o.rej_msgs.first().map(String::as_str),
                replies::DEFAULT_REJECT,
            ),
            grey_reply: replies::template(
                o.rej_msgs.get(1).map(String::as_str),
                replies::DEFAULT_GREY,
            ),
            domains,
            hostname,
            tholds: o.tholds.clone(),
            ck_cfg: o.ck_cfg.clone(),
            query: o.query,
            grey: o.grey,
            try_hard: o.try_hard,
            ignore: o.ignore,
            no_body_kludge: o.no_body_kludge,
            keep_xhdrs: o.add_xhdr || o.no_xhdr_change,
            no_xhdr_change: o.no_xhdr_change,
            tmpdir,
            white_name: o.whiteclnt.clone(),
            logdir: o.logdir.as_deref().map(|l| {
                let (mode, dir) = parse_logdir(l);
                (in_home(home, dir), mode)
            }),
            userdirs: o.userdirs.as_deref().map(|u| {
                let u = u.trim_end_matches('/');
                (u.to_string(), in_home(home, u))
            }),
            dnsbl,
            dnsbl_error,
            xfltr: o.xfltr.clone(),
            white: Mutex::new(WhiteFiles::new(
                home,
                o.whiteclnt.as_deref(),
                o.userdirs.as_deref(),
                std::sync::Arc::new(SystemResolver),
                Timing::default(),
            )),
        })
    }
}
