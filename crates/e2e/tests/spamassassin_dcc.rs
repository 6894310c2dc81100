//! SpamAssassin's DCC plugin (`use_dcc 1`, `dcc_dccifd_path` = our dccifd's
//! socket) asking our dccifd, which counts against our dccd.
//!
//! A message reported as "many" beforehand (dccproc `-t many`) must hit
//! DCC_CHECK; a new message must not. Network plugins are off and
//! `dns_available no`; the site configuration is private
//! (`--siteconfigpath`).

use tally_e2e::daemons::Client;
use tally_e2e::dccd::{self, DccServer};
use tally_e2e::msg;
use tally_e2e::sa::{rules_hit, SpamAssassin};
use tally_e2e::tmp::TempDir;
use tally_e2e::{require, skip};

fn with_received(m: &[u8]) -> Vec<u8> {
    let mut v = b"Received: from mail.sender.example (mail.sender.example [192.0.2.25])\n\
\tby mx.lab.test with ESMTP id 4AbCdE; Mon, 23 Nov 2026 01:00:00 +0000\n"
        .to_vec();
    v.extend_from_slice(m);
    v
}

#[test]
fn dcc_check_hits_bulk_and_not_normal_mail() {
    require!(skip::program("spamassassin"));
    let dir = TempDir::new("sa-dcc").expect("temp dir");
    let srv = require!(DccServer::start(&dir.path().join("dccd")));
    let home = srv
        .client_home(&dir.path().join("home"), None)
        .expect("client home");
    let dccifd = require!(Client::dccifd(&home, &[]));
    let sock = dccifd.sock.clone().expect("socket");
    let sa = require!(SpamAssassin::new(&sock));

    let bulk = with_received(&msg::message(
        "bulk@sender.example",
        "bob@lab.test",
        "offer",
        &msg::unique(),
    ));
    let header = dccd::report(&home, "many", &bulk);
    assert!(header.contains("many"), "{header}");
    let out = sa.check(&bulk);
    assert!(
        out.status.is_some(),
        "spamassassin timed out: {}",
        out.stderr
    );
    let hits = rules_hit(&out.stdout);
    assert!(
        hits.iter().any(|h| h == "DCC_CHECK"),
        "DCC_CHECK missing from {hits:?}\n{}\n{}\n{}",
        out.stdout,
        out.stderr,
        dccifd.log_text()
    );

    let normal = with_received(&msg::message(
        "a@sender.example",
        "bob@lab.test",
        "hello",
        &msg::unique(),
    ));
    let out = sa.check(&normal);
    let hits = rules_hit(&out.stdout);
    assert!(
        !hits.iter().any(|h| h.starts_with("DCC_")),
        "DCC rule hit a normal message: {hits:?}\n{}",
        out.stderr
    );
    // the plugin did ask dccifd (and got an answer) for the normal message
    assert!(
        out.stderr.contains("X-DCC-"),
        "no dccifd answer in SpamAssassin's debug output:\n{}",
        out.stderr
    );
}
