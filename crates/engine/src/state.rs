//! Flag words of the per-message decision: what was learnt about a message
//! (`AskSt`) and which filters apply to it (`Sws`), as in the original.

/// What is known about the message so far.
pub type AskSt = u32;
/// Query only: do not add to the counts.
pub const ST_QUERY: AskSt = 0x0000_0002;
/// Ask the greylist server without counting (`-Q`, dccifd `grey-query`).
pub const ST_QUERY_GREY: AskSt = 0x0000_0004;
/// No greylisting for this message (dccifd `grey-off`).
pub const ST_GREY_OFF: AskSt = 0x0000_0008;
/// A server ok2 was seen (two make a whitelisting).
pub const ST_SRVR_OK2: AskSt = 0x0000_0010;
/// The DCC server whitelists the message.
pub const ST_SRVR_NOTSPAM: AskSt = 0x0000_0020;
/// Server counts reached a rejection threshold.
pub const ST_SRVR_ISSPAM: AskSt = 0x0000_0040;
/// The reputation reached its threshold.
pub const ST_REP_ISSPAM: AskSt = 0x0000_0080;
/// The MTA says it is not spam.
pub const ST_MTA_NOTSPAM: AskSt = 0x0000_0100;
/// The MTA says it is spam.
pub const ST_MTA_ISSPAM: AskSt = 0x0000_0200;
/// Whitelisted by a whiteclnt file.
pub const ST_WLIST_NOTSPAM: AskSt = 0x0000_0400;
/// Blacklisted by a whiteclnt file.
pub const ST_WLIST_ISSPAM: AskSt = 0x0000_0800;
/// The client itself calls it spam (blacklist, `-t many`, trap).
pub const ST_CLNT_ISSPAM: AskSt = 0x0000_1000;
/// The message is under a greylist embargo.
pub const ST_GREY_EMBARGO: AskSt = 0x0000_2000;
/// Greylisting asks for log files.
pub const ST_GREY_LOGIT: AskSt = 0x0000_4000;
/// Keep a log file of the message.
pub const ST_LOGIT: AskSt = 0x0000_8000;
/// Reported to the server as spam.
pub const ST_RPT_SPAM: AskSt = 0x0001_0000;

/// Filter switches, computed from command line and whiteclnt options.
pub type Sws = u32;
/// Switches have been computed.
pub const SW_SET: Sws = 0x0000_0001;
/// Never discard, always reject.
pub const SW_DISCARD_NO: Sws = 0x0000_0002;
/// DCC checks off (`option DCC-off`).
pub const SW_DCC_OFF: Sws = 0x0000_0004;
/// Honor DCC reputations.
pub const SW_REP_ON: Sws = 0x0000_0008;
/// Log every message.
pub const SW_LOG_ALL: Sws = 0x0000_0010;
/// Greylisting off.
pub const SW_GREY_OFF: Sws = 0x0000_0020;
/// Greylist even spam (`greylist-ignore-spam-on`).
pub const SW_GREY_IGN_SPAM: Sws = 0x0000_0040;
/// No per-user log files for greylist results (`greylist-log-off`).
pub const SW_GREY_LOG_OFF: Sws = 0x0000_0080;
/// Log subdirectories per day.
pub const SW_LOG_D: Sws = 0x0000_0100;
/// Log subdirectories per hour.
pub const SW_LOG_H: Sws = 0x0000_0200;
/// Log subdirectories per minute.
pub const SW_LOG_M: Sws = 0x0000_0400;
/// MTA verdicts are checked before the DCC.
pub const SW_MTA_FIRST: Sws = 0x0000_0800;
/// A spam trap of either kind.
pub const SW_TRAP: Sws = 0x0000_1000;
/// A discarding spam trap.
pub const SW_TRAP_DIS: Sws = 0x0000_2000;
/// A rejecting spam trap.
pub const SW_TRAP_REJ: Sws = 0x0000_4000;
/// DNS blacklist groups on (all four).
pub const SW_DNSBL_M: Sws = 0x0000_8000 * 0xf;

/// Options from whiteclnt files that change the switches (`option ...`
/// lines): the bits of [`tally_white::Switches`], under the names the
/// decision uses.
pub mod white_sw {
    use tally_white::Switches;
    pub const LOG_ALL: u32 = Switches::LOG_ALL;
    pub const LOG_NORMAL: u32 = Switches::LOG_NORMAL;
    pub const DISCARD_OK: u32 = Switches::DISCARD_OK;
    pub const DISCARD_NO: u32 = Switches::DISCARD_NO;
    pub const DCC_ON: u32 = Switches::DCC_ON;
    pub const DCC_OFF: u32 = Switches::DCC_OFF;
    pub const REP_ON: u32 = Switches::REP_ON;
    pub const REP_OFF: u32 = Switches::REP_OFF;
    pub const MTA_FIRST: u32 = Switches::MTA_FIRST;
    pub const MTA_LAST: u32 = Switches::MTA_LAST;
    pub const LOG_D: u32 = Switches::LOG_D;
    pub const LOG_H: u32 = Switches::LOG_H;
    pub const LOG_M: u32 = Switches::LOG_M;
    pub const TRAP_NOT: u32 = Switches::TRAP_NOT;
    pub const TRAP_DIS: u32 = Switches::TRAP_DIS;
    pub const TRAP_REJ: u32 = Switches::TRAP_REJ;
    pub const GREY_ON: u32 = Switches::GREY_ON;
    pub const GREY_OFF: u32 = Switches::GREY_OFF;
    pub const GREY_SPAM_ON: u32 = Switches::GREY_SPAM_ON;
    pub const GREY_SPAM_OFF: u32 = Switches::GREY_SPAM_OFF;
    pub const GREY_LOG_ON: u32 = Switches::GREY_LOG_ON;
    pub const GREY_LOG_OFF: u32 = Switches::GREY_LOG_OFF;
}

