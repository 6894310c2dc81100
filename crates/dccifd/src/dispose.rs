//! What the ASCII protocol does with a message once it is known for
//! which recipients it is spam: the consensus of the recipients (the
//! original's `users_process()`), each recipient's result line in its
//! per-user log and in the main log (`user_log_result()`), and the answer
//! with its result line (`ascii_done()`).
//!
//! Unlike an SMTP proxy, the ASCII protocol can drop a message for some
//! recipients alone (the MTA is told each recipient's letter), so that
//! spam is discarded for them when the others want the message, unless a
//! recipient's switches refuse it (`forced reject`). With `-a DISCARD`,
//! or behind a listed `mx` or `mxdcc` relay, spam is discarded: the
//! answer still refuses the message (`R`) and the main log says
//! `result: reject`, while the per-user logs say `result: discard`.

use tally_engine::state::{SW_DISCARD_NO, SW_TRAP, SW_TRAP_DIS, SW_TRAP_REJ};

/// What is done with spam: `-a` (with `mx` relays turning `REJECT` into
/// `DISCARD`), or `IGNORE` for the `no-reject` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Reject,
    Discard,
    Ignore,
}

/// One recipient as the consensus sees it.
#[derive(Debug, Clone, Default)]
pub struct RcptIn {
    /// The envelope address as given.
    pub addr: String,
    /// The message is spam for it.
    pub spam: bool,
    /// Its switches (`SW_*`: discarding refused, spam traps).
    pub sws: u32,
    /// The greylist server whitelisted the triple.
    pub grey_white: bool,
}

/// The message's state that the result lines depend on.
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgIn {
    /// Spam by the server's counts, a blacklist or reputation
    /// (`ASK_ST_*_ISSPAM`), whether or not for any recipient.
    pub spam_seen: bool,
    /// A greylist embargo ended with this message.
    pub grey_end: bool,
}

/// The outcome for the log files and the answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disposed {
    /// The main log's lines after the greylist lines: the forced
    /// consensus, the recipients' forced results and the result.
    pub main: String,
    /// Each recipient's result line for its per-user log.
    pub users: Vec<String>,
    /// The answer refuses the message (`R`).
    pub reject: bool,
    /// Each recipient's letter is `A`.
    pub accept: Vec<bool>,
}

const FORCED: &str = " forced by other recipients";

