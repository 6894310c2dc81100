//! The tools against a running greylist server, as an administrator runs
//! them: our `dccd -G on,3` on a loopback port, greylist requests from a
//! client, then `cdcc` (with `grey on`, the server's ID and password, and
//! its address) for its statistics and to clean its database, and
//! `dblist -G on` on its home.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use tally_e2e::dccd::{grey_report, DccServer, GREY_ID};
use tally_e2e::tmp::TempDir;
use tally_e2e::{bins, require, Skip};

fn io(e: std::io::Error) -> Skip {
    Skip(format!("set-up failed: {e}"))
}

/// Run one of our programs with `args`; its standard output, or a panic
/// with everything it said.
fn run(name: &str, args: &[&str]) -> String {
    let out = bins::run(name, args, b"");
    assert!(
        out.success(),
        "{name} {args:?} failed\n{}{}",
        out.stdout,
        out.stderr
    );
    out.stdout
}

/// The administrator's home: a map naming the greylist server and the ids
/// file with the server's own password (cdcc's `id` command needs it).
fn admin_home(dir: &Path, grey: &DccServer, grey_home: &Path) -> Result<(), Skip> {
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::write(dir.join("map"), tally_e2e::dccd::grey_map_line(grey.addr)).map_err(io)?;
    // private, as cdcc requires of a map file
    std::fs::set_permissions(dir.join("map"), std::fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    std::fs::copy(grey_home.join("ids"), dir.join("ids")).map_err(io)?;
    std::fs::set_permissions(dir.join("ids"), std::fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    Ok(())
}

#[test]
fn cdcc_and_dblist_on_a_greylist_server() {
    let dir = require!(TempDir::new("grey-tools").map_err(io));
    let grey_home = dir.path().join("grey");
    let mut grey = require!(DccServer::start_grey(&grey_home, "on,3"));
    let admin = dir.path().join("admin");
    require!(admin_home(&admin, &grey, &grey_home));

    // three new triples, each embargoed
    for n in 1..=3 {
        assert_eq!(grey_report(&grey, n), 0, "triple {n} is new");
    }
    // the second attempt of the first is embargo #2
    assert_eq!(grey_report(&grey, 1), 1);

    let home = admin.display().to_string();
    let cmd = format!(
        "grey on; id {GREY_ID}; host {}; port {}; stats",
        grey.addr.ip(),
        grey.addr.port()
    );
    let stats = run("cdcc", &["-h", &home, &cmd]);
    eprintln!("{stats}");
    assert!(stats.contains(&format!("server-ID {GREY_ID}")), "{stats}");
    assert!(stats.contains("4 embargoed"), "{stats}");
    assert!(stats.contains("3 triples embargoed"), "{stats}");

    // a running server cleans its database itself when cdcc asks (dbclean
    // refuses a database in use)
    let clean = format!(
        "grey on; id {GREY_ID}; host {}; port {}; DB clean",
        grey.addr.ip(),
        grey.addr.port()
    );
    run("cdcc", &["-h", &home, &clean]);
    // the embargoes are younger than the window: all of them stay
    assert_eq!(
        grey_report(&grey, 2),
        1,
        "triple 2 still known after cleaning"
    );

    let list = run(
        "dblist",
        &["-G", "on", "-h", &grey_home.display().to_string()],
    );
    assert!(list.contains("tally-grey-db"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.contains("records") && !l.trim_start().starts_with("0 ")),
        "dblist shows no records\n{list}"
    );

    // the client table outlives the server: grey_clients is written at the
    // stop and read at the next start, where cdcc clients lists it
    grey.stop();
    let saved = std::fs::read_to_string(grey_home.join("grey_clients")).unwrap_or_default();
    assert!(
        saved.lines().any(|l| l.starts_with("32800 127.0.0.1 ")),
        "grey_clients:\n{saved}"
    );
    let grey = require!(DccServer::start_grey(&grey_home, "on,3"));
    let cmd = format!(
        "grey on; id {GREY_ID}; host {}; port {}; clients",
        grey.addr.ip(),
        grey.addr.port()
    );
    let clients = run("cdcc", &["-h", &home, &cmd]);
    assert!(clients.contains("32800"), "{clients}");
    eprintln!("{clients}");
}
