//! `cdcc`: manage the map of DCC servers used by DCC clients and send
//! administrative commands to DCC servers, as cdcc(8) of DCC 2.3.167.
//!
//! Commands come from the command line (each argument may hold several
//! commands separated by `;` or newlines; a final `-` continues with
//! standard input) or, without any, from standard input, with a prompt
//! before each line (terminal or not, as the original without line
//! editing) and a newline at its end. A failing command on the command line stops
//! `cdcc` with exit status 69 after ` ?` on stderr.
//!
//! - [`table`]: the command tables and how commands are matched.
//! - [`request`]: the ADMN and DELETE requests, built without I/O.
//! - [`state`]: home directory, map in use, ID and password, client.
//! - [`local`]: settings commands; [`mapfile`]: `new map`, `add`,
//!   `delete`, `load`; [`server`] and [`clients`]: commands answered by
//!   a server; [`resolve`]: the system resolver (`info -N`, `src`, the
//!   names `clients` shows).
//!
//! Where this `cdcc` differs from the reference:
//!
//! - the map file is the text `info` prints (see `tally_client::map`),
//!   not a memory-mapped binary file; `info` shows the state stored in
//!   it without probing the servers first (`RTT` probes them);
//! - passwords are always shown by `info`: there is no set-UID mode, so
//!   whoever runs `cdcc` on a map file can read it anyway;
//! - dates are shown in UTC, like the rest of the project;
//! - interactive input has a prompt but no line editing or history.

pub mod clients;
pub mod local;
pub mod mapfile;
pub mod request;
pub mod resolve;
pub mod server;
pub mod state;
pub mod table;

use state::{State, Which};
use std::io::{BufRead, Read, Write};
use table::{AopEntry, Cmd, Resolved, CMDS};
use tally_getopt::{getopt, Item, Style};
use tally_wire::admn::{Aop, FlodAop};

/// The DCC version this `cdcc` follows.
pub use tally_getopt::version::VERSION as DCC_VERSION;
/// What `libexecdir` shows: the original's default.
pub const LIBEXECDIR: &str = "/var/dcc/libexec";
/// Exit status for a bad command line.
pub const EX_USAGE: i32 = 64;
/// Exit status after a failed command.
pub const EX_UNAVAILABLE: i32 = 69;
/// Exit status when the program cannot start.
pub const EX_SOFTWARE: i32 = 70;
/// Most bytes of a line read from standard input at a time, as the
/// original's 500-byte buffer: the rest of a longer line is read as the
/// next line.
const MAX_LINE: u64 = 499;

/// The outcome of one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Ok,
    Fail,
    /// Wrong arguments: show the usage.
    Usage,
    /// `exit`.
    Exit,
}

/// The command-line options.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Opts {
    pub version: u32,
    pub dup_errors: bool,
    pub debug: u32,
    pub quiet: u32,
    pub homedir: Option<String>,
    pub ids: Option<String>,
    pub ops: Vec<String>,
}

/// The usage message.
pub const USAGE: &str = "usage: [-VBdq] [-h homedir] [-c ids] [op1 [op2] ... ]";

/// Parse `[-VBdq] [-h homedir] [-c ids] [op ...]` as the GNU C library's
/// getopt does for the original on Linux: options may follow the
/// operations (`cdcc stats -q` is quiet), and its complaint about a bad
/// option comes before the usage.
pub fn parse_opts(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let scan = getopt(args, "VBdqh:c:", Style::Gnu);
    for item in scan.items {
        match item {
            Item::Opt('V', _) => o.version += 1,
            Item::Opt('B', _) => o.dup_errors = true,
            Item::Opt('d', _) => o.debug += 1,
            Item::Opt('q', _) => o.quiet += 1,
            Item::Opt('h', v) => o.homedir = v,
            Item::Opt('c', v) => o.ids = v,
            Item::MissingArg(c) => return Err(format!("option requires an argument -- '{c}'")),
            Item::Opt(other, _) | Item::Unknown(other) => {
                // a `--word` is its `-` as far as the C library is concerned
                let c = if other == '\0' { '-' } else { other };
                return Err(format!("invalid option -- '{c}'"));
            }
        }
    }
    o.ops = scan.operands;
    Ok(o)
}

