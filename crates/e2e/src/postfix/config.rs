//! The text of the throw-away instance's configuration files.

use super::{DOMAINS, USERS};
use std::fmt::Write;
use std::path::Path;

/// What a test wants from its Postfix instance.
#[derive(Debug, Clone)]
pub struct Config {
    /// `smtpd_milters` value, e.g. `unix:/path/dccm.sock` (None: no milter).
    pub milter: Option<String>,
    /// `milter_default_action` (accept, tempfail, reject).
    pub default_action: String,
    /// `milter_macro_defaults`, e.g. `{dcc_userdir}=virtual/bob` .
    pub macro_defaults: String,
    /// `milter_connect_timeout`, `milter_command_timeout`,
    /// `milter_content_timeout` in seconds.
    pub timeouts: (u32, u32, u32),
    /// Before-queue content filter (`smtpd_proxy_filter`) on loopback and
    /// the loopback port of the smtpd that takes the filtered mail back.
    pub proxy_filter: Option<(String, u16)>,
    /// A sending instance: it delivers nothing itself but relays every
    /// message by SMTP to 127.0.0.1 at this port, retrying deferred mail
    /// within a few seconds (as a real sender does, only faster).
    pub relay_to: Option<u16>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            milter: None,
            default_action: "accept".into(),
            macro_defaults: String::new(),
            timeouts: (10, 30, 60),
            proxy_filter: None,
            relay_to: None,
        }
    }
}

