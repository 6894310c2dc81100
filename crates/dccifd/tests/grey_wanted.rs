//! A whiteclnt file that asks for greylisting (`option greylist-on`)
//! while dccifd runs without `-G`: the original complains in the system
//! log, at most once a day per process; the log files do not carry the
//! complaint and the answers are as usual.

mod common;

use common::Daemon;
use tally_testkit::{map_text, FakeDccd};

fn req(id: &str) -> Vec<u8> {
    format!(
        "header\n192.0.2.7\rmail.example.com\nmail.example.com\n<alice@example.com>\nbob@example.net\n\n\
         From: alice@example.com\nSubject: {id}\n\nHello Bob,\nsee you tomorrow.\n"
    )
    .into_bytes()
}

#[test]
fn greylisting_wanted_but_off_is_told_once() {
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start_args(
        "greywanted",
        &map_text(srv.addr),
        &["-w", "whiteclnt-gw", "-l", "logs/if"],
    );
    std::fs::write(
        d.home.join("whiteclnt-gw"),
        "option greylist-on\noption log-all\n",
    )
    .unwrap();
    for id in ["GW1", "GW2", "GW3"] {
        let r = d.ask(&req(id));
        assert!(r.starts_with(b"A\n"), "{}", String::from_utf8_lossy(&r));
    }
    let want = format!(
        "{} wants greylisting but it is turned off",
        d.home.join("whiteclnt-gw").display()
    );
    let err = d.stderr();
    assert_eq!(err.matches(&want).count(), 1, "{err}");
    let logs: Vec<_> = std::fs::read_dir(d.home.join("logs/if"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(logs.len(), 3, "every message logged (log-all)");
    for p in logs {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        assert!(!text.contains("wants greylisting"), "{}", p.display());
    }
}
