//! `cdcc "flood ..."` against a running server: list, check, shutdown,
//! halt, resume, rewind, ffwd in and out, stats. The texts are built here
//! without I/O; the caller answers the request.

use tally_wire::admn::FlodAop;
use tally_wire::flood::ListenerMsg;

use super::file::Peer;
use super::state::Flood;

/// The first peer index of `flood stats all`: above every server-ID.
pub const ALL_START: u32 = 32768;

/// What a flood operation answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A text answer.
    Text(String),
    /// A plain OK.
    Ok,
    /// An ERROR with this text.
    Error(String),
}

/// One line of `flood list`: server-ID, options, host, and the address
/// streams go to, in the original's columns.
pub fn list(f: &Flood) -> String {
    let mut lines = Vec::new();
    for p in &f.peers {
        let mut flags = String::new();
        if p.out.off || p.inc.off {
            flags.push_str("off");
        } else if p.out.passive {
            flags.push_str("pasv");
        } else if p.out.socks {
            flags.push_str("SOCKS");
        } else if p.out.nat {
            flags.push_str("NAT");
        }
        let port = p.port(f.default_port);
        let addr = format!("{},{port}", p.host);
        lines.push(format!(
            "{:5} {:5} {:<27} {:<22}",
            p.rem_id, flags, p.host, addr
        ));
    }
    lines.join("\n")
}

