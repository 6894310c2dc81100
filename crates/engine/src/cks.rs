//! The checksums of one message as a DCC client keeps them: one slot per
//! checksum type (indexed by type number), followed by slots for further
//! substitute headers; plus the `-C`/log table that prints them.

use crate::tgts::{tgts_to_str, thold_to_str, Tgts, INVALID, THOLD_UNSET};
use crate::tholds::NUM_TYPES;
use tally_ck::{CkType, Sum};

/// Most substitute (`-S`) headers.
pub const MAX_SUB_CKS: usize = 8;
/// Slots: one per type number, then the extra substitute headers.
pub const NUM_SLOTS: usize = NUM_TYPES + MAX_SUB_CKS;

/// One computed checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Its type.
    pub ty: CkType,
    /// Lower-case header name of a substitute checksum.
    pub sub_name: Option<String>,
    /// The checksum.
    pub sum: Sum,
    /// Sent to the DCC server (and subject to its counts).
    pub rpt2srvr: bool,
    /// The server's count before this report, or [`INVALID`] without an answer.
    pub srvr_prev: Tgts,
}

impl Slot {
    /// The label printed before the checksum, e.g. `substitute list-id`.
    pub fn label(&self) -> String {
        match &self.sub_name {
            Some(n) if self.ty == CkType::Sub => format!("substitute {n}"),
            _ => self.ty.name().to_string(),
        }
    }
}

/// All checksums of a message, in the original's slot order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MsgCks {
    slots: Vec<Option<Slot>>,
}

impl MsgCks {
    /// No checksums yet.
    pub fn new() -> MsgCks {
        MsgCks {
            slots: vec![None; NUM_SLOTS],
        }
    }

    /// Slot `i`, if it holds a checksum.
    pub fn get(&self, i: usize) -> Option<&Slot> {
        self.slots.get(i).and_then(Option::as_ref)
    }

    /// Mutable slot `i`.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Slot> {
        self.slots.get_mut(i).and_then(Option::as_mut)
    }

    /// Forget the checksum of a type (in its own slot).
    pub fn remove(&mut self, ty: CkType) {
        if let Some(s) = self.slots.get_mut(usize::from(ty.number())) {
            *s = None;
        }
    }

    /// The checksum of a type in its own slot.
    pub fn of_type(&self, ty: CkType) -> Option<&Slot> {
        self.get(usize::from(ty.number()))
    }

    /// Occupied slots with their indices, in order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Slot)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
    }

    /// Set a checksum of an ordinary type (not a substitute).
    pub fn set(&mut self, ty: CkType, sum: Sum, rpt2srvr: bool) {
        if let Some(s) = self.slots.get_mut(usize::from(ty.number())) {
            *s = Some(Slot {
                ty,
                sub_name: None,
                sum,
                rpt2srvr,
                srvr_prev: INVALID,
            });
        }
    }

    /// Set the SMTP client's IP checksum; the reputation checksums
    /// (`rep-total`, `rep`) share its value, as in the original.
    pub fn set_ip(&mut self, sum: Sum) {
        self.set(CkType::Ip, sum, true);
        self.set(CkType::GreyMsg, sum, true);
        self.set(CkType::GreyTriple, sum, true);
    }

    /// Do not tell the server about the IP address (listed MX relays,
    /// submission clients); its reputation checksums go too.
    pub fn no_ip_rpt2srvr(&mut self) {
        if let Some(s) = self.get_mut(usize::from(CkType::Ip.number())) {
            s.rpt2srvr = false;
        }
        for t in [CkType::GreyMsg, CkType::GreyTriple] {
            if let Some(s) = self.slots.get_mut(usize::from(t.number())) {
                *s = None;
            }
        }
    }

    /// Add a substitute checksum: the first goes into the `substitute`
    /// slot (the only one sent to the server), later ones after the types.
    /// A header seen again replaces its earlier value.
    pub fn add_sub(&mut self, name: &str, sum: Sum) {
        let name = name.to_ascii_lowercase();
        let sub = usize::from(CkType::Sub.number());
        let mut free = None;
        for i in std::iter::once(sub).chain(NUM_TYPES..NUM_SLOTS) {
            match &self.slots[i] {
                Some(s) if s.sub_name.as_deref() == Some(name.as_str()) => {
                    free = Some(i);
                    break;
                }
                None if free.is_none() => free = Some(i),
                _ => {}
            }
        }
        if let Some(i) = free {
            self.slots[i] = Some(Slot {
                ty: CkType::Sub,
                sub_name: Some(name),
                sum,
                rpt2srvr: true,
                srvr_prev: INVALID,
            });
        }
    }
}

