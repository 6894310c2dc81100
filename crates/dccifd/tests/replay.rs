//! Replay every recorded dccifd exchange of the original (config A, the
//! cases without greylisting) against our dccifd backed by a counting
//! DCC server, in the recording's order, and compare the answers byte
//! for byte.
//!
//! The server's counts depend on history: before the replay the bulk
//! message (case 03) is sent five times, which brings its counts to
//! where the recording's server had them (the first bulk case shows 6),
//! so every count of the replay is the recorded one. Only the host name
//! in the X-DCC header ("vm" where recorded) is replaced by this host's.

mod common;

use common::{data, localise, Daemon};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tally_testkit::FakeDccd;

fn cases() -> Vec<(String, Vec<u8>, Vec<u8>, String)> {
    let mut v: Vec<_> = std::fs::read_dir(data().join("cases"))
        .expect("cases")
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v.into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let req = std::fs::read(p.join("request.bin")).expect("request");
            let resp = std::fs::read(p.join("response.bin")).expect("response");
            let err = std::fs::read_to_string(p.join("stderr.txt")).unwrap_or_default();
            (name, req, resp, err)
        })
        .collect()
}

#[test]
fn recorded_exchanges() {
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("replay", &srv, &[]);
    replay(&d);
}

/// Replay every case through `d`; panics with the differences.
pub fn replay(d: &Daemon) {
    let all = cases();
    let bulk = &all
        .iter()
        .find(|c| c.0.starts_with("03-"))
        .expect("case 03")
        .1;
    for _ in 0..5 {
        d.ask(bulk);
    }
    let mut bad = Vec::new();
    for (name, req, resp, err) in &all {
        let before = d.stderr().len();
        let got = d.ask(req);
        let want = localise(resp);
        if got != want {
            bad.push(format!(
                "{name}:\n--- want\n{}--- got\n{}",
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&got)
            ));
        }
        // the complaint the original printed is logged too
        std::thread::sleep(std::time::Duration::from_millis(20));
        let e = d.stderr();
        let new = e.get(before..).unwrap_or("");
        for line in err.lines().filter(|l| !l.is_empty()) {
            if !new.contains(line) {
                bad.push(format!("{name}: stderr lacks {line:?}; got {new:?}"));
            }
        }
    }
    // every message is logged in the main log directory, as recorded;
    // bob (option log-all) has his own copies
    let logged = std::fs::read_dir(d.home.join("logs/if"))
        .expect("logs")
        .count();
    let answered = all.iter().filter(|c| !c.2.is_empty()).count() + 5;
    assert_eq!(logged, answered);
    let bob = std::fs::read_dir(d.home.join("userdirs-if/bob/log"))
        .expect("bob")
        .count();
    assert!(bob >= 20, "{bob} per-user logs of bob");
    let n = all.len();
    assert!(
        bad.is_empty(),
        "{} of {n} cases differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// The project's dccd next to dccifd, built on first use.
fn dccd_exe() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_BIN_EXE_dccifd"))
        .parent()?
        .to_path_buf();
    let exe = dir.join("dccd");
    if !exe.exists() {
        let target = dir.parent()?;
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "-q", "-p", "tally-dccd", "--target-dir"])
            .arg(target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .is_ok_and(|s| s.success());
        if !ok || !exe.exists() {
            return None;
        }
    }
    Some(exe)
}

/// The same replay against the project's own dccd (server-ID 1200,
/// brand behbrand, ids file mode 0600), as the recording was made.
#[test]
fn recorded_exchanges_with_our_dccd() {
    let Some(exe) = dccd_exe() else {
        eprintln!("dccd could not be built; skipped");
        return;
    };
    let home = common::scratch("dccd-home");
    let ids = home.join("ids");
    std::fs::copy(data().join("dccd-ids"), &ids).expect("ids");
    std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600)).expect("mode");
    let port = tally_testkit::closed_port().port();
    let mut child = Command::new(exe)
        .args(["-b", "-i", "1200", "-n", "behbrand", "-h"])
        .arg(&home)
        .args(["-a", &format!("127.0.0.1,{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dccd");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let map = format!("127.0.0.1,{port} 32800 vectorclientpw\n");
    let d = Daemon::start_map("replay-dccd", &map, &[]);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| replay(&d)));
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&home);
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
}
