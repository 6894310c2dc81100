//! The two command tables of `cdcc` and how a typed command is matched
//! against them.
//!
//! Local commands (`help`, `add`, `info`, `stats`, ...) come first; a
//! command that matches none of them is tried as one of the fixed
//! administrative operations (`stop`, `flood check`, `trace query on`,
//! ...), which take no arguments. Names are matched without regard to
//! case, runs of blanks count as one, and a unique prefix of a name is
//! enough (`inf` is `info`).

use tally_wire::admn::{Aop, FlodAop};

/// What a local command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Help,
    Exit,
    Grey,
    Homedir,
    Libexecdir,
    File,
    NewMap,
    Delete,
    Add,
    Load,
    Host,
    Port,
    Password,
    Id,
    Debug,
    Quiet,
    NoFail,
    ClockKludge,
    Ipv6,
    Src,
    Socks,
    Info,
    Rtt,
    Delck,
    Sleep,
    Clients,
    AnonDelay,
    FloodRewind,
    FfwdIn,
    FfwdOut,
    FloodStats,
    Stats,
    ClockCheck,
    TraceDefault,
}

/// Whether a command takes arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Args {
    /// Arguments may follow.
    Optional,
    /// Arguments are required.
    Required,
    /// No arguments.
    None,
}

/// One row of the local command table. A row without `cmd` is a synonym
/// of the nearest row above it that has one.
#[derive(Debug, Clone, Copy)]
pub struct CmdEntry {
    pub name: &'static str,
    pub cmd: Option<Cmd>,
    pub args: Args,
    /// 0 = anyone, 1 = anonymous is fine, 2 = a client-ID is needed,
    /// 3 = the server's own ID is needed.
    pub privileged: u8,
    /// The usage line shown by `help`.
    pub help: Option<&'static str>,
}

const fn e(
    name: &'static str,
    cmd: Option<Cmd>,
    args: Args,
    privileged: u8,
    help: Option<&'static str>,
) -> CmdEntry {
    CmdEntry {
        name,
        cmd,
        args,
        privileged,
        help,
    }
}

use Args::{None as NoArgs, Optional as Opt, Required as Req};

