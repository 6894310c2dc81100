//! The `-w whiteclnt` file for dccproc: read and parsed for each message
//! (dccproc handles one message), then asked about the message's checksums
//! and about the SMTP client as a relay.

use std::net::IpAddr;
use std::path::Path;
use tally_ck::{CkType, Sum};
use tally_engine::ask::{Listing, WhiteVerdict};
use tally_engine::cks::MsgCks;
use tally_engine::tgts::{Tgts, THOLD_UNSET};
use tally_engine::whitefiles::{load_file, SystemResolver};
use tally_white::{FileKind, WhiteList};

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
    let path = base.join(name);
    if let Err(e) = std::fs::File::open(&path) {
        if e.kind() == std::io::ErrorKind::NotFound {
            return Ok(None);
        }
        return Err(format!(
            "open({}): {}",
            path.display(),
            tally_engine::errno_str(&e)
        ));
    }
    let Some(built) = load_file(base, name, FileKind::Global, &SystemResolver) else {
        return Ok(None);
    };
    let errors = built.errors.iter().map(|e| e.to_string()).collect();
    Ok(Some((Loaded { list: built.list }, errors)))
}

impl Loaded {
    /// `option` switches of the file.
    pub fn switches(&self) -> u32 {
        self.list.switches().0
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
        let slots: Vec<(usize, CkType, Sum)> = cks
            .iter()
            .filter(|(_, s)| !matches!(s.ty, CkType::GreyMsg | CkType::GreyTriple | CkType::EnvTo))
            .map(|(i, s)| (i, s.ty, s.sum))
            .collect();
        let sums: Vec<(CkType, Sum)> = slots.iter().map(|&(_, t, s)| (t, s)).collect();
        let v = self.list.check(&sums, client_ip);
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
        out.sws = self.switches();
        let th = self.list.thresholds();
        for ty in CkType::ALL {
            let i = usize::from(ty.number());
            out.tholds_rej[i] = th.get(ty).map_or(THOLD_UNSET, |t| t.0);
        }
        out.complaint = complaint;
        out
    }
}
