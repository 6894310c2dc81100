//! Operations: the original's `dcc_conf` turned into the daemons' command
//! lines, and the daily maintenance.
//!
//! - [`conf`]: the reader of `dcc_conf` (shell variable assignments);
//! - [`words`]: a variable's value split into arguments as the shell does;
//! - [`start`]: the command lines of dccd, the greylist dccd, dccm and
//!   dccifd, as the original's start scripts build them;
//! - [`starter`]: the programs `start-dccd`, `start-grey`, `start-dccm` and
//!   `start-dccifd` that systemd's units run;
//! - [`maint`], [`prune`], [`notify`], [`cron`]: the daily maintenance
//!   `cron-dccd` ([`walk`]: its walks through the log directories).
//!
//! See docs/operations.md and the manual pages dcc_conf(5), start-dccd(8)
//! and cron-dccd(8).

pub mod conf;
pub mod cron;
pub mod maint;
pub mod notify;
pub mod prune;
pub mod start;
pub mod starter;
pub mod vars;
pub mod walk;
pub mod words;
