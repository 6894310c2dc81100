//! Commands about `cdcc` itself and the map file: `grey`, `homedir`,
//! `file`, `new map`, `add`, `delete`, `load`, `host`, `port`,
//! `password`, `id`, `debug`, `quiet`, `IPv6`, `SOCKS`, `src`, `info`...

use crate::state::{State, Which};
use crate::Ret;
use std::io::Read;
use std::net::IpAddr;
use tally_client::clock::now_secs;
use tally_client::map::parse::parse_server;
use tally_client::map::print::print_map;
use tally_client::map::{file, ClassKind, Ipv6Mode, Map, ServerName, GREY_PORT, MAX_NAMES};
use tally_wire::header::{CLNT_ID_MIN, ID_ANON};
use tally_wire::Passwd;

/// Largest text `load` reads.
const MAX_LOAD: u64 = 1 << 20;

fn on_off(arg: &str) -> Option<bool> {
    if arg.eq_ignore_ascii_case("on") {
        Some(true)
    } else if arg.eq_ignore_ascii_case("off") {
        Some(false)
    } else {
        None
    }
}

fn ipv6_text(m: Ipv6Mode) -> &'static str {
    match m {
        Ipv6Mode::On => "IPv6 on",
        Ipv6Mode::Off => "IPv6 off",
        Ipv6Mode::Only => "IPv6 only",
    }
}

pub fn grey(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        println!(
            "    Greylist mode {}{}",
            if st.grey { "on" } else { "off" },
            if st.grey_set { "" } else { " by default" }
        );
        return Ret::Ok;
    }
    let Some(on) = on_off(arg) else {
        return Ret::Usage;
    };
    st.grey = on;
    st.grey_set = true;
    let w = st.which;
    st.set_which(w);
    if !st.port_set {
        st.port = st.kind().default_port();
    }
    Ret::Ok
}

pub fn homedir(st: &mut State, arg: &str) -> Ret {
    if !arg.is_empty() {
        let p = std::path::PathBuf::from(arg);
        if !p.is_dir() {
            st.error(&format!("{arg}: not a directory"));
            return Ret::Fail;
        }
        st.homedir = p;
        st.set_which(Which::Info);
    }
    println!("    homedir={}", st.homedir.display());
    Ret::Ok
}

pub fn file_cmd(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        if st.which == Which::Info {
            println!("    using map file {}", st.map_path().display());
        } else {
            println!(
                "    map file {} but using temporary file",
                st.map_path().display()
            );
        }
        return Ret::Ok;
    }
    st.map_name = arg.to_string();
    st.set_which(Which::Info);
    Ret::Ok
}

pub fn new_map(st: &mut State, arg: &str) -> Ret {
    let name = if arg.is_empty() { "map" } else { arg };
    let path = st.in_home(name);
    if let Err(e) = file::create_new(&path) {
        st.error(&format!("new map: {e}"));
        return Ret::Fail;
    }
    st.map_name = name.to_string();
    st.set_which(Which::Info);
    if !st.quiet {
        println!("    created {}", path.display());
    }
    Ret::Ok
}

/// A server line of `add` or `load` with the checks of the reference.
fn parse_line(line: &str, grey_mode: bool) -> Result<(ClassKind, ServerName, bool), String> {
    let (kind, mut n) = parse_server(line)?;
    let first = line.split_whitespace().next().unwrap_or("");
    let has_port = first
        .rsplit_once(',')
        .is_some_and(|(_, p)| !p.is_empty() && p != "-");
    let kind = if grey_mode { ClassKind::Grey } else { kind };
    if kind == ClassKind::Grey && !has_port {
        n.port = GREY_PORT;
    }
    if n.client_id != ID_ANON && n.client_id < CLNT_ID_MIN {
        return Err(format!("server-ID {} is not a client-ID", n.client_id));
    }
    if n.client_id != ID_ANON && n.passwd.is_none() {
        return Err(format!(
            "invalid null password for client-ID {} for {}",
            n.client_id, n.host
        ));
    }
    Ok((kind, n, has_port))
}

