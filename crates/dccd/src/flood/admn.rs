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

/// One line a peer of `flood list`, in the original's columns: server-ID,
/// the state of the outgoing stream (the peer's address when connected),
/// of the incoming one (its address when it differs from the outgoing
/// one's), the host (with the port when not the default) and the flags.
pub fn list(f: &Flood) -> String {
    let mut lines = Vec::new();
    let mut peers: Vec<&Peer> = f.peers.iter().collect();
    peers.sort_by_key(|p| p.rem_id);
    for p in peers {
        let st = f.status.get(&p.rem_id).cloned().unwrap_or_default();
        let out_ip = st
            .out_addr
            .filter(|_| st.out_busy)
            .map(|a| a.ip().to_canonical());
        let in_ip = st
            .in_addr
            .filter(|_| st.in_up > 0)
            .map(|a| a.ip().to_canonical());
        let outp = match out_ip {
            Some(ip) => ip.to_string(),
            None if p.out.off => "  (output off)".into(),
            None if f.halted => "  (flood off)".into(),
            None => "  (no output)".into(),
        };
        let inp = match in_ip {
            Some(ip) if out_ip != Some(ip) => ip.to_string(),
            Some(_) => String::new(),
            None if p.inc.off => "  (input off)".into(),
            None if f.halted => "  (flood off)".into(),
            None => "  (no input)".into(),
        };
        let (l1, l2) = (outp.len(), inp.len());
        let mut s0 = 15usize.saturating_sub(l1);
        let mut s1 = 17usize.saturating_sub(s0 + l1);
        let mut s2 = 15usize.saturating_sub(l2);
        // squeeze the padding to 32 columns, the input's first
        let total = |s0: usize, s1: usize, s2: usize| s0 + l1 + s1 + l2 + s2;
        if total(s0, s1, s2) > 32 {
            s2 = s2.saturating_sub(total(s0, s1, s2) - 32);
        }
        if total(s0, s1, s2) > 32 {
            s1 = s1.saturating_sub(total(s0, s1, s2) - 32);
        }
        if total(s0, s1, s2) > 32 {
            s0 = s0.saturating_sub(total(s0, s1, s2) - 32);
        }
        let host = match p.rport.as_deref() {
            Some(port) if p.port(f.default_port) != f.default_port => {
                format!("{},{port}", p.host)
            }
            _ => p.host.clone(),
        };
        lines.push(format!(
            "{:5} {:s0$}{outp}{:s1$} {inp}{:s2$} {host:<22}{}",
            p.rem_id,
            "",
            "",
            "",
            flags(f, p, &st)
        ));
    }
    lines.join("\n")
}

/// The flags of a peer after its host in `flood list` and `flood stats`,
/// each after two spaces, as the original's: `off` (or `in off`, `out
/// off`), `passive`, `forced passive` (our stream runs, or last ran, on a
/// connection the peer made although we are not passive), `SOCKS` or
/// `NAT` (`rejected SOCKS`, `rejected NAT` when the peer's incoming
/// stream came on a connection it made itself), `leaf`, `IPv4`, `IPv6`,
/// `rej reps` (the peer refused our reputations today) or `broken reps`
/// (its stream to us does not announce them), `bad reps` on a greylist
/// server, then the server-ID translations of both columns.
pub fn flags(f: &Flood, p: &Peer, st: &super::state::PeerStatus) -> String {
    let mut v: Vec<String> = Vec::new();
    if p.out.off && p.inc.off {
        v.push("off".into());
    } else {
        if p.inc.off {
            v.push("in off".into());
        }
        if p.out.off {
            v.push("out off".into());
        }
    }
    if p.out.passive {
        v.push("passive".into());
    } else if st.out_srvr {
        v.push("forced passive".into());
    }
    let kind = if p.out.socks {
        Some("SOCKS")
    } else if p.out.nat {
        Some("NAT")
    } else {
        None
    };
    if let Some(k) = kind {
        v.push(if st.in_srvr {
            format!("rejected {k}")
        } else {
            k.to_string()
        });
    }
    if p.out
        .leaf
        .is_some_and(|l| usize::from(l) != super::records::MAX_PATH)
    {
        v.push("leaf".into());
    }
    if p.out.ipv4 {
        v.push("IPv4".into());
    }
    if p.out.ipv6 {
        v.push("IPv6".into());
    }
    if !f.grey {
        let rejected = st
            .reps_rejected
            .is_some_and(|t| t.elapsed() < super::outgoing::PLAIN_FOR);
        if rejected {
            v.push("rej reps".into());
        } else if !st.rep && st.in_up > 0 {
            v.push("broken reps".into());
        }
    } else if st.rep {
        v.push("bad reps".into());
    }
    let mut t: String = v.iter().map(|w| format!("  {w}")).collect();
    for trans in [&p.out.trans, &p.inc.trans] {
        let maps: Vec<String> = trans.iter().map(|m| trans_text(m, f.own)).collect();
        if !maps.is_empty() {
            t.push_str("  ");
            t.push_str(&maps.join(","));
        }
    }
    t
}

/// A translation as the original lists it (`self` as our server-ID).
fn trans_text(m: &super::file::Trans, own: u16) -> String {
    use super::file::TransResult;
    let r = match m.result {
        TransResult::Ok => "ok",
        TransResult::Reject => "reject",
        TransResult::SelfId => "self",
    };
    if m.own {
        format!("{own}->{r}")
    } else if m.lo == m.hi {
        format!("{}->{r}", m.lo)
    } else if m.lo <= 100 && m.hi >= 32767 {
        format!("all->{r}")
    } else {
        format!("{}-{}->{r}", m.lo, m.hi)
    }
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
    let flags = p.map_or(String::new(), |p| flags(f, p, &st));
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
