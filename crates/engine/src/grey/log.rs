//! The `greylist recipient` lines of log files: per recipient its
//! `grey msg` and `grey triple` checksums and the result, as in
//!
//! ```text
//!        greylist recipient
//!           bob@example.net: b393fde9 69b66381 cf6185fa c173507f
//!                            03f933f3 e8429cd4 7559b962 0e6af487 Embargo #1
//! ```

use super::{GreyRcpt, GreyResult, Greylist};

const HEADING: &str = "       greylist recipient";

/// The result words of a recipient, or `None` when it was not greylisted.
pub fn result_words(r: &GreyRcpt) -> Option<String> {
    Some(match r.result {
        GreyResult::Off => return None,
        GreyResult::Fail => "Sys Failure".to_string(),
        GreyResult::Embargo if r.embargo_num > 0 => format!("Embargo #{}", r.embargo_num),
        GreyResult::Embargo => "Embargo".to_string(),
        GreyResult::EmbargoEnd => "Embargo Ended".to_string(),
        GreyResult::Pass => "Pass".to_string(),
        GreyResult::White => "Recognized OK".to_string(),
        GreyResult::Spam => format!("Embargo #{} reset", r.embargo_num),
    })
}

/// The two lines of one recipient.
fn rcpt_lines(out: &mut String, r: &GreyRcpt, words: &str) {
    let mut addr = r.env_to.as_str();
    if addr.len() > 1 && addr.starts_with('<') && addr.ends_with('>') {
        addr = &addr[1..addr.len() - 1];
    }
    let sep = if addr.is_empty() { ' ' } else { ':' };
    out.push_str(&format!("{addr:>25}{sep} {:<35} \n", r.msg_sum.to_string()));
    out.push_str(&format!(
        "{:>25}  {:<35} {words}\n",
        "",
        r.triple_sum.to_string()
    ));
}

impl Greylist {
    /// The main log file's greylist lines (empty when no recipient was
    /// greylisted), `query` for `-Q` (the heading then says so).
    pub fn log_text(&self, query: bool) -> String {
        let mut out = String::new();
        for r in &self.rcpts {
            let Some(words) = result_words(r) else {
                continue;
            };
            if out.is_empty() {
                out.push_str(HEADING);
                out.push_str(if query { " query\n" } else { "\n" });
            }
            rcpt_lines(&mut out, r, &words);
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }

    /// Recipient `i`'s greylist lines for its per-user log file.
    pub fn rcpt_log_text(&self, i: usize, query: bool) -> String {
        let mut out = String::new();
        let Some(r) = self.rcpts.get(i) else {
            return out;
        };
        let Some(words) = result_words(r) else {
            return out;
        };
        out.push_str(HEADING);
        out.push_str(if query { " query\n" } else { "\n" });
        rcpt_lines(&mut out, r, &words);
        out.push('\n');
        out
    }

    /// Whether recipient `i` gets a per-user log file because of
    /// greylisting (an embargo or its end, unless `greylist-log-off`).
    pub fn wants_user_log(&self, i: usize) -> bool {
        self.st & crate::state::ST_GREY_LOGIT != 0
            && self.rcpts.get(i).is_some_and(|r| !r.sws.log_off)
    }
}