/// Run `cdcc` with these arguments (without the program name); returns
/// the exit status.
pub fn run(args: &[String]) -> i32 {
    let opts = match parse_opts(args) {
        Ok(o) => o,
        Err(e) => {
            // the usage as the original's fatal message: its own newline,
            // then "; fatal error"
            eprintln!("cdcc: {e}");
            eprintln!("{USAGE}\n; fatal error");
            return EX_USAGE;
        }
    };
    // -V on standard error as the original (and the other programs); a
    // further -V each add how the program was built
    if opts.version > 0 {
        tally_getopt::version::print_all(opts.version);
        if opts.ops.is_empty() {
            return 0;
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cdcc: {e}");
            return EX_SOFTWARE;
        }
    };
    let mut st = State::new(rt);
    st.dup_errors = opts.dup_errors;
    st.debug = opts.debug;
    st.quiet = opts.quiet > 0;
    st.ids_arg = opts.ids.clone();
    // a bad -h is told in the original's words and the default tried
    // instead, itself complained about when it cannot be entered either
    if let Some(h) = &opts.homedir {
        match state::check_home(std::path::Path::new(h)) {
            Ok(dir) => st.homedir = dir,
            Err(e) => {
                st.error(&e);
                if let Err(e) = state::check_home(std::path::Path::new(state::DEFAULT_HOME)) {
                    st.error(&e);
                }
            }
        }
    }
    if !st.init_map(!st.quiet) {
        st.set_which(Which::Tmp);
    }
    let aops = table::aops();
    let mut interactive = opts.ops.is_empty();
    for (i, op) in opts.ops.iter().enumerate() {
        if i + 1 == opts.ops.len() && op == "-" {
            interactive = true;
            break;
        }
        match do_cmds(&mut st, &aops, op) {
            Ret::Exit => return 0,
            Ret::Ok => {}
            _ => {
                let _ = std::io::stdout().flush();
                eprintln!(" ?");
                return EX_UNAVAILABLE;
            }
        }
    }
    if !interactive {
        return 0;
    }
    // As the original without line editing: a prompt naming the map
    // (`-` for a temporary one) before every read, terminal or not, and a
    // newline at the end of the input.
    loop {
        let name = match st.which {
            Which::Info => st.map_name.clone(),
            Which::Tmp => "-".to_string(),
        };
        print!("cdcc {name}> ");
        let _ = std::io::stdout().flush();
        let mut bytes = Vec::new();
        let n = std::io::stdin()
            .lock()
            .take(MAX_LINE)
            .read_until(b'\n', &mut bytes);
        match n {
            Ok(0) | Err(_) => {
                println!();
                return 0;
            }
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&bytes);
        match do_cmds(&mut st, &aops, &line) {
            Ret::Exit => return 0,
            Ret::Ok => {}
            _ => {
                let _ = std::io::stdout().flush();
                eprintln!(" ?");
                // a temporary map forgets the failures, so that the next
                // command tries the server again
                if st.which == Which::Tmp {
                    local::no_fail(&mut st);
                }
            }
        }
    }
}

/// Run the commands of one line or argument, separated by `;` or
/// newlines, up to a `#` comment. Stops at the first failure.
pub fn do_cmds(st: &mut State, aops: &[AopEntry], text: &str) -> Ret {
    for part in text.split([';', '\n', '\r']) {
        let c = part.trim_matches([' ', '\t']);
        if c.starts_with('#') {
            return Ret::Ok;
        }
        if c.is_empty() {
            continue;
        }
        match cmd(st, aops, c) {
            Ret::Ok => {}
            other => return other,
        }
    }
    Ret::Ok
}

/// Run one command.
pub fn cmd(st: &mut State, aops: &[AopEntry], op: &str) -> Ret {
    match table::resolve(op, aops) {
        Resolved::Unknown => {
            st.error(&format!("unrecognized command \"{op}\""));
            Ret::Fail
        }
        // the usage alone, as the original
        Resolved::Usage => {
            help(op);
            Ret::Fail
        }
        Resolved::Aop(i, help_str) => {
            let Some(a) = aops.get(i) else {
                return Ret::Fail;
            };
            if !st.get_passwd(a.privileged, &help_str, "operation") {
                return Ret::Fail;
            }
            if server::do_aop(st, a.aop, a.val1, None, true) {
                Ret::Ok
            } else {
                Ret::Fail
            }
        }
        Resolved::Local(i, arg) => {
            let Some(ent) = CMDS.get(i) else {
                return Ret::Fail;
            };
            if !st.get_passwd(ent.privileged, ent.name, "server command") {
                return Ret::Fail;
            }
            match local_cmd(st, ent.cmd, &arg) {
                Ret::Usage => {
                    help(op);
                    Ret::Fail
                }
                r => r,
            }
        }
    }
}

