//! Starting a greylist dccd: it reads its peers from `grey_flod`, names its
//! settings, and saves them beside its database for dbclean.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{free_port, temp_home};

#[test]
fn greylist_server_start() {
    let home = temp_home("grey-start");
    std::fs::write(home.join("grey_flod"), "127.0.0.1,16277 1101\n").unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dccd"))
        .args(["-b", "-i", "1100", "-G", "weak-body,60,1d,2d", "-h"])
        .arg(&home)
        .args(["-a", &format!("127.0.0.1,{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    for _ in 0..20 {
        let mut l = String::new();
        if err.read_line(&mut l).unwrap_or(0) == 0 {
            break;
        }
        let done = l.contains("listening on");
        lines.push(l);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = lines.concat();
    assert!(
        text.contains("1 flooding peers in") && text.contains("grey_flod"),
        "{text}"
    );
    assert!(
        text.contains("greylist server -G on,weak-body,60,86400,172800"),
        "{text}"
    );
    assert!(
        text.contains(&format!("listening on 127.0.0.1:{port}")),
        "{text}"
    );
    let saved = std::fs::read_to_string(home.join("tally-grey-db/grey-params")).unwrap();
    assert_eq!(saved.trim(), "on,weak-body,60,86400,172800");
    let _ = std::fs::remove_dir_all(&home);
}