pub fn add(st: &mut State, arg: &str) -> Ret {
    let (kind, n, _) = match parse_line(arg, st.grey_set && st.grey) {
        Ok(x) => x,
        Err(e) => {
            st.error(&format!("add: {e}"));
            return Ret::Fail;
        }
    };
    if kind == ClassKind::Grey && n.client_id == ID_ANON {
        st.error(&format!(
            "anonymous client-ID invalid for Greylist server {}",
            n.host
        ));
        return Ret::Fail;
    }
    st.set_which(Which::Info);
    let mut map = match st.load_map() {
        Ok(m) => m,
        Err(e) => {
            st.error(&e);
            return Ret::Fail;
        }
    };
    let class = map.class_mut(kind);
    if class
        .names
        .iter()
        .any(|o| o.host == n.host && o.port == n.port)
    {
        println!("    overwriting existing entry");
    }
    if class.add(n).is_err() {
        st.error(match kind {
            ClassKind::Grey => "too many Greylist server names",
            ClassKind::Dcc => "too many DCC server names",
        });
        return Ret::Fail;
    }
    save(st, &map)
}

fn save(st: &State, map: &Map) -> Ret {
    match st.save_map(map) {
        Ok(()) => Ret::Ok,
        Err(e) => {
            st.error(&e);
            Ret::Fail
        }
    }
}

pub fn delete(st: &mut State, arg: &str) -> Ret {
    let (kind, n, has_port) = match parse_line(arg, st.grey) {
        Ok(x) => x,
        Err(e) => {
            st.error(&format!("delete: {e}"));
            return Ret::Fail;
        }
    };
    st.set_which(Which::Info);
    let mut map = match st.load_map() {
        Ok(m) => m,
        Err(e) => {
            st.error(&e);
            return Ret::Fail;
        }
    };
    let class = map.class_mut(kind);
    let same_host: Vec<u16> = class
        .names
        .iter()
        .filter(|o| o.host.eq_ignore_ascii_case(&n.host))
        .map(|o| o.port)
        .collect();
    let port = if same_host.contains(&n.port) {
        Some(n.port)
    } else if !has_port && same_host.len() == 1 {
        same_host.first().copied()
    } else {
        None
    };
    let what = if has_port {
        format!("server \"{},{}\"", n.host, n.port)
    } else {
        format!("server \"{}\"", n.host)
    };
    let Some(port) = port else {
        let why = if same_host.len() > 1 && !has_port {
            "ambiguous"
        } else {
            "not found"
        };
        st.error(&format!("{what} {why}"));
        return Ret::Fail;
    };
    class.delete(&n.host, port);
    save(st, &map)
}

/// The switches line of a map text: `IPv6 on|off|only`, `use SOCKS`,
/// `src=...`, `version=3`. `Ok(false)` when the line is not one.
fn options_line(line: &str, map: &mut Map) -> Result<bool, String> {
    let mut toks = line.split_whitespace().peekable();
    let mut seen = false;
    while let Some(t) = toks.next() {
        if t.eq_ignore_ascii_case("IPv6") {
            map.ipv6 = match toks.next().map(str::to_ascii_lowercase).as_deref() {
                Some("on") => Ipv6Mode::On,
                Some("off") => Ipv6Mode::Off,
                Some("only") => Ipv6Mode::Only,
                _ => return Err("unrecognized IPv6 option".into()),
            };
        } else if t.eq_ignore_ascii_case("use") && toks.peek().is_some() {
            match toks.next() {
                Some(s) if s.eq_ignore_ascii_case("SOCKS") => map.socks = true,
                _ => return Err(format!("unrecognized option \"{t}\"")),
            }
        } else if let Some(src) = t.strip_prefix("src=") {
            map.src = Some(src.to_string());
        } else if let Some(v) = t.strip_prefix("version=") {
            if v != "3" {
                return Err("unrecognized text version number".into());
            }
        } else if seen {
            return Err(format!("unrecognized option \"{t}\""));
        } else {
            return Ok(false);
        }
        seen = true;
    }
    Ok(seen)
}

