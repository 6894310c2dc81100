//! An outgoing flood: we connect to a peer, send our version header, and
//! once it has answered, our reports after the position it asks for; its
//! acknowledgements become our durable position for it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use tally_store::Pos;
use tally_wire::flood::{ListenerMsg, VersionHeader, VERS7, VERS7_REP};

use super::file::Peer;
use super::proto::{self, KEEPALIVE_SECS};
use super::state::Flood;
use crate::server::Server;
use crate::trace::{log, Trace};

/// Records read from the log at once.
const BATCH: usize = 256;
/// How often a caught-up stream looks for new records.
const POLL: Duration = Duration::from_millis(50);
/// The first wait before connecting again; doubled up to [`MAX_RETRY`].
pub const RETRY: Duration = Duration::from_secs(1);
/// How often positions are written while a stream runs (each write
/// syncs a file; they are written at the end of every stream too).
pub const SAVE_EVERY: Duration = Duration::from_secs(1);
/// The longest wait before connecting again.
pub const MAX_RETRY: Duration = Duration::from_secs(60);
/// How long a peer that refused our reputations version string is sent
/// the plain one (the original tries reputations again after a day).
pub const PLAIN_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// Does an error of [`once`] say the peer refused our version string?
fn refused_version(e: &str) -> bool {
    e.contains("refused: unrecognized flod version")
}

/// What [`once`] says when the peer's own connection, turned around,
/// carries our stream already: nothing to log, wait for its end.
const BUSY: &str = "outgoing stream busy";
/// How often a stream waiting for the end of a turned-around one looks.
const BUSY_POLL: Duration = Duration::from_millis(250);

/// Is an outgoing stream to the peer running (ours or turned around)?
pub fn out_busy(flood: &Arc<Mutex<Flood>>, id: u16) -> bool {
    flood
        .lock()
        .map(|f| f.status.get(&id).is_some_and(|s| s.out_busy))
        .unwrap_or(false)
}

/// Take the one outgoing stream of a peer for a connection to `addr`
/// (`turned`: one the peer made); `None` when one runs already. The
/// stream is the claim's until it is dropped (also when its task is
/// aborted).
pub fn claim_out(
    flood: &Arc<Mutex<Flood>>,
    id: u16,
    addr: SocketAddr,
    turned: bool,
) -> Option<OutClaim> {
    let mut f = flood.lock().ok()?;
    let st = f.status_mut(id);
    if st.out_busy {
        return None;
    }
    st.out_busy = true;
    st.out_srvr = turned;
    st.out_addr = Some(addr);
    Some(OutClaim {
        flood: flood.clone(),
        id,
        err: None,
    })
}

/// The outgoing stream of a peer, taken by [`claim_out`]; dropping it
/// marks the stream ended (with the error given to [`OutClaim::ended`]).
pub struct OutClaim {
    flood: Arc<Mutex<Flood>>,
    id: u16,
    err: Option<String>,
}

impl OutClaim {
    /// How the stream ended.
    pub fn ended(mut self, r: &Result<(), String>) {
        self.err = r.as_ref().err().cloned();
    }
}

impl Drop for OutClaim {
    fn drop(&mut self) {
        if let Ok(mut f) = self.flood.lock() {
            let st = f.status_mut(self.id);
            st.out_state(false, crate::server::unix_now());
            st.out_busy = false;
            st.out_addr = None;
            if let Some(e) = self.err.take() {
                st.out_err = e;
            }
        }
    }
}

