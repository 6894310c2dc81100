//! A whole scene for the milter tests: our dccd, a client home, our dccm and
//! a Postfix instance whose smtpd uses dccm. Dropping it stops Postfix,
//! then dccm, then dccd, then removes the temporary directory.

use crate::daemons::Client;
use crate::dccd::{self, DccServer};
use crate::postfix::{Config, Postfix};
use crate::smtp::{self, Envelope, Outcome};
use crate::tmp::TempDir;
use crate::{skip, Skip};
use std::path::PathBuf;
use std::time::Duration;

/// Time limit of each SMTP step (longer than Postfix's milter timeouts).
pub const SMTP_LIMIT: Duration = Duration::from_secs(90);

/// What to set up besides the defaults.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// dccm options after `-b -h -R -p`.
    pub dccm_opts: Vec<String>,
    /// Text of the global whiteclnt in the client home (given to dccm as
    /// `-w whiteclnt` by the caller's options).
    pub whiteclnt: Option<String>,
    /// Per-user files: (path relative to the client home, text).
    pub files: Vec<(String, String)>,
    /// Postfix settings (the milter is filled in).
    pub postfix: Config,
    /// `-G` value of a greylist server to start beside dccd and name in
    /// the client map (e.g. `on,3`); dccm still needs its own `-G on`.
    pub grey: Option<String>,
    /// Environment variables of dccm (e.g. `TALLY_DNSBL_SERVERS`, the
    /// test-only name servers of -B).
    pub dccm_env: Vec<(String, String)>,
}

/// The running scene (fields drop in this order).
#[derive(Debug)]
pub struct MilterScene {
    /// The Postfix instance.
    pub postfix: Postfix,
    /// Our dccm.
    pub dccm: Client,
    /// Our dccd.
    pub dccd: DccServer,
    /// Our greylist server, when [`Setup::grey`] asked for one.
    pub grey: Option<DccServer>,
    /// The client home shared by dccm and dccproc.
    pub home: PathBuf,
    _dir: TempDir,
}

fn io(e: std::io::Error) -> Skip {
    Skip(format!("set-up failed: {e}"))
}

/// The DCC side of a milter scene: our dccd, the greylist server if any,
/// the client home and our dccm.
pub(crate) struct DccSide {
    pub(crate) dccd: DccServer,
    pub(crate) grey: Option<DccServer>,
    pub(crate) home: PathBuf,
    pub(crate) dccm: Client,
}

/// Start the DCC side of a milter scene in `dir`: our dccd, a greylist
/// server `dccd -G grey` when asked, a client home (its map naming both)
/// with the global `whiteclnt` and the other `files` (paths relative to
/// the home), and our dccm with `dccm_opts`.
pub(crate) fn dcc_side(
    dir: &TempDir,
    whiteclnt: Option<&str>,
    files: &[(String, String)],
    dccm_opts: &[String],
    grey: Option<&str>,
    dccm_env: &[(String, String)],
) -> Result<DccSide, Skip> {
    let dccd = DccServer::start(&dir.path().join("dccd"))?;
    let grey = match grey {
        Some(g) => Some(DccServer::start_grey(&dir.path().join("grey"), g)?),
        None => None,
    };
    let home = dccd
        .client_home_with(&dir.path().join("home"), whiteclnt, grey.as_ref())
        .map_err(io)?;
    for (rel, text) in files {
        let p = home.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&p, text).map_err(io)?;
    }
    let opts: Vec<&str> = dccm_opts.iter().map(String::as_str).collect();
    let dccm = Client::dccm_env(&home, &opts, dccm_env)?;
    Ok(DccSide {
        dccd,
        grey,
        home,
        dccm,
    })
}

impl MilterScene {
    /// Start everything; skips without root, Postfix, or a dccm that builds.
    pub fn start(setup: Setup) -> Result<MilterScene, Skip> {
        skip::root()?;
        skip::program("postfix")?;
        let dir = TempDir::new("milter").map_err(io)?;
        let side = dcc_side(
            &dir,
            setup.whiteclnt.as_deref(),
            &setup.files,
            &setup.dccm_opts,
            setup.grey.as_deref(),
            &setup.dccm_env,
        )?;
        let mut cfg = setup.postfix.clone();
        cfg.milter = side
            .dccm
            .sock
            .as_ref()
            .map(|s| format!("unix:{}", s.display()));
        let postfix = Postfix::start(&cfg)?;
        Ok(MilterScene {
            postfix,
            dccm: side.dccm,
            dccd: side.dccd,
            grey: side.grey,
            home: side.home,
            _dir: dir,
        })
    }

    /// Report `message` `targets` times to dccd from the client home.
    pub fn preload(&self, targets: &str, message: &[u8]) -> String {
        dccd::report(&self.home, targets, message)
    }

    /// Send a message through Postfix; panics (with the logs) if the SMTP
    /// session itself fails.
    pub fn send(&self, env: &Envelope, message: &[u8]) -> Outcome {
        match smtp::send(self.postfix.smtp, env, message, SMTP_LIMIT) {
            Ok(o) => o,
            Err(e) => panic!("SMTP failed: {e}\n{}", self.logs()),
        }
    }

    /// Send and wait until Postfix is done with the accepted message.
    pub fn send_and_settle(&self, env: &Envelope, message: &[u8]) -> Outcome {
        let out = self.send(env, message);
        if let Some(qid) = out.queue_id() {
            assert!(
                self.postfix.wait_done(&qid, Duration::from_secs(60)),
                "{qid} not done\n{}",
                self.logs()
            );
        }
        out
    }

    /// Postfix's mail log and dccm's output, for failure messages.
    pub fn logs(&self) -> String {
        format!(
            "--- maillog ---\n{}\n{}",
            self.postfix.log(),
            self.dccm.log_text()
        )
    }
}
