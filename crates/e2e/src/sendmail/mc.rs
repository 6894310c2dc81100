//! The `.mc` file of the throw-away sendmail instance, turned into
//! `sendmail.cf` with m4 and the unpacked `sendmail-cf` macros.
//!
//! The instance resolves nothing through DNS (its service switch and hosts
//! file are private files that name only `localhost`), listens on one port
//! of 127.0.0.1, relays every message to `[127.0.0.1]` on the port of the
//! test's SMTP sink, and hands every SMTP session to dccm through
//! `INPUT_MAIL_FILTER` with the macro lists dccm(8) asks for: the same
//! lines as the original's `FEATURE(dcc)`, written out.

use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The host name the instance calls itself.
pub const HOSTNAME: &str = "mta.lab.test";

/// What goes into one instance's `.mc` file.
#[derive(Debug, Clone)]
pub struct Mc {
    /// The instance's directory: `etc/`, `queue/` and the pid file are
    /// below it.
    pub base: PathBuf,
    /// The SMTP port sendmail listens on (127.0.0.1 only).
    pub port: u16,
    /// The port of the SMTP sink that gets every relayed message.
    pub relay_port: u16,
    /// The milter equate `S=`, e.g. `unix:/dir/dccm.sock`.
    pub milter: String,
    /// Extra rule sets (`Local_check_mail`, `Local_check_rcpt`, ...),
    /// placed after `LOCAL_RULESETS`; lines with tabs between LHS and RHS.
    pub rules: String,
}

impl Mc {
    /// The private configuration directory.
    pub fn etc(&self) -> PathBuf {
        self.base.join("etc")
    }

    /// The queue directory (mode 0700).
    pub fn queue(&self) -> PathBuf {
        self.base.join("queue")
    }

    /// The daemon's pid file.
    pub fn pid_file(&self) -> PathBuf {
        self.base.join("sendmail.pid")
    }
}

/// The lines dccm needs besides the milter itself: the `dcc_*` macros
/// added to sendmail's default lists, as `FEATURE(dcc)` does. These lines
/// are the ones docs/sendmail.md recommends.
pub const MACRO_LINES: &str = "\
define(`confMILTER_MACROS_ENVFROM', confMILTER_MACROS_ENVFROM`, {dcc_mail_host}')dnl
define(`confMILTER_MACROS_ENVRCPT', confMILTER_MACROS_ENVRCPT`, {dcc_isspam}, {dcc_notspam}, {dcc_userdir}')dnl
define(`confMILTER_MACROS_EOM', confMILTER_MACROS_EOM`, {dcc_isspam}, {dcc_notspam}')dnl
";

/// The `.mc` text.
pub fn render(mc: &Mc) -> String {
    let etc = mc.etc();
    let etc = etc.display();
    let mut s = String::new();
    s.push_str("divert(-1)\n# throw-away test instance\ndivert(0)dnl\n");
    s.push_str("OSTYPE(`linux')dnl\n");
    // no name service: private files, a fixed name, no interface probing
    let _ = writeln!(s, "define(`confDOMAIN_NAME', `{HOSTNAME}')dnl");
    s.push_str("define(`confDONT_PROBE_INTERFACES', `True')dnl\n");
    let _ = writeln!(
        s,
        "define(`confSERVICE_SWITCH_FILE', `{etc}/service.switch')dnl"
    );
    let _ = writeln!(s, "define(`confHOSTS_FILE', `{etc}/hosts')dnl");
    let _ = writeln!(s, "define(`ALIAS_FILE', `{etc}/aliases')dnl");
    let _ = writeln!(s, "define(`HELP_FILE', `{etc}/helpfile')dnl");
    let _ = writeln!(s, "define(`STATUS_FILE', `{etc}/statistics')dnl");
    let _ = writeln!(s, "define(`QUEUE_DIR', `{}')dnl", mc.queue().display());
    let _ = writeln!(
        s,
        "define(`confPID_FILE', `{}')dnl",
        mc.pid_file().display()
    );
    // the temporary directory lies below the sticky, world-writable /tmp
    s.push_str("define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')dnl\n");
    s.push_str("define(`confTO_IDENT', `0s')dnl\n");
    s.push_str("define(`confDELIVERY_MODE', `background')dnl\n");
    // a busy build machine must not make sendmail queue or refuse mail
    s.push_str("define(`confQUEUE_LA', `1000')dnl\n");
    s.push_str("define(`confREFUSE_LA', `1000')dnl\n");
    s.push_str("define(`confDELAY_LA', `0')dnl\n");
    s.push_str("define(`confMIN_FREE_BLOCKS', `0')dnl\n");
    // everything goes to the sink
    s.push_str("define(`SMART_HOST', `[127.0.0.1]')dnl\n");
    let _ = writeln!(
        s,
        "define(`RELAY_MAILER_ARGS', `TCP $h {}')dnl",
        mc.relay_port
    );
    let _ = writeln!(
        s,
        "define(`ESMTP_MAILER_ARGS', `TCP $h {}')dnl",
        mc.relay_port
    );
    s.push_str("FEATURE(`nocanonify')dnl\n");
    s.push_str("FEATURE(`promiscuous_relay')dnl\n");
    s.push_str("FEATURE(`accept_unresolvable_domains')dnl\n");
    s.push_str("FEATURE(`accept_unqualified_senders')dnl\n");
    s.push_str("FEATURE(`no_default_msa')dnl\n");
    // the `macro` map for rule sets that set the dcc_* macros
    s.push_str("define(`_NEED_MACRO_MAP_', `1')dnl\n");
    let _ = writeln!(
        s,
        "DAEMON_OPTIONS(`Port={}, Addr=127.0.0.1, Name=MTA')dnl",
        mc.port
    );
    let _ = writeln!(
        s,
        "INPUT_MAIL_FILTER(`dcc', `S={}, F=T, T=C:30s;S:30s;R:30s;E:1m')dnl",
        mc.milter
    );
    s.push_str(MACRO_LINES);
    s.push_str("MAILER(`smtp')dnl\n");
    if !mc.rules.is_empty() {
        s.push_str("LOCAL_RULESETS\n");
        // quoted so that m4 leaves the rules alone
        s.push('`');
        s.push_str(mc.rules.trim_end_matches('\n'));
        s.push_str("\n'\n");
    }
    s
}

/// The private files the configuration names: (file name in `etc/`,
/// text).
pub fn support_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("service.switch", "hosts files\naliases files\n"),
        ("hosts", "127.0.0.1\tlocalhost\n"),
        ("aliases", ""),
        ("helpfile", ""),
        ("statistics", ""),
    ]
}