/// Keep a stream to `peer` going until the task is aborted. As the
/// original, there is one outgoing stream per peer: while the peer's own
/// connection, turned around, carries it, we do not connect; an incoming
/// flood from the peer while we wait to connect again ends the wait.
pub async fn run(peer: Peer, server: Arc<Mutex<Server>>, flood: Arc<Mutex<Flood>>) {
    let mut wait = RETRY;
    // after "bad authentication", the passwd-ID's second password, if any
    let mut second = false;
    let rush = match flood.lock() {
        Ok(mut f) => f.rush(peer.rem_id),
        Err(_) => return,
    };
    loop {
        while out_busy(&flood, peer.rem_id) {
            tokio::time::sleep(BUSY_POLL).await;
        }
        let began = Instant::now();
        let mut acked = None;
        let (r, rep) = once(&peer, &server, &flood, &mut acked, second).await;
        if matches!(&r, Err(e) if e == BUSY) {
            continue;
        }
        second = match &r {
            Err(e) if e.contains("refused: bad authentication") => !second,
            _ => second,
        };
        // an older peer that does not know reputations: the plain version
        // string for a day, at once (as the original)
        let fall_back = rep && matches!(&r, Err(e) if refused_version(e));
        if fall_back {
            if let Ok(mut f) = flood.lock() {
                f.status_mut(peer.rem_id).reps_rejected = Some(Instant::now());
            }
        }
        save(&server, peer.rem_id, acked);
        // (the stream was released by `once`; a failed connection leaves
        // its error unless a turned-around stream runs meanwhile)
        if let (Err(e), Ok(mut f)) = (&r, flood.lock()) {
            let st = f.status_mut(peer.rem_id);
            if !st.out_busy {
                st.out_err = e.clone();
            }
        }
        if let Err(e) = r {
            log(&e);
        }
        if began.elapsed() > MAX_RETRY || fall_back {
            wait = RETRY;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {
                if !fall_back {
                    wait = (wait * 2).min(MAX_RETRY);
                }
            }
            _ = rush.notified() => wait = RETRY,
        }
    }
}

pub async fn connect(peer: &Peer, default_port: u16) -> Result<(TcpStream, SocketAddr), String> {
    let port = peer.port(default_port);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((peer.host.as_str(), port))
        .await
        .map_err(|e| format!("flood to {}: {e}", peer.host))?
        .filter(|a| !(peer.out.ipv4 && a.is_ipv6() || peer.out.ipv6 && a.is_ipv4()))
        .collect();
    let mut last = format!("flood to {}: no address", peer.host);
    for a in addrs {
        match tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(a)).await {
            Ok(Ok(s)) => return Ok((s, a)),
            Ok(Err(e)) => {
                last = format!(
                    "connect(flood to {}): {e}",
                    proto::rem_str(&peer.host, a, default_port)
                )
            }
            Err(_) => last = format!("connect(flood to {}): timed out", peer.host),
        }
    }
    Err(last)
}

/// Our signed version header for `peer` (with the passwd-ID's second
/// password when `second`; `turn` asks the peer to turn the connection
/// around), whether the stream is traced, and whether the header
/// announces reputations (`DCC flod version rep 7`: not from a greylist
/// server, nor for a day to a peer that refused it).
pub fn header_for(
    peer: &Peer,
    server: &Arc<Mutex<Server>>,
    flood: &Arc<Mutex<Flood>>,
    second: bool,
    turn: bool,
) -> Result<(Vec<u8>, bool, bool), String> {
    let (own, grey, refused) = {
        let f = flood.lock().map_err(|_| "stopped")?;
        let refused = f
            .status
            .get(&peer.rem_id)
            .and_then(|s| s.reps_rejected)
            .is_some_and(|t| t.elapsed() < PLAIN_FOR);
        (f.own, f.grey, refused)
    };
    let rep = !grey && !refused;
    let sv = server.lock().map_err(|_| "stopped")?;
    let pw_id = peer.passwd_id.unwrap_or(own);
    let entry = sv.ids.get(u32::from(pw_id));
    let first = entry.and_then(|e| e.passwords().next());
    let pw = if second {
        entry.and_then(|e| e.passwords().nth(1)).or(first)
    } else {
        first
    };
    let Some(pw) = pw else {
        return Err(format!(
            "no password for passwd-ID {pw_id} for flood to {}",
            peer.host
        ));
    };
    let mut h = VersionHeader::new(if rep { VERS7_REP } else { VERS7 }, own);
    h.turn = u8::from(turn);
    h.sign(pw);
    Ok((
        h.encode(),
        peer.out.trace1 || sv.trace & Trace::FLOOD1 != 0,
        rep,
    ))
}