/// The local commands, in the order the original searches them.
pub const CMDS: &[CmdEntry] = &[
    e("help", Some(Cmd::Help), Opt, 0, Some("help [cmd]")),
    e("?", None, Opt, 0, None),
    e("exit", Some(Cmd::Exit), NoArgs, 0, Some("exit")),
    e("quit", None, NoArgs, 0, None),
    e("grey", Some(Cmd::Grey), Opt, 0, Some("grey [on|off]")),
    e(
        "homedir",
        Some(Cmd::Homedir),
        Opt,
        0,
        Some("homedir [path]"),
    ),
    e(
        "libexecdir",
        Some(Cmd::Libexecdir),
        NoArgs,
        0,
        Some("libexecdir"),
    ),
    e("file", Some(Cmd::File), Opt, 0, Some("file [mapfile]")),
    e("map", None, Opt, 0, None),
    e(
        "new map",
        Some(Cmd::NewMap),
        Opt,
        0,
        Some("new map [mapfile]"),
    ),
    e(
        "delete",
        Some(Cmd::Delete),
        Req,
        0,
        Some("delete host[,port]"),
    ),
    e(
        "add",
        Some(Cmd::Add),
        Req,
        0,
        Some("add host,[port|-] [RTT+/-#] [ID [passwd]]"),
    ),
    e(
        "load",
        Some(Cmd::Load),
        Req,
        0,
        Some("load {map.txtfile | -}"),
    ),
    e("host", Some(Cmd::Host), Opt, 0, Some("host [name]")),
    e("server", None, Opt, 0, None),
    e("port", Some(Cmd::Port), Opt, 0, Some("port #")),
    e(
        "password",
        Some(Cmd::Password),
        Opt,
        0,
        Some("password secret"),
    ),
    e("passwd", None, Opt, 0, None),
    e("id", Some(Cmd::Id), Opt, 0, Some("id [ID]")),
    e(
        "debug",
        Some(Cmd::Debug),
        Opt,
        0,
        Some("debug [on|off|TTL=x|#]"),
    ),
    e("quiet", Some(Cmd::Quiet), Opt, 0, Some("quiet [on|off]")),
    e("no fail", Some(Cmd::NoFail), NoArgs, 0, Some("no fail")),
    e(
        "clock kludge",
        Some(Cmd::ClockKludge),
        Opt,
        0,
        Some("clock kludge +/-secs"),
    ),
    e("IPv6", Some(Cmd::Ipv6), Opt, 0, Some("IPv6 [on|off|only]")),
    e(
        "src",
        Some(Cmd::Src),
        Opt,
        0,
        Some("src [-|IPaddress[,IPv6address]"),
    ),
    e("SOCKS", Some(Cmd::Socks), Opt, 0, Some("SOCKS [on|off]")),
    e("info", Some(Cmd::Info), Opt, 1, Some("info [-N]")),
    e("RTT", Some(Cmd::Rtt), Opt, 1, Some("RTT [-N]")),
    e(
        "delck",
        Some(Cmd::Delck),
        Req,
        3,
        Some("delck type hex1..4"),
    ),
    e("sleep", Some(Cmd::Sleep), Req, 0, Some("sleep sec.onds")),
    e(
        "clients",
        Some(Cmd::Clients),
        Opt,
        2,
        Some("clients [-nsiaVAK] [-I id] [max [thold [addr/prefix]]]"),
    ),
    e(
        "anon delay",
        Some(Cmd::AnonDelay),
        Opt,
        1,
        Some("\nanon delay [delay[,inflate]]"),
    ),
    e(
        "flood rewind",
        Some(Cmd::FloodRewind),
        Req,
        3,
        Some("flood rewind ID"),
    ),
    e("flod rewind", None, Req, 3, None),
    e(
        "flood FFWD in",
        Some(Cmd::FfwdIn),
        Req,
        3,
        Some("flood FFWD in ID"),
    ),
    e("flod FFWD in", None, Req, 3, None),
    e(
        "flood FFWD out",
        Some(Cmd::FfwdOut),
        Req,
        3,
        Some("flood FFWD out ID"),
    ),
    e("flod FFWD out", None, Req, 3, None),
    e(
        "flood stats",
        Some(Cmd::FloodStats),
        Opt,
        3,
        Some("flood stats [clear] {ID|all}"),
    ),
    e("flood status", None, Opt, 3, None),
    e("stats", Some(Cmd::Stats), Opt, 0, Some("stats [clear|all]")),
    e("status", None, Opt, 1, None),
    e(
        "clock check",
        Some(Cmd::ClockCheck),
        NoArgs,
        1,
        Some("clock check"),
    ),
    e(
        "trace default",
        Some(Cmd::TraceDefault),
        NoArgs,
        3,
        Some("trace default"),
    ),
];

/// Trace bits of the server (`dccd -T`).
pub mod trace {
    pub const ADMN: u32 = 0x0001;
    pub const ANON: u32 = 0x0002;
    pub const CLNT: u32 = 0x0004;
    pub const RLIM: u32 = 0x0008;
    pub const QUERY: u32 = 0x0010;
    pub const RIDC: u32 = 0x0020;
    pub const FLOOD1: u32 = 0x0040;
    pub const FLOOD2: u32 = 0x0080;
    pub const BL: u32 = 0x0200;
    pub const DB: u32 = 0x0400;
    pub const WLIST: u32 = 0x0800;
    /// All bits a server knows.
    pub const ALL: u32 =
        ADMN | ANON | CLNT | RLIM | QUERY | RIDC | FLOOD1 | FLOOD2 | BL | DB | WLIST;
    /// What `trace default` leaves on.
    pub const DEFAULT: u32 = ANON | CLNT | WLIST;
}

/// One fixed administrative operation.
#[derive(Debug, Clone)]
pub struct AopEntry {
    pub name: String,
    /// Usage shown by `help`; `Some("")` means the name itself.
    pub help: Option<String>,
    pub aop: Aop,
    /// As [`CmdEntry::privileged`].
    pub privileged: u8,
    pub val1: u32,
}

