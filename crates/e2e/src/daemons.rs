//! Our mail-facing daemons: dccm (the milter) and dccifd (the program
//! interface), each in the foreground (`-b`) with a client home prepared by
//! [`crate::dccd::DccServer::client_home`] and its socket in that home.

use crate::proc::{self, Daemon};
use crate::{bins, Skip};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A running dccm or dccifd; stopped when dropped.
#[derive(Debug)]
pub struct Client {
    daemon: Daemon,
    /// Its unix socket (dccm's milter socket, dccifd's request socket), or
    /// None when it listens on TCP.
    pub sock: Option<PathBuf>,
}

fn io(e: std::io::Error) -> Skip {
    Skip(format!("set-up failed: {e}"))
}

impl Client {
    /// Start `dccm -b -h <home> -R <home>/run -p unix:<home>/dccm.sock`
    /// with `extra` options. The socket is made writable for Postfix's
    /// smtpd (user `postfix`).
    pub fn dccm(home: &Path, extra: &[&str]) -> Result<Client, Skip> {
        Client::dccm_env(home, extra, &[])
    }

    /// [`Client::dccm`] with environment variables.
    pub fn dccm_env(home: &Path, extra: &[&str], env: &[(String, String)]) -> Result<Client, Skip> {
        let exe = bins::binary("dccm")?;
        let sock = home.join("dccm.sock");
        let run = home.join("run");
        std::fs::create_dir_all(&run).map_err(io)?;
        let mut cmd = Command::new(exe);
        cmd.arg("-b")
            .arg("-h")
            .arg(home)
            .arg("-R")
            .arg(&run)
            .arg("-p")
            .arg(format!("unix:{}", sock.display()))
            .args(extra)
            .envs(env.iter().map(|(k, v)| (k, v)));
        let daemon = Daemon::spawn("dccm", cmd, &home.join("dccm.out")).map_err(io)?;
        let c = Client {
            daemon,
            sock: Some(sock),
        };
        c.wait_socket()
    }

    /// Start `dccifd -b -h <home> -R <home>/run -p <home>/dccifd.sock`
    /// with `extra` options.
    pub fn dccifd(home: &Path, extra: &[&str]) -> Result<Client, Skip> {
        let sock = home.join("dccifd.sock");
        Self::dccifd_at(home, &sock.display().to_string(), extra).and_then(Client::wait_socket)
    }

    /// Start dccifd with `-p <listen>` and `extra` options and return at
    /// once (for TCP listeners and proxy mode, where the caller knows what
    /// to wait for).
    pub fn dccifd_at(home: &Path, listen: &str, extra: &[&str]) -> Result<Client, Skip> {
        let exe = bins::binary("dccifd")?;
        let run = home.join("run");
        std::fs::create_dir_all(&run).map_err(io)?;
        let mut cmd = Command::new(exe);
        cmd.arg("-b")
            .arg("-h")
            .arg(home)
            .arg("-R")
            .arg(&run)
            .args(["-p", listen])
            .args(extra);
        let daemon = Daemon::spawn("dccifd", cmd, &home.join("dccifd.out")).map_err(io)?;
        let sock = listen.starts_with('/').then(|| PathBuf::from(listen));
        Ok(Client { daemon, sock })
    }

    /// Wait (at most 15 s) until the socket accepts connections, then open
    /// it to every user (smtpd runs as `postfix`).
    fn wait_socket(mut self) -> Result<Client, Skip> {
        let Some(sock) = self.sock.clone() else {
            return Ok(self);
        };
        let mut exited = None;
        let up = proc::wait_until(Duration::from_secs(15), || {
            exited = self.daemon.exited();
            exited.is_some() || UnixStream::connect(&sock).is_ok()
        });
        if let Some(status) = exited {
            panic!(
                "daemon exited ({status}) at start\n{}",
                self.daemon.log_text()
            );
        }
        assert!(
            up,
            "no socket {}\n{}",
            sock.display(),
            self.daemon.log_text()
        );
        let mode = std::fs::metadata(&sock).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o002 == 0 {
            eprintln!(
                "note: {} was created with mode {mode:o}; opened to mode 666 for smtpd",
                sock.display()
            );
        }
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).map_err(io)?;
        Ok(self)
    }

    /// The exit status if the daemon has already exited (e.g. refused its
    /// options).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.daemon.exited()
    }

    /// Its process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.daemon.pid()
    }

    /// What the daemon printed (for failure messages).
    pub fn log_text(&self) -> String {
        self.daemon.log_text()
    }

    /// Stop the daemon now.
    pub fn stop(&mut self) {
        self.daemon.stop();
    }
}