/// Decide for the recipients `rcpts` (at least one) of a message not
/// embargoed.
pub fn dispose(rcpts: &[RcptIn], msg: MsgIn, mut action: Action) -> Disposed {
    let (mut deliver, mut reject, mut trap_dis) = (0usize, 0usize, 0usize);
    let mut discard_ok = true;
    let mut main = String::new();
    for r in rcpts {
        if !r.spam {
            deliver += 1;
        } else if r.sws & SW_TRAP_DIS != 0 {
            trap_dis += 1;
        } else {
            reject += 1;
            if r.sws & SW_DISCARD_NO == 0 {
                discard_ok = false;
            } else if r.sws & SW_TRAP_REJ != 0 {
                action = Action::Reject;
            }
        }
    }
    if action == Action::Ignore {
        deliver += reject;
        reject = 0;
    }
    if reject != 0 && deliver != 0 {
        if !discard_ok {
            main.push_str(&format!("forced reject for {deliver} targets\n"));
            reject += deliver;
            deliver = 0;
        } else {
            main.push_str(&format!("forced discard for {reject} targets\n"));
            deliver += reject;
            reject = 0;
        }
    }
    if trap_dis != 0 {
        if reject != 0 {
            reject += trap_dis;
        } else if deliver == 0 {
            action = Action::Discard;
            reject += trap_dis;
        } else {
            deliver += trap_dis;
        }
    }
    let mut users = Vec::with_capacity(rcpts.len());
    for r in rcpts {
        let line = if !r.spam {
            if reject != 0 {
                format!("result: reject{FORCED}\n")
            } else if msg.spam_seen {
                if msg.grey_end {
                    "result: ignore and accept after greylist embargo\n".to_string()
                } else {
                    "result: ignore and accept\n".to_string()
                }
            } else if msg.grey_end {
                "result: accept after greylist embargo\n".to_string()
            } else if r.grey_white {
                "result: accept;  greylist whitelist\n".to_string()
            } else {
                "result: accept\n".to_string()
            }
        } else if deliver != 0 && action != Action::Ignore {
            if action == Action::Discard || r.sws & SW_TRAP != 0 {
                "result: discard\n".to_string()
            } else {
                main.push_str(&format!("result: discard forced for {}\n", r.addr));
                format!("result: discard{FORCED}\n")
            }
        } else {
            match action {
                Action::Discard if r.sws & SW_TRAP_REJ != 0 => {
                    format!("result: discard{FORCED}\n")
                }
                Action::Discard => "result: discard\n".to_string(),
                Action::Ignore if r.sws & SW_TRAP != 0 => {
                    format!("result: ignore and accept{FORCED}\n")
                }
                Action::Ignore => "result: ignore and accept\n".to_string(),
                Action::Reject if r.sws & SW_TRAP_DIS != 0 => {
                    format!("result: reject{FORCED}\n")
                }
                Action::Reject => "result: reject\n".to_string(),
            }
        };
        users.push(line);
    }
    // ascii_done(): a refused message is `reject` in the main log even
    // when it was discarded for its recipients
    let refuse = reject != 0 && action != Action::Ignore;
    main.push_str(if refuse {
        "result: reject\n"
    } else {
        "result: accept\n"
    });
    let accept = rcpts.iter().map(|r| deliver != 0 && !r.spam).collect();
    Disposed {
        main,
        users,
        reject: refuse,
        accept,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rcpt(addr: &str, spam: bool, sws: u32) -> RcptIn {
        RcptIn {
            addr: addr.to_string(),
            spam,
            sws,
            grey_white: false,
        }
    }

    const SPAM: MsgIn = MsgIn {
        spam_seen: true,
        grey_end: false,
    };

    #[test]
    fn discarded_for_all() {
        let d = dispose(&[rcpt("<a@x>", true, 0)], SPAM, Action::Discard);
        assert_eq!(d.main, "result: reject\n");
        assert_eq!(d.users, ["result: discard\n"]);
        assert!(d.reject);
        assert_eq!(d.accept, [false]);
    }

    #[test]
    fn discard_mixed_is_a_forced_rejection() {
        // -a DISCARD lets no recipient refuse discarding: the original
        // then counts that as a reason to refuse the message for all
        let r = [rcpt("<a@x>", false, 0), rcpt("<b@x>", true, 0)];
        let d = dispose(&r, SPAM, Action::Discard);
        assert_eq!(d.main, "forced reject for 1 targets\nresult: reject\n");
        assert_eq!(
            d.users,
            [
                "result: reject forced by other recipients\n",
                "result: discard\n"
            ]
        );
        assert_eq!(d.accept, [false, false]);
    }

    #[test]
    fn reject_mixed_is_a_forced_discard() {
        let r = [
            rcpt("<a@x>", false, SW_DISCARD_NO),
            rcpt("<b@x>", true, SW_DISCARD_NO),
        ];
        let d = dispose(&r, SPAM, Action::Reject);
        assert_eq!(
            d.main,
            "forced discard for 1 targets\nresult: discard forced for <b@x>\nresult: accept\n"
        );
        assert_eq!(
            d.users,
            [
                "result: ignore and accept\n",
                "result: discard forced by other recipients\n"
            ]
        );
        assert!(!d.reject);
        assert_eq!(d.accept, [true, false]);
        // a relay found in Received: comes after the switches
        let d = dispose(&r, SPAM, Action::Discard);
        assert_eq!(d.main, "forced discard for 1 targets\nresult: accept\n");
        assert_eq!(d.users[1], "result: discard\n");
    }

    #[test]
    fn ignored() {
        let r = [rcpt("<a@x>", true, 0)];
        let d = dispose(&r, SPAM, Action::Ignore);
        assert_eq!(d.main, "result: accept\n");
        assert_eq!(d.users, ["result: ignore and accept\n"]);
        assert!(!d.reject);
        assert_eq!(d.accept, [false]);
    }
}
