//! The listening daemon: a unix domain socket or a TCP port (with its
//! allowed clients), one job per connection, at most `-j` at a time.
//!
//! Each connection is handled by the thread that accepted it, with
//! ordinary streams (the message is read, checksummed and spooled as it
//! arrives, so memory does not grow with message size); the DCC server is
//! asked with the shared client, the answer awaited on that thread.

use crate::check::{self, Servers};
use crate::config::Config;
use crate::opts::{Acl, Listen};
use crate::proto::BadRequest;
use crate::workers::{Conn, Listener, Pool};
use std::io::{BufReader, Write};
use std::net::Shutdown;
use std::path::PathBuf;
use std::sync::Arc;
use tally_engine::dcc_client::DccClient;
use tally_engine::grey::{GreyAnswer, GreyRequest, GreySpamRequest};
use tally_engine::server::{Answer, AskError, ClientInfo, Request};
use tally_engine::syslog::Syslog;
use tokio::net::{TcpListener, UnixListener};

/// A client silent this long (while sending or reading) is dropped:
/// longer than the longest SMTP timeout, as the original.
pub const IDLE: std::time::Duration = std::time::Duration::from_secs(605);

/// What every connection shares.
pub struct Shared {
    /// Settings.
    pub cfg: Config,
    /// The DCC servers of the map file, if it could be read.
    pub client: Option<Arc<DccClient>>,
    /// Where complaints go.
    pub syslog: Syslog,
    /// Also print complaints on stderr (`-b`, `-d`).
    pub stderr: bool,
    /// The counts of the SIGUSR1 report.
    pub totals: crate::totals::Totals,
}

impl Shared {
    /// Log a complaint.
    pub fn complain(&self, msg: &str) {
        if self.stderr {
            eprintln!("{msg}");
        }
        self.syslog.error(msg);
    }

    /// Log an information message (`-X set:debug`).
    pub fn inform(&self, msg: &str) {
        if self.stderr {
            eprintln!("{msg}");
        }
        self.syslog.info(msg);
    }
}

/// A bound listener.
pub enum Bound {
    /// Unix socket and its path (removed at exit).
    Unix(UnixListener, PathBuf),
    /// TCP and who may connect.
    Tcp(TcpListener, Acl),
}

/// sysexits codes of the original's failures to listen.
pub mod exit {
    /// `EX_IOERR`: the unix socket could not be bound.
    pub const IOERR: i32 = 74;
    /// `EX_CANTCREAT`: a non-socket at the socket's path, another daemon
    /// still answering on it, or a TCP port that stays taken.
    pub const CANTCREAT: i32 = 73;
}

/// How long a daemon found answering on the socket, or holding the TCP
/// port, is given to go away (the original's 50 tries 100 ms apart).
const BIND_TRIES: u32 = 50;
const BIND_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Make way for the unix socket at `path`, as the original does: a file
/// that is not a socket (or FIFO) stops the daemon, a socket nobody
/// answers on is removed, and one that a running daemon answers on is
/// left alone (waiting up to 5 s for that daemon to stop).
async fn clear_unix_path(path: &std::path::Path) -> Result<(), (i32, String)> {
    use std::io::ErrorKind;
    use std::os::unix::fs::FileTypeExt;
    if let Ok(m) = std::fs::metadata(path) {
        let t = m.file_type();
        if !(t.is_socket() || t.is_fifo()) {
            return Err((
                exit::CANTCREAT,
                format!("non-socket present at {}", path.display()),
            ));
        }
    }
    let mut tries = 0;
    loop {
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => {
                tries += 1;
                if tries > BIND_TRIES {
                    return Err((
                        exit::CANTCREAT,
                        format!("something running with socket at {}", path.display()),
                    ));
                }
                tokio::time::sleep(BIND_PAUSE).await;
            }
            Err(e) => {
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionRefused
                        | ErrorKind::ConnectionReset
                        | ErrorKind::PermissionDenied
                ) {
                    if let Err(e) = std::fs::remove_file(path) {
                        if e.kind() != ErrorKind::NotFound {
                            eprintln!(
                                "dccifd: unlink({}): {}",
                                path.display(),
                                tally_engine::errno_str(&e)
                            );
                        }
                    }
                }
                return Ok(());
            }
        }
    }
}

/// Bind the `-p` address (`home` for relative socket paths); `Err` has
/// the exit code and the complaint.
pub async fn bind(listen: &Listen, home: &std::path::Path) -> Result<Bound, (i32, String)> {
    match listen {
        Listen::Unix(p) => {
            let path = home.join(p);
            clear_unix_path(&path).await?;
            let l = UnixListener::bind(&path).map_err(|e| {
                (
                    exit::IOERR,
                    format!("bind({}) {}", path.display(), tally_engine::errno_str(&e)),
                )
            })?;
            // Usable by the MTA whatever its user, as the original: who may
            // reach the socket is decided by its directory's permissions.
            use std::os::unix::fs::PermissionsExt;
            if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))
            {
                let e = tally_engine::errno_str(&e);
                eprintln!("dccifd: chmod({}, 0666): {e}", path.display());
            }
            Ok(Bound::Unix(l, path))
        }
        Listen::Tcp { host, port, allow } => {
            // `*`, `@` or nothing: every address, of the family of the
            // allowed clients, as the original
            let h = match host.as_str() {
                "*" | "@" | "" if allow.is_ipv6() => "::",
                "*" | "@" | "" => "0.0.0.0",
                h => h,
            };
            // a port still held (by a daemon that is stopping) is tried
            // again for a while, as the original does
            let mut tries = 0;
            loop {
                match TcpListener::bind((h, *port)).await {
                    Ok(l) => return Ok(Bound::Tcp(l, allow.clone())),
                    Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < BIND_TRIES => {
                        tries += 1;
                        tokio::time::sleep(BIND_PAUSE).await;
                    }
                    Err(e) => {
                        return Err((
                            exit::CANTCREAT,
                            format!("bind({h},{port}) {}", tally_engine::errno_str(&e)),
                        ))
                    }
                }
            }
        }
    }
}

