//! End to end with the project's own clients: dccproc reports twice
//! (Body=1, then Body=2) and cdcc asks for stats and stops the server.
//! The two programs are built on first use into the same target directory.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, temp_home, Dccd};

const MSG: &[u8] = b"From: Sender <sender@example.org>\n\
To: someone@example.net\n\
Subject: a message to count\n\
Message-ID: <count-1@example.org>\n\
\n\
This message is reported to our own DCC server twice, and its body\n\
checksums are counted once for each report.\n";

/// The binary `name` next to dccd, built if missing (None if it cannot be built).
fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_BIN_EXE_dccd"))
        .parent()?
        .to_path_buf();
    let exe = dir.join(name);
    if !exe.exists() {
        let target = dir.parent()?;
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "-q", "-p", package, "--target-dir"])
            .arg(target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .is_ok_and(|s| s.success());
        if !ok || !exe.exists() {
            eprintln!("{name} could not be built; skipped");
            return None;
        }
    }
    Some(exe)
}

fn dccproc(exe: &Path, home: &Path) -> String {
    let mut child = Command::new(exe)
        .arg("-h")
        .arg(home)
        .arg("-H")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(MSG).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn dccproc_reports_count_up() {
    let Some(exe) = tool("dccproc", "tally-dccproc") else {
        return;
    };
    let home = temp_home("e2e-dccproc");
    let port = free_port();
    let d = Dccd::start(&home, port, &[]);
    let client = temp_home("e2e-dccproc-client");
    std::fs::write(
        client.join("map"),
        format!("127.0.0.1,{port} 32800 vectorclientpw\n"),
    )
    .unwrap();
    let first = dccproc(&exe, &client);
    assert!(first.contains("X-DCC-vecbrand-Metrics:"), "{first}");
    assert!(first.contains(" 1100; Body=1 Fuz1=1"), "{first}");
    let second = dccproc(&exe, &client);
    assert!(second.contains(" 1100; Body=2 Fuz1=2"), "{second}");
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_dir_all(&client);
}

#[test]
fn cdcc_stats_and_stop() {
    let Some(exe) = tool("cdcc", "tally-cdcc") else {
        return;
    };
    let home = temp_home("e2e-cdcc");
    let port = free_port();
    let mut d = Dccd::start(&home, port, &[]);
    let cdcc_home = temp_home("e2e-cdcc-client");
    let base = format!("host 127.0.0.1; port {port}; id 1100; password vectorserverpw");
    let o = Command::new(&exe)
        .arg("-h")
        .arg(&cdcc_home)
        .arg(format!("{base}; stats"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("version 2.3.167"),
        "{text} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("server-ID 1100"), "{text}");
    let o = Command::new(&exe)
        .arg("-h")
        .arg(&cdcc_home)
        .arg(format!("{base}; clients"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("127.0.0.1"),
        "{text} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = Command::new(&exe)
        .arg("-h")
        .arg(&cdcc_home)
        .arg(format!("{base}; stop"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(Some(status)) = d.child.try_wait() {
            assert!(status.success());
            break;
        }
        assert!(Instant::now() < deadline, "dccd did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!home.join("dccd.pid").exists());
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_dir_all(&cdcc_home);
}
