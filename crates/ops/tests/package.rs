//! The Debian package, installed on this machine: built by
//! `scripts/package.sh`, installed with `dpkg -i`, its files and home
//! directory checked, its programs run from their installed paths (a dccd
//! started from its unit's command line, dccproc checking a message
//! against it, cron-dccd cleaning while it runs), its units verified with
//! `systemd-analyze verify`, then purged.
//!
//! It changes the machine, so it runs only as root with
//! `TALLY_PACKAGE_TEST=1` (CI sets it); otherwise it says why it is
//! skipped and passes. What it creates (`/var/dcc`, the `dcc` user) is
//! removed at the end unless it was there before. With
//! `TALLY_PACKAGE_NO_BUILD=1` the package is made of the release binaries
//! as they are (`scripts/package.sh --no-build`).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use tally_e2e::dccd::free_udp_port;
use tally_e2e::tmp::TempDir;

const USER_BINS: &[&str] = &["dccproc", "dccsight", "cdcc"];
const ADMIN_BINS: &[&str] = &[
    "dccd",
    "dccm",
    "dccifd",
    "dbclean",
    "dblist",
    "start-dccd",
    "start-grey",
    "start-dccm",
    "start-dccifd",
    "cron-dccd",
    "dcc-web",
    "webuser-notify",
];
const UNITS: &[&str] = &[
    "dccd.service",
    "dcc-grey.service",
    "dccm.service",
    "dccifd.service",
    "dcc-maint.service",
    "dcc-maint.timer",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

fn ok(cmd: &str, args: &[&str]) -> String {
    let out = run(cmd, args);
    assert!(out.status.success(), "{cmd} {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Why the test cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    if std::env::var("TALLY_PACKAGE_TEST").as_deref() != Ok("1") {
        return Some("TALLY_PACKAGE_TEST=1 is not set (it installs a package)".into());
    }
    if !tally_e2e::skip::is_root() {
        return Some("not root: dpkg -i needs root".into());
    }
    for c in ["dpkg", "dpkg-deb", "gzip", "cargo"] {
        if !have(c) {
            return Some(format!("{c} missing"));
        }
    }
    None
}

/// Purges the package and removes what the test created, also on panic.
struct Cleanup {
    var_dcc_existed: bool,
    user_existed: bool,
    daemons: Vec<Child>,
}

impl Cleanup {
    fn stop_daemons(&mut self) {
        for mut d in self.daemons.drain(..) {
            let _ = d.kill();
            let _ = d.wait();
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.stop_daemons();
        let _ = run("dpkg", &["--purge", "tally"]);
        if !self.var_dcc_existed {
            let _ = fs::remove_dir_all("/var/dcc");
        }
        if !self.user_existed {
            let _ = run("userdel", &["dcc"]);
        }
    }
}

/// The newest modification time below `dir` (at most 100 000 entries).
fn newest(dir: &Path, latest: &mut SystemTime, budget: &mut u32) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let Ok(m) = e.metadata() else { continue };
        if m.is_dir() {
            newest(&e.path(), latest, budget);
        } else if let Ok(t) = m.modified() {
            *latest = (*latest).max(t);
        }
    }
}

/// Whether the release binaries (built by `cargo test --workspace
/// --release` before this test runs) are newer than every source file, so
/// that the package is made of them without another cargo build (whose
/// features, without the dev-dependencies, could differ and rebuild).
fn binaries_current(release: &Path) -> bool {
    let mut src = SystemTime::UNIX_EPOCH;
    let mut budget = 100_000;
    for e in fs::read_dir(repo().join("crates"))
        .into_iter()
        .flatten()
        .flatten()
    {
        newest(&e.path().join("src"), &mut src, &mut budget);
    }
    if let Ok(t) = fs::metadata(repo().join("Cargo.lock")).and_then(|m| m.modified()) {
        src = src.max(t);
    }
    USER_BINS.iter().chain(ADMIN_BINS).all(|b| {
        fs::metadata(release.join(b))
            .and_then(|m| m.modified())
            .is_ok_and(|t| t > src)
    })
}

