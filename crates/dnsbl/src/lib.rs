//! DNS white- and blacklists, the `-B` option of dccm(8), dccifd(8) and dccproc(8).
//!
//! Pure (no I/O):
//! - [`option`]: the `-B` grammar.
//! - [`reply`]: `set:rej-msg` texts and their `%` macros.
//! - [`addr`]: result addresses, ranges and probe names.
//! - [`answer`]: the questions asked and what is used of their answers.
//! - [`plan`]: the checks of one message, sans-I/O, in the original's order.
//! - [`outcome`]: hits, log lines and rejection texts.
//! - [`zone`]: a zone for tests and benchmarks (the recordings' zone format).
//!
//! I/O, behind features:
//! - `resolve`: [`resolve`], asynchronous DNS with hickory and tokio, driving a plan.
//! - `testserver`: [`testserver`], an authoritative DNS server on loopback.

pub mod addr;
pub mod answer;
pub mod option;
pub mod outcome;
pub mod plan;
pub mod reply;
pub mod settings;
mod walk;
pub mod zone;

#[cfg(feature = "resolve")]
pub mod resolve;
#[cfg(feature = "testserver")]
pub mod testserver;

pub use answer::{Answer, QType, Question, Status};
pub use option::{OptionError, Parser, Settings};
pub use outcome::{GroupResult, Hit, Outcome};
pub use plan::{Client, Mode, Plan, Step, Targets, Want};
