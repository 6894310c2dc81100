//! The decisions of the flooding protocol, without I/O: whether a version
//! header is accepted (and the END text when not), which log records go to
//! a peer and how, and what an incoming record does to our database.
//!
//! END texts are the original's (dccd 2.3.167), so that a peer's log shows
//! the same reasons whichever server it talks to.

use tally_ck::{CkType, Sum};
use tally_store::{tgts, Ck, LogEntry, Report, Ts};
use tally_wire::flood::{
    path_ids, path_sum, FlodVersion, FloodReport, Ts as WireTs, VersionHeader, MAX_PATH_CKS,
    OK_PREFIX, POS_MIN, RPT_FIXED_LEN, SRVR_ID_DATE, VERS7, VERS_BASE,
};
use tally_wire::ids::Ids;
use tally_wire::{Tgts, WireCk};

use super::file::Peer;

/// Reports with fewer targets than this are not flooded (dccd(8): only
/// "checksums with total counts exceeding thresholds").
pub const FLOD_THRESHOLD: u32 = 10;
/// Most checksums in a flooded record.
const MAX_CKS: usize = 14;
/// Seconds without a word from the sender before the listener repeats its
/// position (and the sender gives up, plus a little).
pub const KEEPALIVE_SECS: u64 = 600;

/// The key under which the store keeps the position a peer has sent us
/// (its own numbering), beside our position for that peer under its
/// server-ID: server-IDs are below 32768, so the high bit separates them.
pub fn in_key(peer: u16) -> u16 {
    peer | 0x8000
}

/// A header accepted: the peer's index in the flod file and whether it
/// exchanges reputations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// Index in the peer list.
    pub peer: usize,
    /// The peer announced reputations (`DCC flod version rep 7`).
    pub rep: bool,
}

/// The END text of a version string we do not speak.
pub fn bad_vers_text(h: &VersionHeader) -> String {
    let s = h.vers_str();
    let s = &s[..s.len().min(VERS_BASE.len() + 10)];
    format!(
        "unrecognized flod version; expected \"{VERS7}\" not \"{}\"",
        String::from_utf8_lossy(s)
    )
}

/// Check the 256 bytes that open an incoming flood, in the original's
/// order: junk versions at once, then the claimed server-ID, then the
/// signature, then a version of the right family but another number.
/// `Err` carries the END text.
pub fn check_header(
    h: &VersionHeader,
    peers: &[Peer],
    ids: &Ids,
    flod_file: &str,
) -> Result<Accepted, String> {
    let vers = h.version();
    if vers == FlodVersion::Garbage {
        return Err(bad_vers_text(h));
    }
    let id = h.sender_srvr_id;
    let Some(idx) = peers
        .iter()
        .position(|p| p.rem_id == id)
        .filter(|_| (100..=32767).contains(&id))
    else {
        return Err(format!("unauthorized ID {id}"));
    };
    let peer = &peers[idx];
    let pw_id = peer.passwd_id.unwrap_or(peer.rem_id);
    let Some(entry) = ids.get(u32::from(pw_id)) else {
        return Err(format!(
            "unknown passwd-ID {pw_id} in line {} of {flod_file}",
            peer.line
        ));
    };
    if !entry.passwords().any(|pw| h.verify(pw)) {
        return Err(format!("bad authentication for ID {pw_id}"));
    }
    match vers {
        FlodVersion::V7 => Ok(Accepted {
            peer: idx,
            rep: false,
        }),
        FlodVersion::V7Rep => Ok(Accepted {
            peer: idx,
            rep: true,
        }),
        _ => Err(bad_vers_text(h)),
    }
}

/// The graceful END text: `DCC flod ok: <who> EOF`.
pub fn ok_text(who: &str) -> String {
    format!("{OK_PREFIX}{who} EOF")
}

/// How the original names a peer: the flod file's host, its address when
/// that differs, and the port when it is not the default.
pub fn rem_str(host: &str, addr: std::net::SocketAddr, default_port: u16) -> String {
    let ip = addr.ip().to_string();
    let mut s = host.to_string();
    if s != ip {
        s.push(' ');
        s.push_str(&ip);
    }
    if addr.port() != default_port {
        s.push_str(&format!(",{}", addr.port()));
    }
    s
}

/// Reputation checksum types (rep-total, rep), sent only to peers that
/// announced reputations.
fn is_rep(t: CkType) -> bool {
    matches!(t, CkType::GreyMsg | CkType::GreyTriple)
}