/// The `ExecStart=` command of an installed unit.
fn exec_start(unit: &str) -> Vec<String> {
    let text = fs::read_to_string(Path::new("/lib/systemd/system").join(unit)).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap_or_else(|| panic!("{unit}: no ExecStart"));
    line.split_whitespace().map(String::from).collect()
}

/// Run the command line of an installed unit with `-h home`, its output in
/// `logs/<unit>.log`; the daemon is stopped by `cleanup`.
fn start_unit<'a>(cleanup: &'a mut Cleanup, unit: &str, home: &Path, logs: &Path) -> &'a mut Child {
    let cmd = exec_start(unit);
    assert_eq!(cmd.len(), 1, "{unit}: {cmd:?}");
    assert!(cmd[0].starts_with("/usr/sbin/start-"), "{unit}: {cmd:?}");
    let log = fs::File::create(logs.join(format!("{unit}.log"))).unwrap();
    let child = Command::new(&cmd[0])
        .args(["-h", &home.display().to_string()])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    cleanup.daemons.push(child);
    cleanup.daemons.last_mut().unwrap()
}

/// Wait (at most 10 s) until UDP `port` of 127.0.0.1 is bound.
fn wait_bound(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_err() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("dccd exited: {st}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("dccd did not bind port {port}");
}

#[test]
fn the_package_installs_runs_and_purges() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let started = Instant::now();
    let mut cleanup = Cleanup {
        var_dcc_existed: Path::new("/var/dcc").exists(),
        user_existed: run("getent", &["passwd", "dcc"]).status.success(),
        daemons: Vec::new(),
    };
    let kept_conf = fs::read("/var/dcc/dcc_conf").ok();

    // build: the release binaries of this target directory
    let target = std::env::current_exe()
        .ok()
        .and_then(|e| e.ancestors().nth(3).map(Path::to_path_buf))
        .expect("target directory");
    let no_build = std::env::var("TALLY_PACKAGE_NO_BUILD").as_deref() == Ok("1")
        || binaries_current(&target.join("release"));
    let out = Command::new(repo().join("scripts/package.sh"))
        .args(no_build.then_some("--no-build"))
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(repo())
        .output()
        .expect("scripts/package.sh");
    assert!(out.status.success(), "package.sh: {out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    eprintln!("{said}");
    let deb = repo().join(said.split_whitespace().next().expect("the .deb's path"));
    eprintln!("built in {:.1} s", started.elapsed().as_secs_f64());

    // install
    ok("dpkg", &["-i", &deb.display().to_string()]);
    for b in USER_BINS {
        let p = Path::new("/usr/bin").join(b);
        assert!(
            fs::metadata(&p).unwrap().mode() & 0o111 != 0,
            "{}",
            p.display()
        );
    }
    for b in ADMIN_BINS {
        let p = Path::new("/usr/sbin").join(b);
        assert!(
            fs::metadata(&p).unwrap().mode() & 0o111 != 0,
            "{}",
            p.display()
        );
    }
    // every page of man/ is installed and renders
    let mut pages = 0;
    for e in fs::read_dir(repo().join("man")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(sec) = name.rsplit_once('.').map(|(_, s)| s.to_string()) else {
            continue;
        };
        if sec != "5" && sec != "8" {
            continue;
        }
        let gz = PathBuf::from(format!("/usr/share/man/man{sec}/{name}.gz"));
        assert!(gz.exists(), "{} missing", gz.display());
        pages += 1;
    }
    assert!(pages >= 6, "only {pages} pages");
    if have("man") {
        let text = ok(
            "man",
            &["-l", "-Tutf8", "/usr/share/man/man5/dcc_conf.5.gz"],
        );
        assert!(text.contains("DCCM_USERDIRS"), "{text}");
    }
    for u in UNITS {
        assert!(Path::new("/lib/systemd/system").join(u).exists(), "{u}");
    }
    // the home directory
    let home = fs::metadata("/var/dcc").unwrap();
    assert!(home.is_dir());
    let ids = fs::metadata("/var/dcc/ids").unwrap();
    assert_eq!(ids.permissions().mode() & 0o777, 0o600, "ids mode");
    let dcc_uid = ok("id", &["-u", "dcc"]).trim().parse::<u32>().unwrap();
    if !cleanup.var_dcc_existed {
        assert_eq!(ids.uid(), dcc_uid, "ids owned by dcc");
        assert_eq!(home.uid(), dcc_uid, "/var/dcc owned by dcc");
        let ids_text = fs::read_to_string("/var/dcc/ids").unwrap();
        assert!(ids_text.contains("# auto local greylist server-ID\n32702\t"));
        assert!(Path::new("/var/dcc/map").exists() && Path::new("/var/dcc/whiteclnt").exists());
    }
    // an existing dcc_conf is never replaced, also not by a reinstallation
    match &kept_conf {
        Some(k) => assert_eq!(&fs::read("/var/dcc/dcc_conf").unwrap(), k),
        None => {
            let mut c = fs::read_to_string("/var/dcc/dcc_conf").unwrap();
            assert_eq!(
                c,
                fs::read_to_string(repo().join("packaging/dcc_conf")).unwrap()
            );
            c.push_str("## changed by the site\nDCCM_ENABLE=on\nDCCM_LOG_AT=7\n");
            fs::write("/var/dcc/dcc_conf", &c).unwrap();
            ok("dpkg", &["-i", &deb.display().to_string()]);
            assert_eq!(fs::read_to_string("/var/dcc/dcc_conf").unwrap(), c);
            let line = ok("/usr/sbin/start-dccm", &["--print"]);
            assert!(line.contains(" -tCMN,7, "), "{line}");
        }
    }

    // every program runs from its installed path
    for b in USER_BINS {
        ok(&format!("/usr/bin/{b}"), &["-V"]);
    }
    for b in ADMIN_BINS.iter().filter(|b| !b.contains('-')) {
        ok(&format!("/usr/sbin/{b}"), &["-V"]);
    }
    // dcc-web and webuser-notify have no -V: an unknown option gets their
    // usage and status 1
    for b in ["dcc-web", "webuser-notify"] {
        let out = run(&format!("/usr/sbin/{b}"), &["-Z"]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(&format!("usage: {b}")),
            "{out:?}"
        );
    }

    // the servers started from their units' command lines, in homes of the
    // test: a dccd and a greylist dccd from the same dcc_conf
    let dir = TempDir::new("ops-package").unwrap();
    let shome = dir.subdir("server").unwrap();
    let chome = dir.subdir("client").unwrap();
    let (port, gport) = (free_udp_port().unwrap(), free_udp_port().unwrap());
    fs::write(
        shome.join("ids"),
        "32800 pkgclientpw\n1100 pkgserverpw\n1101 pkggreypw\n",
    )
    .unwrap();
    fs::set_permissions(shome.join("ids"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(
        shome.join("dcc_conf"),
        format!(
            "DCCUID=dcc\nSRVR_ID=1100\nBRAND=pkgtest\nDCCD_ARGS=\"-a 127.0.0.1,{port}\"\n\
             GREY_ENABLE=on\nGREY_SRVR_ID=1101\nGREY_DCCD_ARGS=\"-a 127.0.0.1,{gport}\"\n\
             DBCLEAN_LOGDAYS=14\n"
        ),
    )
    .unwrap();
    // the servers' home belongs to DCCUID, as the package's /var/dcc
    ok("chown", &["-R", "dcc:dcc", &shome.display().to_string()]);
    let d = start_unit(&mut cleanup, "dccd.service", &shome, dir.path());
    wait_bound(port, d);
    let d = start_unit(&mut cleanup, "dcc-grey.service", &shome, dir.path());
    wait_bound(gport, d);

    let chome_s = chome.display().to_string();
    ok(
        "/usr/bin/cdcc",
        &[
            "-h",
            &chome_s,
            "-q",
            &format!("new map; add 127.0.0.1,{port} 32800 pkgclientpw"),
        ],
    );
    let msg = "From: a@example.com\nTo: b@example.net\nSubject: package test\n\n\
               a message checked by the installed dccproc against the installed dccd\n";
    let mut p = Command::new("/usr/bin/dccproc")
        .args(["-h", &chome_s, "-H"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        p.stdin.take().unwrap().write_all(msg.as_bytes()).unwrap();
    }
    let out = p.wait_with_output().unwrap();
    let header = String::from_utf8_lossy(&out.stdout);
    assert!(
        header.contains("X-DCC-pkgtest-Metrics:") && header.contains("1100"),
        "{header}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // the maintenance, as its unit runs it, while the servers run
    assert_eq!(exec_start("dcc-maint.service"), ["/usr/sbin/cron-dccd"]);
    let out = run("/usr/sbin/cron-dccd", &["-h", &shome.display().to_string()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("running server-ID 1101 cleaned by the server"),
        "{err}"
    );
    assert!(
        err.contains("running server-ID 1100 cleaned by the server"),
        "{err}"
    );
    cleanup.stop_daemons();
    // the servers stopped: dbclean, as DCCUID, so the databases stay theirs
    let out = run("/usr/sbin/cron-dccd", &["-h", &shome.display().to_string()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("of server-ID 1100 cleaned by dbclean"),
        "{err}"
    );
    assert!(
        err.contains("of server-ID 1101 cleaned by dbclean"),
        "{err}"
    );
    for db in ["tally-db", "tally-grey-db"] {
        for e in fs::read_dir(shome.join(db)).unwrap().flatten() {
            let m = e.metadata().unwrap();
            assert_eq!(m.uid(), dcc_uid, "{} owned by dcc", e.path().display());
        }
    }

    // dccm and dccifd from their units' command lines with DCCUID: the start
    // programs give the run, home and log directories to dcc and the
    // daemons become dcc
    let ihome = dir.subdir("clients").unwrap();
    let run_dir = ihome.join("run");
    fs::create_dir_all(ihome.join("log")).unwrap();
    fs::write(
        ihome.join("dcc_conf"),
        format!(
            "DCCUID=dcc\nDCC_RUNDIR={}\nDCCM_ENABLE=on\nDCCM_LOGDIR=\"D?log\"\n\
             DCCM_ARGS=\"-SHELO\"\nDCCM_LOG_AT=5\nDCCIFD_ENABLE=on\n\
             DCCIFD_LOGDIR=\"$DCCM_LOGDIR\"\nDCCIFD_ARGS=\"-SHELO\"\n",
            run_dir.display()
        ),
    )
    .unwrap();
    for (unit, socket) in [
        ("dccm.service", run_dir.join("dccm")),
        ("dccifd.service", ihome.join("dccifd")),
    ] {
        let d = start_unit(&mut cleanup, unit, &ihome, dir.path());
        let pid = d.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() && Instant::now() < deadline {
            if let Ok(Some(st)) = d.try_wait() {
                panic!("{unit} exited {st}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            fs::metadata(&socket).map(|m| m.uid()).ok(),
            Some(dcc_uid),
            "{unit}: {} owned by dcc",
            socket.display()
        );
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
        assert!(
            uid_line
                .split_whitespace()
                .skip(1)
                .all(|u| u == dcc_uid.to_string()),
            "{unit} runs as dcc: {uid_line}"
        );
    }
    for d in [&ihome, &run_dir, &ihome.join("log")] {
        assert_eq!(
            fs::metadata(d).unwrap().uid(),
            dcc_uid,
            "{} given to dcc",
            d.display()
        );
    }
    cleanup.stop_daemons();

    // the units
    if have("systemd-analyze") {
        let paths: Vec<String> = UNITS
            .iter()
            .map(|u| format!("/lib/systemd/system/{u}"))
            .collect();
        let mut args = vec!["verify"];
        args.extend(paths.iter().map(String::as_str));
        let out = run("systemd-analyze", &args);
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        // without systemd as PID 1 some generic complaints are expected;
        // anything naming our units is an error
        let ours: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("dcc") || l.contains("start-") || l.contains("cron-dccd"))
            .collect();
        assert!(ours.is_empty(), "systemd-analyze verify:\n{text}");
        eprintln!(
            "systemd-analyze verify: {} ({} lines)",
            out.status,
            text.lines().count()
        );
    } else {
        eprintln!("systemd-analyze missing: units not verified");
    }

    // removal
    ok("dpkg", &["--purge", "tally"]);
    assert!(!Path::new("/usr/sbin/dccd").exists());
    assert!(!Path::new("/lib/systemd/system/dccd.service").exists());
    eprintln!("package test took {:.1} s", started.elapsed().as_secs_f64());
}
