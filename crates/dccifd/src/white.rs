//! The whiteclnt files as dccifd consults them for one message: the
//! global `-w` file and the per-user files `userdirs/<user>/whiteclnt` of
//! recipients that come with a local user name.

use crate::proto::Rcpt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tally_ck::{CkType, Sum};
use tally_engine::ask::{Listing, WhiteVerdict};
use tally_engine::cks::MsgCks;
use tally_engine::rcpts_if::RcptWhite;
use tally_engine::tgts::THOLD_UNSET;
use tally_engine::whitefiles::{user_dir, Refresh, WhiteFiles};
use tally_white::WhiteList;

/// The lists in force for one message.
pub struct Lists {
    /// The global file, when there is one.
    pub global: Option<Arc<WhiteList>>,
    /// Per-user files by recipient index.
    pub users: Vec<Option<Arc<WhiteList>>>,
}

/// Take the lists for a message from the shared files (looking for
/// changes if it is time to); complaints about the files go to `errors`.
pub fn lists_for(files: &Mutex<WhiteFiles>, rcpts: &[Rcpt], errors: &mut Vec<String>) -> Lists {
    let mut f = files.lock().unwrap_or_else(|e| e.into_inner());
    let (global, r) = f.global();
    note(r, errors);
    let users = rcpts
        .iter()
        .map(|r| {
            if r.user.is_empty() {
                return None;
            }
            match user_dir("userdirs", &[r.user.as_str()]) {
                Ok(dir) => {
                    let (l, r) = f.user(&dir);
                    note(r, errors);
                    l
                }
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        })
        .collect();
    Lists { global, users }
}

fn note(r: Refresh, errors: &mut Vec<String>) {
    match r {
        Refresh::Reloaded(v) | Refresh::Rejected(v) => {
            errors.extend(v.iter().map(|e| e.to_string()))
        }
        Refresh::Unreadable(m) => errors.push(m),
        Refresh::Unchanged | Refresh::Missing => {}
    }
}

/// The checksums a whiteclnt file is asked about, with their slots.
fn slots(cks: &MsgCks) -> Vec<(usize, CkType, Sum)> {
    cks.iter()
        .filter(|(_, s)| !matches!(s.ty, CkType::GreyMsg | CkType::GreyTriple | CkType::EnvTo))
        .map(|(i, s)| (i, s.ty, s.sum))
        .collect()
}

/// What a file says about the message (not listed without a file).
pub fn verdict(list: Option<&WhiteList>, cks: &MsgCks, ip: Option<IpAddr>) -> WhiteVerdict {
    let mut out = WhiteVerdict::unlisted();
    let Some(list) = list else {
        return out;
    };
    let slots = slots(cks);
    let sums: Vec<(CkType, Sum)> = slots.iter().map(|&(_, t, s)| (t, s)).collect();
    let v = list.check(&sums, ip);
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
        out.tholds_rej[i] = th.get(ty).map_or(THOLD_UNSET, |t| t.0);
    }
    out
}

/// The recipient mailbox as checksummed: without blanks and `<>`.
fn bare(addr: &str) -> &str {
    let a = addr.trim();
    a.strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(a)
}

fn env_to_listing(list: &WhiteList, addr: &str) -> Listing {
    match list.check_env_to(bare(addr).as_bytes()) {
        tally_white::Listing::Listed => Listing::Listed,
        tally_white::Listing::Black => Listing::Black,
        _ => Listing::Unlisted,
    }
}

/// What the files say about recipient `i`.
pub fn rcpt_white(
    lists: &Lists,
    i: usize,
    r: &Rcpt,
    cks: &MsgCks,
    ip: Option<IpAddr>,
) -> RcptWhite {
    let env_to = lists
        .global
        .as_ref()
        .map_or(Listing::Unlisted, |g| env_to_listing(g, &r.addr));
    let user = lists.users.get(i).and_then(|u| u.as_ref()).map(|u| {
        let mut v = verdict(Some(u), cks, ip);
        if v.listing == Listing::Unlisted {
            v.listing = env_to_listing(u, &r.addr);
        }
        v
    });
    RcptWhite { env_to, user }
}
