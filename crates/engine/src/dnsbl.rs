//! DNS white- and blacklists (`-B`) in the per-message decision, shared by
//! dccproc, dccm and dccifd (docs/dnsbl.md): the targets of a message, the
//! resolver the programs share, and what the checks' outcome does to the
//! decision (spam, whitelisted, the log file's lines).
//!
//! - dccproc ([`Mode::Direct`]): every group counts, no whiteclnt option is
//!   needed (and `option DNSBLx-off` is ignored, as recorded).
//! - dccm and dccifd ([`Mode::Daemon`]): only the groups a whiteclnt file
//!   turns on (`option DNSBL-on`, `DNSBLx-on`, per recipient) count; the
//!   others' hits are only logged (`DNSBL-->spam(off)`).

use std::net::{IpAddr, SocketAddr};

use crate::ask::Decision;
use crate::state::{ST_CLNT_ISSPAM, ST_LOGIT, ST_WLIST_NOTSPAM};
pub use tally_dnsbl::option::GROUPS;
pub use tally_dnsbl::plan::MAX_URLS;
pub use tally_dnsbl::reply::Template;
pub use tally_dnsbl::resolve::{Resolver, SetupError};
pub use tally_dnsbl::{Client, Mode, OptionError, Outcome, Parser, Settings, Targets};

/// Test-only: name servers (`ip:port`, separated by commas) the DNS list
/// checks use instead of those of resolv.conf. The tests set it to reach
/// their loopback DNS server; it is not meant for production.
pub const SERVERS_ENV: &str = "TALLY_DNSBL_SERVERS";

/// Groups whose results count for a message.
pub type On = [bool; GROUPS];

/// The `-B` settings of a program and the errors of its arguments (each
/// printed by the program, which carries on).
pub fn parse(args: &[String]) -> (Settings, Vec<OptionError>) {
    Parser::parse_all(args.iter().map(String::as_str))
}

/// The resolver of a program: at most `max` questions at once
/// (`set:max_helpers`, else the program's own bound); the name servers of
/// resolv.conf, or those of [`SERVERS_ENV`].
pub fn resolver(settings: &Settings, max: usize) -> Result<Resolver, SetupError> {
    let max = helpers(settings, max).clamp(1, 1024);
    match std::env::var(SERVERS_ENV) {
        Ok(v) if !v.trim().is_empty() => {
            let servers = v
                .split(',')
                .map(|s| s.trim().parse::<SocketAddr>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| SetupError(format!("{SERVERS_ENV}=\"{v}\": {e}")))?;
            Ok(Resolver::with_servers(&servers, max))
        }
        _ => Resolver::system(max),
    }
}

/// `set:max_helpers`, else the program's own bound `max`.
fn helpers(settings: &Settings, max: usize) -> usize {
    settings.max_helpers.map_or(max, |m| m as usize)
}

/// What a program needs for the checks of its messages: the settings, the
/// resolver its messages share, and the default rejection text.
pub struct Checker {
    pub settings: Settings,
    pub resolver: Resolver,
    /// The first `-r` text (dccm, dccifd), the default of lists without
    /// `set:rej-msg`.
    pub first_r: Option<Template>,
    /// Questions asked at once for one message.
    pub parallel: usize,
    /// The runtime of [`Checker::check_blocking`], made at its first use.
    runtime: std::sync::OnceLock<Option<tokio::runtime::Runtime>>,
}

impl Checker {
    /// A checker for these settings (`None` when no list is declared);
    /// `max` bounds the questions of the whole program (the `-j` figure,
    /// unless `set:max_helpers`).
    pub fn new(
        settings: Settings,
        first_r: Option<&str>,
        max: usize,
    ) -> Result<Option<Checker>, SetupError> {
        if !settings.enabled() {
            return Ok(None);
        }
        let resolver = resolver(&settings, max)?;
        let parallel = helpers(&settings, max).clamp(1, 16);
        Ok(Some(Checker {
            first_r: first_r.map(Template::parse_reject),
            settings,
            resolver,
            parallel,
            runtime: std::sync::OnceLock::new(),
        }))
    }

    /// The checks of a message for a thread outside any tokio runtime
    /// (dccifd's request threads, dccproc): on a runtime the checker keeps
    /// for all its messages, so that the resolver's connections live on.
    /// Nothing is found if no runtime can be made.
    pub fn check_blocking(&self, mode: Mode, targets: Targets, parallel: usize) -> Outcome {
        let rt = self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("dnsbl")
                .enable_all()
                .build()
                .ok()
        });
        match rt {
            Some(rt) => rt.block_on(self.resolver.check(&self.settings, mode, targets, parallel)),
            None => Outcome::default(),
        }
    }

    /// The SMTP rejection of a message by the outcome of its checks (see
    /// [`rejection`]).
    pub fn rejection(
        &self,
        outcome: &Outcome,
        on: On,
        id: &str,
        cip: &str,
    ) -> Option<(String, String, String)> {
        rejection(&self.settings, outcome, on, self.first_r.as_ref(), id, cip)
    }
}