/// The record a log entry becomes for `peer`, or `None` when it is not
/// sent there: below the threshold, from that peer or through it, refused
/// by a translation or by `leaf=`, a deletion the peer does not take, or
/// nothing left after dropping reputations for a peer without them.
/// A greylist server (`grey`) floods every record: its counts are not
/// mail counts, and its checksum types are not reputations.
pub fn to_wire(e: &LogEntry, own: u16, peer: &Peer, rep: bool, grey: bool) -> Option<FloodReport> {
    let rep = rep || grey;
    let r = &e.report;
    if r.srvr_id == peer.rem_id || r.path.contains(&peer.rem_id) {
        return None;
    }
    if r.is_delete() {
        if !peer.send_del(rep) {
            return None;
        }
    } else if r.tgts < FLOD_THRESHOLD && !grey {
        return None;
    }
    let srvr_id = peer.out.translate(r.srvr_id, own)?;
    let mut path: Vec<u16> = Vec::new();
    if r.srvr_id != own {
        path.push(own);
        path.extend(r.path.iter().copied().filter(|&id| id != own));
    }
    if let Some(leaf) = peer.out.leaf {
        if path.len() > usize::from(leaf) {
            return None;
        }
    }
    path.truncate(8 * MAX_PATH_CKS);
    let mut cks: Vec<WireCk> = path
        .chunks(8)
        .map(|c| WireCk::new(CkType::EnvTo, path_sum(c)))
        .collect();
    let room = MAX_CKS - cks.len();
    let before = cks.len();
    cks.extend(
        r.cks
            .iter()
            .filter(|c| rep || !is_rep(c.ty))
            .filter(|c| c.ty != CkType::EnvTo)
            .take(room)
            .map(|c| WireCk::new(c.ty, c.sum)),
    );
    if cks.len() == before {
        return None;
    }
    let b = (r.ts.0 & 0xffff_ffff_ffff).to_be_bytes();
    Some(FloodReport {
        pos: e.pos.0.max(POS_MIN),
        tgts: Tgts(r.tgts),
        srvr_id,
        ts: WireTs([b[2], b[3], b[4], b[5], b[6], b[7]]),
        cks,
    })
}

/// The next record of an incoming stream: `Ok(None)` when more bytes are
/// needed; `Err` is the END text that closes the stream. `nth` counts the
/// records before this one. Unknown checksum types are left out of the
/// record (the original complains and goes on).
pub fn decode_in(b: &[u8], nth: u64) -> Result<Option<(FloodReport, usize)>, String> {
    let Some(p) = b.get(..8) else {
        return Ok(None);
    };
    let pos = u64::from_be_bytes(p.try_into().unwrap_or([0; 8]));
    if pos < POS_MIN {
        return Err(format!("bogus position {pos:#x} in flooded report #{nth}"));
    }
    let Some(f) = b.get(..RPT_FIXED_LEN) else {
        return Ok(None);
    };
    let n = f[20];
    if n == 0 || usize::from(n) > MAX_CKS {
        return Err(format!("impossible {n} checksums in report #{nth}"));
    }
    let len = RPT_FIXED_LEN + usize::from(n) * 18;
    let Some(body) = b.get(RPT_FIXED_LEN..len) else {
        return Ok(None);
    };
    let srvr_id = u16::from_be_bytes([f[12], f[13]]);
    let mut ts = [0u8; 6];
    ts.copy_from_slice(&f[14..20]);
    let mut cks = Vec::with_capacity(usize::from(n));
    for c in body.chunks_exact(18) {
        if c[1] != 18 {
            return Err(format!(
                "unknown checksum length {} in {}",
                c[1],
                rpt_id(srvr_id, WireTs(ts))
            ));
        }
        if let Some(ty) = CkType::from_number(c[0]) {
            let mut s = [0u8; 16];
            s.copy_from_slice(&c[2..]);
            cks.push(WireCk::new(ty, Sum(s)));
        }
    }
    let r = FloodReport {
        pos,
        tgts: Tgts(u32::from_be_bytes([f[8], f[9], f[10], f[11]])),
        srvr_id,
        ts: WireTs(ts),
        cks,
    };
    Ok(Some((r, len)))
}

