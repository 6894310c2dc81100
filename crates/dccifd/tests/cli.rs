//! The command line: options refused for now, usage errors, version.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_dccifd"))
        .args(args)
        .output()
        .expect("run dccifd");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn later_features_are_refused_clearly() {
    // a bad -G is a usage complaint; dccifd goes on, as the original
    let (c, _, e) = run(&["-G", "sometimes", "-V"]);
    assert_eq!(c, 0);
    assert!(e.contains("unrecognized \"-Gsometimes\""), "{e}");
    // a refused -B is only reported (recorded, 12)
    let (c, _, e) = run(&["-B", "set:bogus", "-V"]);
    assert_eq!(c, 0);
    assert!(e.contains("unrecognized  \"-B set:bogus\""), "{e}");
    // a bad -o stops it with EX_USAGE, as the original
    let (c, _, e) = run(&["-b", "-o", "127.0.0.1,0"]);
    assert_eq!(c, 64);
    assert!(e.contains("invalid IP address"), "{e}");
}

#[test]
fn usage_and_version() {
    // a usage error is reported and the daemon goes on, as the original
    let (c, out, e) = run(&["-Z", "-V"]);
    assert_eq!(c, 0);
    assert!(e.contains("unrecognized \"-Z\""), "{e}");
    assert!(
        e.contains("usage: dccifd") && e.contains("... continuing"),
        "{e}"
    );
    assert!(e.ends_with("\n2.3.167\n"), "{e}");
    assert_eq!(out, "");
    let (c, out, e) = run(&["-V", "-t"]);
    assert_eq!(c, 0);
    assert!(e.contains("unrecognized \"-t\""), "{e}");
    assert!(e.contains("2.3.167\n"), "{e}");
    assert_eq!(out, "");
}

/// `-V` as the original's: the version alone on standard error, each
/// further `-V` how dccifd was built, then a successful exit.
#[test]
fn version_text() {
    let (c, out, e) = run(&["-V"]);
    assert_eq!((c, out.as_str(), e.as_str()), (0, "", "2.3.167\n"));
    let (c, out, e) = run(&["-VVV"]);
    assert_eq!(
        (c, out.as_str(), e.as_str()),
        (0, "", "2.3.167\nbuilt with cargo\nbuilt with cargo\n")
    );
}

#[test]
fn bad_listen_address() {
    let (c, _, e) = run(&[
        "-b",
        "-h",
        "/nonexistent-dir",
        "-p",
        "/nonexistent-dir/sock",
    ]);
    // EX_IOERR, as the original's failed bind() of its unix socket
    assert_eq!(c, 74);
    assert!(e.contains("bind("), "{e}");
}
