//! The command line as the original's dccd takes it (audit finding 7):
//! obsolete options and the original's forms are accepted, mistakes the
//! original only complains about do not stop the server, a missing `-i`
//! exits 64, and `-V` prints the version and goes on.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, temp_home, Dccd};

#[test]
fn original_forms_and_complaints_start_the_server() {
    let home = temp_home("cmdline");
    // each of these stopped the server before
    let d = Dccd::start(
        &home,
        free_port(),
        &[
            "-4",
            "-6",
            "-t",
            "5",
            "-T",
            "FLOOD",
            "-K",
            "all",
            "-K",
            "no_IP",
            "-q",
            "1",
            "-n",
            "bad:brand",
            "-R",
            "100,x",
            "-y",
            "extra",
        ],
    );
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn version_goes_on_with_i() {
    let home = temp_home("cmdline-v");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dccd"))
        .args(["-V", "-b", "-i", "1100", "-h"])
        .arg(&home)
        .args(["-a", &format!("127.0.0.1,{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // still running after the version, and the pid file appears
    let deadline = Instant::now() + Duration::from_secs(10);
    while !home.join("dccd.pid").exists() {
        assert!(child.try_wait().unwrap().is_none(), "dccd -V stopped");
        assert!(Instant::now() < deadline, "dccd -V -i 1100 did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn missing_server_id() {
    let home = temp_home("cmdline-noid");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_dccd"))
            .args(args)
            .arg("-h")
            .arg(&home)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = run(&["-b", "-x"]);
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unrecognized \"-x\""), "{err}");
    assert!(err.contains("server-ID not set with -i"), "{err}");
    // -V alone: the version on standard error, as the original's, then a
    // successful exit
    let out = run(&["-V"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "2.3.167\n");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    // a second -V: how the program was built (the original's configure
    // arguments); complaints are still made
    let out = run(&["-VV", "-x"]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("2.3.167\nbuilt with cargo\n"), "{err}");
    assert!(err.contains("unrecognized \"-x\""), "{err}");
    assert!(!err.contains("server-ID not set"), "{err}");
    let _ = std::fs::remove_dir_all(&home);
}
