//! Start-up and the event loop: the home directory's files, the UDP
//! sockets (one receiving thread each, see [`crate::udp`]), the
//! housekeeping timer and signals (tokio).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::net::UdpSocket;
use tokio::sync::Notify;

use tally_dbtools::white::Source;
use tally_store::{Ck, LogStore, Store, SyncPolicy};
use tally_wire::ids::Ids;

use crate::clients::Clients;
use crate::opts::Opts;
use crate::ridc::Ridc;
use crate::server::{unix_now, Config, Server};
use crate::stats::Stats;
use crate::trace::log;
use crate::work::Counter;

/// Read the ids file, refusing one that others may read or write.
pub fn load_ids(home: &Path) -> Result<Ids, String> {
    let path = home.join("ids");
    let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.permissions().mode() & 0o006 != 0 {
        return Err(format!(
            "{} is accessible by others; refusing to use it (chmod 600)",
            path.display()
        ));
    }
    let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (ids, errors) = Ids::parse_lenient(&text);
    for e in errors {
        log(&format!("{e} in {}", path.display()));
    }
    Ok(ids)
}

/// The database directory: `tally-db`, or `tally-grey-db` for a greylist
/// server.
pub fn db_dir(home: &Path, grey: bool) -> PathBuf {
    home.join(if grey {
        crate::grey::DB_DIR
    } else {
        "tally-db"
    })
}

/// Build the server whitelist (`whitelist`, or `grey_whitelist` for a
/// greylist server) with dbclean's own builder, so that the list dccd
/// answers from is the one `dbclean` puts into the database: `mx` and
/// `mxdcc` lines count as `ok`, `submit` lines are ignored, address blocks
/// of up to 65536 addresses are expanded, host names are resolved, and a
/// greylist file may only say `ok`. The original's dccd reads no
/// whitelist itself, but its dbclean runs beside it; ours cannot (the
/// database lives in dccd's memory), so dccd builds the list at start and
/// on SIGHUP. `None`: the file exists but cannot be read, and the current
/// list stays, as dbclean keeps it.
pub fn build_whitelist(home: &Path, grey: bool) -> Option<Vec<(Ck, u32)>> {
    let path = tally_dbtools::paths::whitelist_file(home, grey);
    match tally_dbtools::white::build(&path, home, grey) {
        Source::Missing => Some(Vec::new()),
        Source::Unreadable(e) => {
            log(&format!("{e}; keeping the current whitelist"));
            None
        }
        Source::Built { entries, problems } => {
            for p in &problems {
                log(p);
            }
            if problems.len() >= tally_dbtools::white::MAX_PROBLEMS {
                log("stop complaining about the whitelist");
            }
            Some(entries)
        }
    }
}

/// Apply what SIGHUP read: the ids file and the whitelist (`None`: keep
/// the current one).
fn reload(s: &mut Server, home: &Path, wl: Option<Vec<(Ck, u32)>>) {
    match load_ids(home) {
        Ok(ids) => s.ids = ids,
        Err(e) => log(&e),
    }
    let Some(wl) = wl else {
        log("reloaded ids");
        return;
    };
    if let Err(e) = s.counter.store.set_whitelist(&wl) {
        log(&format!("whitelist: {e}"));
    }
    if let Some(g) = s.grey.as_mut() {
        g.grey.set_whitelist(&wl);
    }
    log(&format!(
        "reloaded ids and whitelist ({} entries)",
        wl.len()
    ));
}

