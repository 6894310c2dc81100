//! dccifd(8): the DCC program interface daemon.

use std::path::PathBuf;
use std::sync::Arc;
use tally_dccifd::config::{in_home, Config};
use tally_dccifd::daemon::{self, Bound, Shared};
use tally_dccifd::opts::{self, Listen};
use tally_engine::dcc_client::DccClient;
use tally_engine::syslog::Syslog;
use tally_privs::EX_OSERR;

/// sysexits `EX_USAGE`: a bad value of `-p`, `-o`, `-D`, `-S`, `-I`, `-M`.
const EX_USAGE: i32 = 64;
/// sysexits `EX_NOHOST`: the downstream host of `-o` is unknown.
const EX_NOHOST: i32 = 68;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(run(&args));
}

fn run(args: &[String]) -> i32 {
    // -j is bounded by the open-file limit, as the original bounds it
    let jobs = tally_dccifd::jobs::JobLimit::of_process();
    let o = match opts::parse_with(args, &jobs) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dccifd: {e}");
            return EX_USAGE;
        }
    };
    let mut syslog = Syslog::new("dccifd");
    for l in o.log_opts.iter().cloned() {
        syslog.apply(l);
    }
    for w in &o.warnings {
        eprintln!("dccifd: {w}");
        if o.version == 0 {
            syslog.error(w);
        }
    }
    // -V: the version on standard error, a second one how dccifd was
    // built, then a successful exit, as the original
    if o.version > 0 {
        tally_getopt::version::print_all(o.version);
        return 0;
    }
    // -I: the user is looked up now, so that a mistake is reported where
    // dccifd was started; the process that stays (in the background or
    // not) switches before it touches its home, socket or pid file.
    let target = match o.user.as_deref().map(tally_privs::prepare) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            eprintln!("dccifd: {e}");
            syslog.error(&e.to_string());
            return e.exit_code();
        }
    };
    if !o.foreground {
        // detach: run again in the background with -b (no fork here)
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("dccifd: cannot start in the background: {e}");
                return EX_OSERR;
            }
        };
        let started = std::process::Command::new(exe)
            .arg("-b")
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        return match started {
            Ok(_) => 0,
            Err(e) => {
                eprintln!("dccifd: cannot start in the background: {e}");
                EX_OSERR
            }
        };
    }
    if let Some(t) = &target {
        if let Err(e) = tally_privs::switch(t) {
            eprintln!("dccifd: {e}");
            syslog.error(&e.to_string());
            return e.exit_code();
        }
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let home = cwd.join(o.home.as_deref().unwrap_or("/var/dcc"));
    let map = in_home(&home, o.map.as_deref().unwrap_or("map"));
    let host = tally_dccifd::config::hostname();
    let client = match DccClient::open(&map, &host) {
        Ok(c) => {
            c.client().set_try_hard(o.try_hard);
            Some(Arc::new(c))
        }
        Err(e) => {
            eprintln!("dccifd: {e}");
            syslog.error(&e);
            None
        }
    };
    // the downstream host of -o is looked up at start, as the original
    if let Some(tally_dccifd::proxy::Downstream::Tcp(Some(h), port)) = o.proxy.as_ref() {
        if let Err(e) = std::net::ToSocketAddrs::to_socket_addrs(&(h.as_str(), *port)) {
            let m = e.to_string();
            let m = m
                .strip_prefix("failed to lookup address information: ")
                .unwrap_or(&m);
            let m = format!("{h}: {m}");
            eprintln!("dccifd: {m}");
            syslog.error(&m);
            return EX_NOHOST;
        }
    }
    if o.logdir.is_none() {
        if o.log_tholds_set {
            eprintln!("dccifd: log thresholds set with -t but no -l directory");
        }
        if o.userdirs.is_some() {
            eprintln!("dccifd: no -l directory prevents per-user logging with -U");
        }
    }
    // room for the jobs: the soft open-file limit is raised if need be
    let (max_work, complaints) = o.jobs.raise(o.max_work() as u64);
    for m in &complaints {
        eprintln!("dccifd: {m}");
        syslog.error(m);
    }
    let maxjobs = usize::try_from(max_work).unwrap_or(usize::MAX);
    let cfg = match Config::new(&o, &home) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dccifd: {e}");
            return EX_USAGE;
        }
    };
    if let Some(e) = cfg.dnsbl_error.as_deref() {
        eprintln!("dccifd: {e}");
    }
    if let Some(t) = &target {
        // files the switched process must still be able to create
        let logdir = cfg.logdir.as_ref().map(|(d, _)| ("-l ", d));
        let tmp = match o.tmpdir {
            Some(_) => "-T ",
            None => "temporary directory ",
        };
        let tmpdir = Some((tmp, &cfg.tmpdir)).filter(|(_, d)| Some(*d) != logdir.map(|l| l.1));
        for (what, dir) in logdir.into_iter().chain(tmpdir) {
            if let Err(e) = tally_privs::writable_dir(dir) {
                let e = format!("{what}{}: not writable by {t}: {e}", dir.display());
                eprintln!("dccifd: {e}");
                syslog.error(&e);
            }
        }
    }
    let listen = o
        .listen
        .clone()
        .unwrap_or_else(|| Listen::Unix("dccifd".to_string()));
    let rundir = in_home(&home, o.rundir.as_deref().unwrap_or("/var/run/dcc"));
    // the original's start message, and with -d the line about the jobs
    let start_line = opts::listening_line(&o, &home);
    let debug_line = (o.debug > 0).then(|| o.jobs.debug_line(max_work));
    let shared = Arc::new(Shared {
        cfg,
        client,
        syslog,
        // with -b complaints are printed too (the original's foreground)
        stderr: true,
        totals: Default::default(),
    });
    if let Some(addr) = o.metrics {
        match tally_dccifd::stats::start(addr, shared.clone()) {
            Ok(a) => eprintln!("dccifd: statistics on http://{a}/"),
            Err(e) => {
                eprintln!("dccifd: {e}");
                return 1;
            }
        }
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(maxjobs.clamp(1, 1024))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dccifd: {e}");
            return 1;
        }
    };
    rt.block_on(async move {
        let bound = match daemon::bind(&listen, &home).await {
            Ok(b) => b,
            Err((code, e)) => {
                eprintln!("dccifd: {e}");
                shared.syslog.error(&e);
                return code;
            }
        };
        let pid_file = rundir.join("dccifd.pid");
        if std::fs::write(&pid_file, format!("{}\n", std::process::id())).is_err() {
            eprintln!("dccifd: cannot write {}", pid_file.display());
        }
        shared.syslog.info(&start_line);
        if let Some(l) = debug_line.as_deref() {
            eprintln!("dccifd: {l}");
            shared.syslog.info(l);
        }
        let sock = match &bound {
            Bound::Unix(_, p) => Some(p.clone()),
            Bound::Tcp(..) => None,
        };
        tokio::spawn(reports(shared.clone()));
        let sh = shared.clone();
        tokio::select! {
            _ = daemon::serve(bound, sh, maxjobs) => {}
            _ = stop_signal() => {}
        }
        if let Some(p) = sock {
            let _ = std::fs::remove_file(p);
        }
        let _ = std::fs::remove_file(pid_file);
        if let Some(c) = shared.client.as_ref() {
            let _ = c.save_map();
        }
        0
    })
}

/// The statistics report: on SIGUSR1 and every 24 hours after
/// (dccifd(8)), to the system log and, in the foreground, to stderr.
async fn reports(sh: Arc<Shared>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut usr1) = signal(SignalKind::user_defined1()) else {
        return;
    };
    let day = std::time::Duration::from_secs(24 * 3600);
    let mut next = tokio::time::Instant::now() + day;
    loop {
        tokio::select! {
            _ = usr1.recv() => {}
            _ = tokio::time::sleep_until(next) => {}
        }
        next = tokio::time::Instant::now() + day;
        let line = sh.totals.report();
        if sh.stderr {
            eprintln!("dccifd: {line}");
        }
        sh.syslog.info(&line);
    }
}

/// SIGTERM, SIGINT or SIGHUP stop the daemon, as with the original.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = hup.recv() => {}
    }
}
