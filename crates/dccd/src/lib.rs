//! `dccd`, the DCC server, wire-compatible with DCC 2.3.167: it answers
//! NOP, QUERY, REPORT, DELETE and the administrative requests of `cdcc`
//! over UDP, counts reports in a [`tally_store::Store`] and authenticates
//! clients with the `ids` file.
//!
//! Modules:
//! - [`opts`]: the command line of dccd(8); [`anon_delay`]: `-u` and the
//!   anonymous delay's limit.
//! - [`server`]: one datagram in, one answer out (no I/O).
//! - [`work`]: counting reports and answering queries.
//! - [`grey`]: the greylist server (`-G`).
//! - [`admn`]: `cdcc` requests.
//! - [`ridc`]: the retransmission cache.
//! - [`clients`]: recent clients and rate limits; [`clients_file`]: the
//!   table kept across restarts (`dccd_clients`, `grey_clients`).
//! - [`stats`]: `cdcc stats`; [`metrics`]: the same counters on the
//!   statistics listener of `-M` (Prometheus text and graphs).
//! - [`net`]: sockets, timers, signals, files of the home directory.
//! - [`udp`]: the receive loop of a UDP socket (batches, signed clients
//!   first, answers signed two at a time with `tally_wire::sign_pair`);
//!   [`verify`]: the signatures of a batch's requests checked two at a
//!   time.
//! - [`trace`]: trace modes and messages.
//! - [`blacklist`]: the `blacklist` file (addresses whose requests and
//!   floods are ignored or traced).
//! - [`flood`]: flooding to and from other servers.
//!
//! Files in the home directory (`-h`, default `/var/dcc`):
//! - `ids`: client-IDs and passwords; must not be readable or writable by
//!   others (the server refuses to start otherwise, as the original).
//! - `whitelist`: the server whitelist in the whiteclnt format, built into
//!   the database at start and on SIGHUP by dbclean's own rules
//!   ([`tally_dbtools::white`]); its entries are answered with their value
//!   (`OK`, `OK2`, `many`).
//! - `tally-db/`: the database (an append-only log, see `tally-store`).
//! - `dccd.pid` (`grey_dccd.pid` with `-G`): the process-ID of the running
//!   server (see [`pid_file`]).
//! - `flod` (`grey_flod` with `-G`): the flooding peers (see [`flood`]);
//!   read again when it changes, on SIGHUP and on `cdcc "flood check"`.
//!   The flooding positions are kept by the store (`tally-db/peers`).
//! - `dccd_clients` (`grey_clients` with `-G`): the client table of `cdcc
//!   clients`, kept across restarts (see [`clients_file`]).
//! - `blacklist`: addresses and blocks of clients and flooding peers to
//!   ignore (see [`blacklist`]); read at start and again within 30
//!   seconds of a change (the environment variable
//!   `DCCD_BLACKLIST_CHECK_MS`, meant for tests, sets another interval).
//!
//! Signals: SIGHUP reloads `ids`, `whitelist` and `flod` and looks at
//! `blacklist`; SIGTERM and SIGINT stop the server in order (the database
//! is synced, the pid file removed), as does `cdcc stop`.
//!
//! Durability: an answer to a REPORT leaves only after the report has been
//! written to the operating system, so it survives the server being
//! killed; the data reach the disk by a group commit every 100 ms (an
//! `fdatasync` of the log that does not hold up requests meanwhile) and at
//! every orderly stop.

//! With `-G` it is a greylist server (see [`grey`]): port 6276 by
//! default, the database in `tally-grey-db/`, the whitelist from
//! `grey_whitelist`, clients must be authenticated; `-G auto-white-IP=N`
//! (not in the original, off by default) whitelists an SMTP client's IP
//! address once N of its triples passed the embargo.
//!
//! Flooding ([`flood`]): the peers of `flod` (`grey_flod` with `-G`) get
//! our reports over TCP on the server's port, and theirs are counted here.
//!
//! Not yet: the `RL_BUGS` rate. Messages go to syslog
//! (`-L`) and, in the foreground, to stderr.

pub mod admn;
pub mod anon_delay;
pub mod blacklist;
pub mod clients;
pub mod clients_file;
pub mod flood;
pub mod grey;
pub mod metrics;
pub mod net;
pub mod opts;
pub mod ridc;
pub mod server;
pub mod stats;
pub mod trace;
pub mod udp;
pub mod verify;
pub mod work;

/// The pid file of the server in `home`: `dccd.pid`, or `grey_dccd.pid`
/// for a greylist server (`-G`), so that a DCC server and a greylist
/// server sharing a home directory each keep and remove their own. The
/// original's dccd writes no pid file; the greylist name takes the
/// `grey_` prefix of its other files (`grey_flod`, `grey_clients`).
pub fn pid_file(home: &std::path::Path, grey: bool) -> std::path::PathBuf {
    home.join(if grey { "grey_dccd.pid" } else { "dccd.pid" })
}
