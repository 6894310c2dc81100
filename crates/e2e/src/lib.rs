//! Harness for the end-to-end tests: our DCC daemons behind a real mail
//! system.
//!
//! Every test builds the same kind of scene: our `dccd` on a random loopback
//! UDP port with a temporary home, a client home whose `map` names it, our
//! `dccm` (milter) or `dccifd` (program interface) on a socket in a temporary
//! directory, and a private Postfix instance (own configuration and queue
//! directories, SMTP only on 127.0.0.1, delivery only into Maildirs of the
//! temporary directory), a private sendmail (Debian's packages unpacked into
//! a cache directory, relaying to an SMTP sink of the test) or SpamAssassin
//! with a private site configuration.
//! Each piece is a guard that stops its processes and removes its files when
//! dropped, so a failing assertion cleans up too. Every wait is bounded.
//!
//! The scenes need `postfix`, the unpacked sendmail, `spamassassin` and root; [`skip`] tells the
//! tests to skip (printing why) instead of failing when these are missing.

pub mod bins;
pub mod counted;
pub mod daemons;
pub mod dccd;
pub mod dccifd_client;
pub mod faults;
pub mod greylist;
pub mod load;
pub mod mailer;
pub mod milter;
pub mod msg;
pub mod postfix;
pub mod proc;
pub mod procstat;
pub mod sa;
pub mod scene;
pub mod sendmail;
pub mod skip;
pub mod smtp;
pub mod tmp;
pub mod users;

pub use skip::Skip;