pub fn load(st: &mut State, arg: &str) -> Ret {
    let from_stdin = arg == "-";
    let mut text = String::new();
    let res = if from_stdin {
        std::io::stdin()
            .lock()
            .take(MAX_LOAD)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(st.in_home(arg))
            .and_then(|f| f.take(MAX_LOAD).read_to_string(&mut text))
    };
    let fname = if from_stdin {
        "STDIN".to_string()
    } else {
        arg.to_string()
    };
    if let Err(e) = res {
        st.error(&format!("load {fname}: {e}"));
        return Ret::Fail;
    }
    let mut opts = Map::new("");
    let mut got_options: Option<bool> = None;
    let mut new: Vec<(ClassKind, ServerName)> = Vec::new();
    for (lno, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!(" in line {} of {fname}", lno + 1);
        if got_options.is_none() {
            match options_line(line, &mut opts) {
                Err(e) => {
                    st.error(&format!("{e}{at}"));
                    return Ret::Fail;
                }
                Ok(g) => {
                    got_options = Some(g);
                    if g {
                        continue;
                    }
                }
            }
        }
        let (kind, n) = match parse_line(line, false) {
            Ok((k, n, _)) => (k, n),
            Err(e) => {
                st.error(&format!("{e}{at}"));
                return Ret::Fail;
            }
        };
        if kind == ClassKind::Grey && n.client_id == ID_ANON {
            st.error(&format!(
                "anonymous client-ID invalid for Greylist server {}{at}",
                n.host
            ));
            return Ret::Fail;
        }
        if new.iter().filter(|(k, _)| *k == kind).count() >= MAX_NAMES {
            let c = if kind == ClassKind::Grey {
                "Greylist"
            } else {
                "DCC"
            };
            st.error(&format!("too many {c} server names{at}"));
            return Ret::Fail;
        }
        new.push((kind, n));
    }
    if got_options != Some(true) && new.is_empty() {
        st.error(&format!("no DCC server names or options in {fname}"));
        return Ret::Fail;
    }
    st.set_which(Which::Info);
    let path = st.map_path();
    let mut map = match st.load_map() {
        Ok(m) => m,
        Err(_) => match file::create_new(&path) {
            Ok(m) => {
                println!("    created {}", path.display());
                m
            }
            Err(e) => {
                st.error(&e.to_string());
                return Ret::Fail;
            }
        },
    };
    for (kind, n) in new {
        if map.class_mut(kind).add(n).is_err() {
            st.error("too many server names");
            return Ret::Fail;
        }
    }
    if got_options == Some(true) {
        map.ipv6 = opts.ipv6;
        map.socks = opts.socks;
        if opts.src.is_some() {
            map.src = opts.src;
        }
    }
    if let Ret::Fail = save(st, &map) {
        return Ret::Fail;
    }
    if !st.quiet {
        if from_stdin {
            println!("##################\n");
        }
        return info(st, "");
    }
    Ret::Ok
}

/// `info`: the map as text, passwords included (whoever can read the
/// map file can read them anyway).
pub fn info(st: &mut State, arg: &str) -> Ret {
    if !arg.is_empty() && arg != "-N" {
        return Ret::Usage;
    }
    let map = match st.which {
        Which::Info => match &st.client {
            Some((c, _, _)) => {
                let mut m = c.map();
                m.label = st.map_path().display().to_string();
                m
            }
            None => match st.load_map() {
                Ok(m) => m,
                Err(e) => {
                    st.error(&e);
                    return Ret::Fail;
                }
            },
        },
        Which::Tmp => match st.ready() {
            Ok(c) => c.map(),
            Err(e) => {
                st.error(&e);
                return Ret::Fail;
            }
        },
    };
    let mut text = print_map(&map, now_secs(), true);
    if st.quiet {
        text = text.trim_end_matches('\n').to_string();
        text.push('\n');
    }
    print!("{text}");
    Ret::Ok
}