/// Whitelist counts per slot (0 = not listed).
pub type WhiteTgts = [Tgts; NUM_SLOTS];

const TYPE_W: usize = 25;
const SUM_W: usize = 35;
const SRVR_W: usize = 8;

/// The checksum table of `dccproc -C` and of log files: a heading with the
/// reported count, then one line per checksum with optional server, whitelist
/// or threshold columns.
pub fn print_cks(
    is_spam: bool,
    local_tgts: Tgts,
    cks: &MsgCks,
    tholds_rej: Option<&[Tgts; NUM_TYPES]>,
    wtgts: Option<&WhiteTgts>,
) -> String {
    let thold_of =
        |ty: CkType| -> Tgts { tholds_rej.map_or(THOLD_UNSET, |t| t[usize::from(ty.number())]) };
    let wl = |i: usize| -> Tgts { wtgts.and_then(|w| w.get(i).copied()).unwrap_or(0) };
    let mut have_server = false;
    let mut have_thold = false;
    let mut have_wlist = false;
    for (i, s) in cks.iter() {
        have_server |= s.srvr_prev != INVALID;
        have_wlist |= wl(i) != 0;
        have_thold |= thold_of(s.ty) != THOLD_UNSET && s.ty != CkType::GreyMsg;
    }
    if have_wlist {
        have_thold = false;
    }

    let mut out = String::new();
    let mut headed = false;
    for (i, s) in cks.iter() {
        if !headed {
            headed = true;
            let mut t = tgts_to_str(local_tgts);
            if is_spam {
                t.push_str(" spam");
            }
            out.push_str(&format!("{:28}reported: {t:<15} checksum", ""));
            if have_server || have_wlist || have_thold {
                out.push_str(&format!(" {:>7}", if have_server { "server" } else { "" }));
            }
            if have_wlist {
                out.push_str(&format!(" {:>5}", "wlist"));
            } else if have_thold {
                out.push_str(&format!(" {:>5}", "thold"));
            }
            out.push('\n');
        }
        // the original's type name buffer holds 25 bytes: longer
        // substitute names are cut there
        let mut label = s.label();
        if label.len() > TYPE_W {
            let mut cut = TYPE_W;
            while !label.is_char_boundary(cut) {
                cut -= 1;
            }
            label.truncate(cut);
        }
        let line = format!("{label:>TYPE_W$}: {:<SUM_W$}", s.sum.to_string());
        let cklen = line.len();
        out.push_str(&line);
        let w = wl(i);
        let th = thold_of(s.ty);
        if s.rpt2srvr && s.srvr_prev != INVALID {
            out.push_str(&format!(" {:>7}", tgts_to_str(s.srvr_prev)));
        } else if (have_wlist && w != 0) || (have_thold && th != THOLD_UNSET) {
            // long substitute names eat into the server column
            let used = cklen.saturating_sub(TYPE_W + 2 + SUM_W);
            let pad = SRVR_W.saturating_sub(used);
            out.push_str(&" ".repeat(pad));
        }
        if have_wlist && w != 0 {
            out.push_str(&format!(" {:>5}", tgts_to_str(w)));
        } else if have_thold && th != THOLD_UNSET {
            out.push_str(&format!(" {:>5}", thold_to_str(s.ty, th)));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tgts::{OK, TOO_MANY};

    fn sum(s: &str) -> Sum {
        Sum::parse_hex(s).unwrap_or_default()
    }

    fn sample() -> MsgCks {
        let mut c = MsgCks::new();
        c.set_ip(sum("3e63dc0d da76f064 8704670e 45076b06"));
        c.set(
            CkType::EnvFrom,
            sum("c160f8cc 69a4f0bf 2b036275 2353d060"),
            true,
        );
        c.add_sub("List-ID", sum("9f8b89dd 610f0fce 6c6c6c47 9cda1383"));
        c.set(
            CkType::Body,
            sum("e7ab4056 66b5f492 922c6974 e3be4999"),
            true,
        );
        c
    }

    #[test]
    fn plain_table() {
        let t = print_cks(false, 1, &sample(), None, None);
        let want = "                            reported: 1               checksum\n\
\x20                      IP: 3e63dc0d da76f064 8704670e 45076b06\n\
\x20                env_From: c160f8cc 69a4f0bf 2b036275 2353d060\n\
\x20      substitute list-id: 9f8b89dd 610f0fce 6c6c6c47 9cda1383\n\
\x20                    Body: e7ab4056 66b5f492 922c6974 e3be4999\n\
\x20               rep-total: 3e63dc0d da76f064 8704670e 45076b06\n\
\x20                     rep: 3e63dc0d da76f064 8704670e 45076b06\n";
        assert_eq!(t, want);
    }

    #[test]
    fn server_and_thold_columns() {
        let mut c = sample();
        for (_, s) in c
            .slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.as_mut().map(|s| (i, s)))
        {
            if s.ty == CkType::Body || s.ty == CkType::GreyMsg || s.ty == CkType::GreyTriple {
                s.srvr_prev = 49;
            }
        }
        let mut rej = [THOLD_UNSET; NUM_TYPES];
        rej[7] = 3;
        rej[10] = 20;
        let t = print_cks(true, 1, &c, Some(&rej), None);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "                            reported: 1 spam          checksum  server thold"
        );
        assert_eq!(
            lines[4],
            "                     Body: e7ab4056 66b5f492 922c6974 e3be4999      49     3"
        );
        assert_eq!(
            lines[5],
            "                rep-total: 3e63dc0d da76f064 8704670e 45076b06      49    20"
        );
        assert_eq!(
            lines[6],
            "                      rep: 3e63dc0d da76f064 8704670e 45076b06      49"
        );
    }

    #[test]
    fn wlist_column() {
        let c = sample();
        let mut w = [0; NUM_SLOTS];
        w[2] = OK;
        w[4] = TOO_MANY;
        let t = print_cks(false, 1, &c, None, Some(&w));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "                            reported: 1               checksum         wlist"
        );
        assert_eq!(
            lines[2],
            "                 env_From: c160f8cc 69a4f0bf 2b036275 2353d060            ok"
        );
        assert_eq!(
            lines[3],
            "       substitute list-id: 9f8b89dd 610f0fce 6c6c6c47 9cda1383          many"
        );
        assert_eq!(
            lines[1],
            "                       IP: 3e63dc0d da76f064 8704670e 45076b06"
        );
    }

    #[test]
    fn subs_order_and_replace() {
        let mut c = MsgCks::new();
        c.add_sub("sender", Sum::default());
        c.add_sub("x-mailer", Sum::default());
        c.add_sub("Sender", sum("00000001 00000000 00000000 00000000"));
        assert_eq!(
            c.get(4).and_then(|s| s.sub_name.clone()).as_deref(),
            Some("sender")
        );
        assert_eq!(
            c.get(4).map(|s| s.sum),
            Some(sum("00000001 00000000 00000000 00000000"))
        );
        assert_eq!(
            c.get(NUM_TYPES).and_then(|s| s.sub_name.clone()).as_deref(),
            Some("x-mailer")
        );
        c.no_ip_rpt2srvr();
    }

    #[test]
    fn long_substitute_names_are_cut() {
        let mut c = MsgCks::new();
        c.add_sub(
            "X-Very-Long-Header-Name",
            sum("00000001 00000000 00000000 00000000"),
        );
        let mut w = [0; NUM_SLOTS];
        w[usize::from(CkType::Sub.number())] = OK;
        let t = print_cks(false, 1, &c, None, Some(&w));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[1],
            "substitute x-very-long-he: 00000001 00000000 00000000 00000000            ok"
        );
    }
}
