//! A whiteclnt file that asks for greylisting (`option greylist-on`)
//! while dccm runs without `-G`: the original complains in the system
//! log, at most once a day per process; the message's log file does not
//! carry the complaint and its mail goes on as usual.

mod common;

use common::milter::{connect, envelope, Client, Reply};
use common::{make_home, start_dccm};
use tally_testkit::{write_map, FakeDccd};

fn message(c: &mut Client, id: &str) -> Vec<Reply> {
    let r = envelope(c, id, &["bob"]);
    assert!(r.iter().all(|r| r == &vec![Reply::Final('c')]), "{r:?}");
    common::milter::short_content(c, id)
}

#[test]
fn greylisting_wanted_but_off_is_told_once() {
    let srv = FakeDccd::start(1200, "behbrand");
    let home = make_home("greywanted");
    write_map(&home, srv.addr);
    std::fs::write(
        home.join("whiteclnt-gw"),
        "option greylist-on\noption log-all\nok env_from friend@example.org\n",
    )
    .unwrap();
    let args = common::local_args(&home, &["-w", "whiteclnt-gw", "-l", "logs"]);
    let d = start_dccm(&home, &args);
    for id in ["GW1", "GW2", "GW3"] {
        let mut c = connect(&d.sock, "192.0.2.7");
        let r = message(&mut c, id);
        assert!(
            r.iter()
                .any(|r| r == &Reply::Final('a') || r == &Reply::Final('c')),
            "{r:?}"
        );
    }
    let want = format!(
        "{} wants greylisting but it is turned off",
        home.join("whiteclnt-gw").display()
    );
    let err = std::fs::read_to_string(home.join("stderr.txt")).unwrap();
    assert_eq!(err.matches(&want).count(), 1, "{err}");
    let logs = walk(&home.join("logs"));
    assert_eq!(logs.len(), 3, "every message logged (log-all)");
    for e in logs {
        let text = std::fs::read_to_string(&e).unwrap_or_default();
        assert!(!text.contains("wants greylisting"), "{}", e.display());
    }
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
