//! The whiteclnt files as dccifd consults them for one message: the
//! global `-w` file and the per-user files `userdirs/<user>/whiteclnt` of
//! recipients that come with a local user name.

use crate::proto::Rcpt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tally_engine::ask::{Listing, WhiteVerdict};
use tally_engine::cks::MsgCks;
use tally_engine::rcpts_if::RcptWhite;
use tally_engine::white_verdict::{listing, white_verdict};
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

/// What a file says about the message (not listed without a file).
pub fn verdict(list: Option<&WhiteList>, cks: &MsgCks, ip: Option<IpAddr>) -> WhiteVerdict {
    list.map_or_else(WhiteVerdict::unlisted, |l| white_verdict(l, cks, ip))
}

/// The recipient mailbox as checksummed: without blanks and `<>`.
fn bare(addr: &str) -> &str {
    let a = addr.trim();
    a.strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(a)
}

fn env_to_listing(list: &WhiteList, addr: &str) -> Listing {
    listing(list.check_env_to(bare(addr).as_bytes()))
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