/// How the original names a report in its messages.
pub fn rpt_id(srvr_id: u16, ts: WireTs) -> String {
    format!("report {}.{:06} ID={srvr_id}", ts.secs(), ts.usecs())
}

/// What an incoming record does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// Count it.
    Add(Report),
    /// Delete its checksums.
    Delete(Report),
    /// Acknowledge it without keeping it (keepalive, loop, refused,
    /// nothing kept); the text says why, for tracing.
    Skip(String),
    /// Close the stream with this END text.
    Close(String),
}

/// Decide about a decoded incoming record from `peer`. `keeps` says which
/// checksum types this server keeps; a greylist server (`grey`) keeps all.
pub fn incoming(
    r: &FloodReport,
    own: u16,
    peer: &Peer,
    rep: bool,
    grey: bool,
    keeps: &dyn Fn(CkType) -> bool,
) -> Incoming {
    let rep = rep || grey;
    if r.srvr_id == SRVR_ID_DATE {
        return Incoming::Skip("timestamp".into());
    }
    let t = r.tgts.0;
    let del = t == tgts::DEL;
    if del {
        if !peer.accept_del(rep) {
            return Incoming::Skip(format!("refuse delete request {}", rpt_id(r.srvr_id, r.ts)));
        }
    } else if t == 0 || t > tgts::MANY {
        return Incoming::Close(format!(
            "bogus target count {t:#x} in {}",
            rpt_id(r.srvr_id, r.ts)
        ));
    }
    let path = r.path();
    if r.srvr_id == own || path.contains(&own) {
        return Incoming::Skip("our own report".into());
    }
    let Some(srvr_id) = peer.inc.translate(r.srvr_id, own) else {
        return Incoming::Skip(format!("rejected server-ID in {}", rpt_id(r.srvr_id, r.ts)));
    };
    let mut cks: Vec<Ck> = Vec::with_capacity(r.cks.len());
    let mut prev: Option<CkType> = None;
    let mut path_blocks = 0;
    for c in &r.cks {
        if let Some(p) = prev {
            if c.ty <= p && p != CkType::EnvTo {
                return Incoming::Skip(format!(
                    "out of order {} checksum in {}",
                    c.ty,
                    rpt_id(r.srvr_id, r.ts)
                ));
            }
        }
        prev = Some(c.ty);
        if c.ty == CkType::EnvTo {
            path_blocks += 1;
            if path_blocks > MAX_PATH_CKS {
                return Incoming::Skip(format!("{path_blocks} path blocks"));
            }
            continue;
        }
        if c.ty == CkType::SrvrId || !(grey || keeps(c.ty)) || (is_rep(c.ty) && !rep) {
            continue;
        }
        cks.push(Ck::new(c.ty, c.sum));
    }
    if cks.is_empty() {
        return Incoming::Skip("nothing kept".into());
    }
    let mut path: Vec<u16> = if srvr_id == own && r.srvr_id != own {
        vec![peer.rem_id]
    } else {
        path
    };
    path.truncate(8);
    let tg = if del {
        tgts::DEL
    } else if peer.inc.traps {
        tgts::MANY
    } else {
        t
    };
    let rec = Report {
        ts: Ts(u64::from_be_bytes([
            0, 0, r.ts.0[0], r.ts.0[1], r.ts.0[2], r.ts.0[3], r.ts.0[4], r.ts.0[5],
        ])),
        srvr_id,
        tgts: tg,
        path,
        cks,
    };
    if del {
        Incoming::Delete(rec)
    } else {
        Incoming::Add(rec)
    }
}

/// The key by which a report is recognised when it arrives a second time
/// (by another path): the originating server, its timestamp and its first
/// checksum.
pub fn seen_key(r: &Report) -> Option<(u16, u64, Ck)> {
    r.cks.first().map(|c| (r.srvr_id, r.ts.0, *c))
}

