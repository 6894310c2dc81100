//! dccm(8): start the milter daemon.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use tally_dccm::config::Config;
use tally_dccm::daemon::{complain, serve, Shared, Totals};
use tally_dccm::opts::{self, ListenOn};
use tally_engine::dcc_client::DccClient;
use tally_engine::syslog::Syslog;

const DCC_HOMEDIR: &str = "/var/dcc";
/// sysexits EX_USAGE.
const EX_USAGE: i32 = 64;
/// sysexits EX_UNAVAILABLE.
const EX_UNAVAILABLE: i32 = 69;
/// sysexits EX_OSERR.
const EX_OSERR: i32 = 71;

use tally_engine::home::{absolute, hostname};

/// Remove a dead socket left by an earlier instance; refuse to start when
/// something answers on it or a non-socket is in the way.
fn del_sock(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !(m.file_type().is_socket() || m.file_type().is_fifo()) {
        return Err(format!("non-socket present at {}", path.display()));
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(format!(
            "DCCM or something already or still running with socket at {}",
            path.display()
        ));
    }
    std::fs::remove_file(path).map_err(|e| format!("unlink(old {}): {e}", path.display()))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // -j is bounded by the open-file limit, as the original bounds it
    let jobs = tally_dccm::jobs::limit(tally_dccm::jobs::read());
    let mut o = opts::parse_with(&args, &jobs);
    let mut syslog = Syslog::new("dccm");
    for l in o.log_opts.iter().cloned() {
        syslog.apply(l);
    }
    for m in &o.msgs {
        complain(&syslog, m);
    }
    // the milter library's reasons for dropping a connection, logged
    tally_dccm::milter_errors::MilterErrors::new(syslog.clone(), true).install();
    // -V: the version on standard error, a second one how dccm was built,
    // then a successful exit, as the original
    if o.version > 0 {
        tally_getopt::version::print_all(o.version);
        std::process::exit(0);
    }
    if let Some(f) = &o.fatal {
        complain(&syslog, f);
        std::process::exit(EX_USAGE);
    }
    // -I: the user is looked up now, so that a mistake is reported where
    // dccm was started; the process that stays (in the background or not)
    // switches before it touches its home, socket or pid file.
    let target = o.user.as_deref().map(|u| match tally_privs::prepare(u) {
        Ok(t) => t,
        Err(e) => {
            complain(&syslog, &e.to_string());
            std::process::exit(e.exit_code());
        }
    });
    if !o.foreground {
        // into the background: the same command with -b, detached
        let started = std::env::current_exe().and_then(|exe| {
            std::process::Command::new(exe)
                .arg("-b")
                .args(&args)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
        });
        match started {
            Ok(_) => std::process::exit(0),
            Err(e) => {
                complain(&syslog, &format!("daemon(): {e}"));
                std::process::exit(EX_OSERR);
            }
        }
    }
    if let Some(t) = &target {
        if let Err(e) = tally_privs::switch(t) {
            complain(&syslog, &e.to_string());
            std::process::exit(e.exit_code());
        }
    }
    // room for the jobs: the soft open-file limit is raised if need be
    let (max_work, complaints) = tally_dccm::jobs::raise(o.max_work, &o.jobs);
    for m in &complaints {
        complain(&syslog, m);
    }
    o.max_work = max_work;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let home = match o.homedir.as_deref() {
        Some(h) if Path::new(&absolute(&cwd, h)).is_dir() => absolute(&cwd, h),
        Some(h) => {
            complain(&syslog, &format!("chdir({h}): No such file or directory"));
            PathBuf::from(DCC_HOMEDIR)
        }
        None => PathBuf::from(DCC_HOMEDIR),
    };
    if o.logdir.is_none() && o.log_tholds_set {
        complain(&syslog, "log thresholds set with -t but no -l directory");
    }
    if o.logdir.is_none() && o.userdirs.is_some() {
        complain(&syslog, "no -l directory prevents per-user logging with -U");
    }
    let rundir = absolute(&home, &o.rundir);
    // as given with -p, else the socket in the run directory
    let conn = o
        .conn
        .clone()
        .unwrap_or_else(|| format!("{}/dccm", rundir.display()));
    let listen = match opts::parse_conn(&conn) {
        Ok(l) => l,
        Err(e) => {
            complain(&syslog, &e);
            std::process::exit(EX_USAGE);
        }
    };
    let map = absolute(&home, o.map.as_deref().unwrap_or("map"));
    let host = hostname();
    let dcc = match DccClient::open(&map, &host) {
        Ok(c) => {
            c.client().set_try_hard(o.try_extra_hard);
            Some(Arc::new(c))
        }
        Err(e) => {
            complain(&syslog, &e);
            None
        }
    };
    let cfg = Arc::new(Config::new(&o, &home));
    if let Some(e) = cfg.dnsbl_error.as_deref() {
        complain(&syslog, e);
    }
    if let (Some(t), Some((dir, _))) = (&target, cfg.logdir.as_ref()) {
        if let Err(e) = tally_privs::writable_dir(dir) {
            let dir = dir.display();
            complain(&syslog, &format!("-l {dir}: not writable by {t}: {e}"));
        }
    }
    let sh = Arc::new(Shared {
        cfg,
        dcc,
        hostname: host,
        max_work: o.max_work as usize,
        active: AtomicUsize::new(0),
        over_limit: Default::default(),
        totals: Totals::default(),
        syslog,
        xfltr: o.xfltr.clone(),
    });
    if let Some(addr) = o.metrics {
        match tally_dccm::stats::start(addr, sh.clone()) {
            Ok(a) => {
                let line = format!("statistics on http://{a}/");
                eprintln!("dccm: {line}");
                sh.syslog.info(&line);
            }
            Err(e) => {
                complain(&sh.syslog, &e);
                std::process::exit(EX_UNAVAILABLE);
            }
        }
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dccm: runtime: {e}");
            std::process::exit(EX_OSERR);
        }
    };
    // the original's start message (syslog info)
    let start_line = opts::listening_line(&conn, &home);
    // -d: the jobs, as the original's line after the start message
    let debug_line = (o.debug > 0).then(|| tally_dccm::jobs::debug_line(o.max_work, &o.jobs));
    let code = rt.block_on(run(listen, sh, rundir, start_line, debug_line));
    std::process::exit(code);
}

