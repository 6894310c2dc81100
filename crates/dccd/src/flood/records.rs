//! Report records, without I/O: which log records go to a peer and how
//! (threshold, path, translations, reputations, deletions), the records of
//! an incoming stream (with the original's END texts for damaged ones), and
//! what each does to our database.

use tally_ck::{CkType, Sum};
use tally_store::{tgts, Ck, LogEntry, Report, Ts};
use tally_wire::flood::{
    path_ids, path_sum, sum_text, FloodReport, Ts as WireTs, MAX_PATH_CKS, POS_MIN, RPT_FIXED_LEN,
    SRVR_ID_DATE,
};
use tally_wire::{Tgts, WireCk};

use super::file::Peer;
use super::proto::{rpt_id, FLOD_THRESHOLD};

/// Most checksums in a flooded record.
const MAX_CKS: usize = 14;
/// Most server-IDs in a flood path (three path checksums of eight).
pub const MAX_PATH: usize = 8 * MAX_PATH_CKS;

/// Reputation checksum types (rep-total, rep), sent only to peers that
/// announced reputations.
fn is_rep(t: CkType) -> bool {
    matches!(t, CkType::GreyMsg | CkType::GreyTriple)
}

/// How fuzzy a checksum type is, as the original ranks them (its
/// `dcc_ck_fuzziness` and, for a greylist server, `grey_ck_fuzziness`):
/// a whitelisted checksum of a report makes its less fuzzy checksums
/// count for nothing when the report is flooded.
fn fuzziness(t: CkType, grey: bool) -> u8 {
    use CkType::*;
    if grey {
        match t {
            Ip => 3,
            GreyTriple | SrvrId | EnvTo => 2,
            _ => 1,
        }
    } else {
        match t {
            Fuz1 => 2,
            Fuz2 | SrvrId | EnvTo => 3,
            GreyMsg | GreyTriple => 4,
            _ => 1,
        }
    }
}

/// Whether a report (not a deletion nor a server-ID claim) is kept from
/// the peers because of checksums whitelisted here (`white`: the server
/// whitelist, `whitelist` or `grey_whitelist`), as the original's
/// `oflod_ck_put` decides for its records, whose whitelisted checksums
/// are marked obsolete as they are added: taking the checksums in order,
/// a whitelisted one fuzzier than any seen before withholds the report,
/// and one that is not whitelisted, at least as fuzzy as any seen before,
/// lets it go. A report without a whitelisted checksum is not withheld;
/// one that goes keeps its whitelisted checksums.
pub fn withheld_as_whitelisted(r: &Report, grey: bool, white: impl Fn(&Ck) -> bool) -> bool {
    if r.is_delete() || is_claim(r) {
        return false;
    }
    let (mut level, mut send, mut any) = (0u8, false, false);
    for c in r.cks.iter().filter(|c| c.ty != CkType::EnvTo) {
        let f = fuzziness(c.ty, grey);
        if white(c) {
            any = true;
            if level < f {
                level = f;
                send = false;
            }
        } else if level <= f {
            level = f;
            send = true;
        }
    }
    any && !send
}

