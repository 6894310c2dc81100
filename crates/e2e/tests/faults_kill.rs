//! dccd killed with SIGKILL and restarted on the same port and home while
//! dccm serves 8 milter connections and dccifd 8 clients, each sending
//! one message after another, every body its own.
//!
//! What this proves, for dccm and dccifd alike: every message gets an
//! answer (accept, or with `-x` a temporary failure while the server is
//! away), none is refused or left hanging, the MTA side's count of
//! results equals the number of messages sent, and every report the
//! server acknowledged (an X-DCC header with counts), before or after the
//! kill, is still counted by the restarted server (its Body checksum
//! queried directly has a count of at least 1).

use std::time::{Duration, Instant};
use tally_e2e::faults::{lost_reports, Scene};
use tally_e2e::load::{first_bad, tally, Front, Load, Plan};
use tally_e2e::require;

/// Counted messages before the kill, and messages after the restart.
const BEFORE: usize = 80;
const AFTER: usize = 80;

fn kill9_under_load(tag: &str, extra: &[&str]) {
    let t_start = Instant::now();
    let mut sc = require!(Scene::start(tag, extra, extra));
    let plan = Plan {
        milter: Some((sc.dccm_sock(), 8)),
        ifd: Some((sc.dccifd_sock(), 8)),
        pause: Duration::from_millis(60),
        max_each: 400,
    };
    let load = Load::start(&plan);
    let up = load.wait(Duration::from_secs(30), |l| l.counted() >= BEFORE);
    assert!(
        up,
        "only {} messages counted before the kill\n{}",
        load.counted(),
        sc.logs()
    );
    let counted_before = load.counted();
    let t0 = Instant::now();
    require!(sc.kill9_and_restart(Duration::from_secs(1)));
    let restart = t0.elapsed();
    let done = load.done();
    let went_on = load.wait(Duration::from_secs(40), |l| l.done() >= done + AFTER);
    assert!(went_on, "mail stopped after the restart\n{}", sc.logs());
    let with_x = extra.contains(&"-x");
    if with_x {
        // -x asks the server for every message, without the back-off
        // that follows a failure: counts come back with the server
        let again = load.wait(Duration::from_secs(40), |l| {
            l.counted() >= counted_before + 16
        });
        assert!(again, "no counts after the restart with -x\n{}", sc.logs());
    }
    let (started, sent) = load.finish();
    assert_eq!(sent.len(), started, "a message without a result");
    if let Some(bad) = first_bad(&sent) {
        panic!("{bad}\n{}", sc.logs());
    }
    for front in [Front::Milter, Front::Ifd] {
        let t = tally(&sent, front);
        eprintln!("{tag} {front:?}: {t:?}");
        assert_eq!(t.closed, 0, "{front:?}: connections closed\n{}", sc.logs());
        if with_x {
            // no server answer means a temporary failure, never a plain accept
            assert_eq!(t.accepted, 0, "{front:?}: accepted without counts with -x");
            assert!(t.tempfail > 0, "{front:?}: no temporary failure with -x");
        } else {
            assert_eq!(t.tempfail, 0, "{front:?}: temporary failures without -x");
        }
        assert!(t.counted > 0, "{front:?}: nothing counted");
    }
    sc.assert_no_panic();
    let (lost, asked) = lost_reports(&sc.dccd, &sent);
    assert!(
        lost.is_empty(),
        "acknowledged reports lost after kill -9: {lost:?}"
    );
    eprintln!(
        "{tag}: {} messages, {counted_before} counted before the kill, {asked} acknowledged \
         reports all counted after the restart; dccd down and up again in {restart:?}; {:?} in all",
        sent.len(),
        t_start.elapsed()
    );
}

/// Without `-x`: every message is accepted, with counts or without.
#[test]
fn dccd_kill9_under_load_loses_no_acknowledged_report() {
    kill9_under_load("kill9", &[]);
}

/// With `-x`: messages are accepted with counts or temporarily refused
/// while the server is away, and counted again once it is back.
#[test]
fn dccd_kill9_under_load_with_x_tempfails_and_loses_nothing() {
    kill9_under_load("kill9x", &["-x"]);
}
