//! The end of a greylisted message, after the DCC decision: `GREY_SPAM`
//! for the recipients it is spam for, and whether it stays embargoed.

use super::{GreyResult, GreySpamRequest, Greylist};
use crate::cks::MsgCks;
use crate::state::ST_GREY_EMBARGO;
use tally_ck::CkType;

impl Greylist {
    /// Recipient `i` found the message to be spam: the `GREY_SPAM`
    /// request that restores the embargo of its triple, unless there is
    /// nothing to restore, it is a spam trap or it greylists even spam.
    /// `ignore` is `-a IGNORE` (spam is delivered: nothing is sent).
    pub fn spam_request(
        &mut self,
        i: usize,
        cks: &MsgCks,
        ignore: bool,
    ) -> Option<GreySpamRequest> {
        if ignore {
            return None;
        }
        let r = self.rcpts.get_mut(i)?;
        match r.result {
            GreyResult::Fail | GreyResult::Off | GreyResult::White | GreyResult::Spam => {
                return None
            }
            GreyResult::Embargo if r.embargo_num == 0 => {
                r.result = GreyResult::Off;
                return None;
            }
            _ => {}
        }
        if r.sws.trap || r.sws.ignore_spam {
            return None;
        }
        let Some(ip) = cks.of_type(CkType::Ip).map(|s| s.sum) else {
            self.errors
                .push("missing IP checksum for grey_spam()".to_string());
            return None;
        };
        r.result = GreyResult::Spam;
        Some(GreySpamRequest {
            ip,
            msg: r.msg_sum,
            triple: r.triple_sum,
        })
    }

    /// Whether the message is embargoed in the end, given for each
    /// recipient (in the order added) whether the message is spam for
    /// it. Spam is rejected rather than embargoed, except for recipients
    /// that greylist even spam; a message no recipient wants is not
    /// embargoed. `ignore` is `-a IGNORE`.
    pub fn embargo(&mut self, spam: &[bool], ignore: bool) -> bool {
        let embargoed = self.st & ST_GREY_EMBARGO != 0;
        let (mut deliver, mut reject, mut trap_dis) = (0u32, 0u32, 0u32);
        let mut discard_ok = true;
        for (r, &is_spam) in self.rcpts.iter().zip(spam.iter()) {
            if r.rejected {
                continue;
            }
            if !is_spam {
                deliver += 1;
            } else if r.sws.trap_discard {
                trap_dis += 1;
            } else if r.sws.ignore_spam && embargoed {
                deliver += 1;
            } else {
                reject += 1;
                if !r.sws.discard_no {
                    discard_ok = false;
                }
            }
        }
        if ignore {
            deliver += reject;
            reject = 0;
        }
        if reject != 0 && deliver != 0 && !discard_ok {
            // forced rejection for everyone
            deliver = 0;
        }
        if trap_dis != 0 && reject == 0 && deliver != 0 {
            deliver += trap_dis;
        }
        if deliver == 0 {
            self.st &= !ST_GREY_EMBARGO;
        }
        self.st & ST_GREY_EMBARGO != 0
    }

    /// The recipient's result as the `%EMBARGO` of dccifd and the log
    /// result words: `#n` of the embargo, or empty.
    pub fn embargo_suffix(&self, i: usize) -> String {
        match self.rcpts.get(i) {
            Some(r) if r.embargo_num != 0 => format!(" #{}", r.embargo_num),
            _ => String::new(),
        }
    }
}