/// The m4 command line's arguments: the `cf` directory of the unpacked
/// `sendmail-cf` and the `.mc` file.
pub fn m4_args(cf_dir: &Path, mc_file: &Path) -> Vec<String> {
    let dir = format!("{}/", cf_dir.display().to_string().trim_end_matches('/'));
    vec![
        format!("-D_CF_DIR_={dir}"),
        format!("{dir}m4/cf.m4"),
        mc_file.display().to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mc(rules: &str) -> Mc {
        Mc {
            base: PathBuf::from("/x/y"),
            port: 2525,
            relay_port: 2526,
            milter: "unix:/x/h/dccm.sock".into(),
            rules: rules.into(),
        }
    }

    #[test]
    fn milter_listener_and_relay_are_in_the_mc() {
        let t = render(&mc(""));
        assert!(t.contains("DAEMON_OPTIONS(`Port=2525, Addr=127.0.0.1, Name=MTA')"));
        assert!(t.contains("INPUT_MAIL_FILTER(`dcc', `S=unix:/x/h/dccm.sock, F=T,"));
        assert!(t.contains("`TCP $h 2526'"));
        assert!(t.contains("{dcc_isspam}, {dcc_notspam}, {dcc_userdir}"));
        assert!(t.contains("`/x/y/etc/service.switch'"));
        assert!(!t.contains("LOCAL_RULESETS"));
    }

    #[test]
    fn rules_are_quoted_after_local_rulesets() {
        let t = render(&mc("SLocal_check_rcpt\nR$*\t$: $1\n"));
        assert!(t.ends_with("LOCAL_RULESETS\n`SLocal_check_rcpt\nR$*\t$: $1\n'\n"));
    }

    #[test]
    fn m4_gets_the_cf_directory_with_a_slash() {
        let a = m4_args(Path::new("/c/cf"), Path::new("/i/s.mc"));
        assert_eq!(a, ["-D_CF_DIR_=/c/cf/", "/c/cf/m4/cf.m4", "/i/s.mc"]);
    }
}