/// One connection: `Ok` when it ended in order; and whether our header
/// announced reputations.
async fn once(
    peer: &Peer,
    server: &Arc<Mutex<Server>>,
    flood: &Arc<Mutex<Flood>>,
    acked: &mut Option<Pos>,
    second: bool,
) -> (Result<(), String>, bool) {
    let default_port = match flood.lock() {
        Ok(f) => f.default_port,
        Err(_) => return (Err("stopped".into()), false),
    };
    let (header, trace, rep) = match header_for(peer, server, flood, second, false) {
        Ok(x) => x,
        Err(e) => return (Err(e), false),
    };
    let (s, addr) = match connect(peer, default_port).await {
        Ok(x) => x,
        Err(e) => return (Err(e), rep),
    };
    let Some(claim) = claim_out(flood, peer.rem_id, addr, false) else {
        return (Err(BUSY.into()), rep);
    };
    let r = drive(s, addr, &header, trace, rep, peer, server, flood, acked).await;
    claim.ended(&r);
    (r, rep)
}

/// A connection the peer made and asked us to turn around (it is behind
/// a firewall; we may be `passive` for it or not): our stream to it,
/// until it ends. The caller has claimed the outgoing stream
/// ([`claim_out`]).
pub async fn turned(
    s: TcpStream,
    addr: SocketAddr,
    peer: Peer,
    server: Arc<Mutex<Server>>,
    flood: Arc<Mutex<Flood>>,
    claim: OutClaim,
) {
    let mut acked = None;
    let r = match header_for(&peer, &server, &flood, false, false) {
        Ok((header, trace, rep)) => {
            drive(
                s, addr, &header, trace, rep, &peer, &server, &flood, &mut acked,
            )
            .await
        }
        Err(e) => Err(e),
    };
    save(&server, peer.rem_id, acked);
    claim.ended(&r);
    if let Err(e) = r {
        log(&e);
    }
}