/// Build the server from the options.
pub fn build_server(o: &Opts) -> Result<Server, String> {
    let srvr_id = o.srvr_id.ok_or("server-ID not set with -i")?;
    let ids = load_ids(&o.home)?;
    let grey = o.grey_params.is_some();
    let dir = db_dir(&o.home, grey);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // Hold the database lock for the life of the process, so that dbclean
    // (and a second dccd) refuse to write the same database meanwhile.
    let lock = tally_store::lock::DbLock::try_exclusive(&dir)
        .map_err(|e| format!("database {}: {e}", dir.display()))?;
    Box::leak(Box::new(lock));
    // The group commit is the housekeeping timer's (see `serve`), which
    // flushes the log without holding up requests; the store itself never
    // waits for the disk while a request is being answered.
    let mut store = LogStore::open_with(&dir, SyncPolicy::Never)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    if let Some(note) = store.recovered() {
        log(note);
    }
    if let Some(wl) = build_whitelist(&o.home, grey) {
        store
            .set_whitelist(&wl)
            .map_err(|e| format!("whitelist: {e}"))?;
    }
    // Without a flood file there is no incoming flood to wait for: the
    // original's 400 ms penalty does not apply (see docs/compatibility.md).
    let qdelay_ms = 0;
    let grey_state = match o.grey_params {
        Some(p) => {
            crate::grey::save_params(&dir, &p).map_err(|e| format!("{}: {e}", dir.display()))?;
            let g = crate::grey::GreyState::rebuild(p, &store)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            log(&format!(
                "greylist server -G {}: {} records",
                p.to_arg(),
                g.grey.figures().records
            ));
            Some(g)
        }
        None => None,
    };
    // `cdcc stats` counts the records added since the start
    let records_at_reset = store.stats().map_or(0, |st| st.records);
    Ok(Server {
        cfg: Config {
            srvr_id,
            brand: o.brand.clone(),
            query_only: o.query_only,
            // greylist clients cannot be anonymous
            anon_delay_ms: if grey { None } else { o.anon_delay_ms },
            anon_inflate: o.anon_inflate,
            qdelay_ms,
            rate: o.rate,
        },
        ids,
        counter: Counter {
            store: Box::new(store),
            nokeep: o.nokeep,
            srvr_id,
            main: Vec::new(),
        },
        trace: o.trace,
        stats: Stats {
            since: unix_now(),
            records_at_reset,
            ..Default::default()
        },
        clients: Clients::default(),
        blacklist: Default::default(),
        ridc: Ridc::default(),
        out: Vec::new(),
        spare_cks: Vec::new(),
        pairs: Vec::new(),
        deleted: Default::default(),
        stop: false,
        grey: grey_state,
        clock: None,
        flood: None,
    })
}

fn listen_addrs(o: &Opts) -> Vec<SocketAddr> {
    if o.addrs.is_empty() {
        let port = o.default_port();
        vec![
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
        ]
    } else {
        o.addrs.clone()
    }
}

/// Start in the background: run ourselves again with `-b`.
fn detach(args: &[String]) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    std::process::Command::new(exe)
        .arg("-b")
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start in the background: {e}"))?;
    Ok(())
}

/// Run the server until it is told to stop.
pub fn run(o: Opts, args: &[String]) -> Result<(), String> {
    if o.srvr_id.is_none() {
        return Err("server-ID not set with -i".into());
    }
    if !o.foreground {
        // The complaints reach the terminal before the server leaves it,
        // as the original's do; the server itself logs them to syslog.
        for n in &o.notices {
            eprintln!("dccd: {n}");
        }
        return detach(args);
    }
    for n in &o.notices {
        log(n);
    }
    let server = build_server(&o)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let db = db_dir(&o.home, o.grey_params.is_some());
    rt.block_on(serve(
        server,
        listen_addrs(&o),
        o.home.clone(),
        db,
        o.metrics,
    ))
}

fn bind(addrs: &[SocketAddr]) -> Result<Vec<Arc<UdpSocket>>, String> {
    let mut out = Vec::new();
    for a in addrs {
        match UdpSocket::bind(a) {
            Ok(s) => {
                crate::udp::grow_rcvbuf(&s);
                out.push(Arc::new(s))
            }
            // The wildcard pair: a dual-stack IPv6 socket already has IPv4.
            Err(e) if a.ip().is_unspecified() && !out.is_empty() => {
                log(&format!("{a}: {e}"));
            }
            Err(e) => return Err(format!("bind {a}: {e}")),
        }
    }
    Ok(out)
}