/// The fixed administrative operations, in search order.
pub fn aops() -> Vec<AopEntry> {
    let mut v = Vec::new();
    let traces: [(&str, u32, bool); 14] = [
        ("admn", trace::ADMN, true),
        ("anon", trace::ANON, true),
        ("clnt", trace::CLNT, true),
        ("rlim", trace::RLIM, true),
        ("query", trace::QUERY, true),
        ("ridc", trace::RIDC, true),
        ("flood1", trace::FLOOD1, true),
        ("flood", trace::FLOOD1, false),
        ("flod1", trace::FLOOD1, false),
        ("flood2", trace::FLOOD2, true),
        ("flod2", trace::FLOOD2, false),
        ("bl", trace::BL, true),
        ("db", trace::DB, true),
        ("wlist", trace::WLIST, true),
    ];
    for (s, bit, shown) in traces {
        for (on, aop) in [("on", Aop::TraceOn), ("off", Aop::TraceOff)] {
            v.push(AopEntry {
                name: format!("trace {s} {on}"),
                help: (shown && on == "on").then(|| format!("trace {s} {{on|off}}")),
                aop,
                privileged: 1,
                val1: bit,
            });
        }
    }
    let fixed: [(&str, bool, Aop, u8, u32); 15] = [
        ("stop", true, Aop::Stop, 3, 0),
        ("system stop", true, Aop::Stop, 3, 1),
        ("clean stop", true, Aop::Stop, 3, 2),
        ("flood check", true, Aop::Flod, 3, FlodAop::Check as u32),
        ("flod check", false, Aop::Flod, 3, FlodAop::Check as u32),
        (
            "flood shutdown",
            true,
            Aop::Flod,
            3,
            FlodAop::Shutdown as u32,
        ),
        (
            "flod shutdown",
            false,
            Aop::Flod,
            3,
            FlodAop::Shutdown as u32,
        ),
        ("flood halt", true, Aop::Flod, 3, FlodAop::Halt as u32),
        ("flod halt", false, Aop::Flod, 3, FlodAop::Halt as u32),
        ("flood resume", true, Aop::Flod, 3, FlodAop::Resume as u32),
        ("flod resume", false, Aop::Flod, 3, FlodAop::Resume as u32),
        ("flood list", true, Aop::Flod, 2, FlodAop::List as u32),
        ("flod list", false, Aop::Flod, 2, FlodAop::List as u32),
        ("DB clean", true, Aop::DbClean, 3, 0),
        ("DB new", true, Aop::DbNew, 3, 0),
    ];
    for (name, shown, aop, privileged, val1) in fixed {
        v.push(AopEntry {
            name: name.to_string(),
            help: shown.then(String::new),
            aop,
            privileged,
            val1,
        });
    }
    v
}

/// The result of comparing what the user typed with a command name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp<'a> {
    /// The whole name, nothing more.
    Exact,
    /// What was typed is a prefix of the name.
    Prefix,
    /// Differs after the first character: the typed text from the
    /// first difference on (after the whole name, or after a start of it:
    /// `in -N` is `info -N` when `in` names only `info` so far).
    Rest(&'a str),
    /// Differs at the first character.
    NoMatch,
}

/// Compare a typed command with a table name, ignoring case, taking tabs
/// as blanks and runs of blanks as one. A difference after the first
/// character followed by a blank or `=` in the typed text gives the
/// command with an argument, as in the original: `in -N` is `info -N`,
/// `i 32800` is `id 32800` (the first name in table order that starts
/// with the typed word).
pub fn cmd_cmp<'a>(user: &'a str, name: &str) -> Cmp<'a> {
    let u = user.as_bytes();
    let o = name.as_bytes();
    let (mut i, mut j) = (0usize, 0usize);
    loop {
        let oc = o.get(j).map_or(0, |c| c.to_ascii_lowercase());
        let uc = match u.get(i) {
            Some(b'\t') => b' ',
            Some(c) => c.to_ascii_lowercase(),
            None => 0,
        };
        if oc != uc {
            if uc == b' ' && j > 0 && o.get(j - 1) == Some(&b' ') {
                i += 1;
                continue;
            }
            if uc == 0 {
                return Cmp::Prefix;
            }
            if i == 0 {
                return Cmp::NoMatch;
            }
            // as the original, the text from the first difference on,
            // whether the whole name matched or only its start
            return Cmp::Rest(user.get(i..).unwrap_or(""));
        }
        if oc == 0 {
            return Cmp::Exact;
        }
        i += 1;
        j += 1;
    }
}