/// Accept connections until the process is stopped: threads that each
/// accept and serve connections ([`crate::workers`]), at most `maxjobs`.
pub async fn serve(bound: Bound, shared: Arc<Shared>, maxjobs: usize) {
    let listener = match bound {
        Bound::Unix(l, _) => l.into_std().map(Listener::Unix),
        Bound::Tcp(l, acl) => l.into_std().map(|l| Listener::Tcp(l, acl)),
    };
    let listener = match listener.and_then(|l| {
        match &l {
            Listener::Unix(u) => u.set_nonblocking(false)?,
            Listener::Tcp(t, _) => t.set_nonblocking(false)?,
        }
        Ok(l)
    }) {
        Ok(l) => l,
        Err(e) => {
            shared.complain(&format!("listen: {}", tally_engine::errno_str(&e)));
            return;
        }
    };
    let rt = tokio::runtime::Handle::current();
    let sh = shared.clone();
    let handle = move |conn: Conn| job(&sh, &rt, conn);
    let sh = shared.clone();
    let complain = Box::new(move |m: &str| sh.complain(m));
    match Pool::start(listener, handle, complain, maxjobs) {
        // the threads serve until the process ends
        Ok(_pool) => std::future::pending::<()>().await,
        Err(e) => shared.complain(&format!("pthread_create(): {e}")),
    }
}

/// The servers of one job, asked from the job's own thread.
struct JobServers<'a> {
    sh: &'a Shared,
    rt: &'a tokio::runtime::Handle,
}

impl Servers for JobServers<'_> {
    fn dcc(&mut self, req: &Request) -> (Result<Answer, AskError>, ClientInfo) {
        let r = self.dcc_ask(req);
        crate::stats::COUNTS.dcc(r.0.is_ok());
        r
    }

    fn grey(&mut self, req: &GreyRequest) -> Result<GreyAnswer, String> {
        let r = match &self.sh.client {
            Some(c) => c.grey_blocking(self.rt, req),
            None => Err(String::new()),
        };
        crate::stats::COUNTS.grey(r.is_ok());
        r
    }

    fn grey_spam(&mut self, req: &GreySpamRequest) -> Result<(), String> {
        match &self.sh.client {
            Some(c) => c.grey_spam_blocking(self.rt, req),
            None => Err(String::new()),
        }
    }
}

impl JobServers<'_> {
    fn dcc_ask(&mut self, req: &Request) -> (Result<Answer, AskError>, ClientInfo) {
        match &self.sh.client {
            Some(c) => (c.ask_blocking(self.rt, req), c.client_info()),
            None => (
                Err(AskError {
                    // the map could not be read at start; said once then
                    msg: String::new(),
                    srvr_id: 0,
                }),
                ClientInfo {
                    hostname: self.sh.cfg.hostname.clone(),
                    brand: String::new(),
                },
            ),
        }
    }
}

fn job(sh: &Shared, rt: &tokio::runtime::Handle, conn: Conn) {
    let mut servers = JobServers { sh, rt };
    let ask: &mut dyn Servers = &mut servers;
    let r = match conn {
        Conn::Unix(s) => {
            let _ = s.set_nonblocking(false);
            let _ = s.set_read_timeout(Some(IDLE));
            let _ = s.set_write_timeout(Some(IDLE));
            run(sh, None, &s, &s, ask, || s.shutdown(Shutdown::Both))
        }
        Conn::Tcp(s, peer) => {
            let _ = s.set_nonblocking(false);
            let _ = s.set_read_timeout(Some(IDLE));
            let _ = s.set_write_timeout(Some(IDLE));
            run(sh, Some(peer), &s, &s, ask, || s.shutdown(Shutdown::Both))
        }
    };
    if let Err(e) = r {
        sh.complain(&e);
    }
}

fn run<R: std::io::Read, W: Write>(
    sh: &Shared,
    peer: Option<std::net::IpAddr>,
    input: R,
    output: W,
    ask: &mut dyn Servers,
    close: impl FnOnce() -> std::io::Result<()>,
) -> Result<(), String> {
    if let Some(dest) = sh.cfg.proxy.as_ref() {
        let r = crate::proxy::converse(&sh.cfg, dest, peer, input, output, ask);
        let _ = close();
        sh.totals
            .proxied
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (errors, infos) = r?;
        for e in errors {
            sh.complain(&e);
        }
        for i in infos {
            sh.inform(&i);
        }
        return Ok(());
    }
    let mut input = BufReader::with_capacity(16384, input);
    let mut out = crate::totals::First {
        inner: std::io::BufWriter::with_capacity(16384, output),
        first: None,
    };
    let r = check::handle(&sh.cfg, &mut input, &mut out, ask);
    let result = out.first.filter(|_| r.is_ok());
    drop(out);
    let _ = close();
    sh.totals.answered(result);
    let (errors, infos) = r.map_err(|e: BadRequest| e.to_string())?;
    for e in errors {
        sh.complain(&e);
    }
    for i in infos {
        sh.inform(&i);
    }
    Ok(())
}