/// Our stream to a peer on a connection (made by us, or by the peer and
/// turned around): our header, then reports after the position asked for.
/// Reputations (and, by default, deletions) are sent when our header
/// announced them (`rep`) and the peer took it, as the original decides.
#[allow(clippy::too_many_arguments)]
async fn drive(
    s: TcpStream,
    addr: SocketAddr,
    header: &[u8],
    trace: bool,
    rep: bool,
    peer: &Peer,
    server: &Arc<Mutex<Server>>,
    flood: &Arc<Mutex<Flood>>,
    acked: &mut Option<Pos>,
) -> Result<(), String> {
    let (default_port, own, grey) = {
        let f = flood.lock().map_err(|_| "stopped")?;
        (f.default_port, f.own, f.grey)
    };
    let rem = proto::rem_str(&peer.host, addr, default_port);
    let (mut rd, mut wr) = s.into_split();
    wr.write_all(header)
        .await
        .map_err(|e| format!("flood to {rem}: {e}"))?;
    let mut inbuf: Vec<u8> = Vec::new();
    let mut tmp = vec![0u8; 4096];
    // nothing is sent before the listener has said something
    let first = loop {
        if let Some((m, n)) = decode(&inbuf, false)? {
            inbuf.drain(..n);
            break m;
        }
        let n = tokio::time::timeout(Duration::from_secs(KEEPALIVE_SECS), rd.read(&mut tmp))
            .await
            .map_err(|_| format!("no answer from {rem}"))?
            .map_err(|e| format!("flood to {rem}: {e}"))?;
        if n == 0 {
            if let Some((m, _)) = decode(&inbuf, true)? {
                break m;
            }
            return Err(format!("flood to {rem} closed"));
        }
        inbuf.extend_from_slice(&tmp[..n]);
    };
    let stored = {
        let sv = server.lock().map_err(|_| "stopped")?;
        sv.counter.store.peer_pos(peer.rem_id).ok().flatten()
    };
    let mut cursor = Pos::START;
    match first {
        ListenerMsg::End(t) => {
            return Err(format!(
                "flood to {rem} refused: {}",
                String::from_utf8_lossy(&t)
            ));
        }
        other => apply(other, true, &mut cursor, stored, server, acked, &rem)?,
    };
    if let Ok(mut f) = flood.lock() {
        let st = f.status_mut(peer.rem_id);
        st.out_state(true, crate::server::unix_now());
        st.out_err.clear();
    }
    if trace {
        log(&format!(
            "flood to {rem} started after position {}",
            cursor.0
        ));
    }
    let mut heard = Instant::now();
    let (mut saved, mut saved_at) = (*acked, Instant::now());
    let mut sums = super::summary::Summaries::default();
    let mut ending = false;
    let mut out = Vec::new();
    loop {
        // answers first, without waiting
        loop {
            match rd.try_read(&mut tmp) {
                Ok(0) => return eof(&inbuf, &rem),
                Ok(n) => {
                    heard = Instant::now();
                    inbuf.extend_from_slice(&tmp[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(format!("flood to {rem}: {e}")),
            }
        }
        while let Some((m, n)) = decode(&inbuf, false)? {
            inbuf.drain(..n);
            match m {
                ListenerMsg::EndReq => {
                    ending = true;
                    let _ = wr.shutdown().await;
                }
                m => apply(m, false, &mut cursor, stored, server, acked, &rem)?,
            }
        }
        if *acked != saved && saved_at.elapsed() >= SAVE_EVERY {
            save(server, peer.rem_id, *acked);
            saved = *acked;
            saved_at = Instant::now();
        }
        if heard.elapsed() > Duration::from_secs(KEEPALIVE_SECS + 60) {
            return Err(format!("flood to {rem} silent too long"));
        }
        if ending {
            let n = tokio::time::timeout(Duration::from_secs(60), rd.read(&mut tmp))
                .await
                .map_err(|_| format!("no END from {rem}"))?
                .map_err(|e| format!("flood to {rem}: {e}"))?;
            if n == 0 {
                return eof(&inbuf, &rem);
            }
            inbuf.extend_from_slice(&tmp[..n]);
            continue;
        }
        let (batch, halted, now) = {
            let (halted, ffwd) = flood
                .lock()
                .map(|mut f| (f.halted, f.ffwd_out.remove(&peer.rem_id)))
                .map_err(|_| "stopped")?;
            if ffwd {
                let sv = server.lock().map_err(|_| "stopped")?;
                cursor = Pos(sv.counter.store.next_pos().0.saturating_sub(1));
                log(&format!("fast forward flood to {rem}"));
            }
            if halted {
                (Vec::new(), true, 0)
            } else {
                let sv = server.lock().map_err(|_| "stopped")?;
                let now = sv.grey_secs();
                let batch = sv
                    .counter
                    .store
                    .read_log(cursor, BATCH)
                    .map_err(|e| e.to_string())?;
                // the reports kept from the peers for checksums
                // whitelisted here, looked at while the store is at hand
                let store = &sv.counter.store;
                let white = |c: &tally_store::Ck| {
                    matches!(
                        store.total(c),
                        Ok(tally_store::tgts::OK | tally_store::tgts::OK2)
                    )
                };
                let batch: Vec<_> = batch
                    .into_iter()
                    .map(|e| {
                        let w = super::records::withheld_as_whitelisted(&e.report, grey, white);
                        (e, w)
                    })
                    .collect();
                (batch, false, now)
            }
        };
        if batch.is_empty() || halted {
            tokio::select! {
                r = rd.read(&mut tmp) => {
                    let n = r.map_err(|e| format!("flood to {rem}: {e}"))?;
                    if n == 0 {
                        return eof(&inbuf, &rem);
                    }
                    heard = Instant::now();
                    inbuf.extend_from_slice(&tmp[..n]);
                }
                _ = tokio::time::sleep(POLL) => {}
            }
            continue;
        }
        out.clear();
        let mut sent = 0u64;
        if cursor == Pos::START {
            // rewound: the sums start again from the beginning
            sums.clear();
        }
        for (e, whitelisted) in &batch {
            cursor = e.pos;
            if *whitelisted {
                continue;
            }
            // a peer would take it as stale: not sent (after a rewind, a
            // day of the log rather than all of it)
            if super::records::too_old_to_send(&e.report, now) {
                continue;
            }
            let summary;
            let e = if !grey
                && e.report.srvr_id == own
                && e.report.tgts < proto::FLOD_THRESHOLD
                && !super::records::is_claim(&e.report)
            {
                match sums.note(&e.report) {
                    Some(t) => {
                        let mut s = e.clone();
                        s.report.tgts = t;
                        summary = s;
                        &summary
                    }
                    None => continue,
                }
            } else {
                e
            };
            if let Some(r) = proto::to_wire(e, own, peer, rep, grey) {
                r.encode_into(&mut out);
                sent += 1;
            }
        }
        if !out.is_empty() {
            wr.write_all(&out)
                .await
                .map_err(|e| format!("flood to {rem}: {e}"))?;
        }
        if let Ok(mut f) = flood.lock() {
            let st = f.status_mut(peer.rem_id);
            st.sent += sent;
            if sent > 0 {
                st.out_alive = crate::server::unix_now();
            }
        }
    }
}

/// Remember (durably) what the peer confirmed.
fn save(server: &Arc<Mutex<Server>>, peer: u16, acked: Option<Pos>) {
    let Some(p) = acked.filter(|p| p.0 >= tally_wire::flood::POS_MIN) else {
        return;
    };
    if let Ok(mut sv) = server.lock() {
        if let Err(e) = sv.counter.store.set_peer_pos(peer, p) {
            log(&format!("flood position of {peer}: {e}"));
        }
    }
}

fn decode(b: &[u8], at_eof: bool) -> Result<Option<(ListenerMsg, usize)>, String> {
    ListenerMsg::decode(b, at_eof).map_err(|e| format!("bad answer in flood: {e}"))
}

/// The listener closed: fine after a graceful END.
fn eof(inbuf: &[u8], rem: &str) -> Result<(), String> {
    match ListenerMsg::decode(inbuf, true) {
        Ok(Some((ListenerMsg::End(t), _))) => {
            let t = String::from_utf8_lossy(&t).into_owned();
            if t.starts_with(tally_wire::flood::OK_PREFIX) {
                Ok(())
            } else {
                Err(format!("flood to {rem} ended: {t}"))
            }
        }
        _ => Err(format!("flood to {rem} closed without END")),
    }
}

/// Act on a listener's message (`first`: the one that starts the stream).
fn apply(
    m: ListenerMsg,
    first: bool,
    cursor: &mut Pos,
    stored: Option<Pos>,
    server: &Arc<Mutex<Server>>,
    acked: &mut Option<Pos>,
    rem: &str,
) -> Result<(), String> {
    match m {
        ListenerMsg::Ack(p) => {
            // the first answer may name where to start
            if first {
                *cursor = Pos(p);
            }
            *acked = Some(Pos(p));
        }
        ListenerMsg::Rewind => {
            if !first {
                log(&format!("rewind flood to {rem}"));
            }
            *cursor = Pos::START;
        }
        ListenerMsg::FfwdIn => {
            let sv = server.lock().map_err(|_| "stopped")?;
            *cursor = Pos(sv.counter.store.next_pos().0.saturating_sub(1));
            log(&format!("fast forward flood to {rem}"));
        }
        ListenerMsg::Note(t) => {
            if first {
                *cursor = stored.unwrap_or(Pos::START);
            }
            let t = String::from_utf8_lossy(&t).into_owned();
            if t != tally_wire::flood::ARE_YOU_THERE {
                log(&format!("note from {rem}: {t}"));
            }
        }
        ListenerMsg::Complaint(t) => {
            log(&format!(
                "complaint from {rem}: {}",
                String::from_utf8_lossy(&t)
            ));
        }
        ListenerMsg::End(t) => {
            return Err(format!(
                "flood to {rem} ended: {}",
                String::from_utf8_lossy(&t)
            ));
        }
        ListenerMsg::EndReq => {}
    }
    Ok(())
}