/// `connected a total of D days H:MM:SS` of a stream.
fn conn_total(label: &str, secs: u64) -> String {
    format!(
        "\n  {label} connected a total of {} days {}:{:02}:{:02}\n",
        secs / 86_400,
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

/// The state of one stream, as the original words it: connected since
/// and last active, or off, or not connected with the last error.
fn conn_cur(f: &Flood, p: Option<&Peer>, up: bool, since: u64, alive: u64, err: &str) -> String {
    if up {
        return format!(
            "     connected since {}     last active {}",
            stamp(since),
            stamp(alive.max(since)).get(7..).unwrap_or_default()
        );
    }
    if let Some(p) = p.filter(|p| p.out.off || p.inc.off) {
        return format!("     off ({} line {})", f.file.display(), p.line);
    }
    let mut t = "     not connected".to_string();
    if !err.is_empty() {
        t.push_str(&format!("\n\t{err}"));
    }
    if f.halted {
        t.push_str("\n     flooding off");
    }
    t
}

/// `Mon DD HH:MM:SS` of a time in seconds since the epoch.
fn stamp(secs: u64) -> String {
    tally_syslog::civil::month_day_time(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// The statistics of one peer, in the layout of the original's `flood
/// stats`: header with the peer, its flags and the time, then the
/// output stream (time connected, reports sent, state, the position the
/// peer confirmed) and the input stream (time connected, reports
/// received, accepted, duplicate and stale, state). `position` is the
/// confirmed position of our stream to the peer; `now` the time.
fn stats_of(f: &Flood, id: u16, position: Option<u64>, now: u64) -> String {
    let st = f.status.get(&id).cloned().unwrap_or_default();
    let p = f.peer(id);
    let host = p.map_or(String::new(), |p| p.host.clone());
    let mut flags = String::new();
    if let Some(p) = p {
        if p.out.off || p.inc.off {
            flags.push_str(" off");
        }
        if p.out.passive {
            flags.push_str(" passive");
        }
        if st.rep {
            flags.push_str(" reps");
        }
    }
    let since_up = |up: bool, since: u64, total: u64| {
        if up {
            total + now.saturating_sub(since)
        } else {
            total
        }
    };
    let mut t = format!(
        " server-ID {id}  {host}{flags}  {} UTC\n  status start {} UTC",
        stamp(now),
        stamp(if st.cleared == 0 {
            f.started
        } else {
            st.cleared
        })
    );
    t.push_str(&conn_total(
        "output",
        since_up(st.out_up, st.out_since, st.out_total),
    ));
    t.push_str(&format!("     {} reports sent\n", st.sent));
    t.push_str(&conn_cur(
        f,
        p,
        st.out_up,
        st.out_since,
        st.out_alive,
        &st.out_err,
    ));
    t.push_str(&format!("\n     position {:#x}", position.unwrap_or(0)));
    t.push_str(&conn_total(
        "input",
        since_up(st.in_up > 0, st.in_since, st.in_total),
    ));
    t.push_str(&format!(
        "     {} reports received  {} accepted  {} duplicate  {} stale\n     {} bad whitelist  0 not deleted\n",
        st.received, st.accepted, st.dup, st.stale, st.white
    ));
    t.push_str(&conn_cur(
        f,
        p,
        st.in_up > 0,
        st.in_since,
        st.in_alive,
        &st.in_err,
    ));
    t
}

/// The figures of the `flood` lines of `cdcc stats`: whether flooding is
/// on, the peers, outgoing and incoming streams up, and the records
/// received (accepted, stale, duplicate, deletions).
pub fn totals(f: &Flood) -> Totals {
    let mut t = Totals {
        on: !f.halted,
        streams: f.peers.len() as u64,
        ..Totals::default()
    };
    for st in f.status.values() {
        t.out_active += u64::from(st.out_up);
        t.in_active += u64::from(st.in_up > 0);
        t.received += st.received;
        t.accepted += st.accepted;
        t.stale += st.stale;
        t.dup += st.dup;
        t.deleted += st.deleted;
        t.white += st.white;
    }
    t
}

/// See [`totals`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Flooding not halted.
    pub on: bool,
    /// Peers in the flod file.
    pub streams: u64,
    /// Outgoing streams up.
    pub out_active: u64,
    /// Peers with an incoming stream up.
    pub in_active: u64,
    /// Records received.
    pub received: u64,
    /// Records counted.
    pub accepted: u64,
    /// Records too old or too new.
    pub stale: u64,
    /// Records received again.
    pub dup: u64,
    /// Deletions applied.
    pub deleted: u64,
    /// Reports refused as whitelisted here.
    pub white: u64,
}

/// The original's answer to `flood stats` of an ID that is not a peer
/// (also the end of `flood stats all`): a text, not an error, naming the
/// ID asked for.
fn unknown(id: u32) -> String {
    format!(" server-ID {id} unknown remote server-ID")
}

/// Work on a flood operation; `val1` carries the peer above its low byte.
/// `admin`: the request came from the server's own ID.
pub fn op(
    f: &mut Flood,
    val1: u32,
    admin: bool,
    position: &dyn Fn(u16) -> Option<u64>,
    now: u64,
) -> Reply {
    let fop = FlodAop::from_u32(val1 & 0xff);
    let id = val1 >> 8;
    let peer = u16::try_from(id).ok().filter(|&i| f.peer(i).is_some());
    match fop {
        Some(FlodAop::List) => Reply::Text(list(f)),
        Some(FlodAop::Stats) | Some(FlodAop::StatsClear) => {
            let clear = fop == Some(FlodAop::StatsClear);
            let target = if id >= ALL_START {
                // `flood stats all`: the first peer above id - ALL_START
                let after = id - ALL_START;
                let mut ids: Vec<u16> = f.peers.iter().map(|p| p.rem_id).collect();
                ids.sort_unstable();
                match ids.into_iter().find(|&i| u32::from(i) > after) {
                    Some(i) => i,
                    None => return Reply::Text(unknown(id)),
                }
            } else {
                match peer {
                    Some(i) => i,
                    None => return Reply::Text(unknown(id)),
                }
            };
            let t = stats_of(f, target, position(target), now);
            if clear {
                let st = f.status_mut(target);
                st.sent = 0;
                st.received = 0;
                st.accepted = 0;
                st.dup = 0;
                st.stale = 0;
                st.deleted = 0;
                st.white = 0;
                st.out_total = 0;
                st.in_total = 0;
                st.cleared = now;
            }
            Reply::Text(t)
        }
        _ if !admin => Reply::Error("flood operations need the server's own ID".into()),
        Some(FlodAop::Check) => {
            f.reload(true);
            let t = totals(f);
            let state = if t.on { "on" } else { "off" };
            Reply::Text(crate::stats::flood_line(
                state,
                t.streams,
                t.out_active,
                t.in_active,
            ))
        }
        Some(FlodAop::Shutdown) | Some(FlodAop::Halt) => {
            f.halted = true;
            Reply::Ok
        }
        Some(FlodAop::Resume) => {
            f.halted = false;
            Reply::Ok
        }
        Some(FlodAop::Rewind) | Some(FlodAop::FfwdIn) | Some(FlodAop::FfwdOut) => {
            let Some(i) = peer else {
                return Reply::Error(format!("unknown server-ID {id}"));
            };
            match fop {
                Some(FlodAop::Rewind) => f.in_cmds.entry(i).or_default().push(ListenerMsg::Rewind),
                Some(FlodAop::FfwdIn) => f.in_cmds.entry(i).or_default().push(ListenerMsg::FfwdIn),
                _ => {
                    f.ffwd_out.insert(i);
                }
            }
            Reply::Ok
        }
        _ => Reply::Error(format!("unknown flood operation {}", val1 & 0xff)),
    }
}