/// Switches as a whiteclnt file's options leave them, starting from `sws`
/// (greylisting is always off in dccproc).
pub fn wf_to_sws(sws: Sws, w: u32) -> Sws {
    wf_to_sws_grey(sws, w, false)
}

/// [`wf_to_sws`] for a program that may greylist: `grey_on` is `-G on`
/// (or another form that turns greylisting on); without it greylisting
/// stays off whatever the file says.
pub fn wf_to_sws_grey(mut sws: Sws, w: u32, grey_on: bool) -> Sws {
    use white_sw as w_;
    if w & w_::DISCARD_NO != 0 {
        sws |= SW_DISCARD_NO;
    } else if w & w_::DISCARD_OK != 0 {
        sws &= !SW_DISCARD_NO;
    }
    if w & w_::DCC_OFF != 0 {
        sws |= SW_DCC_OFF;
    } else if w & w_::DCC_ON != 0 {
        sws &= !SW_DCC_OFF;
    }
    if grey_on && w & w_::GREY_ON != 0 {
        sws &= !SW_GREY_OFF;
    } else if !grey_on || w & w_::GREY_OFF != 0 {
        sws |= SW_GREY_OFF;
    }
    if w & w_::GREY_SPAM_ON != 0 {
        sws |= SW_GREY_IGN_SPAM;
    } else if w & w_::GREY_SPAM_OFF != 0 {
        sws &= !SW_GREY_IGN_SPAM;
    }
    if w & w_::GREY_LOG_ON != 0 {
        sws &= !SW_GREY_LOG_OFF;
    } else if w & w_::GREY_LOG_OFF != 0 {
        sws |= SW_GREY_LOG_OFF;
    }
    if w & w_::LOG_ALL != 0 {
        sws |= SW_LOG_ALL;
    } else if w & w_::LOG_NORMAL != 0 {
        sws &= !SW_LOG_ALL;
    }
    if w & w_::LOG_M != 0 {
        sws |= SW_LOG_M;
    } else if w & w_::LOG_H != 0 {
        sws |= SW_LOG_H;
    } else if w & w_::LOG_D != 0 {
        sws |= SW_LOG_D;
    }
    if w & w_::MTA_FIRST != 0 {
        sws |= SW_MTA_FIRST;
    } else if w & w_::MTA_LAST != 0 {
        sws &= !SW_MTA_FIRST;
    }
    if w & w_::REP_ON != 0 {
        sws |= SW_REP_ON;
    } else if w & w_::REP_OFF != 0 {
        sws &= !SW_REP_ON;
    }
    if w & w_::TRAP_DIS != 0 {
        sws |= SW_TRAP | SW_TRAP_DIS;
        sws &= !SW_TRAP_REJ;
    } else if w & w_::TRAP_REJ != 0 {
        sws &= !SW_TRAP_DIS;
        sws |= SW_TRAP | SW_TRAP_REJ;
    } else if w & w_::TRAP_NOT != 0 {
        sws &= !(SW_TRAP | SW_TRAP_DIS | SW_TRAP_REJ);
    }
    if sws & SW_TRAP != 0 {
        sws |= SW_GREY_OFF | SW_REP_ON;
        sws &= !(SW_DCC_OFF | SW_DNSBL_M);
    }
    sws | SW_SET
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traps() {
        let s = wf_to_sws(SW_DNSBL_M, white_sw::TRAP_DIS | white_sw::DCC_OFF);
        assert_ne!(s & SW_TRAP_DIS, 0);
        assert_ne!(s & SW_REP_ON, 0);
        assert_eq!(s & SW_DCC_OFF, 0);
        assert_eq!(s & SW_DNSBL_M, 0);
        let s = wf_to_sws(0, white_sw::LOG_ALL | white_sw::LOG_H);
        assert_ne!(s & SW_LOG_ALL, 0);
        assert_ne!(s & SW_LOG_H, 0);
    }

    #[test]
    fn greylisting_needs_the_program_to_allow_it() {
        let s = wf_to_sws(0, white_sw::GREY_ON);
        assert_ne!(s & SW_GREY_OFF, 0);
        let s = wf_to_sws_grey(SW_GREY_OFF, white_sw::GREY_ON, true);
        assert_eq!(s & SW_GREY_OFF, 0);
        let s = wf_to_sws_grey(0, white_sw::GREY_OFF | white_sw::GREY_SPAM_ON, true);
        assert_ne!(s & SW_GREY_OFF, 0);
        assert_ne!(s & SW_GREY_IGN_SPAM, 0);
        let s = wf_to_sws_grey(0, white_sw::GREY_LOG_OFF, true);
        assert_ne!(s & SW_GREY_LOG_OFF, 0);
        assert_eq!(s & SW_GREY_OFF, 0);
        // a spam trap is never greylisted
        let s = wf_to_sws_grey(0, white_sw::GREY_ON | white_sw::TRAP_REJ, true);
        assert_ne!(s & SW_GREY_OFF, 0);
    }
}
