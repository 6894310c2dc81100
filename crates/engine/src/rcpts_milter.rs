//! Several recipients sharing one SMTP transaction, as a milter (dccm)
//! sees them: recipients arrive one by one before the message, and at
//! the end the MTA can only accept, reject or discard the whole message,
//! or remove some recipients from it.
//!
//! The recorded behaviour of the original this follows:
//! - a recipient whose per-user whiteclnt file differs from the first
//!   recipient's (one has a file and the other not, or their contents
//!   differ) cannot join the transaction: it gets
//!   `452 4.5.3 reject temporarily for incompatible whitelists` and the
//!   MTA tries it again later in a transaction of its own; recipients
//!   whitelisted by env_To decide for themselves and always join;
//! - spam is delivered to recipients that whitelist it; with the
//!   rejecting action the others are removed from the message silently
//!   (recipient deletion), with the discarding action the whole message
//!   is discarded; mail relayed by MX/MXDCC clients of the main file is
//!   always discarded, never rejected (no bounces from the relay).

use tally_ck::Sum;

/// What the whitelists say about one recipient, for the joining rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RcptProfile {
    /// Whitelisted by its env_To (global file or own file).
    pub env_to_white: bool,
    /// Fingerprint of its own whiteclnt file, `None` without one (or an
    /// empty one).
    pub file: Option<Sum>,
}

/// Whether `new` can join a transaction whose first recipient is `first`.
pub fn joins(first: Option<&RcptProfile>, new: &RcptProfile) -> bool {
    match first {
        None => true,
        Some(f) => f.env_to_white || new.env_to_white || f.file == new.file,
    }
}

/// The front end's `-a` action for spam.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpamAction {
    /// Accept with the header.
    Ignore,
    /// Refuse.
    Reject,
    /// Accept and throw away.
    Discard,
}

/// What to do with a message found to be spam.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpamDisposition {
    /// Deliver it with its header.
    Accept,
    /// Throw it away.
    Discard,
    /// Refuse it with the rejection message.
    Reject,
    /// Deliver it to the whitelisting recipients only: remove the others.
    RemoveOthers,
}

/// The disposition of spam given the action, whether the client is an
/// MX/MXDCC relay of the main whiteclnt file, and whether some recipient
/// whitelists the message.
pub fn spam_disposition(action: SpamAction, via_relay: bool, some_white: bool) -> SpamDisposition {
    if via_relay {
        return SpamDisposition::Discard;
    }
    match action {
        SpamAction::Ignore => SpamDisposition::Accept,
        SpamAction::Discard => SpamDisposition::Discard,
        SpamAction::Reject if some_white => SpamDisposition::RemoveOthers,
        SpamAction::Reject => SpamDisposition::Reject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joining() {
        let none = RcptProfile {
            env_to_white: false,
            file: None,
        };
        let bob = RcptProfile {
            env_to_white: false,
            file: Some(Sum([1; 16])),
        };
        let wl = RcptProfile {
            env_to_white: true,
            file: None,
        };
        assert!(joins(None, &bob));
        assert!(joins(Some(&none), &none));
        assert!(!joins(Some(&bob), &none));
        assert!(!joins(Some(&none), &bob));
        assert!(joins(Some(&bob), &wl));
        assert!(joins(Some(&bob), &bob));
    }

    #[test]
    fn dispositions() {
        use SpamAction::*;
        use SpamDisposition as D;
        assert_eq!(spam_disposition(Reject, true, false), D::Discard);
        assert_eq!(spam_disposition(Reject, false, true), D::RemoveOthers);
        assert_eq!(spam_disposition(Reject, false, false), D::Reject);
        assert_eq!(spam_disposition(Discard, false, true), D::Discard);
        assert_eq!(spam_disposition(Ignore, false, false), D::Accept);
    }
}
