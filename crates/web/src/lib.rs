//! Per-user web pages over the userdirs of dccm and dccifd `-U`: each end
//! user signs in, reads the messages logged for them and edits their own
//! whiteclnt file, as the original's CGI scripts (list-log, list-msg,
//! edit-whiteclnt, chgpasswd) let them, served by one small program, `dcc-web`.
//!
//! Modules, one concept each:
//! - [`auth`]: the htpasswd file and password checks ([`apr1`] for
//!   Apache's MD5 form),
//! - [`session`]: signed-in sessions and their CSRF tokens,
//! - [`ratelimit`]: failed sign-ins per user and per address,
//! - [`userdir`]: a user name to its one directory under userdirs,
//! - [`logparse`]: a log file as dccm and dccifd write it,
//! - [`listing`]: a user's log files, newest first, cached,
//! - [`whiteedit`]: one-click entries of the whiteclnt file, edited as text,
//! - [`greyrelease`]: ending a logged message's greylist embargo,
//! - [`useropts`]: the per-user `option` lines a user may change,
//! - [`notify`]: mail about new log files (`webuser-notify`), and its
//!   per-user setting,
//! - [`password`]: a user's own password changed in the htpasswd file,
//!   [`chgpasswd`] its page,
//! - [`pages`]: the HTML (maud escapes every value), [`frame`]: the
//!   site's and the user's own `header` and `footer` HTML around it,
//! - [`server`]: the HTTP routes, [`opts`]: the command line.
//! - [`client`]: a small blocking HTTP/1.1 client for the benchmark and
//!   the tests.

pub mod apr1;
pub mod auth;
pub mod chgpasswd;
pub mod client;
pub mod frame;
pub mod greyrelease;
pub mod listing;
pub mod logparse;
pub mod notify;
pub mod opts;
pub mod pages;
pub mod password;
pub mod ratelimit;
pub mod server;
pub mod session;
pub mod userdir;
pub mod useropts;
pub mod whiteedit;
pub mod write;
