//! A running dccd holds its database: a second server on the same home
//! refuses to start, and the lock is free again once the first one stops.

mod common;

use common::{free_port, temp_home, Dccd};
use std::process::Command;

fn second(home: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dccd"))
        .args(["-b", "-i", "1100", "-n", "vecbrand", "-h"])
        .arg(home)
        .args(["-a", &format!("127.0.0.1,{}", free_port())])
        .output()
        .unwrap()
}

#[test]
fn second_server_on_the_same_database_refuses() {
    let home = temp_home("dblock");
    let first = Dccd::start(&home, free_port(), &[]);
    let out = second(&home);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("in use by process"), "{err}");
    assert!(tally_store::lock::DbLock::holder(&home.join("tally-db")).is_some());
    drop(first);
    assert!(tally_store::lock::DbLock::holder(&home.join("tally-db")).is_none());
    let _ = std::fs::remove_dir_all(&home);
}