/// The start message, and with `-d` the line about the jobs (also on
/// stderr, with the complaints).
fn started(sh: &Shared, start_line: &str, debug_line: Option<&str>) {
    sh.syslog.info(start_line);
    if let Some(l) = debug_line {
        eprintln!("dccm: {l}");
        sh.syslog.info(l);
    }
}

/// The next delivery of a signal, or never if it could not be caught.
async fn stop_signal(s: &mut Option<tokio::signal::unix::Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

async fn run(
    listen: ListenOn,
    sh: Arc<Shared>,
    rundir: PathBuf,
    start_line: String,
    debug_line: Option<String>,
) -> i32 {
    use tokio::signal::unix::{signal, SignalKind};
    let pidfile = rundir.join("dccm.pid");
    if rundir.is_dir() {
        let _ = std::fs::write(&pidfile, format!("{}\n", std::process::id()));
    }
    let stats = sh.clone();
    tokio::spawn(async move {
        let Ok(mut usr1) = signal(SignalKind::user_defined1()) else {
            return;
        };
        let mut day = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
        day.tick().await;
        loop {
            tokio::select! {
                _ = usr1.recv() => {}
                _ = day.tick() => {}
            }
            let open = stats.active.load(std::sync::atomic::Ordering::SeqCst);
            let line = format!("{}; {open} connections open", stats.totals.report());
            // stderr too, as complaints (the terminal or log of `-b`)
            eprintln!("dccm: {line}");
            stats.syslog.info(&line);
        }
    });
    // SIGTERM, SIGINT and SIGHUP stop dccm in order, as the milter library
    // stops the original (SIGHUP's default would kill it and leave its pid
    // file); caught from here on, also while the servers are probed
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    let shutdown = async move {
        tokio::select! {
            _ = stop_signal(&mut term) => {}
            _ = stop_signal(&mut int) => {}
            _ = stop_signal(&mut hup) => {}
        }
    };
    let dcc = sh.dcc.clone();
    if let Some(c) = dcc.clone() {
        // learn the servers' brands and round trip times before the
        // first message, bounded so that a dead server does not hold us
        let probe = c.client().measure_rtt(tally_client::map::ClassKind::Dcc);
        let _ = tokio::time::timeout(std::time::Duration::from_millis(1500), probe).await;
    }
    let res = match listen {
        ListenOn::Unix(p) => {
            let path = PathBuf::from(&p);
            if let Err(e) = del_sock(&path) {
                complain(&sh.syslog, &e);
                return EX_UNAVAILABLE;
            }
            match tokio::net::UnixListener::bind(&path) {
                Ok(l) => {
                    // Writable by the MTA whatever its user (Postfix's smtpd
                    // runs as "postfix"); who may reach the socket is decided
                    // by the permissions of its directory (docs/postfix.md).
                    use std::os::unix::fs::PermissionsExt;
                    if let Err(e) =
                        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))
                    {
                        complain(&sh.syslog, &format!("chmod({p}): {e}"));
                    }
                    started(&sh, &start_line, debug_line.as_deref());
                    serve(l, sh, shutdown).await
                }
                Err(e) => {
                    complain(&sh.syslog, &format!("bind({p}): {e}"));
                    return EX_UNAVAILABLE;
                }
            }
        }
        ListenOn::Tcp(a) => match tokio::net::TcpListener::bind(&a).await {
            Ok(l) => {
                started(&sh, &start_line, debug_line.as_deref());
                serve(tally_dccm::listen::NoDelay(l), sh, shutdown).await
            }
            Err(e) => {
                complain(&sh.syslog, &format!("bind({a}): {e}"));
                return EX_UNAVAILABLE;
            }
        },
    };
    if let Some(c) = dcc {
        let _ = c.save_map();
    }
    let _ = std::fs::remove_file(&pidfile);
    match res {
        Ok(()) => 0,
        Err(_) => EX_UNAVAILABLE,
    }
}
