//! What whiteclnt files say about a message and about each recipient.
//!
//! For the message's checksums ([`WhiteList::check`]): one `ok` (or `mx`,
//! `mxdcc` for the client IP) or two `ok2` whitelist it; otherwise one
//! `many` blacklists it. Whitelisting wins over blacklisting whatever the
//! order. Counts and `submit` are only reported as hits. In a spam-trap
//! file, body checksums that are not listed count as `many`.
//!
//! env_To values are looked up one at a time ([`WhiteList::check_sum`]);
//! there `ok2` is the old way of saying "use DCC for this recipient".
//!
//! For a recipient ([`recipient`]), the per-user file's answer (env_To and
//! message checksums) overrides the global file's, which in turn combines
//! the global env_To answer with the global message answer; a spam trap
//! blacklists everything not whitelisted; the MTA's opinion comes first
//! or last (`option MTA-first`/`MTA-last`).

use crate::filters::Filters;
use crate::list::WhiteList;
use crate::options::{Switches, Thresholds};
use crate::tgts::Tgts;
use std::net::IpAddr;
use tally_ck::simple::str_sum;
use tally_ck::{CkType, Sum};

/// The answer of one file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Listing {
    /// Nothing decisive listed.
    Unlisted,
    /// Whitelisted: do not report to the DCC server, do not greylist.
    Listed,
    /// Blacklisted: spam, report it with the count MANY.
    Black,
    /// `ok2 env_To`: DCC filtering is on for this recipient.
    UseDcc,
}

/// One checksum of the message found in the file (or made MANY by a spam
/// trap): `index` into the checksums given to [`WhiteList::check`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct WHit {
    pub index: usize,
    pub ty: CkType,
    pub tgts: Tgts,
}

/// The answer for a message's checksums in one file.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Verdict {
    pub listing: Listing,
    /// Every checksum with a value in the file, for logs.
    pub hits: Vec<WHit>,
}

impl Verdict {
    pub fn is_whitelisted(&self) -> bool {
        self.listing == Listing::Listed
    }

    pub fn is_blacklisted(&self) -> bool {
        self.listing == Listing::Black
    }

    /// The value found for the checksum at `index`, if any.
    pub fn tgts_at(&self, index: usize) -> Option<Tgts> {
        self.hits.iter().find(|h| h.index == index).map(|h| h.tgts)
    }
}

impl WhiteList {
    /// `wf_cks`: the answer for a message's checksums. `sums` are the
    /// message's checksums in the order the program computed them (IP,
    /// env_From, From, substitutes, Message-ID, Received, Body, Fuz1, Fuz2;
    /// not env_To); `client_ip` is the SMTP client address, needed to
    /// match address blocks with the IP checksum.
    pub fn check(&self, sums: &[(CkType, Sum)], client_ip: Option<IpAddr>) -> Verdict {
        let trap = self.switches.has(Switches::TRAPS);
        let mut listing = Listing::Unlisted;
        let mut half = false;
        let mut hits = Vec::new();
        for (index, &(ty, sum)) in sums.iter().enumerate() {
            let found = if ty == CkType::Ip {
                self.lookup_ip(&sum, client_ip)
            } else {
                self.lookup(ty, &sum)
            };
            let tgts = match found {
                Some(t) => t,
                None if trap && ty.is_body() => Tgts::MANY,
                None => continue,
            };
            hits.push(WHit { index, ty, tgts });
            match tgts {
                Tgts::OK | Tgts::MX | Tgts::MXDCC => listing = Listing::Listed,
                Tgts::OK2 if half => listing = Listing::Listed,
                Tgts::OK2 => half = true,
                Tgts::MANY if listing == Listing::Unlisted => listing = Listing::Black,
                _ => {}
            }
        }
        Verdict { listing, hits }
    }

    /// `wf_sum`: the answer for one checksum (used for env_To and the
    /// recipient's mailbox name), with the value found.
    pub fn check_sum(&self, ty: CkType, sum: &Sum) -> (Listing, Option<Tgts>) {
        match self.lookup(ty, sum) {
            None => (Listing::Unlisted, None),
            Some(Tgts::OK2) if ty == CkType::EnvTo => (Listing::UseDcc, Some(Tgts::OK2)),
            Some(Tgts::OK) => (Listing::Listed, Some(Tgts::OK)),
            Some(Tgts::MANY) => (Listing::Black, Some(Tgts::MANY)),
            Some(_) => (Listing::Unlisted, None),
        }
    }

    /// [`WhiteList::check_sum`] for an envelope recipient as given (the
    /// checksum is made as for env_To).
    pub fn check_env_to(&self, rcpt: &[u8]) -> Listing {
        self.check_sum(CkType::EnvTo, &str_sum(None, rcpt)).0
    }

    /// `white_mx`: what the file says about the SMTP client as a relay:
    /// `Some(Tgts::MX)`, `MXDCC`, `SUBMIT`, `OK`, or another value; `None`
    /// when not listed. MX and MXDCC relays are skipped when looking for the
    /// real client in Received headers, and spam through them is discarded
    /// rather than rejected; MXDCC turns reports into queries.
    pub fn relay(&self, ip_sum: &Sum, ip: IpAddr) -> Option<Tgts> {
        self.lookup_ip(ip_sum, Some(ip))
    }
}

/// The MTA's own opinion of the message (sendmail `{dcc_isspam}`,
/// `{dcc_notspam}`, dccifd options).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum MtaOpinion {
    #[default]
    None,
    Spam,
    NotSpam,
}

