//! The whiteclnt files as dccifd consults them for one message: the
//! global `-w` file and the per-user files `userdirs/<user>/whiteclnt` of
//! recipients that come with a local user name; and, for the SMTP proxy,
//! what the recipient compatibility rule needs at RCPT time.

use crate::config::Config;
use crate::proto::Rcpt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tally_ck::simple::ip_sum;
use tally_engine::ask::{Listing, WhiteVerdict};
use tally_engine::cks::MsgCks;
use tally_engine::rcpts_if::RcptWhite;
use tally_engine::rcpts_milter::{white_thresholds, RcptSetup};
use tally_engine::tgts;
use tally_engine::white_verdict::{listing, white_verdict};
use tally_engine::whitefiles::{user_dir, Refresh, WhiteFiles};
use tally_white::compat::{Compat, Transaction};
use tally_white::{SpamAction, WhiteList};

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
        Refresh::Reloaded(v) => errors.extend(v.iter().map(|e| e.to_string())),
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

/// The whiteclnt files of one recipient of an SMTP proxy transaction,
/// at RCPT time: the global file and the recipient's per-user file (user
/// name from `-D`); complaints about the files go to `errors`.
pub fn rcpt_files(
    cfg: &Config,
    addr: &str,
    errors: &mut Vec<String>,
) -> (Option<Arc<WhiteList>>, Option<Arc<WhiteList>>) {
    let user = cfg.domains.user_of(addr).unwrap_or_default();
    let rcpt = Rcpt {
        addr: addr.to_string(),
        user,
    };
    let mut lists = lists_for(&cfg.white, std::slice::from_ref(&rcpt), errors);
    (lists.global, lists.users.pop().flatten())
}

/// How recipients of a proxy transaction from `client` start out before
/// their whiteclnt files, and whether an incompatible one can be refused:
/// dccifd as a proxy cannot discard spam for one recipient alone; mail
/// through an MX or MXDCC relay of the main file is discarded rather than
/// rejected; recipients of a SUBMIT client are never refused (such
/// clients do not cope with a temporary failure of one recipient).
pub fn rcpt_setup(
    cfg: &Config,
    global: Option<&WhiteList>,
    client: Option<IpAddr>,
) -> (RcptSetup, bool) {
    let relay = match (global, client) {
        (Some(g), Some(ip)) => g.relay(&ip_sum(ip), ip).map(|t| t.0),
        _ => None,
    };
    let via_mx = matches!(relay, Some(tgts::OK_MX | tgts::OK_MXDCC));
    let via_submit = relay == Some(tgts::SUBMIT_CLIENT);
    let action = if cfg.ignore {
        SpamAction::Ignore
    } else if cfg.discard || via_mx {
        SpamAction::Discard
    } else {
        SpamAction::Reject
    };
    let setup = RcptSetup {
        action,
        to_white_only: false,
        via_relay: via_mx || via_submit,
        can_discard_one: false,
        base: white_thresholds(&cfg.tholds.rej),
        have_dnsbls: cfg.dnsbl.is_some(),
    };
    (setup, !via_submit)
}

/// Ask the joining rule whether the recipient `addr` of a proxy
/// transaction from `client` may join `tx`: `false` when it must be
/// refused (it then stays out of the transaction).
pub fn admit_rcpt(
    cfg: &Config,
    tx: &mut Transaction,
    client: Option<IpAddr>,
    addr: &str,
    errors: &mut Vec<String>,
) -> bool {
    let (global, user) = rcpt_files(cfg, addr, errors);
    let (setup, can_refuse) = rcpt_setup(cfg, global.as_deref(), client);
    let (profile, decided) =
        setup.profile(global.as_deref(), user.as_deref(), addr.as_bytes(), None);
    tx.admit(profile, decided, can_refuse) == Compat::Ok || !can_refuse
}

/// How many recipients of an ASCII request are incompatible with the
/// earlier ones (the joining rule, as for the proxy but with spam
/// discarded for single recipients being possible). The ASCII protocol
/// cannot refuse them; the original takes them anyway, merging their
/// thresholds, and logs `incompatible whitelists` for each.
pub fn incompatible_rcpts(
    cfg: &Config,
    lists: &Lists,
    rcpts: &[Rcpt],
    client: Option<IpAddr>,
    no_reject: bool,
) -> usize {
    let (mut setup, _) = rcpt_setup(cfg, lists.global.as_deref(), client);
    setup.can_discard_one = true;
    if no_reject {
        setup.action = SpamAction::Ignore;
    }
    let mut tx = Transaction::new();
    rcpts
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            let user = lists.users.get(*i).and_then(|u| u.as_deref());
            let mailbox = (!r.user.is_empty()).then_some(r.user.as_bytes());
            let (p, decided) = setup.profile(
                lists.global.as_deref(),
                user,
                bare(&r.addr).as_bytes(),
                mailbox,
            );
            tx.admit(p, decided, false) != Compat::Ok
        })
        .count()
}
