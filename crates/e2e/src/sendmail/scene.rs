//! The whole sendmail scene: our dccd, a client home, our dccm and a
//! sendmail instance whose only milter is dccm. Dropping it stops sendmail
//! (and its sink), then dccm, then dccd, then removes the temporary
//! directory.

use super::{root, Sendmail};
use crate::daemons::Client;
use crate::dccd::{self, DccServer};
use crate::scene::dcc_side;
use crate::smtp::{self, Envelope, Outcome};
use crate::tmp::TempDir;
use crate::{skip, Skip};
use std::path::PathBuf;
use std::time::Duration;

/// Time limit of each SMTP step (longer than the milter timeouts).
pub const SMTP_LIMIT: Duration = Duration::from_secs(90);
/// How long a relayed message may take to reach the sink.
pub const DELIVERY_LIMIT: Duration = Duration::from_secs(60);

/// What to set up besides the defaults.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// dccm options after `-b -h -R -p`.
    pub dccm_opts: Vec<String>,
    /// Text of the global whiteclnt in the client home.
    pub whiteclnt: Option<String>,
    /// Files of the client home: (relative path, text).
    pub files: Vec<(String, String)>,
    /// sendmail rule sets after `LOCAL_RULESETS`.
    pub rules: String,
    /// `-G` value of a greylist server to start and name in the map.
    pub grey: Option<String>,
}

/// The running scene (fields drop in this order).
#[derive(Debug)]
pub struct SendmailScene {
    /// The sendmail instance and its sink.
    pub sendmail: Sendmail,
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

impl SendmailScene {
    /// Start everything; skips without root, the unpacked sendmail, m4,
    /// or a dccm that builds.
    pub fn start(setup: Setup) -> Result<SendmailScene, Skip> {
        root()?;
        super::tree()?;
        skip::program("m4")?;
        let dir = TempDir::new("sm-milter").map_err(io)?;
        let side = dcc_side(
            &dir,
            setup.whiteclnt.as_deref(),
            &setup.files,
            &setup.dccm_opts,
            setup.grey.as_deref(),
            &[],
        )?;
        let sock = side
            .dccm
            .sock
            .as_ref()
            .ok_or_else(|| Skip("dccm has no socket".into()))?;
        let sendmail = Sendmail::start(&format!("unix:{}", sock.display()), &setup.rules)?;
        Ok(SendmailScene {
            sendmail,
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

    /// Send a message through sendmail; panics (with the logs) if the SMTP
    /// session itself fails.
    pub fn send(&self, env: &Envelope, message: &[u8]) -> Outcome {
        match smtp::send(self.sendmail.smtp, env, message, SMTP_LIMIT) {
            Ok(o) => o,
            Err(e) => panic!("SMTP failed: {e}\n{}", self.logs()),
        }
    }

    /// The messages relayed for `rcpt` once there are `n` of them; panics
    /// (with the logs) if they do not all arrive in time.
    pub fn wait_delivered(&self, rcpt: &str, n: usize) -> Vec<String> {
        assert!(
            self.sendmail.wait_delivered(rcpt, n, DELIVERY_LIMIT),
            "fewer than {n} message(s) for {rcpt} reached the sink\n{}",
            self.logs()
        );
        self.sendmail.delivered(rcpt)
    }

    /// sendmail's and dccm's output, for failure messages.
    pub fn logs(&self) -> String {
        format!("{}\n{}", self.sendmail.log(), self.dccm.log_text())
    }
}