/// Render (file name, text) of main.cf, master.cf and the mailbox map for an
/// instance in `base` whose smtpd listens on 127.0.0.1:`port`; Maildirs are
/// written as uid/gid `vid`.
pub fn render(cfg: &Config, base: &Path, port: u16, vid: (u32, u32)) -> Vec<(String, String)> {
    let b = base.display();
    let (t_conn, t_cmd, t_cont) = cfg.timeouts;
    let milter = cfg.milter.clone().unwrap_or_default();
    let domains = DOMAINS.join(" ");
    let main = format!(
        "# throw-away test instance\n\
compatibility_level = 3.6\n\
config_directory = {b}/etc\n\
queue_directory = {b}/spool\n\
data_directory = {b}/data\n\
mail_owner = postfix\n\
setgid_group = postdrop\n\
maillog_file = {b}/maillog\n\
maillog_file_prefixes = {b}\n\
syslog_name = tally-e2e\n\
myhostname = mx.lab.test\n\
mydomain = lab.test\n\
myorigin = $mydomain\n\
inet_interfaces = loopback-only\n\
inet_protocols = ipv4\n\
mynetworks = 127.0.0.0/8\n\
biff = no\n\
append_dot_mydomain = no\n\
smtpd_banner = $myhostname ESMTP\n\
smtp_dns_support_level = disabled\n\
smtpd_authorized_xclient_hosts = 127.0.0.0/8\n\
smtpd_delay_open_until_valid_rcpt = no\n\
smtpd_peername_lookup = no\n\
relay_domains =\n\
smtpd_relay_restrictions = reject_unauth_destination\n\
mydestination =\n\
alias_maps =\n\
alias_database =\n\
virtual_alias_maps =\n\
virtual_mailbox_domains = {domains}\n\
virtual_mailbox_base = {b}/mail\n\
virtual_mailbox_maps = texthash:{b}/etc/vmailbox\n\
virtual_uid_maps = static:{}\n\
virtual_gid_maps = static:{}\n\
virtual_minimum_uid = 1\n\
recipient_delimiter = +\n\
default_transport = smtp\n\
relay_transport = relay\n\
delay_warning_time = 0h\n\
maximal_queue_lifetime = 1h\n\
bounce_queue_lifetime = 1h\n\
smtpd_milters = {milter}\n\
non_smtpd_milters =\n\
milter_default_action = {}\n\
milter_protocol = 6\n\
milter_connect_timeout = {t_conn}s\n\
milter_command_timeout = {t_cmd}s\n\
milter_content_timeout = {t_cont}s\n\
milter_macro_daemon_name = $myhostname\n\
milter_connect_macros = j {{daemon_name}} v _ {{client_addr}} {{client_name}} {{client_ptr}}\n\
milter_helo_macros = {{client_addr}} {{client_name}}\n\
milter_mail_macros = i {{auth_authen}} {{mail_addr}} {{mail_host}} {{mail_mailer}}\n\
milter_rcpt_macros = i {{rcpt_addr}} {{rcpt_host}} {{rcpt_mailer}} {{dcc_userdir}}\n\
milter_data_macros = i\n\
milter_end_of_header_macros = i\n\
milter_end_of_data_macros = i {{dcc_isspam}} {{dcc_notspam}}\n\
milter_macro_defaults = {}\n",
        vid.0, vid.1, cfg.default_action, cfg.macro_defaults
    );
    let mut front = String::new();
    let mut reinject = String::new();
    if let Some((filter, back)) = &cfg.proxy_filter {
        front =
            format!("\n  -o smtpd_proxy_filter={filter}\n  -o smtpd_proxy_options=speed_adjust");
        // (no string continuation escapes here: they would eat the
        // indentation that marks the option lines)
        let opts = [
            "syslog_name=tally-e2e/reinject",
            "smtpd_milters=",
            "smtpd_authorized_xforward_hosts=127.0.0.0/8",
            "smtpd_client_restrictions=",
            "smtpd_helo_restrictions=",
            "smtpd_sender_restrictions=",
            "smtpd_recipient_restrictions=",
            "smtpd_relay_restrictions=reject_unauth_destination",
            "receive_override_options=no_unknown_recipient_checks",
        ];
        reinject = format!("127.0.0.1:{back} inet n - n - - smtpd\n");
        for o in opts {
            let _ = writeln!(reinject, "  -o {o}");
        }
    }
    let master = format!(
        "# throw-away test instance: no chroot, nothing can leave this host\n\
127.0.0.1:{port} inet n - n - - smtpd{front}\n\
{reinject}\
pickup    unix  n - n 60   1 pickup\n\
cleanup   unix  n - n -    0 cleanup\n\
qmgr      unix  n - n 300  1 qmgr\n\
rewrite   unix  - - n -    - trivial-rewrite\n\
bounce    unix  - - n -    0 bounce\n\
defer     unix  - - n -    0 bounce\n\
trace     unix  - - n -    0 bounce\n\
verify    unix  - - n -    1 verify\n\
flush     unix  n - n 1000? 0 flush\n\
proxymap  unix  - - n -    - proxymap\n\
proxywrite unix - - n -    1 proxymap\n\
showq     unix  n - n -    - showq\n\
error     unix  - - n -    - error\n\
retry     unix  - - n -    - error\n\
discard   unix  - - n -    - discard\n\
virtual   unix  - n n -    - virtual\n\
smtp      unix  - - n -    - discard\n\
relay     unix  - - n -    - discard\n\
lmtp      unix  - - n -    - discard\n\
local     unix  - - n -    - discard\n\
anvil     unix  - - n -    1 anvil\n\
scache    unix  - - n -    1 scache\n\
postlog   unix-dgram n - n - 1 postlogd\n"
    );
    let (main, master) = match cfg.relay_to {
        Some(p) => relaying(&main, &master, p),
        None => (main, master),
    };
    let mut vmailbox = String::from("# every test user in every test domain\n");
    for d in DOMAINS {
        for u in USERS {
            let _ = writeln!(vmailbox, "{u}@{d}\t{d}/{u}/");
        }
    }
    vec![
        ("main.cf".into(), main),
        ("master.cf".into(), master),
        ("vmailbox".into(), vmailbox),
    ]
}

/// Turn the receiving instance's files into those of a sender that relays
/// everything to 127.0.0.1:`port` with the real smtp(8) client and retries
/// deferred mail after one or two seconds.
fn relaying(main: &str, master: &str, port: u16) -> (String, String) {
    let mut m: String = main
        .lines()
        .filter(|l| {
            ![
                "myhostname ",
                "syslog_name ",
                "virtual_mailbox_domains ",
                "relay_domains ",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let domains = DOMAINS.join(" ");
    let _ = write!(
        m,
        "myhostname = relay.lab.test\n\
syslog_name = tally-e2e-relay\n\
virtual_mailbox_domains =\n\
relay_domains = {domains}\n\
relayhost = [127.0.0.1]:{port}\n\
smtp_helo_name = relay.lab.test\n\
queue_run_delay = 1s\n\
minimal_backoff_time = 1s\n\
maximal_backoff_time = 2s\n"
    );
    let ms = master
        .lines()
        .map(|l| {
            if l.starts_with("smtp ") || l.starts_with("relay ") {
                let name = l.split_whitespace().next().unwrap_or("smtp");
                format!("{name:<9} unix  - - n -    - smtp\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    (m, ms)
}
