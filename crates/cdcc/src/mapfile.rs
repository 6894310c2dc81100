//! Commands that edit the map file: `new map`, `add`, `delete` and
//! `load` (which reads the text `info` prints, ignoring the comments).

use crate::local::info;
use crate::state::{State, Which};
use crate::Ret;
use std::io::Read;
use tally_client::map::parse::parse_server_warn;
use tally_client::map::{file, ClassKind, Ipv6Mode, Map, ServerName, GREY_PORT, MAX_NAMES};
use tally_wire::header::{CLNT_ID_MIN, ID_ANON};

const MAX_LOAD: u64 = 1 << 20;

pub fn new_map(st: &mut State, arg: &str) -> Ret {
    let name = if arg.is_empty() { "map" } else { arg };
    let path = st.in_home(name);
    if let Err(e) = file::create_new(&path) {
        st.error(&e.to_string());
        return Ret::Fail;
    }
    st.map_name = name.to_string();
    st.set_which(Which::Info);
    if !st.quiet {
        println!("    created {}", path.display());
    }
    Ret::Ok
}

/// A server line of `add`, `delete` or `load`: the class, the entry,
/// whether it names a port, and the original's last warning about what it
/// corrected (printed indented, the entry used all the same).
type Line = (ClassKind, ServerName, bool, Option<String>);

fn parse_line(line: &str, grey_mode: bool) -> Result<Line, String> {
    let (kind, mut n, warning) = parse_server_warn(line)?;
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
    Ok((kind, n, has_port, warning))
}

pub fn add(st: &mut State, arg: &str) -> Ret {
    // errors in the original's bare words
    let (kind, n, _, warning) = match parse_line(arg, st.grey_set && st.grey) {
        Ok(x) => x,
        Err(e) => {
            st.error(&e);
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
    if let Some(w) = warning {
        st.error(&format!("    {w}"));
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

pub fn save(st: &State, map: &Map) -> Ret {
    match st.save_map(map) {
        Ok(()) => Ret::Ok,
        Err(e) => {
            st.error(&e);
            Ret::Fail
        }
    }
}

pub fn delete(st: &mut State, arg: &str) -> Ret {
    let (kind, n, has_port, _) = match parse_line(arg, st.grey) {
        Ok(x) => x,
        Err(e) => {
            st.error(&e);
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
        let path = st.in_home(arg);
        let opened = std::fs::File::open(&path).and_then(|f| Ok((f.metadata()?, f)));
        match opened {
            Ok((meta, f)) => {
                if let Err(e) = crate::state::check_private(&path, &meta) {
                    st.error(&format!("load: {e}"));
                    return Ret::Fail;
                }
                f.take(MAX_LOAD).read_to_string(&mut text)
            }
            Err(e) => {
                st.error(&format!(
                    "fopen({}): {}",
                    path.display(),
                    crate::state::os_text(&e)
                ));
                return Ret::Fail;
            }
        }
    };
    let fname = if from_stdin {
        "STDIN".to_string()
    } else {
        st.in_home(arg).display().to_string()
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
        // the original names the file (absolute) and line, but not
        // standard input's
        let at = if from_stdin {
            String::new()
        } else {
            format!(" in line {} of {fname}", lno + 1)
        };
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
            Ok((k, n, _, warning)) => {
                if let Some(w) = warning {
                    st.error(&format!("    {w}{at}"));
                }
                (k, n)
            }
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