/// What is known about one recipient.
#[derive(Clone, Debug)]
pub struct RcptInputs<'a> {
    /// The global file's answer for the message's checksums.
    pub global_msg: Listing,
    /// The global file's answers for the recipient's env_To and, when it
    /// differs, mailbox name.
    pub global_env_to: &'a [Listing],
    /// With a per-user file: its answers for env_To/mailbox, and for the
    /// message's checksums.
    pub user: Option<(&'a [Listing], Listing)>,
    /// The recipient's filter switches (spam traps, MTA-first).
    pub filters: Filters,
    pub mta: MtaOpinion,
}

/// The whitelist result for a recipient.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct RcptResult {
    pub white: bool,
    pub black: bool,
    /// An `ok2 env_To` entry turned DCC filtering on for the recipient.
    pub use_dcc: bool,
}

#[derive(Default, Clone, Copy)]
struct Fgs {
    white: bool,
    black: bool,
    any: bool,
}

/// Fold one answer into flags (`white_results`).
fn fold(fgs: &mut Fgs, l: Listing, trap: bool, use_dcc: &mut bool) {
    match l {
        Listing::UseDcc => *use_dcc = true,
        Listing::Unlisted => {}
        Listing::Listed => {
            fgs.black = false;
            fgs.white = true;
            fgs.any = true;
        }
        Listing::Black => {
            if !fgs.white {
                fgs.black = true;
            }
            fgs.any = true;
        }
    }
    if !fgs.white && trap {
        fgs.black = true;
        fgs.any = true;
    }
}

fn mta(r: &mut RcptResult, m: MtaOpinion) {
    match m {
        MtaOpinion::NotSpam => (r.white, r.black) = (true, false),
        MtaOpinion::Spam => (r.white, r.black) = (false, true),
        MtaOpinion::None => {}
    }
}

/// Combine the global and per-user answers for one recipient
/// (`ask_white_rcpt` of dccm and dccifd).
pub fn recipient(inp: &RcptInputs) -> RcptResult {
    let trap = inp.filters.trap;
    let mut use_dcc = false;
    let mut global = Fgs::default();
    fold(&mut global, inp.global_msg, false, &mut use_dcc);
    let mut genv = Fgs::default();
    for &l in inp.global_env_to {
        fold(&mut genv, l, trap, &mut use_dcc);
    }
    let mut r = RcptResult::default();
    if global.white || global.black {
        (r.white, r.black) = (global.white, global.black);
    }
    if inp.filters.mta_first {
        mta(&mut r, inp.mta);
    }
    if genv.white || global.white {
        (r.white, r.black) = (true, false);
    } else if genv.black || global.black {
        (r.white, r.black) = (false, true);
    }
    if let Some((env, msg)) = inp.user {
        let mut user = Fgs::default();
        for &l in env {
            fold(&mut user, l, trap, &mut use_dcc);
        }
        fold(&mut user, msg, trap, &mut use_dcc);
        if user.any {
            (r.white, r.black) = (user.white, user.black);
        }
    }
    if !inp.filters.mta_first {
        mta(&mut r, inp.mta);
    }
    r.use_dcc = use_dcc;
    r
}

/// A global file and optionally a recipient's per-user file, layered as
/// dccm and dccifd layer them.
#[derive(Clone, Copy, Debug)]
pub struct Layered<'a> {
    pub global: &'a WhiteList,
    pub user: Option<&'a WhiteList>,
}

impl Layered<'_> {
    /// The recipient's filter switches: the program's defaults, then the
    /// global file's settings, then the per-user file's.
    pub fn filters(&self, defaults: Filters, grey_on: bool, have_dnsbls: bool) -> Filters {
        let f = defaults.apply(self.global.switches(), grey_on, have_dnsbls);
        match self.user {
            Some(u) => f.apply(u.switches(), grey_on, have_dnsbls),
            None => f,
        }
    }

    /// The recipient's thresholds: the program's, then the global file's,
    /// then the per-user file's.
    pub fn thresholds(&self, base: &Thresholds) -> Thresholds {
        let mut t = *base;
        t.merge(self.global.thresholds());
        if let Some(u) = self.user {
            t.merge(u.thresholds());
        }
        t
    }

    /// The whitelist result for a recipient with envelope address `env_to`
    /// and (after aliases) mailbox `mailbox`, for a message with `sums`
    /// from `client_ip`. `filters` are the recipient's
    /// ([`Layered::filters`]). A per-user file with only `option` lines
    /// contributes its settings but no answers.
    pub fn recipient(
        &self,
        sums: &[(CkType, Sum)],
        client_ip: Option<IpAddr>,
        env_to: &[u8],
        mailbox: Option<&[u8]>,
        filters: Filters,
        mta: MtaOpinion,
    ) -> RcptResult {
        let mut keys = vec![str_sum(None, env_to)];
        if let Some(m) = mailbox.filter(|m| !m.is_empty() && *m != env_to) {
            keys.push(str_sum(None, m));
        }
        let env = |l: &WhiteList| -> Vec<Listing> {
            keys.iter()
                .map(|k| l.check_sum(CkType::EnvTo, k).0)
                .collect()
        };
        let genv = env(self.global);
        let global_msg = self.global.check(sums, client_ip).listing;
        // a per-user file with settings but no entries gives no answers of
        // its own: the original then treats it as absent for lookups
        let answering = self.user.filter(|u| !u.is_null_for_compat());
        let user = answering.map(|u| (env(u), u.check(sums, client_ip).listing));
        recipient(&RcptInputs {
            global_msg,
            global_env_to: &genv,
            user: user.as_ref().map(|(e, m)| (e.as_slice(), *m)),
            filters,
            mta,
        })
    }
}