pub fn host(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        if st.which == Which::Info {
            return info(st, "");
        }
        let k = if st.grey { "greylist" } else { "DCC" };
        println!("    {k} server name \"{}\"", st.host);
        return Ret::Ok;
    }
    if arg == "-" {
        st.set_which(Which::Info);
        if !st.init_map(true) {
            st.set_which(Which::Tmp);
            return Ret::Fail;
        }
        return Ret::Ok;
    }
    if arg.split_whitespace().count() != 1 {
        return Ret::Usage;
    }
    let (h, p) = match arg.rsplit_once(',') {
        Some((h, p)) => (h, Some(p)),
        None => (arg, None),
    };
    if h.is_empty() || h.len() > tally_client::map::MAX_HOST_LEN {
        return Ret::Usage;
    }
    let port = match p {
        None | Some("") | Some("-") => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 => Some(n),
            _ => return Ret::Usage,
        },
    };
    st.set_which(Which::Tmp);
    st.host = h.to_string();
    if let Some(p) = port {
        st.port = p;
        st.port_set = true;
    }
    Ret::Ok
}

pub fn port(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        if st.which == Which::Info {
            return info(st, "");
        }
        println!("    port={}", st.port);
        return Ret::Ok;
    }
    let p = if arg == "-" {
        st.kind().default_port()
    } else {
        match arg.parse::<u16>() {
            Ok(n) if n != 0 => n,
            _ => return Ret::Usage,
        }
    };
    st.port = p;
    st.port_set = true;
    st.set_which(Which::Tmp);
    Ret::Ok
}

pub fn password(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        let shown = |p: &Passwd| String::from_utf8_lossy(p.as_bytes()).into_owned();
        if st.which == Which::Info {
            println!("    using password in {}", st.map_path().display());
            if let Some(p) = &st.passwd {
                println!(
                    "    but the password for explicitly named servers is {}",
                    shown(p)
                );
            }
        } else if let Some(p) = &st.passwd {
            println!("    password {}", shown(p));
        } else {
            println!("    password not set");
        }
        return Ret::Ok;
    }
    if arg.contains([' ', '\t']) {
        return Ret::Usage;
    }
    let Some(p) = Passwd::new(arg.as_bytes()) else {
        return Ret::Usage;
    };
    st.passwd = Some(p);
    st.anon_complained = false;
    st.set_which(Which::Tmp);
    Ret::Ok
}

pub fn id(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        println!("    ID={}", st.id);
        return Ret::Ok;
    }
    let Some(n) = crate::request::parse_id(arg) else {
        return Ret::Usage;
    };
    st.id = n;
    st.anon_complained = false;
    st.set_which(Which::Tmp);
    Ret::Ok
}

pub fn debug(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        let d = match st.debug {
            0 => "debug off".to_string(),
            1 => "debug on".to_string(),
            n => format!("debug on+{}", n - 1),
        };
        let ttl = if st.ttl != 0 {
            format!("    TTL={}", st.ttl)
        } else {
            String::new()
        };
        println!("    {d}{ttl}");
        return Ret::Ok;
    }
    let (mut dbg, mut ttl) = (st.debug, st.ttl);
    for w in arg.split_whitespace() {
        let lw = w.to_ascii_lowercase();
        if lw == "off" {
            dbg = 0;
        } else if lw == "on" {
            dbg += 1;
        } else if let Some(t) = lw.strip_prefix("ttl=") {
            match t.parse::<u32>() {
                Ok(n) if n < 256 => ttl = n,
                _ => return Ret::Usage,
            }
        } else {
            match w.parse::<u32>() {
                Ok(n) if n > 0 && n < 10 => dbg = n,
                _ => return Ret::Usage,
            }
        }
    }
    st.debug = dbg;
    st.ttl = ttl;
    if st.debug > 1 {
        println!("    debug on+{}", st.debug - 1);
    }
    Ret::Ok
}

