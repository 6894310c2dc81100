//! The scene of the fault tests: our dccd on loopback, dccm and dccifd
//! each with a client home whose `map` names it, all driven directly
//! through their protocols (no mail system, no root needed).

use crate::counted::{body_count, body_sum_milter, body_sum_raw};
use crate::daemons::Client;
use crate::dccd::{DccServer, SERVER_ID};
use crate::load::{Front, Outcome, Sent};
use crate::tmp::TempDir;
use crate::Skip;
use std::path::PathBuf;
use std::time::Duration;

/// dccd, dccm and dccifd; all stopped and their files removed when
/// dropped (fields drop in order: the clients, the server, the directory).
pub struct Scene {
    /// dccm.
    pub dccm: Client,
    /// dccifd.
    pub dccifd: Client,
    /// dccd.
    pub dccd: DccServer,
    /// dccd's home (for a restart).
    pub dccd_home: PathBuf,
    /// Everything lives below this directory.
    pub dir: TempDir,
}

fn io(e: std::io::Error) -> Skip {
    Skip(format!("set-up failed: {e}"))
}

impl Scene {
    /// Start dccd, then dccm and dccifd with `extra` options each.
    pub fn start(tag: &str, dccm_extra: &[&str], dccifd_extra: &[&str]) -> Result<Scene, Skip> {
        let dir = TempDir::new(tag).map_err(io)?;
        let dccd_home = dir.subdir("dccd").map_err(io)?;
        let dccd = DccServer::start(&dccd_home)?;
        let m_home = dccd
            .client_home(&dir.path().join("dccm"), None)
            .map_err(io)?;
        let i_home = dccd
            .client_home(&dir.path().join("dccifd"), None)
            .map_err(io)?;
        let dccm = Client::dccm(&m_home, dccm_extra)?;
        let dccifd = Client::dccifd(&i_home, dccifd_extra)?;
        Ok(Scene {
            dccm,
            dccifd,
            dccd,
            dccd_home,
            dir,
        })
    }

    /// dccm's socket.
    pub fn dccm_sock(&self) -> PathBuf {
        self.dccm
            .sock
            .clone()
            .expect("dccm listens on a unix socket")
    }

    /// dccifd's socket.
    pub fn dccifd_sock(&self) -> PathBuf {
        self.dccifd
            .sock
            .clone()
            .expect("dccifd listens on a unix socket")
    }

    /// Kill dccd with SIGKILL, wait `down`, and start it again on the
    /// same port with the same home.
    pub fn kill9_and_restart(&mut self, down: Duration) -> Result<(), Skip> {
        let port = self.dccd.addr.port();
        self.dccd.kill9();
        std::thread::sleep(down);
        self.dccd = DccServer::start_at(&self.dccd_home, SERVER_ID, port)?;
        Ok(())
    }

    /// The daemons' output, for failure messages.
    pub fn logs(&self) -> String {
        format!("{}\n{}", self.dccm.log_text(), self.dccifd.log_text())
    }

    /// Fail when a daemon's output shows a panic (of any thread, also one
    /// that did not end the process).
    pub fn assert_no_panic(&self) {
        let logs = self.logs();
        assert!(!logs.contains("panicked"), "a daemon panicked\n{logs}");
    }
}

/// The messages whose answer carried counts (the server had counted them)
/// but whose Body checksum the server does not count now: a description
/// of each, and how many were asked about.
pub fn lost_reports(dccd: &DccServer, sent: &[Sent]) -> (Vec<String>, usize) {
    let mut lost = Vec::new();
    let mut asked = 0;
    for (i, s) in sent.iter().enumerate() {
        if !matches!(s.outcome, Outcome::Counted(_)) {
            continue;
        }
        let sum = match s.front {
            Front::Milter => body_sum_milter(&s.raw),
            Front::Ifd => body_sum_raw(&s.raw),
        };
        let Some(sum) = sum else {
            lost.push(format!("message {i} has no Body checksum"));
            continue;
        };
        asked += 1;
        let seq = u32::try_from(i).unwrap_or(u32::MAX);
        match body_count(dccd.addr, sum, seq, Duration::from_secs(5)) {
            Some(n) if n >= 1 => {}
            Some(n) => lost.push(format!("{:?} message {i}: Body count {n}", s.front)),
            None => lost.push(format!("{:?} message {i}: dccd did not answer", s.front)),
        }
    }
    (lost, asked)
}
