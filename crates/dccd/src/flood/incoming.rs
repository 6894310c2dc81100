//! An incoming flood: a peer connected to our TCP port, sends its version
//! header and then reports; we answer with positions, notes and an END.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use tally_wire::flood::{ListenerMsg, VersionHeader, ARE_YOU_THERE, VERS_HDR_LEN};

use super::proto::{self, Incoming, KEEPALIVE_SECS};
use super::state::Flood;
use crate::server::Server;
use crate::trace::log;

/// How often a quiet stream looks for requests of `cdcc`.
const TICK: Duration = Duration::from_millis(250);
/// Most bytes read at once.
const BUF: usize = 64 * 1024;

async fn send(wr: &mut TcpStream, m: &ListenerMsg) -> std::io::Result<()> {
    let mut out = Vec::new();
    m.encode_into(&mut out);
    wr.write_all(&out).await
}

/// End the stream with an END text, log it, and close.
async fn end(s: &mut TcpStream, text: &str, logged: Option<String>) {
    if let Some(l) = logged {
        log(&l);
    }
    let _ = send(s, &ListenerMsg::End(text.as_bytes().to_vec())).await;
    let _ = s.shutdown().await;
    // let the peer read the END before the socket goes
    let mut sink = [0u8; 512];
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(n) = s.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// A connection accepted on our flooding port: refused at once with the
/// END text `blacklisted` when the `blacklist` file's line for the
/// peer's address says `bad` without `flood-ok` (as the original does
/// before reading anything), else served. The first refusal of an
/// address since `cdcc "stats clear"` is logged, every one with the
/// line's `trace` or the trace mode FLOOD1.
pub async fn accepted(
    mut s: TcpStream,
    from: SocketAddr,
    server: Arc<Mutex<Server>>,
    flood: Arc<Mutex<Flood>>,
) {
    let refused = match server.lock() {
        Ok(mut sv) => match sv.blacklist.lookup(from.ip()) {
            Some(hit) if hit.flags.refuses_flood() => {
                let first = sv.clients.first_flood_refusal(from.ip().to_canonical());
                Some(first || hit.flags.trace() || sv.trace & crate::trace::Trace::FLOOD1 != 0)
            }
            _ => None,
        },
        Err(_) => return,
    };
    if let Some(say) = refused {
        let default_port = flood.lock().map_or(0, |f| f.default_port);
        let ip = from.ip().to_canonical();
        let rem = proto::rem_str(
            &ip.to_string(),
            SocketAddr::new(ip, from.port()),
            default_port,
        );
        let logged =
            say.then(|| format!("stop incoming flood; error, send '{BLACKLISTED}' to {rem}"));
        end(&mut s, BLACKLISTED, logged).await;
        return;
    }
    serve(s, from, server, flood).await
}

/// The END text of a flood from a blacklisted address.
pub const BLACKLISTED: &str = "blacklisted";

/// Serve one incoming connection to its end.
pub async fn serve(
    s: TcpStream,
    from: SocketAddr,
    server: Arc<Mutex<Server>>,
    flood: Arc<Mutex<Flood>>,
) {
    serve_conn(s, from, server, flood, false).await;
}

/// Serve a connection for an incoming stream to its end: one the peer
/// made, or (`ours`) one we made to a `SOCKS` or `NAT` peer after sending
/// our header with `turn`. For ours, what the peer sent instead of its
/// header when it closed at once (its refusal) is returned.
async fn serve_conn(
    mut s: TcpStream,
    from: SocketAddr,
    server: Arc<Mutex<Server>>,
    flood: Arc<Mutex<Flood>>,
    ours: bool,
) -> Option<Vec<u8>> {
    let mut hdr = vec![0u8; VERS_HDR_LEN];
    let mut got = 0;
    while got < VERS_HDR_LEN {
        let r = tokio::time::timeout(Duration::from_secs(60), s.read(&mut hdr[got..])).await;
        match r {
            Ok(Ok(0)) if ours => {
                hdr.truncate(got);
                return Some(hdr);
            }
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => {
                log(&format!("garbage connection from {from}"));
                return None;
            }
            Ok(Ok(n)) => got += n,
        }
    }
    let Ok(h) = VersionHeader::decode(&hdr) else {
        return None;
    };
    let checked = {
        let ids = match server.lock() {
            Ok(sv) => sv.ids.clone(),
            Err(_) => return None,
        };
        let Ok(f) = flood.lock() else { return None };
        proto::check_header(&h, &f.peers, &ids, &f.file.display().to_string())
            .map(|a| (a, f.peers[a.peer].clone(), f.default_port, f.own))
    };
    let (acc, peer, default_port, own) = match checked {
        Ok(x) => x,
        Err(text) => {
            end(&mut s, &text, Some(format!("{text} from {from}"))).await;
            return None;
        }
    };
    let rem = proto::rem_str(&peer.host, from, default_port);
    let traced = peer.inc.trace1 || trace_on(&server, crate::trace::Trace::FLOOD1);
    if h.turn != 0 {
        // A peer behind a firewall made the connection for our stream to
        // it: as the original, we turn it around whether or not we are
        // `passive` for the peer, unless our stream to it runs already.
        if peer.out.off {
            let text = format!("passive output flooding off from {rem}");
            end(&mut s, &text, Some(text.clone())).await;
            return None;
        }
        let Some(claim) = super::outgoing::claim_out(&flood, peer.rem_id, from, true) else {
            let text = format!("reject duplicate passive output flood from {rem}");
            let logged =
                traced.then(|| format!("stop incoming flood; error, send '{text}' to {rem}"));
            end(&mut s, &text, logged).await;
            return None;
        };
        if !peer.out.passive {
            log(&format!(
                "convert incoming flood to forced passive outgoing to {rem}"
            ));
        } else if traced {
            log(&format!(
                "convert incoming flood to passive outgoing to {rem}"
            ));
        }
        if let Ok(mut f) = flood.lock() {
            f.status_mut(peer.rem_id).rep = acc.rep;
        }
        super::outgoing::turned(s, from, peer, server, flood, claim).await;
        return None;
    }
    if peer.inc.off {
        let text = format!("flood from {rem} turned off");
        end(&mut s, &text, Some(text.clone())).await;
        return None;
    }
    let id = peer.rem_id;
    let key = proto::in_key(id);
    let start = {
        let Ok(sv) = server.lock() else { return None };
        sv.counter.store.peer_pos(key).ok().flatten()
    };
    if let Ok(mut f) = flood.lock() {
        let st = f.status_mut(id);
        st.in_state(true, crate::server::unix_now());
        st.rep = acc.rep;
        st.in_srvr = !ours;
        st.in_addr = Some(from);
        // the peer is awake: our stream to it need not wait to try again
        let waiting = !st.out_busy;
        if waiting && !peer.out.passive && !peer.out.off {
            f.rush(id).notify_one();
        }
    }
    let up = InUp {
        flood: flood.clone(),
        id,
    };
    if traced {
        log(&format!("flood from {rem} authenticated"));
    }
    // a position below 10 is what `flood rewind` leaves: ask for it all.
    // Otherwise say only that we are here, as the original does: a sender
    // resumes from what it has confirmed itself, and an original sender
    // closes the stream on a position outside what it sent on this
    // connection ("bogus confirmed flood position").
    let start = start.filter(|p| p.0 >= tally_wire::flood::POS_MIN);
    let first = match start {
        Some(_) => ListenerMsg::Note(ARE_YOU_THERE.into()),
        None => ListenerMsg::Rewind,
    };
    // the last position received on this connection (acknowledged, kept)
    let mut last = None;
    let result = async {
        send(&mut s, &first).await.map_err(|e| e.to_string())?;
        receive(&mut s, &server, &flood, &peer, acc.rep, own, &mut last).await
    }
    .await;
    drop(up);
    // where this stream got to, for the next one
    if let (Some(p), Ok(mut sv)) = (last, server.lock()) {
        if p >= tally_wire::flood::POS_MIN {
            if let Err(e) = sv.counter.store.set_peer_pos(key, tally_store::Pos(p)) {
                log(&format!("flood position of {id}: {e}"));
            }
        }
    }
    match result {
        Ok((0, _)) => {
            let halted = flood.lock().map(|f| f.halted).unwrap_or(false);
            let who = if halted { hostname() } else { rem.clone() };
            end(&mut s, &proto::ok_text(&who), None).await;
        }
        Ok((left, n)) => {
            let text = format!("report {n} truncated after {left} bytes at EOF");
            end(&mut s, &text, Some(format!("{text} from {rem}"))).await;
        }
        Err(text) => {
            if let Ok(mut f) = flood.lock() {
                f.status_mut(id).in_err = text.clone();
            }
            end(&mut s, &text, Some(format!("{text} from {rem}"))).await;
        }
    }
    None
}

/// An incoming stream counted as up until this is dropped (also when the
/// task serving it is aborted).
struct InUp {
    flood: Arc<Mutex<Flood>>,
    id: u16,
}

impl Drop for InUp {
    fn drop(&mut self) {
        if let Ok(mut f) = self.flood.lock() {
            let st = f.status_mut(self.id);
            st.in_state(false, crate::server::unix_now());
            if st.in_up == 0 {
                st.in_addr = None;
            }
        }
    }
}

/// Count the records gathered so far (one write), in order.
fn add_all(sv: &mut Server, adds: &mut Vec<tally_store::Report>) -> Result<(), String> {
    if adds.is_empty() {
        return Ok(());
    }
    sv.counter
        .store
        .add_batch(adds)
        .map_err(|e| e.to_string())?;
    for rec in adds.iter() {
        apply_grey(sv, rec);
    }
    adds.clear();
    Ok(())
}

/// A greylist server's decisions learn a flooded record too.
fn apply_grey(sv: &mut Server, rec: &tally_store::Report) {
    if let Some(g) = sv.grey.as_mut() {
        if let Some(c) = crate::grey::change_of(rec) {
            g.grey.apply(&c);
        }
    }
}

fn trace_on(server: &Arc<Mutex<Server>>, bit: u32) -> bool {
    server.lock().map(|s| s.trace & bit != 0).unwrap_or(false)
}

/// Our host name, for the END of a stream while our flooding is off.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Read reports until the sender half-closes: `Ok((bytes left over,
/// records read))` at
/// its EOF, `Err(END text)` when the stream must end.
async fn receive(
    s: &mut TcpStream,
    server: &Arc<Mutex<Server>>,
    flood: &Arc<Mutex<Flood>>,
    peer: &super::file::Peer,
    rep: bool,
    own: u16,
    last: &mut Option<u64>,
) -> Result<(usize, u64), String> {
    let mut buf: Vec<u8> = Vec::with_capacity(BUF);
    let mut tmp = vec![0u8; BUF];
    let mut nth: u64 = 0;
    let id = peer.rem_id;
    let mut idle = Duration::ZERO;
    let mut end_req = false;
    let mut saved_at = std::time::Instant::now();
    let host = hostname();
    loop {
        // requests of cdcc for this peer, and a halt of flooding
        let (cmds, halted) = match flood.lock() {
            Ok(mut f) => (f.in_cmds.remove(&id).unwrap_or_default(), f.halted),
            Err(_) => return Err("server stopped".into()),
        };
        for m in cmds {
            if m == ListenerMsg::Rewind {
                *last = None;
                if let Ok(mut sv) = server.lock() {
                    let _ = sv
                        .counter
                        .store
                        .set_peer_pos(proto::in_key(id), tally_store::Pos(0));
                }
            }
            send(s, &m).await.map_err(|e| e.to_string())?;
        }
        if halted && !end_req {
            end_req = true;
            send(s, &ListenerMsg::EndReq)
                .await
                .map_err(|e| e.to_string())?;
        }
        let n = match tokio::time::timeout(TICK, s.read(&mut tmp)).await {
            Err(_) => {
                idle += TICK;
                if idle >= Duration::from_secs(KEEPALIVE_SECS) {
                    // nothing for a while: say we are still here
                    idle = Duration::ZERO;
                    let m = match last {
                        Some(p) => ListenerMsg::Ack(*p),
                        None => ListenerMsg::Note(ARE_YOU_THERE.into()),
                    };
                    send(s, &m).await.map_err(|e| e.to_string())?;
                }
                continue;
            }
            Ok(Err(e)) => return Err(format!("incoming flood recv: {e}")),
            Ok(Ok(0)) => return Ok((buf.len(), nth)),
            Ok(Ok(n)) => n,
        };
        idle = Duration::ZERO;
        buf.extend_from_slice(&tmp[..n]);
        let mut off = 0;
        let mut moved = false;
        {
            let Ok(mut sv) = server.lock() else {
                return Err("server stopped".into());
            };
            let mut adds: Vec<tally_store::Report> = Vec::new();
            let now = sv.clock.unwrap_or_else(crate::server::unix_now);
            let nokeep = sv.counter.nokeep;
            let grey = sv.grey.is_some();
            let keeps = |t: tally_ck::CkType| nokeep & (1u32 << t.number()) == 0;
            let trace2 = peer.inc.trace2 || sv.trace & crate::trace::Trace::FLOOD2 != 0;
            loop {
                // what came before a damaged record is counted all the same
                let (r, len) = match proto::decode_in(&buf[off..], nth) {
                    Ok(Some(x)) => x,
                    Ok(None) => break,
                    Err(e) => {
                        add_all(&mut sv, &mut adds)?;
                        return Err(e);
                    }
                };
                off += len;
                nth += 1;
                // bad records end the stream first; then old or future
                // reports are acknowledged without being counted
                let mut stale = false;
                let decision = match super::records::incoming_for(
                    &r,
                    own,
                    Some(&host),
                    peer,
                    rep,
                    grey,
                    &keeps,
                ) {
                    d @ (Incoming::Add(_) | Incoming::Delete(_)) => {
                        match super::records::timely(&r, now) {
                            Ok(()) => d,
                            Err(why) => {
                                stale = true;
                                Incoming::Skip(why)
                            }
                        }
                    }
                    d => d,
                };
                let Ok(mut f) = flood.lock() else {
                    return Err("server stopped".into());
                };
                {
                    let st = f.status_mut(id);
                    st.received += 1;
                    st.in_alive = now;
                    st.stale += u64::from(stale);
                }
                // As the original, a report whose checksums are
                // whitelisted here is neither counted nor passed on
                // (the original also sends a NOTE back; we log it
                // with FLOOD2).
                let decision = match decision {
                    Incoming::Add(rec)
                        if super::records::refused_as_whitelisted(
                            &rec,
                            grey,
                            |t| !grey && crate::opts::default_nokeep() & (1u32 << t.number()) != 0,
                            |c| sv.counter.store.total(c).unwrap_or(0),
                        ) =>
                    {
                        f.status_mut(id).white += 1;
                        Incoming::Skip(format!("whitelisted {}", proto::rpt_id(r.srvr_id, r.ts)))
                    }
                    d => d,
                };
                match decision {
                    Incoming::Add(rec) => {
                        let fresh = proto::seen_key(&rec).is_some_and(|k| f.seen.insert(k));
                        if fresh {
                            // one write for the records of a read
                            adds.push(rec);
                            f.status_mut(id).accepted += 1;
                        } else {
                            f.status_mut(id).dup += 1;
                            if trace2 {
                                log(&format!("duplicate {}", proto::rpt_id(r.srvr_id, r.ts)));
                            }
                        }
                    }
                    Incoming::Delete(rec) => {
                        let fresh = proto::seen_key(&rec).is_some_and(|k| f.seen.insert(k));
                        if fresh {
                            add_all(&mut sv, &mut adds)?;
                            if !peer.inc.no_log_del && !grey {
                                log(&format!(
                                    "accept delete request {}",
                                    proto::rpt_id(r.srvr_id, r.ts)
                                ));
                            }
                            for ck in &rec.cks {
                                sv.counter
                                    .store
                                    .delete(*ck, rec.srvr_id, rec.ts)
                                    .map_err(|e| e.to_string())?;
                                let one = tally_store::Report {
                                    cks: vec![*ck],
                                    ..rec.clone()
                                };
                                apply_grey(&mut sv, &one);
                            }
                            let st = f.status_mut(id);
                            st.accepted += 1;
                            st.deleted += 1;
                        } else {
                            f.status_mut(id).dup += 1;
                        }
                    }
                    Incoming::Claimed(text) => log(&text),
                    Incoming::Skip(why) => {
                        if trace2 {
                            log(&format!("{why} from {}", peer.host));
                        }
                    }
                    Incoming::Close(text) => {
                        add_all(&mut sv, &mut adds)?;
                        return Err(text);
                    }
                }
                *last = Some(r.pos);
                moved = true;
            }
            add_all(&mut sv, &mut adds)?;
            if moved && saved_at.elapsed() >= super::outgoing::SAVE_EVERY {
                if let Some(p) = *last {
                    sv.counter
                        .store
                        .set_peer_pos(proto::in_key(id), tally_store::Pos(p))
                        .map_err(|e| e.to_string())?;
                    saved_at = std::time::Instant::now();
                }
            }
        }
        buf.drain(..off);
        if moved {
            if let Some(p) = *last {
                send(s, &ListenerMsg::Ack(p))
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
    }
}

/// For a peer marked `SOCKS` or `NAT` (we are behind a firewall): make the
/// connection for its stream to us too, asking it to turn the connection
/// around, and serve it as an incoming stream; again after each end. As
/// the original, not while the peer's own connection brings its stream.
/// A peer that answers our header with an END instead of its own is
/// logged in the original's words; after `bad authentication` the next
/// try is at once with the second password of the passwd-ID, after
/// `unrecognized flod version` with the plain version string.
pub async fn reverse(
    peer: super::file::Peer,
    server: Arc<Mutex<Server>>,
    flood: Arc<Mutex<Flood>>,
) {
    let kind = if peer.out.socks { "SOCKS" } else { "NAT" };
    let id = peer.rem_id;
    let mut wait = super::outgoing::RETRY;
    let mut second = false;
    loop {
        while in_up(&flood, id) {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let began = std::time::Instant::now();
        let default_port = match flood.lock() {
            Ok(f) => f.default_port,
            Err(_) => return,
        };
        let r = async {
            let (header, _, rep) =
                super::outgoing::header_for(&peer, &server, &flood, second, true)?;
            let (mut s, addr) = super::outgoing::connect(&peer, default_port).await?;
            s.write_all(&header)
                .await
                .map_err(|e| format!("flood from {}: {e}", peer.host))?;
            let refused = serve_conn(s, addr, server.clone(), flood.clone(), true).await;
            Ok::<_, String>((refused, addr, rep))
        }
        .await;
        let mut again = false;
        match r {
            Err(e) => log(&e),
            Ok((None, _, _)) => {}
            Ok((Some(bytes), addr, rep)) => {
                let rem = proto::rem_str(&peer.host, addr, default_port);
                let (text, soon) = refusal(kind, &rem, &bytes, rep, &mut second);
                if soon && rep && text.contains("unrecognized flod version") {
                    if let Ok(mut f) = flood.lock() {
                        f.status_mut(id).reps_rejected = Some(std::time::Instant::now());
                    }
                }
                if let Ok(mut f) = flood.lock() {
                    f.status_mut(id).in_err = text.clone();
                }
                if !soon || trace_on(&server, crate::trace::Trace::FLOOD1) || peer.inc.trace1 {
                    log(&format!("stop incoming flood; error, '{text}'"));
                }
                again = soon;
            }
        }
        if began.elapsed() > super::outgoing::MAX_RETRY || again {
            wait = super::outgoing::RETRY;
        }
        if again {
            continue;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(super::outgoing::MAX_RETRY);
    }
}

/// Is an incoming stream from the peer up?
fn in_up(flood: &Arc<Mutex<Flood>>, id: u16) -> bool {
    flood
        .lock()
        .map(|f| f.status.get(&id).is_some_and(|s| s.in_up > 0))
        .unwrap_or(false)
}

/// What a peer sent back on the connection we made for its stream
/// instead of its header: the text to log, and whether to try again at
/// once (a second password after `bad authentication`, the plain version
/// string after `unrecognized flod version` to our reputations header),
/// as the original's reading of such a refusal.
pub fn refusal(
    kind: &str,
    rem: &str,
    bytes: &[u8],
    rep: bool,
    second: &mut bool,
) -> (String, bool) {
    let end = match ListenerMsg::decode(bytes, true) {
        Ok(Some((ListenerMsg::End(t), n)))
            if n == bytes.len() && !t.is_empty() && t.iter().all(|c| (b' '..=b'~').contains(c)) =>
        {
            t
        }
        _ => {
            let shown = String::from_utf8_lossy(bytes.get(8..).unwrap_or_default());
            return (format!("{kind} rejected with \"{shown}\""), false);
        }
    };
    let t = String::from_utf8_lossy(&end).into_owned();
    let soon = if t.starts_with("bad authentication") {
        *second = !*second;
        *second
    } else {
        rep && t.starts_with("unrecognized flod version")
    };
    (format!("{kind} rejected by {rem} with \"{t}\""), soon)
}
