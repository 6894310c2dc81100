//! What every connection of a running dccm shares: the options that
//! shape the per-message decision and the whiteclnt files.

use crate::opts::{Action, HdrMode, Opts};
use crate::reply::RejectMsgs;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tally_ck::header::CkConfig;
use tally_engine::tholds::Thresholds;
use tally_engine::whitefiles::{HostResolver, SystemResolver, Timing, WhiteFiles};

/// Shared settings.
pub struct Config {
    /// `-a`.
    pub action: Action,
    /// `-A` / `-N`.
    pub hdr: HdrMode,
    /// `-Q`.
    pub query: bool,
    /// Force Body=many in bulk headers (off with `-P`).
    pub body_kludge: bool,
    /// `-x`.
    pub try_extra_hard: bool,
    /// `-W`: DCC filtering off unless a whiteclnt file turns it on.
    pub to_white_only: bool,
    /// `-t`, `-g`.
    pub tholds: Thresholds,
    /// `-S`.
    pub ck_cfg: CkConfig,
    /// `-r`.
    pub rej: RejectMsgs,
    /// `-w` and `-U` files.
    pub white: Option<Mutex<WhiteFiles>>,
    /// `-U` given.
    pub userdirs: Option<String>,
    /// The DCC home directory.
    pub home: std::path::PathBuf,
    /// `-l`: the log directory and its subdirectory layout.
    pub logdir: Option<(std::path::PathBuf, tally_engine::logfile::LogMode)>,
    /// `-d`: debugging; keeps log files of aborted transactions.
    pub debug: u32,
    /// `-G`.
    pub grey: tally_engine::grey::GreyOpt,
    /// `-B`: the DNS list checks, when a list is declared and a resolver
    /// could be set up.
    pub dnsbl: Option<Arc<tally_engine::dnsbl::Checker>>,
    /// Why the DNS list checks could not be set up.
    pub dnsbl_error: Option<String>,
    /// `-X` names an external filter: recipients whose `option
    /// xfltr-on` settings differ cannot share a transaction.
    pub xfltr: bool,
}

impl Config {
    /// Settings from the options, with `home` the DCC home directory.
    pub fn new(o: &Opts, home: &Path) -> Config {
        Config::with_resolver(o, home, Arc::new(SystemResolver))
    }

    /// As [`Config::new`] with a chosen host name resolver.
    pub fn with_resolver(o: &Opts, home: &Path, resolver: Arc<dyn HostResolver>) -> Config {
        let white = (o.whiteclnt.is_some() || o.userdirs.is_some()).then(|| {
            Mutex::new(WhiteFiles::new(
                home,
                o.whiteclnt.as_deref(),
                o.userdirs.as_deref(),
                resolver,
                Timing::default(),
            ))
        });
        let (dnsbl, dnsbl_error) = match tally_engine::dnsbl::Checker::new(
            o.dnsbl_settings.clone(),
            o.rej.first.as_deref(),
            usize::try_from(o.max_work).unwrap_or(usize::MAX),
        ) {
            Ok(c) => (c.map(Arc::new), None),
            Err(e) => (None, Some(format!("DNS blacklists: {e}"))),
        };
        let mut ck_cfg = o.ck_cfg.clone();
        ck_cfg.keep_xdcc = o.hdr == HdrMode::Add;
        Config {
            action: o.action,
            hdr: o.hdr,
            query: o.query,
            body_kludge: !o.no_body_kludge,
            try_extra_hard: o.try_extra_hard,
            to_white_only: o.to_white_only,
            tholds: o.tholds.clone(),
            ck_cfg,
            rej: o.rej.clone(),
            white,
            userdirs: o.userdirs.clone(),
            home: home.to_path_buf(),
            logdir: o.logdir.as_deref().map(|l| {
                let (mode, dir) = tally_engine::logfile::parse_logdir(l);
                let p = Path::new(dir);
                let p = if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    home.join(p)
                };
                (p, mode)
            }),
            debug: o.debug,
            grey: o.grey,
            dnsbl,
            dnsbl_error,
            xfltr: o.xfltr.on(),
        }
    }

    /// Settings for tests and fuzzing: the defaults, no files.
    pub fn plain() -> Config {
        Config::new(&Opts::default(), Path::new("/nonexistent"))
    }
}