impl Drop for Checker {
    fn drop(&mut self) {
        // a runtime may not be dropped the ordinary way within another
        if let Some(Some(rt)) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The targets of a message: the SMTP client (`name` as the MTA gave it;
/// dccm and dccifd use `[address]` when there is none), the envelope
/// sender's domain and the body's URL hosts.
pub fn targets(
    mode: Mode,
    ip: Option<IpAddr>,
    name: Option<&str>,
    mail_host: Option<&str>,
    urls: Vec<String>,
) -> Targets {
    let client = ip.map(|ip| {
        let name = match mode {
            Mode::Direct => None,
            Mode::Daemon => Some(client_name(ip, name)),
        };
        Client { ip, name }
    });
    let mail_host = mail_host
        .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|h| !h.is_empty());
    Targets {
        client,
        mail_host,
        urls,
    }
}

/// The client's name for the checks: its reverse DNS name, or `[address]`.
fn client_name(ip: IpAddr, name: Option<&str>) -> String {
    match name.map(str::trim) {
        Some(n) if !n.is_empty() && !n.starts_with('[') && n != "(null name)" => n.to_string(),
        _ => format!("[{ip}]"),
    }
}

/// The groups that count in dccproc: all of them.
pub const ALL_ON: On = [true; GROUPS];

impl Decision {
    /// Apply the outcome of the DNS list checks (after the whiteclnt
    /// verdict, before the DCC server): a blacklist hit of a group that
    /// counts makes the message spam, a whitelist hit whitelists it; any
    /// blacklist hit or timeout keeps the log file; the decision line gets
    /// the DNSBL parts.
    pub fn apply_dnsbl(&mut self, outcome: &Outcome, on: On) {
        self.dnsbl = outcome.decision(on);
        if outcome.deciding(on).is_some() {
            self.st |= ST_CLNT_ISSPAM | ST_LOGIT;
        } else if (0..GROUPS).any(|g| on[g] && outcome.white(g)) {
            self.st |= ST_WLIST_NOTSPAM;
        }
        if !self.dnsbl.is_empty() {
            self.st |= ST_LOGIT;
        }
    }
}

/// The SMTP rejection of a message a list's hit rejects: (`rcode`,
/// `xcode`, text), from the list's `set:rej-msg`, else `first_r` (the
/// program's first `-r` text, [`Template::parse_reject`]), else the
/// default `5.7.1 550 mail %ID from %CIP rejected by DCC`.
pub fn rejection(
    settings: &Settings,
    outcome: &Outcome,
    on: On,
    first_r: Option<&Template>,
    id: &str,
    cip: &str,
) -> Option<(String, String, String)> {
    let (_, hit) = outcome.deciding(on)?;
    let default;
    let t = match first_r {
        Some(t) => t,
        None => {
            default = Template::parse_reject(DEFAULT_REJECT);
            &default
        }
    };
    let line = outcome.rejection(settings, hit, t, id, cip);
    let mut it = line.splitn(3, ' ');
    let rcode = it.next().unwrap_or("550").to_string();
    let xcode = it.next().unwrap_or("5.7.1").to_string();
    let text = it.next().unwrap_or("").to_string();
    Some((rcode, xcode, text))
}

/// The default rejection text of DNS blacklist hits.
pub const DEFAULT_REJECT: &str = "5.7.1 550 mail %ID from %CIP rejected by DCC";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names() {
        let ip: IpAddr = "192.0.2.66".parse().unwrap();
        let t = targets(Mode::Daemon, Some(ip), Some("[192.0.2.66]"), None, vec![]);
        assert_eq!(t.client.unwrap().name.as_deref(), Some("[192.0.2.66]"));
        let t = targets(Mode::Daemon, Some(ip), Some("client.example"), None, vec![]);
        assert_eq!(t.client.unwrap().name.as_deref(), Some("client.example"));
        let t = targets(
            Mode::Direct,
            Some(ip),
            Some("x"),
            Some("Spam.Example."),
            vec![],
        );
        assert_eq!(t.client.unwrap().name, None);
        assert_eq!(t.mail_host.as_deref(), Some("spam.example"));
        let t = targets(Mode::Daemon, None, None, Some(""), vec![]);
        assert!(t.client.is_none() && t.mail_host.is_none());
    }

    #[test]
    fn no_hit_changes_nothing() {
        let mut d = Decision::new(false);
        d.apply_dnsbl(&Outcome::default(), ALL_ON);
        assert_eq!(d, Decision::new(false));
        assert!(rejection(
            &Settings::default(),
            &Outcome::default(),
            ALL_ON,
            None,
            "i",
            "c"
        )
        .is_none());
    }
}
