//! `cdcc "flood ..."` against a running server: list, check, shutdown,
//! halt, resume, rewind, ffwd in and out, stats. The texts are built here
//! without I/O; the caller answers the request.

use tally_wire::admn::FlodAop;
use tally_wire::flood::ListenerMsg;

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

/// The statistics of one peer.
fn stats_of(f: &Flood, id: u16) -> String {
    let st = f.status.get(&id).cloned().unwrap_or_default();
    let host = f.peer(id).map_or(String::new(), |p| {
        format!("{},{}", p.host, p.port(f.default_port))
    });
    let state = |up: bool, err: &str| {
        if up {
            "connected".to_string()
        } else if err.is_empty() {
            "not connected".to_string()
        } else {
            format!("not connected: {err}")
        }
    };
    format!(
        " server-ID {id}  {host}\n  output {}; {} reports sent\n  input {}; {} reports received, {} accepted{}\n",
        state(st.out_up, &st.out_err),
        st.sent,
        state(st.in_up > 0, &st.in_err),
        st.received,
        st.accepted,
        if st.rep { "; reputations" } else { "" },
    )
}

/// Work on a flood operation; `val1` carries the peer above its low byte.
/// `admin`: the request came from the server's own ID.
pub fn op(f: &mut Flood, val1: u32, admin: bool) -> Reply {
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
                    None => return Reply::Text(format!(" server-ID {id}")),
                }
            } else {
                match peer {
                    Some(i) => i,
                    None => return Reply::Error(format!("unknown server-ID {id}")),
                }
            };
            let t = stats_of(f, target);
            if clear {
                let st = f.status_mut(target);
                st.sent = 0;
                st.received = 0;
                st.accepted = 0;
            }
            Reply::Text(t)
        }
        _ if !admin => Reply::Error("flood operations need the server's own ID".into()),
        Some(FlodAop::Check) => {
            f.reload(true);
            Reply::Ok
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
