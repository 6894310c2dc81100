//! From a message's checksums and a parsed whiteclnt file to the input of
//! the decision: what every front end (dccproc, dccm, dccifd) does between
//! computing the checksums and asking the DCC server.
//!
//! The original keeps one table of checksum slots per message; the
//! whiteclnt lookup marks, slot by slot, the checksums the file lists, and
//! the file's `option` lines and thresholds then apply to that message.

use crate::ask::{Listing, WhiteVerdict};
use crate::cks::MsgCks;
use crate::tgts::THOLD_UNSET;
use std::net::IpAddr;
use tally_ck::message::Checksums;
use tally_ck::{CkType, Sum};
use tally_white::WhiteList;

/// The engine's checksum slots filled from the computed checksums.
///
/// Substitute header checksums get their own slots by header name. The
/// per-recipient, greylist and server-ID checksums are not message
/// checksums and are left out. When the client IP checksum is not to be
/// reported (a relay, or an IP taken from a trusted MX), the slots say so.
pub fn msg_slots(c: &Checksums) -> MsgCks {
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

/// The engine's listing for a whiteclnt answer (an `ok2` env_To answer is
/// not a message listing).
pub fn listing(l: tally_white::Listing) -> Listing {
    match l {
        tally_white::Listing::Listed => Listing::Listed,
        tally_white::Listing::Black => Listing::Black,
        tally_white::Listing::Unlisted | tally_white::Listing::UseDcc => Listing::Unlisted,
    }
}

/// What `list` says about the message checksums in `cks`: the overall
/// listing, the whitelist value of every slot the file names, the file's
/// `option` switches and its rejection thresholds (unset for types it does
/// not mention). `client_ip` is the SMTP client, for CIDR `ip` lines.
/// Greylist and env_To slots are not asked about.
pub fn white_verdict(list: &WhiteList, cks: &MsgCks, client_ip: Option<IpAddr>) -> WhiteVerdict {
    let slots: Vec<(usize, CkType, Sum)> = cks
        .iter()
        .filter(|(_, s)| !matches!(s.ty, CkType::GreyMsg | CkType::GreyTriple | CkType::EnvTo))
        .map(|(i, s)| (i, s.ty, s.sum))
        .collect();
    let sums: Vec<(CkType, Sum)> = slots.iter().map(|&(_, t, s)| (t, s)).collect();
    let v = list.check(&sums, client_ip);
    let mut out = WhiteVerdict::unlisted();
    out.listing = listing(v.listing);
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
        if let Some(t) = out.tholds_rej.get_mut(usize::from(ty.number())) {
            *t = th.get(ty).map_or(THOLD_UNSET, |t| t.0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_ck::message::CkEntry;
    use tally_ck::simple::str_sum;
    use tally_white::{parse_file, FileKind, NoIncludes, Resolutions};

    fn entry(ck_type: CkType, name: Option<&str>, v: &str, report: bool) -> CkEntry {
        CkEntry {
            ck_type,
            sub_name: name.map(String::from),
            sum: str_sum(None, v.as_bytes()),
            report,
        }
    }

    fn checksums(ip_report: bool) -> Checksums {
        Checksums {
            entries: vec![
                entry(CkType::Ip, None, "ip", ip_report),
                entry(CkType::EnvFrom, None, "a@example.com", true),
                entry(CkType::MessageId, None, "id", false),
                entry(CkType::Sub, Some("list-id"), "list", false),
                entry(CkType::EnvTo, None, "rcpt@example.com", false),
            ],
            ..Checksums::default()
        }
    }

    fn list(text: &str) -> WhiteList {
        let parsed = parse_file(
            "whiteclnt",
            text.as_bytes(),
            FileKind::Global,
            &mut NoIncludes,
        );
        let built = parsed.build(&Resolutions::new());
        assert!(built.errors.is_empty(), "{:?}", built.errors);
        built.list
    }

    fn slot_of(cks: &MsgCks, ty: CkType) -> usize {
        cks.iter()
            .find(|(_, s)| s.ty == ty)
            .map(|(i, _)| i)
            .expect("slot")
    }

    #[test]
    fn slots_leave_out_env_to() {
        let cks = msg_slots(&checksums(true));
        let types: Vec<CkType> = cks.iter().map(|(_, s)| s.ty).collect();
        assert!(types.contains(&CkType::EnvFrom));
        assert!(types.contains(&CkType::MessageId));
        assert!(types.contains(&CkType::Sub));
        assert!(!types.contains(&CkType::EnvTo));
    }

    #[test]
    fn listed_checksum_marks_its_slot() {
        let cks = msg_slots(&checksums(true));
        let v = white_verdict(&list("ok env_from a@example.com\n"), &cks, None);
        assert_eq!(v.listing, Listing::Listed);
        let from = slot_of(&cks, CkType::EnvFrom);
        for (i, &w) in v.wtgts.iter().enumerate() {
            assert_eq!(w != 0, i == from, "slot {i}");
        }
        assert!(v.tholds_rej.iter().all(|&t| t == THOLD_UNSET));
        assert_eq!(v.complaint, None);
    }

    #[test]
    fn blacklisted_and_unlisted() {
        let cks = msg_slots(&checksums(false));
        let v = white_verdict(&list("many env_from a@example.com\n"), &cks, None);
        assert_eq!(v.listing, Listing::Black);
        let v = white_verdict(&list("ok env_from b@example.com\n"), &cks, None);
        assert_eq!(v.listing, Listing::Unlisted);
        assert!(v.wtgts.iter().all(|&w| w == 0));
    }

    #[test]
    fn listings_map() {
        assert_eq!(listing(tally_white::Listing::Listed), Listing::Listed);
        assert_eq!(listing(tally_white::Listing::Black), Listing::Black);
        assert_eq!(listing(tally_white::Listing::Unlisted), Listing::Unlisted);
        assert_eq!(listing(tally_white::Listing::UseDcc), Listing::Unlisted);
    }
}
