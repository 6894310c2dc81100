//! DNS list checks (`-B`) of a request's message: the client (its
//! address, or that of the first Received header for `0.0.0.0`), the
//! sender's domain and the body's URL hosts, checked once the message is
//! read, on the request's thread (at most `msg-secs`).

use crate::config::Config;
use crate::proto::Head;
use crate::white::{rcpt_setup, Lists};
use tally_ck::message::Checksums;
use tally_engine::dnsbl::{self, Mode, On, Outcome};

/// The outcome of the checks, when `-B` declared lists.
pub fn check(cfg: &Config, head: &Head, sums: &Checksums) -> Option<Outcome> {
    let c = cfg.dnsbl.as_ref()?;
    let mail_host = sums.mail_host.clone().or_else(|| {
        head.sender
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
    });
    // the client of the checksums: without a client (0.0.0.0) or behind
    // a listed `mx` or `mxdcc` client, that of a Received header
    let (ip, name) = match sums.client_ip {
        Some(ip) => (Some(ip), sums.client_name.as_deref()),
        None => (head.client_ip, head.client_name.as_deref()),
    };
    let t = dnsbl::targets(
        Mode::Daemon,
        ip,
        name,
        mail_host.as_deref(),
        sums.url_hosts.clone(),
    );
    Some(c.check_blocking(Mode::Daemon, t, c.parallel))
}

/// The groups whose hits count: those the recipients' whiteclnt files
/// (main and per-user) turn on, or the main file's without recipients.
pub fn groups_on(cfg: &Config, lists: &Lists, head: &Head) -> On {
    let (setup, _) = rcpt_setup(cfg, lists.global.as_deref(), head.client_ip);
    let global = lists.global.as_deref();
    if head.rcpts.is_empty() {
        return setup.filters(global, None).dnsbl;
    }
    let mut on = [false; dnsbl::GROUPS];
    for i in 0..head.rcpts.len() {
        let user = lists.users.get(i).and_then(|u| u.as_deref());
        let f = setup.filters(global, user).dnsbl;
        for (o, f) in on.iter_mut().zip(f) {
            *o |= f;
        }
    }
    on
}