pub fn quiet(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        println!("    {}", if st.quiet { "on" } else { "off" });
        return Ret::Ok;
    }
    match on_off(arg) {
        Some(q) => {
            st.quiet = q;
            Ret::Ok
        }
        None => Ret::Usage,
    }
}

pub fn clock_kludge(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        println!("    clock kludge={}", st.clock_kludge);
        return Ret::Ok;
    }
    match arg.trim_start_matches('+').parse::<i64>() {
        Ok(n) => {
            st.clock_kludge = n;
            Ret::Ok
        }
        Err(_) => {
            st.error(&format!("invalid clock kludge \"{arg}\""));
            Ret::Usage
        }
    }
}

/// Apply a change to the switches of the map in use.
fn change_map(st: &mut State, f: impl FnOnce(&mut Map)) -> Ret {
    if st.which == Which::Tmp {
        let mut m = Map::new("");
        m.ipv6 = st.tmp_ipv6;
        m.socks = st.tmp_socks;
        m.src = st.tmp_src.clone();
        f(&mut m);
        st.tmp_ipv6 = m.ipv6;
        st.tmp_socks = m.socks;
        st.tmp_src = m.src;
        st.client = None;
        return Ret::Ok;
    }
    let mut map = match st.load_map() {
        Ok(m) => m,
        Err(e) => {
            st.error(&e);
            return Ret::Fail;
        }
    };
    f(&mut map);
    map.dcc.force_measure();
    map.grey.force_measure();
    st.client = None;
    save(st, &map)
}

fn current(st: &State) -> Option<Map> {
    match st.which {
        Which::Info => st.load_map().ok(),
        Which::Tmp => {
            let mut m = Map::new("");
            m.ipv6 = st.tmp_ipv6;
            m.socks = st.tmp_socks;
            m.src = st.tmp_src.clone();
            Some(m)
        }
    }
}

pub fn ipv6(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        let Some(m) = current(st) else {
            st.error(&format!("cannot read {}", st.map_path().display()));
            return Ret::Fail;
        };
        println!("    {}", ipv6_text(m.ipv6));
        return Ret::Ok;
    }
    let mode = match arg.to_ascii_lowercase().as_str() {
        "on" => Ipv6Mode::On,
        "off" => Ipv6Mode::Off,
        "only" => Ipv6Mode::Only,
        _ => return Ret::Usage,
    };
    change_map(st, |m| m.ipv6 = mode)
}

pub fn socks(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        let Some(m) = current(st) else {
            st.error(&format!("cannot read {}", st.map_path().display()));
            return Ret::Fail;
        };
        println!("    SOCKS {}", if m.socks { "on" } else { "off" });
        return Ret::Ok;
    }
    let Some(on) = on_off(arg) else {
        return Ret::Usage;
    };
    change_map(st, |m| m.socks = on)
}

pub fn src(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        let Some(m) = current(st) else {
            st.error(&format!("cannot read {}", st.map_path().display()));
            return Ret::Fail;
        };
        match m.src {
            None => println!("    no source address specified"),
            Some(s) => println!("    src={s}"),
        }
        return Ret::Ok;
    }
    if arg == "-" || arg == "*" {
        return change_map(st, |m| m.src = None);
    }
    let parts: Vec<&str> = arg
        .split([',', ' ', '\t'])
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() || parts.len() > 2 || parts.iter().any(|p| p.parse::<IpAddr>().is_err()) {
        st.error(&format!("src: unrecognized \"{arg}\""));
        return Ret::Fail;
    }
    let s = parts.join(",");
    change_map(st, |m| m.src = Some(s))
}

pub fn no_fail(st: &mut State) -> Ret {
    let kind = st.kind();
    change_map(st, |m| m.class_mut(kind).fail.reset())
}
