//! Commands about `cdcc` itself and the map in use: `grey`, `homedir`,
//! `file`, `host`, `port`, `password`, `id`, `debug`, `quiet`, `IPv6`,
//! `SOCKS`, `src`, `no fail`, `info`...

use crate::state::{State, Which};
use crate::Ret;
use std::collections::HashMap;
use std::net::IpAddr;
use tally_client::clock::now_secs;
use tally_client::map::print::{print_info, InfoOpts};
use tally_client::map::{Ipv6Mode, Map};
use tally_wire::Passwd;

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
    // `on` and `off` in lower case only, as the original compares them
    let on = match arg {
        "on" => true,
        "off" => false,
        _ => return Ret::Usage,
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
        // relative to the current home directory, as in the original
        match crate::state::check_home(&st.in_home(arg)) {
            Ok(dir) => st.homedir = dir,
            Err(e) => {
                st.error(&e);
                return Ret::Fail;
            }
        }
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

/// `info [-N]`: the map as text, passwords included (whoever can read the
/// map file can read them anyway). As the original: with `-q` (or
/// `quiet on`) only the switches and server lines, the text `load`
/// reads; `-N` asks the system resolver for the name of each address
/// shown (`getnameinfo`, [`crate::resolve::name_of`]) and leaves the
/// column blank when it has none, as plain `info` always does; in greylist mode
/// (set, or implied by a map with only greylist servers) the DCC part
/// only if it has servers; a temporary map without a heading.
pub fn info(st: &mut State, arg: &str) -> Ret {
    let names = match arg {
        "" => false,
        "-N" => true,
        _ => return Ret::Usage,
    };
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
    // a map with only greylist servers implies greylist mode, as when
    // the original readies its client before printing
    if !st.grey_set && !st.grey && map.dcc.names.is_empty() && !map.grey.names.is_empty() {
        st.grey = true;
    }
    // the names of the addresses shown (no address lines with -q)
    let mut map = map;
    if names && !st.quiet {
        add_names(&mut map, &mut crate::resolve::name_of);
    }
    let opts = InfoOpts {
        show_passwd: true,
        quiet: st.quiet,
        names,
        debug: st.debug > 0,
        grey_on: st.grey,
        temporary: st.which == Which::Tmp,
    };
    print!("{}", print_info(&map, now_secs(), &opts));
    Ret::Ok
}

/// Put the name `lookup` gives for each address of `map` beside it, or
/// nothing: a name the map file held is not shown. Each address is asked
/// once.
pub fn add_names(map: &mut Map, lookup: &mut dyn FnMut(IpAddr) -> Option<String>) {
    let mut known: HashMap<IpAddr, String> = HashMap::new();
    for class in [&mut map.dcc, &mut map.grey] {
        for a in &mut class.addrs {
            let ip = a.addr.ip();
            a.rdns = known
                .entry(ip)
                .or_insert_with(|| lookup(ip).unwrap_or_default())
                .clone();
        }
    }
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
    // As the original: the first word is `name[,port]`; a bad port or a
    // name too long is told, anything after the word fails the command
    // silently, neither shows the usage.
    let word = arg.split([' ', '\t']).next().unwrap_or("");
    let (h, p) = match word.split_once(',') {
        Some((h, p)) => (h, Some(p)),
        None => (word, None),
    };
    if h.len() > tally_client::map::MAX_HOST_LEN {
        let start: String = word.chars().take(16).collect();
        st.error(&format!("hostname \"{start}...\" too long"));
        return Ret::Fail;
    }
    let port = match p {
        None | Some("") | Some("-") => None,
        Some(p) => match get_port(p) {
            Some(n) => Some(n),
            None => {
                st.error(&format!("invalid port \"{p}\""));
                return Ret::Fail;
            }
        },
    };
    if word.len() != arg.len() || h.is_empty() {
        return Ret::Fail;
    }
    st.set_which(Which::Tmp);
    st.host = h.to_string();
    if let Some(p) = port {
        st.port = p;
        st.port_set = true;
    }
    Ret::Ok
}

/// A port as the original's `dcc_get_port` reads one: a number from 1
/// to 65535 in C's notations (`6277`, `0x1885`, `014205`), else a service
/// name of the system (`/etc/services`).
pub fn get_port(s: &str) -> Option<u16> {
    if let Some(n) =
        tally_white::cnum::strtoul_all(s.as_bytes(), 0).filter(|n| (1..=65535).contains(n))
    {
        return u16::try_from(n).ok();
    }
    crate::resolve::service_port(s)
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
        match get_port(arg) {
            Some(n) => n,
            None => {
                // told, without the usage, as the original
                st.error(&format!("invalid port \"{arg}\""));
                return Ret::Fail;
            }
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
    let word = arg.split([' ', '\t']).next().unwrap_or("");
    if word.len() > Passwd::LEN {
        // the original names the first 16 characters before the usage
        let start: String = word.chars().take(16).collect();
        st.error(&format!("password \"{start}...\" too long"));
        return Ret::Usage;
    }
    if word.len() != arg.len() {
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
        // told before the usage, as the original's dcc_get_id
        st.error(&format!("invalid ID \"{}\"", arg.trim_start()));
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
            // with the original's newline before the TTL
            n => format!("debug on+{}\n", n - 1),
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
            dbg = dbg.saturating_add(1);
        } else if let Some(t) = lw.strip_prefix("ttl=") {
            // no digits are 0, as C's strtoul
            match if t.is_empty() {
                Ok(0)
            } else {
                t.parse::<u32>()
            } {
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
    // a TTL is set on the sockets of a temporary map, as in the original
    if st.ttl != 0 {
        st.set_which(Which::Tmp);
    }
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
    // the original looks only at how the word starts (`onward` is on)
    let starts = |w: &str| {
        arg.get(..w.len())
            .is_some_and(|a| a.eq_ignore_ascii_case(w))
    };
    if starts("on") {
        st.quiet = true;
    } else if starts("off") {
        st.quiet = false;
    } else {
        return Ret::Usage;
    }
    Ret::Ok
}

pub fn clock_kludge(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        println!("    clock kludge={}", st.clock_kludge);
        return Ret::Ok;
    }
    // one sign at most, as C's strtol
    match arg.parse::<i64>() {
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
    crate::mapfile::save(st, &map)
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

/// `src [-|A[,B]]`: show, remove or set the source addresses. Each of
/// `A` and `B` is an IP address or a host name, resolved as the original
/// does ([`crate::resolve::source`]): at most one IPv4 and one IPv6
/// address, written IPv4 first.
pub fn src(st: &mut State, arg: &str) -> Ret {
    if arg.is_empty() {
        let Some(m) = current(st) else {
            st.error(&format!("cannot read {}", st.map_path().display()));
            return Ret::Fail;
        };
        match m.src {
            None => println!("    no source address specified"),
            // three blanks, as the original's `src=` of `info`
            Some(s) => println!("   src={s}"),
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
    if parts.is_empty() || parts.len() > 2 {
        st.error(&format!("src: unrecognized \"{arg}\""));
        return Ret::Fail;
    }
    // host names are resolved by the IPv6 switch of the map in use
    let mode = match st.which {
        Which::Tmp => st.tmp_ipv6,
        Which::Info => match st.load_map() {
            Ok(m) => m.ipv6,
            Err(e) => {
                st.error(&e);
                return Ret::Fail;
            }
        },
    };
    match crate::resolve::source(&parts, mode, &mut crate::resolve::addrs_of) {
        Ok(s) => {
            let s = s.text();
            change_map(st, |m| m.src = s)
        }
        Err(e) => {
            st.error(&e);
            Ret::Fail
        }
    }
}

pub fn no_fail(st: &mut State) -> Ret {
    let kind = st.kind();
    change_map(st, |m| m.class_mut(kind).fail.reset())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_client::map::{ClassKind, ServerAddr};

    /// Each address is asked once; one without a name shows none, not
    /// the name the map file held.
    #[test]
    fn names_of_addresses() {
        let mut map = Map::new("map");
        let a = |s: &str| s.parse().unwrap();
        let mut held = ServerAddr::new(a("192.0.2.1:6277"), 0);
        held.rdns = "old.example".into();
        map.dcc.addrs = vec![held, ServerAddr::new(a("127.0.0.1:6277"), 0)];
        map.class_mut(ClassKind::Grey).addrs = vec![ServerAddr::new(a("127.0.0.1:6276"), 0)];
        let mut asked = Vec::new();
        add_names(&mut map, &mut |ip| {
            asked.push(ip);
            ip.is_loopback().then(|| "localhost".to_string())
        });
        assert_eq!(asked.len(), 2);
        let names: Vec<&str> = map
            .dcc
            .addrs
            .iter()
            .chain(&map.grey.addrs)
            .map(|a| a.rdns.as_str())
            .collect();
        assert_eq!(names, ["", "localhost", "localhost"]);
    }
}
