//! Signals under load: SIGUSR1, SIGHUP and SIGTERM sent to dccm and to
//! dccifd while 8 connections send mail, and SIGHUP then SIGTERM sent to
//! dccd while dccm and dccifd send it reports.
//!
//! What this proves: nothing is lost. Every message is either answered
//! (accepted, with or without counts) or its connection is closed without
//! an answer, so that the MTA applies its default; none is answered
//! wrongly and none hangs, and the results counted on the MTA side equal
//! the messages sent. SIGUSR1 writes the statistics report and the daemon
//! goes on serving. SIGTERM (and SIGHUP, which stops dccm and dccifd as
//! it stops the original's) ends the daemon with status 0 within a
//! bounded time, its pid file removed; dccifd removes its socket, and
//! dccm's socket is removed or replaced by the next start, which serves
//! mail again. dccd reloads on SIGHUP without losing a report, and after
//! SIGTERM and a restart every report it acknowledged is still counted.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use tally_e2e::daemons::Client;
use tally_e2e::faults::{lost_reports, Scene};
use tally_e2e::load::{first_bad, tally, Front, Load, Plan};
use tally_e2e::proc::{signal, wait_until};
use tally_e2e::require;

/// Messages that must pass between two signals.
const STEP: usize = 40;
/// The longest an orderly stop may take.
const STOP_LIMIT: Duration = Duration::from_secs(20);

fn plan(front: Front, sock: PathBuf) -> Plan {
    let one = Some((sock, 8));
    Plan {
        milter: if front == Front::Milter {
            one.clone()
        } else {
            None
        },
        ifd: if front == Front::Ifd { one } else { None },
        pause: Duration::from_millis(30),
        max_each: 1000,
    }
}

/// `STEP` more messages ended while the daemon kept running.
fn goes_on(load: &Load, what: &str, sc: &Scene) {
    let done = load.done();
    let ok = load.wait(Duration::from_secs(30), |l| l.done() >= done + STEP);
    assert!(
        ok,
        "mail stopped {what}: {} done\n{}",
        load.done(),
        sc.logs()
    );
}

fn client_of(sc: &mut Scene, front: Front) -> &mut Client {
    match front {
        Front::Milter => &mut sc.dccm,
        Front::Ifd => &mut sc.dccifd,
    }
}

/// Stop the daemon of `front` with `stop` while it is under load, after
/// a SIGUSR1 it must survive; check the exit and the files it leaves.
fn stop_under_load(front: Front, stop: &str) {
    let t_start = Instant::now();
    let tag = format!("sig{front:?}{stop}").to_lowercase();
    let mut sc = require!(Scene::start(&tag, &[], &[]));
    let (name, sock) = match front {
        Front::Milter => ("dccm", sc.dccm_sock()),
        Front::Ifd => ("dccifd", sc.dccifd_sock()),
    };
    let home = sc.dir.path().join(name);
    let pidfile = home.join("run").join(format!("{name}.pid"));
    let pid = client_of(&mut sc, front).pid().expect("running");
    assert!(pidfile.exists(), "no pid file {}", pidfile.display());
    let load = Load::start(&plan(front, sock.clone()));
    goes_on(&load, "at the start", &sc);
    signal(pid, "USR1");
    goes_on(&load, "after SIGUSR1", &sc);
    let report = match front {
        Front::Milter => "messages with",
        Front::Ifd => "dropped without an answer",
    };
    let reported = wait_until(Duration::from_secs(10), || {
        client_of(&mut sc, front).log_text().contains(report)
    });
    assert!(reported, "no report after SIGUSR1\n{}", sc.logs());

    let before_stop = load.done();
    signal(pid, stop);
    let t0 = Instant::now();
    let mut status = None;
    wait_until(STOP_LIMIT, || {
        status = client_of(&mut sc, front).exited();
        status.is_some()
    });
    let took = t0.elapsed();
    let status = status.unwrap_or_else(|| panic!("{name} still running after SIG{stop}"));
    let (started, sent) = load.finish();
    assert_eq!(
        status.code(),
        Some(0),
        "{name} exit after SIG{stop}\n{}",
        sc.logs()
    );
    assert_eq!(sent.len(), started, "a message without a result");
    if let Some(bad) = first_bad(&sent) {
        panic!("{bad}\n{}", sc.logs());
    }
    sc.assert_no_panic();
    let t = tally(&sent, front);
    assert_eq!(t.total, started);
    assert_eq!(t.tempfail, 0, "temporary failures without -x");
    assert!(!pidfile.exists(), "{name} left its pid file");
    match front {
        Front::Ifd => assert!(!sock.exists(), "dccifd left its socket"),
        Front::Milter => {
            // removed, or a dead socket the next start replaces
            sc.dccm = require!(Client::dccm(&home, &[]));
            let raw = tally_e2e::msg::message("a@example.com", "b@example.net", "again", &tag);
            let mut m = tally_e2e::milter::Mta::connect(&sock, tally_e2e::load::HANG)
                .unwrap_or_else(|e| panic!("dccm after a restart: {e}"));
            let a = m.message("R1", "a@example.com", "b@example.net", &raw);
            assert!(
                a.as_ref().is_ok_and(|a| a.accepted()),
                "dccm after a restart: {a:?}"
            );
        }
    }
    eprintln!(
        "{name} SIG{stop}: {t:?}; {before_stop} ended before the signal; \
         stopped in {took:?}; {:?} in all",
        t_start.elapsed()
    );
}

