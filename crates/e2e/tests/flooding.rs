//! Two of our dccd flooding each other over loopback TCP, driven by the
//! programs an administrator uses: dccproc reports a bulk message at one
//! server and queries the other, and cdcc lists and controls the floods.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;
use tally_e2e::dccd::{self, free_tcp_port, DccServer, PEER_ID, SERVER_ID};
use tally_e2e::proc::wait_until;
use tally_e2e::tmp::TempDir;
use tally_e2e::{bins, msg, require, Skip};

fn io(e: std::io::Error) -> Skip {
    Skip(format!("set-up failed: {e}"))
}

/// Run one of our programs; (exit status, standard output and error).
fn run(name: &str, args: &[&str], input: &[u8]) -> (Option<i32>, String) {
    let out = bins::run(name, args, input);
    (
        out.status.and_then(|s| s.code()),
        format!("{}{}", out.stdout, out.stderr),
    )
}

/// dccproc's X-DCC header for `message` asked (not reported) at the
/// server of the client home `home`.
fn query(home: &Path, message: &[u8]) -> String {
    let h = home.display().to_string();
    run("dccproc", &["-h", &h, "-Q", "-H"], message).1
}

/// A home for cdcc talking to server `id` at `port`: the map and the ids
/// file with the server's password.
fn admin_home(dir: &Path, server_home: &Path) -> Result<(), Skip> {
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::write(dir.join("map"), "").map_err(io)?;
    // private, as cdcc requires of a map file
    std::fs::set_permissions(dir.join("map"), std::fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    std::fs::copy(server_home.join("ids"), dir.join("ids")).map_err(io)?;
    std::fs::set_permissions(dir.join("ids"), std::fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    Ok(())
}

#[test]
fn a_report_at_one_server_is_counted_at_its_peer() {
    let dir = require!(TempDir::new("flood").map_err(io));
    // the flooding port is the server's port: a TCP port that is free
    // (the UDP one of the same number is almost surely free too)
    let (pa, pb) = (
        require!(free_tcp_port().map_err(io)),
        require!(free_tcp_port().map_err(io)),
    );
    let (ha, hb) = (dir.path().join("a"), dir.path().join("b"));
    for (home, peer_port, peer_id) in [(&ha, pb, PEER_ID), (&hb, pa, SERVER_ID)] {
        require!(std::fs::create_dir_all(home).map_err(io));
        let flod = format!("# our peer\n127.0.0.1,{peer_port} {peer_id}\n");
        require!(std::fs::write(home.join("flod"), flod).map_err(io));
    }
    let a = require!(DccServer::start_at(&ha, SERVER_ID, pa));
    let b = require!(DccServer::start_at(&hb, PEER_ID, pb));
    let ca = require!(a
        .client_home(&dir.path().join("client-a"), None)
        .map_err(io));
    let cb = require!(b
        .client_home(&dir.path().join("client-b"), None)
        .map_err(io));

    // a bulk report (20 targets) at A is flooded to B
    let m = msg::message(
        "bulk@sender.example",
        "bob@lab.test",
        "offer",
        &msg::unique(),
    );
    let at_a = dccd::report(&ca, "20", &m);
    assert!(at_a.contains("Body=20"), "{at_a}");
    let mut seen = String::new();
    let flooded = wait_until(Duration::from_secs(30), || {
        seen = query(&cb, &m);
        seen.contains("Body=20")
    });
    assert!(
        flooded,
        "B did not learn the report: {seen}\n--- A ---\n{}\n--- B ---\n{}",
        std::fs::read_to_string(ha.join("dccd.out")).unwrap_or_default(),
        std::fs::read_to_string(hb.join("dccd.out")).unwrap_or_default()
    );
    eprintln!("at A: {}at B: {}", at_a, seen);

    // cdcc at A: the flood to B is listed, then halted and resumed
    let admin = dir.path().join("admin");
    require!(admin_home(&admin, &ha));
    let home = admin.display().to_string();
    let cdcc = |cmd: &str| {
        let all = format!("id {SERVER_ID}; host 127.0.0.1; port {pa}; {cmd}");
        run("cdcc", &["-h", &home, &all], b"")
    };
    let (rc, list) = cdcc("flood list");
    assert_eq!(rc, Some(0), "{list}");
    assert!(list.contains(&PEER_ID.to_string()), "{list}");
    eprintln!("{list}");
    let (rc, out) = cdcc("flood halt");
    assert_eq!(rc, Some(0), "{out}");
    let (rc, out) = cdcc("flood resume");
    assert_eq!(rc, Some(0), "{out}");
    let (rc, stats) = cdcc(&format!("flood stats {PEER_ID}"));
    assert_eq!(rc, Some(0), "{stats}");
    assert!(stats.contains(&PEER_ID.to_string()), "{stats}");
    eprintln!("{stats}");

    // after the resume a second report still reaches B
    let m2 = msg::message(
        "bulk2@sender.example",
        "bob@lab.test",
        "offer",
        &msg::unique(),
    );
    dccd::report(&ca, "many", &m2);
    let flooded = wait_until(Duration::from_secs(30), || {
        query(&cb, &m2).contains("Body=many")
    });
    assert!(
        flooded,
        "no flooding after flood resume: {}",
        query(&cb, &m2)
    );
}
