//! Recipients of an ASCII request whose whiteclnt setups are incompatible
//! cannot be refused; like the original, dccifd takes them and its log
//! file says `incompatible whitelists` once for each, after the end of
//! the body (recorded case 16: bob, carol and dave give two such lines).

mod common;

use common::Daemon;
use tally_testkit::FakeDccd;

const MSG: &[u8] = b"Received: from relay.example.org (relay.example.org [198.51.100.44])\n\
\tby mx.example.net with ESMTP id 1A2B3C\n\
From: Friend <friend@example.com>\n\
Subject: three recipients\n\
Message-ID: <ascii-compat-1@example.org>\n\
\n\
A message for three recipients with different whiteclnt files.\n";

fn logs_of(d: &Daemon) -> Vec<String> {
    let dir = d.home.join("logs/if");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn incompatible_recipients_are_logged() {
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("asciicompat", &srv, &[]);
    let mut req =
        b"header\n192.0.2.117\rmail.example.com\nmail.example.com\n<friend@example.com>\n\
<bob@example.net>\rbob\n<carol@example.net>\rcarol\n<dave@example.net>\rdave\n\n"
            .to_vec();
    req.extend_from_slice(MSG);
    let r = d.ask(&req);
    assert!(
        r.starts_with(b"A\nARR\n"),
        "{}",
        String::from_utf8_lossy(&r)
    );
    let logs = logs_of(&d);
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(
        logs[0].contains("#\nincompatible whitelists\nincompatible whitelists\n"),
        "{}",
        logs[0]
    );
    // bob's own file trusts the sender: recorded as `bob-->OK`, and the
    // decision line says the whitelist spoke
    assert!(
        logs[0].contains("incompatible whitelists\nbob-->OK\nwlist-->OK  "),
        "{}",
        logs[0]
    );

    // compatible recipients (no per-user files, the same thresholds): no such line
    let mut req =
        b"header\n192.0.2.117\rmail.example.com\nmail.example.com\n<friend@example.com>\n\
<dave@example.net>\rdave\n<erin@example.net>\rerin\n\n"
            .to_vec();
    req.extend_from_slice(MSG);
    d.ask(&req);
    let logs = logs_of(&d);
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(
        logs.iter().filter(|l| l.contains("incompatible")).count(),
        1,
        "{logs:?}"
    );
}
