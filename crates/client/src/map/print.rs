//! The map as `cdcc info` shows it.
//!
//! Each class starts with a heading (date, map name, when names are
//! resolved and RTTs measured again, how many servers work, the back-off
//! after failures); the DCC class adds the IPv6/SOCKS/source switches.
//! Then one line per configured server in the form `cdcc load` reads,
//! followed by comment lines for each of its addresses: the preferred one
//! marked `*`, the brand and server-ID, the answer rate of recent
//! requests, the RTT and the delay the server imposes on us. The greylist
//! class follows after a line of `#`, if it has servers.

use super::{ClassKind, Ipv6Mode, Map, ServerAddr, ServerClass, TEXT_VERSION};
use crate::clock;
use crate::timing::{MAX_FAIL_SECS, RTT_BAD, RTT_VERS_ADJ, VERS_CLNT_OK};
use std::fmt::Write;
use std::net::SocketAddr;
use tally_wire::header::VERS_CUR;

/// The separator between the DCC and the greylist part.
pub const GREY_SEPARATOR: &str = "################";

/// The whole map as text at date `now`: the map file's form, which is
/// `cdcc info -N` of a map file (names of addresses included). Passwords
/// are shown only if `show_passwd` (a map file must keep them).
pub fn print_map(map: &Map, now: u64, show_passwd: bool) -> String {
    let opts = InfoOpts {
        show_passwd,
        names: true,
        ..InfoOpts::default()
    };
    print_info(map, now, &opts)
}

/// How `cdcc info` shows a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InfoOpts {
    /// Show the passwords.
    pub show_passwd: bool,
    /// `-q` or `quiet on`: only the switches and the server lines, the
    /// text `cdcc load` reads (no headings, blank lines or address lines).
    pub quiet: bool,
    /// `-N`: show the name known for each address.
    pub names: bool,
    /// `-d` or `debug on`: show the times and thresholds in the heading
    /// even when they are past or there is one working server.
    pub debug: bool,
    /// Greylist mode: show the greylist part even without greylist
    /// servers, and the DCC part only if it has servers.
    pub grey_on: bool,
    /// The temporary map of `host`, `port`, `id` and `password`: no
    /// heading, the switches only when not the defaults, and only the
    /// class of the greylist mode.
    pub temporary: bool,
}

/// The map as `cdcc info` prints it, with `opts`.
pub fn print_info(map: &Map, now: u64, opts: &InfoOpts) -> String {
    let mut out = String::new();
    if opts.temporary {
        let kind = if opts.grey_on {
            ClassKind::Grey
        } else {
            ClassKind::Dcc
        };
        print_part(map, map.class(kind), now, opts, Part::Temporary, &mut out);
    } else {
        let dcc = !map.dcc.names.is_empty() || !opts.grey_on;
        if dcc {
            print_part(map, &map.dcc, now, opts, Part::Dcc, &mut out);
        }
        if !map.grey.names.is_empty() || opts.grey_on {
            if dcc && !opts.quiet {
                out.push('\n');
                out.push_str(GREY_SEPARATOR);
                out.push('\n');
            }
            print_part(map, &map.grey, now, opts, Part::Grey, &mut out);
        }
    }
    if !opts.quiet {
        out.push('\n');
    }
    out
}

/// Which part of `info` is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The DCC servers of a map file, with the heading and the switches.
    Dcc,
    /// The greylist servers of a map file, with the heading.
    Grey,
    /// The one server of a temporary map.
    Temporary,
}

/// `addr,port` with `-` for the class's default port.
pub fn addr_port(addr: &SocketAddr, kind: ClassKind) -> String {
    if addr.port() == kind.default_port() {
        format!("{},-", addr.ip())
    } else {
        format!("{},{}", addr.ip(), addr.port())
    }
}

fn heading(map: &Map, class: &ServerClass, now: u64, debug: bool, out: &mut String) {
    let grey = if class.kind == ClassKind::Grey {
        "greylist "
    } else {
        ""
    };
    let _ = writeln!(out, "# {}  {grey}{}", clock::date_time(now), map.label);
    out.push_str("# ");
    if class.resolve_at > now || debug {
        let _ = write!(
            out,
            "Re-resolve names after {}  ",
            clock::time_of_day(class.resolve_at)
        );
    }
    if class.measure_at > now || debug {
        let _ = write!(
            out,
            "Check RTTs after {}",
            clock::time_of_day(class.measure_at)
        );
    }
    out.push('\n');
    out.push_str("# ");
    let working = class.working();
    if working > 1 || debug {
        let _ = write!(
            out,
            "{:6.2} ms threshold, {:4.2} ms average    ",
            class.thold_rtt as f64 / 1000.0,
            class.avg_thold_rtt as f64 / 1000.0
        );
    }
    let _ = writeln!(
        out,
        "{} total, {working} working servers",
        class.addrs.len()
    );
    if let Some(dt) = class.fail.waiting(now) {
        if dt <= MAX_FAIL_SECS {
            let _ = writeln!(
                out,
                "# continue not asking {} server {dt} seconds after {} failures",
                class.kind.name(),
                class.fail.fail_exp
            );
        }
    }
}

