//! The system log, where the DCC clients send their complaints as well as
//! to stderr. Messages go to the local syslog socket as datagrams; when
//! there is none they are dropped, as the C library does.

use crate::civil::{gmtime, MONTHS};
use std::os::unix::net::UnixDatagram;
use std::time::{SystemTime, UNIX_EPOCH};

/// `LOG_MAIL | LOG_ERR`, the default priority of error messages.
pub const DEFAULT_ERROR: i32 = (2 << 3) | 3;
/// `LOG_MAIL | LOG_NOTICE`, the default priority of other messages.
pub const DEFAULT_INFO: i32 = (2 << 3) | 5;

/// Where and how to send system log messages.
#[derive(Debug, Clone)]
pub struct Syslog {
    ident: String,
    /// Priority of error messages.
    pub error_prio: i32,
    /// Priority of informational messages.
    pub info_prio: i32,
    /// `-L off`.
    pub off: bool,
}

impl Syslog {
    /// Messages tagged with the program name `ident`.
    pub fn new(ident: &str) -> Syslog {
        Syslog {
            ident: ident.to_string(),
            error_prio: DEFAULT_ERROR,
            info_prio: DEFAULT_INFO,
            off: false,
        }
    }

    /// Apply a `-L` setting.
    pub fn apply(&mut self, o: crate::logopt::LogOpt) {
        match o {
            crate::logopt::LogOpt::Off => self.off = true,
            crate::logopt::LogOpt::Info(p) => self.info_prio = p,
            crate::logopt::LogOpt::Error(p) => self.error_prio = p,
        }
    }

    /// The datagram for a message: `<PRI>Mmm dd hh:mm:ss ident[pid]: text`.
    pub fn format(&self, prio: i32, msg: &str, secs: i64) -> String {
        let t = gmtime(secs);
        let mon = MONTHS
            .get((t.mon as usize).saturating_sub(1))
            .copied()
            .unwrap_or("Jan");
        let text = msg.trim_end_matches('\n').replace('\n', " ");
        format!(
            "<{prio}>{mon} {:2} {:02}:{:02}:{:02} {}[{}]: {text}",
            t.mday,
            t.hour,
            t.min,
            t.sec,
            self.ident,
            std::process::id()
        )
    }

    fn send(&self, prio: i32, msg: &str) {
        if self.off {
            return;
        }
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let line = self.format(prio, msg, secs);
        if let Ok(s) = UnixDatagram::unbound() {
            let _ = s.send_to(line.as_bytes(), "/dev/log");
        }
    }

    /// Log an error message.
    pub fn error(&self, msg: &str) {
        self.send(self.error_prio, msg);
    }

    /// Log an informational message.
    pub fn info(&self, msg: &str) {
        self.send(self.info_prio, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagram() {
        let s = Syslog::new("dccproc");
        let d = s.format(DEFAULT_ERROR, "open(map): No such file or directory\n", 0);
        assert!(d.starts_with("<19>Jan  1 00:00:00 dccproc["), "{d}");
        assert!(
            d.ends_with("]: open(map): No such file or directory"),
            "{d}"
        );
    }
}