/// The IDs of a record's flood path.
pub fn wire_path(r: &FloodReport) -> Vec<u16> {
    r.cks
        .iter()
        .filter(|c| c.ty == CkType::EnvTo)
        .flat_map(|c| path_ids(&c.sum))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flood::file::parse_line;
    use tally_store::Pos;

    fn peer(line: &str) -> Peer {
        parse_line(line, 1).unwrap()
    }

    fn entry(srvr_id: u16, tg: u32, path: Vec<u16>, cks: Vec<Ck>) -> LogEntry {
        LogEntry {
            pos: Pos(42),
            report: Report {
                ts: Ts::new(1_795_348_644, 266_432),
                srvr_id,
                tgts: tg,
                path,
                cks,
            },
        }
    }

    fn body(b: u8) -> Ck {
        Ck::new(CkType::Body, Sum([b; 16]))
    }

    #[test]
    fn what_goes_to_a_peer() {
        let p = peer("h 1101");
        // ours, bulk: sent without a path
        let r = to_wire(
            &entry(1100, 20, vec![], vec![body(1)]),
            1100,
            &p,
            true,
            false,
        )
        .unwrap();
        assert_eq!((r.pos, r.tgts.0, r.srvr_id), (42, 20, 1100));
        assert_eq!(r.path(), Vec::<u16>::new());
        assert_eq!(r.ts.secs(), 1_795_348_644);
        // below the threshold: not sent, except by a greylist server
        assert!(to_wire(
            &entry(1100, 9, vec![], vec![body(1)]),
            1100,
            &p,
            true,
            false
        )
        .is_none());
        assert!(to_wire(
            &entry(1100, 1, vec![], vec![body(1)]),
            1100,
            &p,
            false,
            true
        )
        .is_some());
        // from another server: our ID goes first in the path
        let r = to_wire(
            &entry(1102, 20, vec![1103], vec![body(1)]),
            1100,
            &p,
            true,
            false,
        )
        .unwrap();
        assert_eq!(r.path(), vec![1100, 1103]);
        assert_eq!(r.cks[0].ty, CkType::EnvTo);
        // never back to where it came from
        assert!(to_wire(
            &entry(1101, 20, vec![], vec![body(1)]),
            1100,
            &p,
            true,
            false
        )
        .is_none());
        assert!(to_wire(
            &entry(1102, 20, vec![1101], vec![body(1)]),
            1100,
            &p,
            true,
            false
        )
        .is_none());
        // reputations only to peers that take them
        let rep = vec![body(1), Ck::new(CkType::GreyMsg, Sum([2; 16]))];
        assert_eq!(
            to_wire(&entry(1100, 20, vec![], rep.clone()), 1100, &p, true, false)
                .unwrap()
                .cks
                .len(),
            2
        );
        assert_eq!(
            to_wire(&entry(1100, 20, vec![], rep), 1100, &p, false, false)
                .unwrap()
                .cks
                .len(),
            1
        );
        // deletions: by default only with reputations; del and no-del decide
        let del = entry(1100, tgts::DEL, vec![], vec![body(1)]);
        assert!(to_wire(&del, 1100, &p, true, false).is_some());
        assert!(to_wire(&del, 1100, &p, false, false).is_none());
        assert!(to_wire(&del, 1100, &peer("h 1101 - del"), false, false).is_some());
        assert!(to_wire(&del, 1100, &peer("h 1101 - no-del"), true, false).is_none());
        // leaf=1: paths longer than 1 are not sent
        let leaf = peer("h 1101 - leaf=1");
        assert!(to_wire(
            &entry(1102, 20, vec![], vec![body(1)]),
            1100,
            &leaf,
            true,
            false
        )
        .is_some());
        assert!(to_wire(
            &entry(1102, 20, vec![1103], vec![body(1)]),
            1100,
            &leaf,
            true,
            false
        )
        .is_none());
        // translations: self->ok,all->reject sends only our own reports
        let only = peer("h 1101 - self->ok,all->reject");
        assert!(to_wire(
            &entry(1100, 20, vec![], vec![body(1)]),
            1100,
            &only,
            true,
            false
        )
        .is_some());
        assert!(to_wire(
            &entry(1102, 20, vec![], vec![body(1)]),
            1100,
            &only,
            true,
            false
        )
        .is_none());
    }

    fn wire(srvr_id: u16, tg: u32, path: &[u16], cks: &[(CkType, u8)]) -> FloodReport {
        let mut c: Vec<WireCk> = Vec::new();
        if !path.is_empty() {
            c.push(WireCk::new(CkType::EnvTo, path_sum(path)));
        }
        c.extend(cks.iter().map(|&(t, b)| WireCk::new(t, Sum([b; 16]))));
        FloodReport {
            pos: 100,
            tgts: Tgts(tg),
            srvr_id,
            ts: WireTs::new(1_795_348_644, 266_432),
            cks: c,
        }
    }

    #[test]
    fn what_an_incoming_record_does() {
        let p = peer("h 1101");
        let all = |_: CkType| true;
        let body_only = |t: CkType| t == CkType::Body;
        match incoming(
            &wire(1102, 20, &[1101], &[(CkType::Body, 1)]),
            1100,
            &p,
            true,
            false,
            &all,
        ) {
            Incoming::Add(r) => {
                assert_eq!((r.srvr_id, r.tgts, r.path.clone()), (1102, 20, vec![1101]));
                assert_eq!(r.ts, Ts::new(1_795_348_644, 266_432));
            }
            other => panic!("{other:?}"),
        }
        // loops are stopped
        assert!(matches!(
            incoming(
                &wire(1100, 20, &[], &[(CkType::Body, 1)]),
                1100,
                &p,
                true,
                false,
                &all
            ),
            Incoming::Skip(_)
        ));
        assert!(matches!(
            incoming(
                &wire(1102, 20, &[1100], &[(CkType::Body, 1)]),
                1100,
                &p,
                true,
                false,
                &all
            ),
            Incoming::Skip(_)
        ));
        // timestamps records are ignored; nothing kept is skipped
        assert!(matches!(
            incoming(
                &wire(99, 1, &[], &[(CkType::SrvrId, 1)]),
                1100,
                &p,
                true,
                false,
                &all
            ),
            Incoming::Skip(_)
        ));
        assert!(matches!(
            incoming(
                &wire(1102, 20, &[], &[(CkType::Fuz1, 1)]),
                1100,
                &p,
                true,
                false,
                &body_only
            ),
            Incoming::Skip(_)
        ));
        // traps: counts become many
        let traps = peer("h 1101 - - traps");
        match incoming(
            &wire(1101, 20, &[], &[(CkType::Body, 1)]),
            1100,
            &traps,
            true,
            false,
            &all,
        ) {
            Incoming::Add(r) => assert_eq!(r.tgts, tgts::MANY),
            other => panic!("{other:?}"),
        }
        // deletions: accepted with reputations or del, refused otherwise
        let d = wire(1101, tgts::DEL, &[], &[(CkType::Body, 1)]);
        assert!(matches!(
            incoming(&d, 1100, &p, true, false, &all),
            Incoming::Delete(_)
        ));
        assert!(matches!(
            incoming(&d, 1100, &p, false, false, &all),
            Incoming::Skip(_)
        ));
        assert!(matches!(
            incoming(&d, 1100, &peer("h 1101 - - del"), false, false, &all),
            Incoming::Delete(_)
        ));
        assert!(matches!(
            incoming(&d, 1100, &peer("h 1101 - - no-del"), true, false, &all),
            Incoming::Skip(_)
        ));
        // bad counts end the stream
        assert_eq!(
            incoming(
                &wire(1101, 0x00ff_fff5, &[], &[(CkType::Body, 1)]),
                1100,
                &p,
                true,
                false,
                &all
            ),
            Incoming::Close(
                "bogus target count 0xfffff5 in report 1795348644.266432 ID=1101".into()
            )
        );
        // translations: rejected IDs skipped, self: the report becomes ours
        let tr = peer("h 1101 - - 1102->reject,1103->self");
        assert!(matches!(
            incoming(
                &wire(1102, 20, &[], &[(CkType::Body, 1)]),
                1100,
                &tr,
                true,
                false,
                &all
            ),
            Incoming::Skip(_)
        ));
        match incoming(
            &wire(1103, 20, &[], &[(CkType::Body, 1)]),
            1100,
            &tr,
            true,
            false,
            &all,
        ) {
            Incoming::Add(r) => assert_eq!((r.srvr_id, r.path), (1100, vec![1101])),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stream_decoding() {
        let mut b = Vec::new();
        wire(1101, 20, &[1102], &[(CkType::Body, 1)]).encode_into(&mut b);
        let (r, n) = decode_in(&b, 0).unwrap().unwrap();
        assert_eq!(n, b.len());
        assert_eq!(r.path(), vec![1102]);
        for cut in 0..b.len() {
            assert_eq!(decode_in(&b[..cut], 0), Ok(None), "cut {cut}");
        }
        b[0..8].copy_from_slice(&3u64.to_be_bytes());
        assert_eq!(
            decode_in(&b, 7),
            Err("bogus position 0x3 in flooded report #7".into())
        );
    }
}
