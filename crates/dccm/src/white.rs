//! Whiteclnt lookups for dccm: the message checksums against the global
//! or a per-user list, each recipient's env_To checksum, and the SMTP
//! client as an MX relay.

use std::net::IpAddr;
use tally_ck::message::Checksums;
use tally_ck::{CkType, Sum};
use tally_engine::ask::{Listing, WhiteVerdict};
use tally_engine::cks::MsgCks;
use tally_engine::tgts::{Tgts, THOLD_UNSET};
use tally_white::WhiteList;

/// The engine's checksum slots filled from the computed checksums.
pub fn to_slots(c: &Checksums) -> MsgCks {
    let mut m = MsgCks::new();
    let mut ip_unreported = false;
    for e in &c.entries {
        match e.ck_type {
            CkType::Ip => {
                m.set_ip(e.sum);
                ip_unreported = !e.report;
            }
            CkType::Sub => {
                if let Some(n) = e.sub_name.as_deref() {
                    m.add_sub(n, e.sum);
                }
            }
            CkType::EnvTo | CkType::GreyMsg | CkType::GreyTriple | CkType::SrvrId => {}
            t => m.set(t, e.sum, e.report),
        }
    }
    if ip_unreported {
        m.no_ip_rpt2srvr();
    }
    m
}

/// The verdict of `list` for the message checksums.
pub fn verdict(list: &WhiteList, cks: &MsgCks, client_ip: Option<IpAddr>) -> WhiteVerdict {
    let slots: Vec<(usize, CkType, Sum)> = cks
        .iter()
        .filter(|(_, s)| !matches!(s.ty, CkType::GreyMsg | CkType::GreyTriple | CkType::EnvTo))
        .map(|(i, s)| (i, s.ty, s.sum))
        .collect();
    let sums: Vec<(CkType, Sum)> = slots.iter().map(|&(_, t, s)| (t, s)).collect();
    let v = list.check(&sums, client_ip);
    let mut out = WhiteVerdict::unlisted();
    out.listing = match v.listing {
        tally_white::Listing::Listed => Listing::Listed,
        tally_white::Listing::Black => Listing::Black,
        _ => Listing::Unlisted,
    };
    for h in &v.hits {
        if let Some(&(slot, _, _)) = slots.get(h.index) {
            if let Some(w) = out.wtgts.get_mut(slot) {
                *w = h.tgts.0;
            }
        }
    }
    out.sws = list.switches().0;
    let th = list.thresholds();
    for ty in CkType::ALL {
        let i = usize::from(ty.number());
        if let Some(t) = out.tholds_rej.get_mut(i) {
            *t = th.get(ty).map_or(THOLD_UNSET, |t| t.0);
        }
    }
    out
}

/// What `list` says about one recipient's env_To checksum.
pub fn env_to(list: &WhiteList, rcpt: &str) -> Option<Tgts> {
    let sum = tally_ck::simple::str_sum(None, rcpt.as_bytes());
    list.lookup(CkType::EnvTo, &sum).map(|t| t.0)
}

/// What `list` says about the SMTP client address as a relay.
pub fn relay(list: &WhiteList, ip: IpAddr) -> Option<Tgts> {
    let sum = tally_ck::simple::ip_sum(ip);
    list.relay(&sum, ip).map(|t| t.0)
}