/// Whether a report received from a peer is refused because its
/// checksums are whitelisted here (`total`: a checksum's total here,
/// its whitelist value when whitelisted), as the original's `iflod_rpt`
/// looks: the checksums are taken in classes (those not kept by default,
/// `global_nokeep`; reputations; the others), and the first checksum of
/// each class decides for it: whitelisted `ok` (or, on a greylist
/// server, `ok2`), or the second `ok2` of a DCC server's report.
pub fn refused_as_whitelisted(
    r: &Report,
    grey: bool,
    global_nokeep: impl Fn(CkType) -> bool,
    total: impl Fn(&Ck) -> u32,
) -> bool {
    if r.is_delete() {
        return false;
    }
    let mut seen = [false; 3];
    let mut ok2 = 0;
    for c in r.cks.iter().filter(|c| c.ty != CkType::EnvTo) {
        let class = if global_nokeep(c.ty) {
            0
        } else if !grey && is_rep(c.ty) {
            1
        } else {
            2
        };
        if std::mem::replace(&mut seen[class], true) {
            continue;
        }
        match total(c) {
            tgts::OK => return true,
            tgts::OK2 => {
                ok2 += 1;
                if grey || ok2 >= 2 {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
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
    let claim = is_claim(r);
    // claims are the only reports that go back to their server or to a
    // server on their path
    if !claim && (r.srvr_id == peer.rem_id || r.path.contains(&peer.rem_id)) {
        return None;
    }
    if claim {
        // whatever its count
    } else if r.is_delete() {
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
    // as the original: no record with a path longer than 24 IDs, and no
    // report (but claims) whose path, counting ours, reaches `leaf=` (24
    // without it): `leaf=1` sends only our own reports, `leaf=0` none
    if path.len() > MAX_PATH {
        return None;
    }
    if !claim && path.len() >= peer.out.leaf.map_or(MAX_PATH, usize::from) {
        return None;
    }
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
    /// Acknowledge it, and log this (another host claims our server-ID).
    Claimed(String),
}

/// A server-ID claim: a record naming the host of its server (sent at
/// start and every 12 hours).
pub fn is_claim(r: &Report) -> bool {
    !r.is_delete() && r.cks.iter().any(|c| c.ty == CkType::SrvrId)
}

/// The checksum of a claim: the host name, NUL-padded (cut to 16 bytes).
pub fn claim_sum(host: &str) -> Sum {
    let mut s = [0u8; 16];
    let b = host.as_bytes();
    let n = b.len().min(16);
    s[..n].copy_from_slice(&b[..n]);
    Sum(s)
}

/// How often we claim our server-ID.
pub const CLAIM_SECS: u64 = 12 * 60 * 60;

/// Reports older than this are stale: not counted (they could be
/// duplicates of reports already expired here).
pub const STALE_SECS: u64 = 24 * 60 * 60;
/// Reports dated this far ahead of our clock are refused.
pub const MAX_CLOCK_SKEW: u64 = 2 * 60 * 60;

/// Is a log record too old to be flooded at `now` (seconds)? A peer
/// would not count it (stale), so the original does not send it; this
/// holds for every record, claims and deletions too.
pub fn too_old_to_send(r: &Report, now: u64) -> bool {
    r.ts.secs() < now.saturating_sub(STALE_SECS)
}

/// Is a record timely at `now` (seconds)? `Err` says why not: it is
/// acknowledged without being counted. Server-ID claims are never stale.
pub fn timely(r: &FloodReport, now: u64) -> Result<(), String> {
    let secs = r.ts.secs();
    if secs > now.saturating_add(MAX_CLOCK_SKEW) {
        return Err(format!("future {}", rpt_id(r.srvr_id, r.ts)));
    }
    let claim = r.cks.iter().any(|c| c.ty == CkType::SrvrId);
    if secs < now.saturating_sub(STALE_SECS) && !claim && r.tgts.0 != tgts::DEL {
        return Err(format!("stale {}", rpt_id(r.srvr_id, r.ts)));
    }
    Ok(())
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
    incoming_for(r, own, None, peer, rep, grey, keeps)
}

/// [`incoming`] knowing our host name (`own_host`), so that a claim of
/// our server-ID by another host is noticed.
pub fn incoming_for(
    r: &FloodReport,
    own: u16,
    own_host: Option<&str>,
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
    if r.srvr_id == own {
        // our claim back: is someone else claiming our ID?
        if let Some(c) = r.cks.iter().find(|c| c.ty == CkType::SrvrId) {
            if let Some(host) = own_host {
                if c.sum != claim_sum(host) {
                    return Incoming::Claimed(format!(
                        "host {} claimed our server-ID {own} at {}",
                        String::from_utf8_lossy(sum_text(&c.sum)),
                        rpt_id(r.srvr_id, r.ts)
                    ));
                }
            }
        }
        return Incoming::Skip("our own report".into());
    }
    if path.contains(&own) {
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
        if !(c.ty == CkType::SrvrId || grey || keeps(c.ty)) || (is_rep(c.ty) && !rep) {
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
mod tests;
