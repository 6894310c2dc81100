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

/// The whole map as text at date `now`. Passwords are shown only if
/// `show_passwd` (`cdcc` shows them to privileged users only; a map file
/// must keep them).
pub fn print_map(map: &Map, now: u64, show_passwd: bool) -> String {
    let mut out = print_class(map, &map.dcc, now, show_passwd);
    out.push('\n');
    if !map.grey.names.is_empty() {
        out.push_str(GREY_SEPARATOR);
        out.push('\n');
        out.push_str(&print_class(map, &map.grey, now, show_passwd));
        out.push('\n');
    }
    out
}

/// `addr,port` with `-` for the class's default port.
pub fn addr_port(addr: &SocketAddr, kind: ClassKind) -> String {
    if addr.port() == kind.default_port() {
        format!("{},-", addr.ip())
    } else {
        format!("{},{}", addr.ip(), addr.port())
    }
}

fn heading(map: &Map, class: &ServerClass, now: u64, out: &mut String) {
    let grey = if class.kind == ClassKind::Grey {
        "greylist "
    } else {
        ""
    };
    let _ = writeln!(out, "# {}  {grey}{}", clock::date_time(now), map.label);
    out.push_str("# ");
    if class.resolve_at > now {
        let _ = write!(
            out,
            "Re-resolve names after {}  ",
            clock::time_of_day(class.resolve_at)
        );
    }
    if class.measure_at > now {
        let _ = write!(
            out,
            "Check RTTs after {}",
            clock::time_of_day(class.measure_at)
        );
    }
    out.push('\n');
    out.push_str("# ");
    let working = class.working();
    if working > 1 {
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

fn switches(map: &Map, out: &mut String) {
    out.push_str(match map.ipv6 {
        Ipv6Mode::On => "IPv6 on",
        Ipv6Mode::Off => "IPv6 off",
        Ipv6Mode::Only => "IPv6 only",
    });
    if map.socks {
        out.push_str("   use SOCKS");
    }
    if let Some(src) = &map.src {
        let _ = write!(out, "   src={src}");
    }
    let _ = writeln!(out, "   version={TEXT_VERSION}");
}

/// Do RTT adjustments appear (any manual adjustment, or an old server)?
fn has_rtt_adj(class: &ServerClass) -> bool {
    class.names.iter().any(|n| n.rtt_adj != 0)
        || class
            .addrs
            .iter()
            .any(|a| a.pkt_vers < VERS_CUR && a.srvr_id.is_some())
}

/// The text of one class.
pub fn print_class(map: &Map, class: &ServerClass, now: u64, show_passwd: bool) -> String {
    let mut out = String::new();
    heading(map, class, now, &mut out);
    if class.kind == ClassKind::Dcc {
        switches(map, &mut out);
    }
    let adj = has_rtt_adj(class);
    let mut blank = true;
    for (idx, n) in class.names.iter().enumerate() {
        if !n.defined || (idx != 0 && class.addrs.iter().any(|a| a.name == idx)) {
            blank = true;
        }
        if blank {
            out.push('\n');
            blank = false;
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
            let pw = match (&n.passwd, show_passwd) {
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
            print_addr(class, a, class.chosen == Some(ai), adj, &mut out);
            blank = true;
        }
    }
    out
}

fn print_addr(class: &ServerClass, a: &ServerAddr, chosen: bool, adj: bool, out: &mut String) {
    let a1 = addr_port(&a.addr, class.kind);
    let (alen, nlen) = (a1.len() as i64, a.rdns.len() as i64);
    let i = (22 - (nlen - 25)).clamp(1, 22) as usize;
    let j = (25 - (alen - 22)).clamp(1, 25) as usize;
    let _ = write!(
        out,
        "# {}{a1:<i$} {:<j$}",
        if chosen { "*" } else { " " },
        a.rdns
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
