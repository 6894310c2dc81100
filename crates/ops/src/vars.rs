//! The variables of the original's `dcc_conf` (version 4, DCC 2.3.167)
//! and of its older versions that the start scripts still read.

/// Every variable name a `dcc_conf` may set without a warning: those the
/// start programs and `cron-dccd` read, and those the original's file
/// sets for its own scripts (accepted and not used: `DCC_LIBEXEC`,
/// `DCC_LOGGER`, `Configure_*`, `DCC_CONF_VERSION`).
pub const KNOWN: &[&str] = &[
    "DCC_CONF_VERSION",
    "DCC_HOMEDIR",
    "DCC_LIBEXEC",
    "DCC_RUNDIR",
    "DCCUID",
    "DCCD_ENABLE",
    "SRVR_ID",
    "BRAND",
    "DCCD_ARGS",
    "GREY_CLIENT_ARGS",
    "GREY_ENABLE",
    "GREY_SRVR_ID",
    "GREY_DCCD_ARGS",
    "REP_ARGS",
    "DNSBL_ARGS",
    "DCCM_ENABLE",
    "DCCM_ARGS",
    "DCCM_LOGDIR",
    "DCCM_WHITECLNT",
    "DCCM_USERDIRS",
    "DCCM_LOG_AT",
    "DCCM_REJECT_AT",
    "DCCM_CKSUMS",
    "DCCM_XTRA_CKSUMS",
    "DCCIFD_ENABLE",
    "DCCIFD_ARGS",
    "DCCIFD_LOGDIR",
    "DCCIFD_WHITECLNT",
    "DCCIFD_USERDIRS",
    "DCCIFD_LOG_AT",
    "DCCIFD_REJECT_AT",
    "DCCIFD_CKSUMS",
    "DCCIFD_XTRA_CKSUMS",
    "DBCLEAN_LOGDAYS",
    "DBCLEAN_ARGS",
    "DCC_INFO_LOG_FACILITY",
    "DCC_ERROR_LOG_FACILITY",
    "DCC_LOG_ARGS",
    "DCC_LOGGER",
    // tally's own: the notification step of cron-dccd (docs/web.md)
    "WEBUSER_NOTIFY_URL",
    "WEBUSER_NOTIFY_MAILER",
    "Configure_DCC_LIBEXEC",
    "Configure_DCC_RUNDIR",
    "Configure_DCCUID",
    "Configure_DCC_LOGGER",
    // versions before 2
    "UID",
    "DCCM_RUNDIR",
];

/// Whether a `dcc_conf` may set `name` without a warning.
pub fn is_known(name: &str) -> bool {
    KNOWN.contains(&name)
}

/// The home directory the original is built with and ours defaults to.
pub const DEFAULT_HOME: &str = "/var/dcc";

/// The run directory of dccm and dccifd (sockets, pid files) by default.
pub const DEFAULT_RUNDIR: &str = "/var/run/dcc";

/// The server-ID the original's installation gives a local greylist
/// server when it writes it into `ids` with the comment
/// `# auto local greylist server-ID`.
pub const AUTO_GREY_ID: &str = "32702";
