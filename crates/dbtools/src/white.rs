//! The server whitelist (`HOME/whitelist`, `HOME/grey_whitelist`) that
//! `dbclean` builds into the database.
//!
//! The file has the whiteclnt syntax (see dcc(8)), parsed by
//! `tally-white`. What the server keeps differs from a client: only the
//! checksum types clients send may be listed (not `env_To`, the greylist
//! types or server-IDs); `mx` and `mxdcc` count as `ok`; `submit` lines are
//! ignored; an address block becomes one IP checksum per address, so blocks
//! of more than 65536 addresses are refused; host names are resolved now.
//! A greylist server's file may only whitelist (`ok`), which its database
//! keeps as the greylist-white value. Bad lines are reported and skipped,
//! as the original does; an unreadable file leaves the database's current
//! whitelist in place.

use std::collections::HashMap;
use std::fs;
use std::io::ErrorKind;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use tally_ck::simple::ip_sum;
use tally_ck::CkType;
use tally_store::{tgts, Ck};
use tally_white::error::Loc;
use tally_white::tgts::combine;
use tally_white::{parse_file, FileKind, Includes, ItemValue, Tgts};

/// The most addresses one block may expand to.
pub const MAX_IP_RANGE_LEN: u32 = 1 << 16;
/// The most entries the built whitelist may hold (bounds memory).
pub const MAX_ENTRIES: usize = 1 << 22;

/// The outcome of reading the whitelist file.
#[derive(Debug)]
pub enum Source {
    /// No file: the database gets an empty whitelist.
    Missing,
    /// The file exists but cannot be read: keep the current whitelist.
    Unreadable(String),
    /// The entries built, with the problems found on the way.
    Built {
        /// (checksum, value) pairs for [`tally_store::Store::set_whitelist`].
        entries: Vec<(Ck, u32)>,
        /// Messages about bad or ignored lines.
        problems: Vec<String>,
    },
}

/// Reads included files relative to the DCC home directory.
struct HomeIncludes(PathBuf);

impl Includes for HomeIncludes {
    fn read_include(&mut self, name: &str) -> Result<Vec<u8>, String> {
        fs::read(self.0.join(name)).map_err(|e| e.to_string())
    }
}

/// Whether the server keeps whitelist entries of this type.
fn type_ok(t: CkType) -> bool {
    !matches!(
        t,
        CkType::EnvTo | CkType::GreyMsg | CkType::GreyTriple | CkType::SrvrId
    )
}

/// Read and build the whitelist file `path`; included files are looked up
/// under `home`.
pub fn build(path: &Path, home: &Path, grey: bool) -> Source {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => return Source::Missing,
        Err(e) => return Source::Unreadable(format!("open({}): {e}", path.display())),
    };
    let name = path.display().to_string();
    let parsed = parse_file(
        &name,
        &text,
        FileKind::Global,
        &mut HomeIncludes(home.to_path_buf()),
    );
    let mut b = Builder {
        grey,
        map: HashMap::new(),
        order: Vec::new(),
        problems: parsed
            .errors
            .iter()
            .take(MAX_PROBLEMS)
            .map(|e| e.text.clone())
            .collect(),
    };
    for item in &parsed.items {
        match &item.value {
            ItemValue::Sum(t, sum) => b.add(*t, Ck::new(*t, *sum), item.tgts, &item.loc),
            ItemValue::Range(r) => {
                if r.len() > MAX_IP_RANGE_LEN {
                    b.complain(format!("address block too large{}", item.loc.suffix()));
                    continue;
                }
                for a in r.addrs() {
                    let ck = Ck::new(CkType::Ip, ip_sum(IpAddr::V6(a)));
                    b.add(CkType::Ip, ck, item.tgts, &item.loc);
                }
            }
            ItemValue::Host(h) => match (h.as_str(), 0u16).to_socket_addrs() {
                Ok(addrs) => {
                    for a in addrs {
                        let ck = Ck::new(CkType::Ip, ip_sum(a.ip()));
                        b.add(CkType::Ip, ck, item.tgts, &item.loc);
                    }
                }
                Err(e) => b.complain(format!("\"{h}\": {e}{}", item.loc.suffix())),
            },
        }
    }
    let entries = b
        .order
        .iter()
        .filter_map(|ck| b.map.get(ck).map(|(v, _)| (*ck, v.0)))
        .collect();
    Source::Built {
        entries,
        problems: b.problems,
    }
}

/// The most problems kept for the report (the original also stops
/// complaining after a while).
pub const MAX_PROBLEMS: usize = 50;

struct Builder {
    grey: bool,
    map: HashMap<Ck, (Tgts, Loc)>,
    order: Vec<Ck>,
    problems: Vec<String>,
}

impl Builder {
    fn complain(&mut self, msg: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(msg);
        }
    }

    fn add(&mut self, t: CkType, ck: Ck, value: Tgts, loc: &Loc) {
        if !type_ok(t) {
            self.complain(format!(
                "{} checksum cannot be used{}",
                t.name(),
                loc.suffix()
            ));
            return;
        }
        let value = match value {
            Tgts::MX | Tgts::MXDCC => Tgts::OK,
            Tgts::SUBMIT => return,
            v => v,
        };
        let value = if self.grey {
            if value != Tgts::OK {
                self.complain(format!("\"{value}\" ignored{}", loc.suffix()));
                return;
            }
            Tgts(tgts::OK2)
        } else {
            Tgts(value.0.min(tgts::SPECIAL_MAX))
        };
        match self.map.get_mut(&ck) {
            Some((old, old_loc)) => {
                if *old != value {
                    let msg = format!(
                        "\"{}\" in line {} conflicts with \"{}\"{}",
                        old,
                        old_loc.line,
                        value,
                        loc.suffix()
                    );
                    *old = combine(value, *old);
                    self.complain(msg);
                }
            }
            None => {
                if self.order.len() >= MAX_ENTRIES {
                    self.complain(format!("too many whitelist entries{}", loc.suffix()));
                    return;
                }
                self.map.insert(ck, (value, loc.clone()));
                self.order.push(ck);
            }
        }
    }
}