async fn serve(
    server: Server,
    addrs: Vec<SocketAddr>,
    home: PathBuf,
    db: PathBuf,
    metrics: Option<SocketAddr>,
) -> Result<(), String> {
    let socks = bind(&addrs)?;
    let flood = {
        let grey = server.grey.is_some();
        let file = home.join(if grey { "grey_flod" } else { "flod" });
        crate::flood::state::Flood::new(server.cfg.srvr_id, file, grey, &*server.counter.store)
    };
    let pid_path = crate::pid_file(&home, server.grey.is_some());
    if let Err(e) = std::fs::write(&pid_path, format!("{}\n", std::process::id())) {
        log(&format!("{}: {e}", pid_path.display()));
    }
    for s in &socks {
        if let Ok(a) = s.local_addr() {
            log(&format!("listening on {a}"));
        }
    }
    let flood = Arc::new(Mutex::new(flood));
    let mut server = server;
    server.flood = Some(flood.clone());
    let clients_path = crate::clients_file::path(&home, server.grey.is_some());
    for e in crate::clients_file::load(&mut server.clients, &clients_path) {
        log(&e);
    }
    let state = Arc::new(Mutex::new(server));
    // the blacklist file, before the first request
    let mut bl_watch = crate::blacklist::watch::Watch::new(&home);
    check_blacklist(&mut bl_watch, &state);
    let tcp: Vec<SocketAddr> = socks.iter().filter_map(|s| s.local_addr().ok()).collect();
    crate::flood::run::start(&tcp, state.clone(), flood.clone())?;
    if let Some(addr) = metrics {
        let bound = crate::metrics::start(addr, state.clone(), flood.clone())?;
        log(&format!("statistics on http://{bound}/"));
    }
    let stop = Arc::new(Notify::new());
    for sock in &socks {
        let (state, stop) = (state.clone(), stop.clone());
        let (sock, rt) = (sock.clone(), tokio::runtime::Handle::current());
        std::thread::Builder::new()
            .name("dccd-udp".into())
            .spawn(move || crate::udp::recv_loop(sock, rt, state, stop))
            .map_err(|e| e.to_string())?;
    }
    {
        let log_file = LogStore::log_path(&db);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                // The group commit, without the lock, so that requests are
                // not held up meanwhile: an fdatasync on our own descriptor
                // of the log flushes everything the store has written to
                // it (the store writes each report to the operating system
                // before its answer leaves).
                let f = log_file.clone();
                let synced = tokio::task::spawn_blocking(move || {
                    std::fs::File::open(f).and_then(|f| f.sync_data())
                })
                .await;
                if let Ok(Err(e)) = synced {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        log(&format!("database sync: {e}"));
                    }
                }
            }
        });
    }
    {
        // the client table, every ten minutes (and at the stop below)
        let (state, file) = (state.clone(), clients_path.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CLIENTS_SAVE);
            tick.tick().await;
            loop {
                tick.tick().await;
                save_clients(&state, &file);
            }
        });
    }
    // the blacklist file again when it changes: looked at every 30
    // seconds, as the original does, and on SIGHUP
    let bl_kick = Arc::new(Notify::new());
    {
        let (state, kick) = (state.clone(), bl_kick.clone());
        let every = crate::blacklist::watch::interval();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = kick.notified() => {}
                }
                check_blacklist(&mut bl_watch, &state);
            }
        });
    }
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| e.to_string())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    loop {
        tokio::select! {
            _ = hup.recv() => {
                // host names are resolved without holding up requests
                let (h, grey) = (home.clone(), state.lock().is_ok_and(|s| s.grey.is_some()));
                let wl = tokio::task::spawn_blocking(move || build_whitelist(&h, grey))
                    .await
                    .unwrap_or(None);
                if let Ok(mut s) = state.lock() {
                    reload(&mut s, &home, wl);
                }
                if let Ok(mut f) = flood.lock() {
                    f.reload(true);
                }
                bl_kick.notify_one();
            }
            _ = term.recv() => { log("stopping on SIGTERM"); break; }
            _ = tokio::signal::ctrl_c() => { log("stopping on SIGINT"); break; }
            _ = stop.notified() => { break; }
        }
    }
    if let Ok(mut s) = state.lock() {
        if let Err(e) = s.counter.store.sync() {
            log(&format!("database sync: {e}"));
        }
    }
    save_clients(&state, &clients_path);
    let _ = std::fs::remove_file(&pid_path);
    Ok(())
}

/// Look at the blacklist file and put a new table in place (the file is
/// read without holding up requests; only the swap takes the lock).
fn check_blacklist(watch: &mut crate::blacklist::watch::Watch, state: &Arc<Mutex<Server>>) {
    let c = watch.check(std::time::Instant::now());
    if let Some(t) = c.table {
        if let Ok(mut s) = state.lock() {
            s.blacklist = t;
        }
    }
    for m in &c.messages {
        log(m);
    }
}

/// How often the client table is written.
const CLIENTS_SAVE: Duration = Duration::from_secs(600);

/// Write the client table (`dccd_clients` or `grey_clients`).
fn save_clients(state: &Arc<Mutex<Server>>, file: &Path) {
    let text = match state.lock() {
        Ok(s) => crate::clients_file::text(&s.clients),
        Err(_) => return,
    };
    if let Err(e) = crate::clients_file::write(file, &text) {
        log(&format!("{}: {e}", file.display()));
    }
}