/// How a typed command resolved.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// A local command with its argument text.
    Local(usize, String),
    /// A fixed administrative operation (index into [`aops`]) and the
    /// usage text used in complaints.
    Aop(usize, String),
    /// Ambiguous or misused: show the usage.
    Usage,
    /// Nothing like it.
    Unknown,
}

/// Find what a typed command means.
pub fn resolve(op: &str, aops: &[AopEntry]) -> Resolved {
    let mut prefix: Option<usize> = None;
    let mut owner = 0usize;
    for (i, ent) in CMDS.iter().enumerate() {
        if ent.cmd.is_some() {
            owner = i;
        }
        match cmd_cmp(op, ent.name) {
            Cmp::NoMatch => continue,
            Cmp::Prefix => {
                if prefix.is_none() || prefix == Some(owner) {
                    prefix = Some(owner);
                    continue;
                }
                return Resolved::Usage;
            }
            Cmp::Exact => {
                if CMDS[owner].args != Args::Required {
                    return Resolved::Local(owner, String::new());
                }
                return Resolved::Usage;
            }
            Cmp::Rest(rest) => {
                let arg = rest.trim_start_matches([' ', '\t', '\r', '\n', '=']);
                if arg.len() == rest.len() {
                    continue;
                }
                if CMDS[owner].args == Args::None {
                    return Resolved::Usage;
                }
                return Resolved::Local(owner, arg.to_string());
            }
        }
    }
    if let Some(p) = prefix {
        return Resolved::Local(p, String::new());
    }
    let mut help = String::new();
    for (i, a) in aops.iter().enumerate() {
        if let Some(h) = &a.help {
            help = if h.is_empty() {
                a.name.clone()
            } else {
                h.clone()
            };
        }
        match cmd_cmp(op, &a.name) {
            Cmp::Exact | Cmp::Prefix => return Resolved::Aop(i, help),
            _ => {}
        }
    }
    Resolved::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        assert_eq!(cmd_cmp("INFO", "info"), Cmp::Exact);
        assert_eq!(cmd_cmp("inf", "info"), Cmp::Prefix);
        assert_eq!(cmd_cmp("new   map x", "new map"), Cmp::Rest(" x"));
        assert_eq!(cmd_cmp("x", "info"), Cmp::NoMatch);
        let a = aops();
        assert!(matches!(resolve("info -N", &a), Resolved::Local(_, s) if s == "-N"));
        assert!(matches!(resolve("stop", &a), Resolved::Aop(_, h) if h == "stop"));
        assert!(matches!(resolve("s", &a), Resolved::Usage));
        assert!(matches!(resolve("bogus", &a), Resolved::Unknown));
        assert!(matches!(resolve("exit now", &a), Resolved::Usage));
        assert!(matches!(resolve("delete", &a), Resolved::Usage));
        // a start of a name with an argument: the first such name
        assert!(
            matches!(resolve("in -N", &a), Resolved::Local(i, s) if CMDS[i].name == "info" && s == "-N")
        );
        assert!(
            matches!(resolve("i 32800", &a), Resolved::Local(i, s) if CMDS[i].name == "id" && s == "32800")
        );
        assert!(
            matches!(resolve("ho=/x", &a), Resolved::Local(i, s) if CMDS[i].name == "homedir" && s == "/x")
        );
        assert!(matches!(resolve("inx", &a), Resolved::Unknown));
    }
}