/// dccm: SIGUSR1 reports and goes on, SIGTERM stops it cleanly.
#[test]
fn dccm_usr1_then_term_under_load() {
    stop_under_load(Front::Milter, "TERM");
}

/// dccm: SIGHUP stops it cleanly, as SIGTERM.
#[test]
fn dccm_hup_under_load() {
    stop_under_load(Front::Milter, "HUP");
}

/// dccifd: SIGUSR1 reports and goes on, SIGTERM stops it cleanly.
#[test]
fn dccifd_usr1_then_term_under_load() {
    stop_under_load(Front::Ifd, "TERM");
}

/// dccifd: SIGHUP stops it cleanly, as SIGTERM.
#[test]
fn dccifd_hup_under_load() {
    stop_under_load(Front::Ifd, "HUP");
}

/// dccd under load from dccm and dccifd: SIGHUP (reload) loses nothing
/// and mail goes on being counted; SIGTERM stops it with status 0; after
/// a restart every report it acknowledged is counted.
#[test]
fn dccd_hup_then_term_under_load_keeps_every_acknowledged_report() {
    let t_start = Instant::now();
    let mut sc = require!(Scene::start("sigdccd", &[], &[]));
    let p = Plan {
        milter: Some((sc.dccm_sock(), 8)),
        ifd: Some((sc.dccifd_sock(), 8)),
        pause: Duration::from_millis(60),
        max_each: 400,
    };
    let load = Load::start(&p);
    let up = load.wait(Duration::from_secs(30), |l| l.counted() >= STEP);
    assert!(up, "nothing counted\n{}", sc.logs());
    let pid = sc.dccd.pid().expect("dccd runs");
    signal(pid, "HUP");
    let c = load.counted();
    let counted_on = load.wait(Duration::from_secs(30), |l| l.counted() >= c + STEP);
    assert!(counted_on, "no counts after SIGHUP\n{}", sc.logs());
    assert!(sc.dccd.exited().is_none(), "dccd exited on SIGHUP");
    signal(pid, "TERM");
    let t0 = Instant::now();
    let mut status = None;
    wait_until(STOP_LIMIT, || {
        status = sc.dccd.exited();
        status.is_some()
    });
    let took = t0.elapsed();
    let status = status.unwrap_or_else(|| panic!("dccd still running after SIGTERM"));
    assert_eq!(status.code(), Some(0), "dccd exit after SIGTERM");
    let done = load.done();
    let went_on = load.wait(Duration::from_secs(40), |l| l.done() >= done + STEP);
    assert!(went_on, "mail stopped with dccd\n{}", sc.logs());
    let (started, sent) = load.finish();
    assert_eq!(sent.len(), started, "a message without a result");
    if let Some(bad) = first_bad(&sent) {
        panic!("{bad}\n{}", sc.logs());
    }
    let port = sc.dccd.addr.port();
    sc.dccd = require!(tally_e2e::dccd::DccServer::start_at(
        &sc.dccd_home,
        tally_e2e::dccd::SERVER_ID,
        port
    ));
    sc.assert_no_panic();
    let (lost, asked) = lost_reports(&sc.dccd, &sent);
    assert!(lost.is_empty(), "acknowledged reports lost: {lost:?}");
    for front in [Front::Milter, Front::Ifd] {
        let t = tally(&sent, front);
        assert_eq!(t.closed + t.tempfail + t.wrong, 0, "{front:?}: {t:?}");
        eprintln!("dccd HUP, TERM: {front:?} {t:?}");
    }
    eprintln!(
        "dccd HUP, TERM: {asked} acknowledged reports counted after the restart; \
         stopped in {took:?}; {:?} in all",
        t_start.elapsed()
    );
}