fn local_cmd(st: &mut State, c: Option<Cmd>, arg: &str) -> Ret {
    let Some(c) = c else {
        return Ret::Fail;
    };
    match c {
        Cmd::Help => {
            help(arg);
            Ret::Ok
        }
        Cmd::Exit => Ret::Exit,
        Cmd::Grey => local::grey(st, arg),
        Cmd::Homedir => local::homedir(st, arg),
        Cmd::Libexecdir => {
            // fixed when the original is built, whatever the home
            // directory: its default
            println!("    libexecdir={LIBEXECDIR}");
            Ret::Ok
        }
        Cmd::File => local::file_cmd(st, arg),
        Cmd::NewMap => mapfile::new_map(st, arg),
        Cmd::Delete => mapfile::delete(st, arg),
        Cmd::Add => mapfile::add(st, arg),
        Cmd::Load => mapfile::load(st, arg),
        Cmd::Host => local::host(st, arg),
        Cmd::Port => local::port(st, arg),
        Cmd::Password => local::password(st, arg),
        Cmd::Id => local::id(st, arg),
        Cmd::Debug => local::debug(st, arg),
        Cmd::Quiet => local::quiet(st, arg),
        Cmd::NoFail => local::no_fail(st),
        Cmd::ClockKludge => local::clock_kludge(st, arg),
        Cmd::Ipv6 => local::ipv6(st, arg),
        Cmd::Src => local::src(st, arg),
        Cmd::Socks => local::socks(st, arg),
        Cmd::Info => local::info(st, arg),
        Cmd::Rtt => server::rtt(st, arg),
        Cmd::Delck => server::delck(st, arg),
        Cmd::Sleep => match arg.parse::<f64>() {
            Ok(s) if (0.001..=1000.0).contains(&s) => {
                std::thread::sleep(std::time::Duration::from_secs_f64(s));
                Ret::Ok
            }
            _ => Ret::Usage,
        },
        Cmd::Clients => clients::clients(st, arg),
        Cmd::AnonDelay => server::anon_delay(st, arg),
        Cmd::FloodRewind => server::flood_peer(st, arg, FlodAop::Rewind),
        Cmd::FfwdIn => server::flood_peer(st, arg, FlodAop::FfwdIn),
        Cmd::FfwdOut => server::flood_peer(st, arg, FlodAop::FfwdOut),
        Cmd::FloodStats => server::flood_stats(st, arg),
        Cmd::Stats => server::stats(st, arg),
        Cmd::ClockCheck => {
            server::do_aop(st, Aop::ClockCheck, request::RESP_BUF, None, true);
            Ret::Ok
        }
        Cmd::TraceDefault => server::trace_default(st),
    }
}

/// Append one entry of the full help listing in 24-column cells.
fn help_cell(out: &mut String, pos: usize, s: &str) -> usize {
    let (s, nl) = match s.strip_prefix('\n') {
        Some(r) => (r, 100),
        None => (s, 0),
    };
    let mut col = s.len() + 1;
    col += 24 - col % 24;
    let mut pos = pos + col;
    if pos > 78 {
        out.push('\n');
        pos = col;
    }
    out.push_str(&format!("{s:<col$}"));
    pos + nl
}

/// `help [command]`: usage of the matching commands, or all of them.
pub fn help(arg: &str) {
    use table::{cmd_cmp, Cmp};
    let aops = table::aops();
    let names = CMDS
        .iter()
        .map(|e| e.name)
        .chain(aops.iter().map(|a| a.name.as_str()));
    let mut found: i32 = -1;
    if !arg.is_empty() {
        for n in names {
            match cmd_cmp(arg, n) {
                Cmp::Exact => found = 2,
                Cmp::Prefix => found = found.max(1),
                Cmp::Rest(_) => found = found.max(0),
                Cmp::NoMatch => {}
            }
        }
    }
    let mut out = String::new();
    if found >= 0 {
        let mut show = |name: &str, h: &str| match cmd_cmp(arg, name) {
            Cmp::NoMatch => false,
            Cmp::Rest(_) if found > 0 => false,
            Cmp::Prefix if found > 1 => false,
            _ => {
                out.push_str(&format!("usage: {}\n", h.trim_start_matches('\n')));
                true
            }
        };
        let mut pending: Option<&str> = None;
        for e in CMDS {
            if e.help.is_some() {
                pending = e.help;
            }
            if let Some(h) = pending {
                if show(e.name, h) {
                    pending = None;
                }
            }
        }
        let mut pending: Option<String> = None;
        for a in &aops {
            if let Some(h) = &a.help {
                pending = Some(if h.is_empty() {
                    a.name.clone()
                } else {
                    h.clone()
                });
            }
            if let Some(h) = pending.clone() {
                if show(&a.name, &h) {
                    pending = None;
                }
            }
        }
        print!("{out}");
        return;
    }
    out.push_str(&format!("   version {DCC_VERSION}\n"));
    let mut pos = 0;
    for e in CMDS {
        if let Some(h) = e.help {
            pos = help_cell(&mut out, pos, h);
        }
    }
    for a in &aops {
        if let Some(h) = &a.help {
            let h = if h.is_empty() {
                a.name.as_str()
            } else {
                h.as_str()
            };
            pos = help_cell(&mut out, pos, h);
        }
    }
    out.push('\n');
    print!("{out}");
}
