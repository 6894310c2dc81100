//! dccm as a daemon: options, the `-j` limit, Postfix's way of sending
//! macros, log files, arbitrary input.

mod common;

use common::milter::{
    connect, mail, rcpt, retry_connect, send_connect, short_content_eom, Client, Reply,
};
use common::{make_home, start_dccm};
use std::process::Command;
use tally_testkit::{closed_port, write_map, FakeDccd};

fn args(home: &std::path::Path, extra: &[&str]) -> Vec<String> {
    common::local_args(home, extra)
}

/// One message; the replies at the end.
fn message(
    c: &mut Client,
    mail_macros: &[(&str, &str)],
    eom_macros: &[(&str, &str)],
) -> Vec<Reply> {
    mail(c, mail_macros);
    assert_eq!(rcpt(c, "bob", &[]), vec![Reply::Final('c')]);
    short_content_eom(c, "hello", eom_macros)
}

#[test]
fn max_jobs_limits_connections() {
    let home = make_home("j");
    write_map(&home, closed_port());
    let d = start_dccm(&home, &args(&home, &["-j", "2"]));
    let mut a = retry_connect(&d.sock);
    let mut b = retry_connect(&d.sock);
    let mut c = retry_connect(&d.sock);
    assert_eq!(send_connect(&mut a, "192.0.2.1"), vec![Reply::Final('c')]);
    assert_eq!(send_connect(&mut b, "192.0.2.2"), vec![Reply::Final('c')]);
    assert_eq!(send_connect(&mut c, "192.0.2.3"), vec![Reply::Final('t')]);
    let mut c2 = retry_connect(&d.sock);
    assert_eq!(send_connect(&mut c2, "192.0.2.5"), vec![Reply::Final('t')]);
    drop(a);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut e = retry_connect(&d.sock);
    assert_eq!(send_connect(&mut e, "192.0.2.4"), vec![Reply::Final('c')]);
    // as the original (recorded in k2): the refusals are summed and told
    // when an admitted connection ends
    let err = std::fs::read_to_string(home.join("stderr.txt")).unwrap_or_default();
    assert!(
        err.contains("2 too many simultaneous mail messages"),
        "{err}"
    );
    assert!(!err.contains("1 too many"), "{err}");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn postfix_queue_id_at_end_and_abort_after_eom() {
    let home = make_home("pf");
    let srv = FakeDccd::start(1200, "behbrand");
    common::preload_bulk(&srv);
    write_map(&home, srv.addr);
    let d = start_dccm(&home, &args(&home, &["-t", "Body,1", "-a", "REJECT"]));
    let mut c = connect(&d.sock, "192.0.2.9");
    // Postfix: no {i} with MAIL FROM, it comes with the end of the message
    let r = message(
        &mut c,
        &[("{mail_addr}", "alice@example.com")],
        &[("i", "4ABC123")],
    );
    assert_eq!(
        r,
        vec![Reply::Code(
            "550 5.7.1 mail 4ABC123 from 192.0.2.9 rejected by DCC".into()
        )]
    );
    // Postfix sends ABORT after the end of the message: no answer, no harm
    c.send(b'A', b"").unwrap();
    let r = message(&mut c, &[("i", "4ABC124")], &[]);
    assert_eq!(
        r,
        vec![Reply::Code(
            "550 5.7.1 mail 4ABC124 from 192.0.2.9 rejected by DCC".into()
        )]
    );
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn refused_and_bad_options() {
    let bin = env!("CARGO_BIN_EXE_dccm");
    // -V: the original's version on standard error, a successful exit
    let out = Command::new(bin).args(["-V"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "2.3.167\n");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    // a second -V: how dccm was built (the original's configure arguments)
    let out = Command::new(bin).args(["-V", "-V"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "2.3.167\nbuilt with cargo\n"
    );
    // options after an unknown one are still used, a -V among them
    let out = Command::new(bin).args(["-Z", "-V"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unrecognized \"-Z\""), "{err}");
    assert!(err.ends_with("\n2.3.167\n"), "{err}");
    // an unknown option: usage, and dccm goes on as the original does;
    // a refused -B is only reported (recorded, 12)
    let home = make_home("bad");
    write_map(&home, closed_port());
    let d = start_dccm(&home, &args(&home, &["-B", "set:bogus", "-Z"]));
    let c = retry_connect(&d.sock);
    drop(c);
    let err = std::fs::read_to_string(home.join("stderr.txt")).unwrap();
    assert!(err.contains("unrecognized \"-Z\""), "{err}");
    assert!(err.contains("... continuing"), "{err}");
    assert!(err.contains("unrecognized  \"-B set:bogus\""), "{err}");
    let _ = std::fs::remove_dir_all(&home);
}

/// The log file of a rejected message has the recorded layout.
#[test]
fn log_file_layout() {
    let home = make_home("log");
    let srv = FakeDccd::start(1200, "behbrand");
    common::preload_bulk(&srv);
    write_map(&home, srv.addr);
    std::fs::create_dir_all(home.join("logs/x")).unwrap();
    let d = start_dccm(
        &home,
        &args(&home, &["-t", "Body,1", "-a", "REJECT", "-l", "logs/x"]),
    );
    let mut c = retry_connect(&d.sock);
    send_connect(&mut c, "198.51.100.81");
    c.send(b'H', b"mail.example.com\0").unwrap();
    c.replies().unwrap();
    let r = message(&mut c, &[("i", "H1")], &[]);
    assert!(matches!(&r[0], Reply::Code(t) if t.starts_with("550 5.7.1 mail H1")));
    let files: Vec<_> = std::fs::read_dir(home.join("logs/x"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "VERSION: 3");
    assert!(lines[1].starts_with("DATE: ") && lines[1].ends_with(" UTC"));
    assert_eq!(lines[2].len(), 79);
    assert!(lines[2].starts_with("IP: mail.example.com ::ffff:198.51.100.81 "));
    assert_eq!(lines[3], "HELO: mail.example.com");
    assert_eq!(
        lines[4],
        "env_From: <alice@example.com>  mail_host=example.com"
    );
    assert_eq!(lines[5], "env_To: <bob@example.net>  addr=  dir=");
    assert_eq!(lines[6], "");
    assert_eq!(lines[7], "From: alice@example.com");
    assert!(text.contains("\n### end of message body ########################\n"));
    assert!(text.contains("DCC-->spam  dccm  global-log  \n\nX-DCC-behbrand-Metrics: "));
    assert!(text.contains("reported: 1"));
    assert!(text.ends_with(
        "\nrejection message: 550 5.7.1 mail H1 from 198.51.100.81 rejected by DCC\nresult: reject\n"
    ));
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn fuzz_connection_survives_noise() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for n in 0..3000 {
        let len = (n % 300) + 1;
        let mut v = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.push((x >> 24) as u8);
        }
        tally_dccm::fuzz_connection(&v);
    }
    // a well-formed sequence too: connect, mail, rcpt, header, body, end
    let mut v = Vec::new();
    for (cmd, arg) in [
        (0u8, &b"192.0.2.1"[..]),
        (2, b"<a@example.com>"),
        (3, b"<b@example.net>"),
        (4, b"Subject:hi"),
        (5, b""),
        (6, b"body\r\n"),
        (7, b""),
    ] {
        v.push(cmd);
        v.push(arg.len() as u8);
        v.extend_from_slice(arg);
    }
    tally_dccm::fuzz_connection(&v);
}

/// The `-X` filter on a unix socket sees the message and can refuse it.
#[test]
fn external_filter_refuses() {
    use std::io::{BufRead, BufReader, Write};
    let home = make_home("x");
    write_map(&home, closed_port());
    let fsock = home.join("run/xfltr.sock");
    let l = std::os::unix::net::UnixListener::bind(&fsock).unwrap();
    let seen = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut req = String::new();
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap() == 0 {
                break;
            }
            req.push_str(&line);
        }
        (&s).write_all(b"reject 554 5.7.9 refused by the local filter\n")
            .unwrap();
        req
    });
    let x = format!("unix:{}", fsock.display());
    // the filter's answers act only with option xfltr-on
    std::fs::write(home.join("whiteclnt-x"), "option xfltr-on\n").unwrap();
    let d = start_dccm(
        &home,
        &args(
            &home,
            &["-X", &x, "-X", "set:msg-secs=5", "-w", "whiteclnt-x"],
        ),
    );
    let mut c = retry_connect(&d.sock);
    send_connect(&mut c, "192.0.2.7");
    let r = message(&mut c, &[("i", "X1")], &[]);
    assert_eq!(
        r,
        vec![Reply::Code("554 5.7.9 refused by the local filter".into())]
    );
    let req = seen.join().unwrap();
    assert!(
        req.starts_with("id X1\nclient 192.0.2.7 mail.example.com\n"),
        "{req}"
    );
    assert!(
        req.contains("rcpt <bob@example.net>\nverdict accept\n\nX-DCC--Metrics: "),
        "{req}"
    );
    let _ = std::fs::remove_dir_all(&home);
}

/// A server that stops answering after dccm started (the recorded i1c and
/// i2c): the message is delivered with the local counts once the
/// client's budget is spent, later ones at once while the client backs
/// off; with -x they get `451 4.4.0 DCC failure` instead, and every
/// message asks the server again (the recorded i2c: 15 s, then 16 s).
#[test]
fn server_stopped_delivers_or_tempfails() {
    for extra in [false, true] {
        let home = make_home("stop");
        let srv = FakeDccd::start(1200, "behbrand");
        write_map(&home, srv.addr);
        let opts: &[&str] = if extra { &["-x"] } else { &[] };
        let d = start_dccm(&home, &args(&home, opts));
        let mut c = retry_connect(&d.sock);
        send_connect(&mut c, "192.0.2.8");
        srv.freeze(true);
        let t0 = std::time::Instant::now();
        let r = message(&mut c, &[("i", "S1")], &[]);
        let first = t0.elapsed();
        let t1 = std::time::Instant::now();
        let r2 = message(&mut c, &[("i", "S2")], &[]);
        let second = t1.elapsed();
        if extra {
            assert_eq!(r, vec![Reply::Code("451 4.4.0 DCC failure".into())]);
            assert_eq!(r2, vec![Reply::Code("451 4.4.0 DCC failure".into())]);
        } else {
            // no server-ID, no brand: the local counts
            let host = common::hostname();
            for got in [&r, &r2] {
                assert_eq!(got.len(), 2, "{got:?}");
                assert!(
                    matches!(&got[0], Reply::AddHeader(n, v)
                        if n == "X-DCC--Metrics" && v.starts_with(&format!("{host} 0; Body="))),
                    "{got:?}"
                );
                assert_eq!(got[1], Reply::Final('a'));
            }
        }
        eprintln!("server stopped, -x {extra}: first {first:?}, second {second:?}");
        assert!(first < std::time::Duration::from_secs(20), "{first:?}");
        if extra {
            let asked_again = std::time::Duration::from_secs(2)..std::time::Duration::from_secs(20);
            assert!(asked_again.contains(&second), "{second:?}");
        } else {
            assert!(second < std::time::Duration::from_secs(2), "{second:?}");
        }
        let _ = std::fs::remove_dir_all(&home);
    }
}

/// A connect step without an address: the client comes from
/// `{client_addr}` (or `{_}`).
#[test]
fn client_address_from_macros() {
    use std::sync::Arc;
    use tally_dccm::config::Config;
    use tally_dccm::conn::{Conn, EomStep};
    use tally_engine::server::ClientInfo;
    let cfg = Arc::new(Config::plain());
    let info = ClientInfo {
        hostname: "h".into(),
        brand: String::new(),
    };
    for (name, val) in [
        ("{client_addr}", "192.0.2.55"),
        ("_", "x.example [192.0.2.55]"),
    ] {
        let mut s = Conn::new(cfg.clone());
        s.connect("", None);
        let m = |n: &str| (n == name || n == "i").then(|| val.to_string());
        s.mail("<a@example.com>", &m);
        let none = |_: &str| None;
        s.rcpt("<b@example.net>", &none);
        s.header(b"Subject", b"x");
        s.eoh();
        s.body(b"x\r\n");
        let EomStep::Ask(req) = s.eom_prepare(&none, &info) else {
            panic!("nothing to ask");
        };
        let ip = tally_ck::simple::ip_sum("192.0.2.55".parse().unwrap());
        assert!(
            req.cks
                .iter()
                .any(|(t, sum)| *t == tally_ck::CkType::Ip && *sum == ip),
            "{name}"
        );
    }
}

/// `-W`: counts over the threshold do not reject unless a whiteclnt file
/// turns DCC filtering on.
#[test]
fn to_white_only_turns_dcc_off() {
    use std::sync::Arc;
    use tally_dccm::config::Config;
    use tally_dccm::conn::{Answer2, Conn, EomStep};
    use tally_dccm::opts;
    use tally_engine::server::{Answer, ClientInfo, Count};
    let info = ClientInfo {
        hostname: "h".into(),
        brand: "b".into(),
    };
    for (w, reject) in [(false, true), (true, false)] {
        let mut args: Vec<String> = vec!["-t".into(), "env_From,2".into()];
        if w {
            args.push("-W".into());
        }
        let o = opts::parse(&args);
        let cfg = Arc::new(Config::new(&o, std::path::Path::new("/nonexistent")));
        let mut s = Conn::new(cfg);
        s.connect("c.example", Some("192.0.2.60".parse().unwrap()));
        let none = |_: &str| None;
        s.mail("<a@example.com>", &none);
        s.rcpt("<b@example.net>", &none);
        s.header(b"Subject", b"x");
        s.eoh();
        s.body(b"some text\r\n");
        let EomStep::Ask(req) = s.eom_prepare(&none, &info) else {
            panic!("nothing to ask");
        };
        let counts = req.cks.iter().map(|_| Count { prev: 9, cur: 10 }).collect();
        let v = s.eom_finish(
            Ok(Answer {
                srvr_id: 1200,
                counts,
            }),
            &info,
        );
        assert_eq!(
            matches!(v.answer, Answer2::Reply(_)),
            reject,
            "-W {w}: {v:?}"
        );
    }
}

#[test]
fn no_replies_to_headers_and_body_when_the_mta_offers_it() {
    use common::milter::{NR_BODY, NR_EOH, NR_HDR};
    let home = make_home("nr");
    write_map(&home, closed_port());
    let d = start_dccm(&home, &args(&home, &[]));
    let quiet = NR_HDR | NR_EOH | NR_BODY;
    // an MTA that offers every option: dccm asks for silence after the
    // headers and body chunks, and the message still gets its verdict
    let mut c = retry_connect(&d.sock);
    assert_eq!(c.opts & quiet, quiet, "options asked: {:#x}", c.opts);
    assert_eq!(send_connect(&mut c, "192.0.2.10"), vec![Reply::Final('c')]);
    let r = message(&mut c, &[("i", "NR1")], &[]);
    assert_eq!(r.last(), Some(&Reply::Final('a')), "{r:?}");
    assert!(
        r.iter()
            .any(|x| matches!(x, Reply::AddHeader(n, _) if n.starts_with("X-DCC"))),
        "{r:?}"
    );
    // an older MTA without those options gets a reply after every step
    let mut old = Client::connect_offering(&d.sock, 0x1f_ffff & !quiet).unwrap();
    assert_eq!(old.opts & quiet, 0, "options asked: {:#x}", old.opts);
    assert_eq!(
        send_connect(&mut old, "192.0.2.11"),
        vec![Reply::Final('c')]
    );
    let r2 = message(&mut old, &[("i", "NR2")], &[]);
    assert_eq!(r2, r);
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}
