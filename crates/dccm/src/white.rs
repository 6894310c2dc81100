//! Whiteclnt lookups for dccm: the message checksums against the global
//! or a per-user list, each recipient's env_To checksum, and the SMTP
//! client as an MX relay.

use std::net::IpAddr;
use tally_ck::CkType;
use tally_engine::tgts::Tgts;
use tally_white::WhiteList;

pub use tally_engine::white_verdict::msg_slots as to_slots;
pub use tally_engine::white_verdict::white_verdict as verdict;

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
