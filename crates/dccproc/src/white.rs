//! The `-w whiteclnt` file for dccproc: read and parsed for each message
//! (dccproc handles one message), then asked about the message's checksums
//! and about the SMTP client as a relay.

use std::net::IpAddr;
use std::path::Path;
use tally_ck::Sum;
use tally_engine::ask::WhiteVerdict;
use tally_engine::cks::MsgCks;
use tally_engine::tgts::Tgts;
use tally_engine::white_verdict::white_verdict;
use tally_engine::whitefiles::load_named;
use tally_white::{Filters, WhiteList};

/// A parsed whiteclnt file.
pub struct Loaded {
    list: WhiteList,
}

/// Read and parse the file `name` (relative to `base` unless absolute),
/// resolving host names of `ip` lines. `Ok(None)` when there is no such
/// file: the original then goes on without it, silently; `Err` when it
/// exists but cannot be read. Otherwise the list and the complaints about
/// its contents.
pub fn load(base: &Path, name: &str) -> Result<Option<(Loaded, Vec<String>)>, String> {
    let Some(built) = load_named(base, name)? else {
        return Ok(None);
    };
    let path = base.join(name);
    let mut errors: Vec<String> = built.errors.iter().map(|e| e.to_string()).collect();
    // dccproc never greylists: a file asking for it is told so
    let abs = tally_engine::home::absolute(
        &std::env::current_dir().unwrap_or_default(),
        &path.display().to_string(),
    );
    if let Some(c) =
        Filters::grey_off_complaint(built.list.switches(), false, &abs.display().to_string())
    {
        errors.push(c);
    }
    Ok(Some((Loaded { list: built.list }, errors)))
}

impl Loaded {
    /// `option xfltr-on` (and not `xfltr-off`): the `-X` filter's
    /// answers act.
    pub fn xfltr_on(&self) -> bool {
        tally_engine::xfltr::gate::xfltr_on(Some(&self.list), None)
    }

    /// What the file says about the SMTP client address as a relay.
    pub fn relay(&self, ip_sum: &Sum, ip: IpAddr) -> Option<Tgts> {
        self.list.relay(ip_sum, ip).map(|t| t.0)
    }

    /// The verdict for the message's checksums.
    pub fn verdict(
        &self,
        cks: &MsgCks,
        client_ip: Option<IpAddr>,
        complaint: Option<String>,
    ) -> WhiteVerdict {
        let mut out = white_verdict(&self.list, cks, client_ip);
        out.complaint = complaint;
        out
    }
}