/// The switches: `IPv6 on|off|only`, `use SOCKS`, `src=`, `version=3`.
/// A temporary map shows only what is not the default, without the
/// version and without ending the line (the blank line that follows
/// does). True if anything was printed.
fn switches(map: &Map, temporary: bool, out: &mut String) -> bool {
    let start = out.len();
    match map.ipv6 {
        Ipv6Mode::Off => out.push_str("IPv6 off"),
        Ipv6Mode::Only => out.push_str("IPv6 only"),
        Ipv6Mode::On if !temporary => out.push_str("IPv6 on"),
        Ipv6Mode::On => {}
    }
    if map.socks {
        out.push_str("   use SOCKS");
    }
    if let Some(src) = &map.src {
        let _ = write!(out, "   src={src}");
    }
    if !temporary {
        let _ = writeln!(out, "   version={TEXT_VERSION}");
    }
    out.len() != start
}

/// Do RTT adjustments appear (any manual adjustment, or an old server)?
fn has_rtt_adj(class: &ServerClass) -> bool {
    class.names.iter().any(|n| n.rtt_adj != 0)
        || class
            .addrs
            .iter()
            .any(|a| a.pkt_vers < VERS_CUR && a.srvr_id.is_some())
}

fn print_part(
    map: &Map,
    class: &ServerClass,
    now: u64,
    opts: &InfoOpts,
    part: Part,
    out: &mut String,
) {
    let mut blank = false;
    if part != Part::Temporary && !opts.quiet {
        heading(map, class, now, opts.debug, out);
        blank = true;
    }
    if part != Part::Grey && switches(map, part == Part::Temporary, out) {
        blank = true;
    }
    let adj = has_rtt_adj(class);
    for (idx, n) in class.names.iter().enumerate() {
        if !n.defined || (idx != 0 && class.addrs.iter().any(|a| a.name == idx)) {
            blank = true;
        }
        if blank {
            blank = false;
            if !opts.quiet {
                out.push('\n');
            } else if part == Part::Temporary && idx == 0 && !out.is_empty() {
                // end the switches of a temporary map
                out.push('\n');
            }
        }
        let pad = 26usize.saturating_sub(n.host.len()).max(1);
        out.push_str(&n.host);
        if n.port == class.kind.default_port() {
            let _ = write!(out, ",{:<pad$}", "-   ");
        } else {
            let _ = write!(out, ",{:<pad$}", n.port);
        }
        if class.kind == ClassKind::Grey {
            out.push_str(" Greylist");
        }
        if adj {
            let s = format!(" RTT{:+} ms", n.rtt_adj / 1000);
            let pad = 12usize.saturating_sub(s.len()).max(1);
            let _ = write!(out, "{s}{:pad$}", "");
        }
        if n.client_id == tally_wire::header::ID_ANON {
            out.push_str(" anon\n");
        } else {
            let pw = match (&n.passwd, opts.show_passwd) {
                (Some(p), true) => String::from_utf8_lossy(p.as_bytes()).into_owned(),
                _ => String::new(),
            };
            let _ = writeln!(out, " {:5} {pw}", n.client_id);
        }
        if !n.defined {
            blank = true;
            out.push_str("#   undefined name or wrong IP version\n");
        }
        let mut mine: Vec<(usize, &ServerAddr)> = class
            .addrs
            .iter()
            .enumerate()
            .filter(|(_, a)| a.name == idx)
            .collect();
        mine.sort_by_key(|(_, a)| (a.addr.is_ipv6(), a.addr.ip(), a.addr.port()));
        for (ai, a) in mine {
            if !opts.quiet {
                let chosen = class.chosen == Some(ai);
                print_addr(class, a, chosen, adj, opts.names, out);
            }
            blank = true;
        }
    }
}

fn print_addr(
    class: &ServerClass,
    a: &ServerAddr,
    chosen: bool,
    adj: bool,
    names: bool,
    out: &mut String,
) {
    let a1 = addr_port(&a.addr, class.kind);
    let name = if names { a.rdns.as_str() } else { "" };
    let (alen, nlen) = (a1.len() as i64, name.len() as i64);
    let i = (22 - (nlen - 25)).clamp(1, 22) as usize;
    let j = (25 - (alen - 22)).clamp(1, 25) as usize;
    let _ = write!(
        out,
        "# {}{a1:<i$} {:<j$}",
        if chosen { "*" } else { " " },
        name
    );
    if let Some(id) = a.srvr_id {
        let k = (16 - ((alen + nlen) - (22 + 25))).clamp(1, 16) as usize;
        let _ = write!(out, " {:>k$} ID {id}", a.brand);
        if a.pkt_vers != VERS_CUR {
            let _ = write!(out, "\n#     protocol version {}", a.pkt_vers);
        }
    }
    out.push('\n');
    if a.rtt >= RTT_BAD {
        out.push_str("#      not answering\n");
        return;
    }
    if a.total_xmits == 0 {
        let _ = write!(out, "#     {:22}", "");
    } else {
        let pct = f64::from(a.total_resps) * 100.0 / f64::from(a.total_xmits);
        let _ = write!(out, "#     {pct:3.0}% of {:2} requests ok", a.total_xmits);
    }
    let rtt = a.rtt as f64 / 1000.0;
    let adj_ms = class.names.get(a.name).map_or(0, |n| n.rtt_adj / 1000);
    let s = if !adj {
        format!("{rtt:8.2} ms RTT")
    } else if a.pkt_vers < VERS_CLNT_OK && a.srvr_id.is_some() {
        format!("{rtt:8.2}{adj_ms:+}+{} ms RTT", RTT_VERS_ADJ / 1000)
    } else {
        format!("{rtt:8.2}{adj_ms:+} ms RTT")
    };
    let pad = if s.len() >= 22 { 1 } else { 22 - s.len() };
    let _ = writeln!(
        out,
        "{s}  {:pad$}  {:4} ms queue wait",
        "",
        a.srvr_wait / 1000
    );
}
