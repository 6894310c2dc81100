//! What real clients send, byte for byte, through a running dccifd:
//! SpamAssassin 4.0.1's DCC plugin, rspamd 3.4, Exim's dccifd support and
//! Haraka; and malformed requests, which get no answer.

mod common;

use common::{host, Daemon};
use tally_testkit::FakeDccd;

const MSG: &[u8] = b"Received: from relay.example.org (relay.example.org [198.51.100.44])\n\
\tby mx.example.net with ESMTP id 1A2B3C\n\
From: Someone <someone@example.org>\n\
To: bob@example.net\n\
Subject: client leniency\n\
Message-ID: <lenient-1@example.org>\n\
\n\
A short message body used to check what the clients send.\n";

fn req(head: &[u8]) -> Vec<u8> {
    let mut r = head.to_vec();
    r.extend_from_slice(MSG);
    r
}

/// The lines of an answer.
fn lines(b: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(b)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn real_clients() {
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("clients", &srv, &["-t", "CMN,100"]);
    let hdr = format!("X-DCC-behbrand-Metrics: {} 1200;", host());

    // SpamAssassin: trailing blank in the options, "IP\rrdns", empty
    // sender, recipient "unknown"; it skips two lines and reads the header
    // and the checksum lines
    let a = d.ask(&req(
        b"cksums grey-off \n198.51.100.44\rrelay.example.org\nrelay.example.org\n\nunknown\n\n",
    ));
    let l = lines(&a);
    assert_eq!(l[0], "A");
    assert_eq!(l[1], "A");
    assert!(l[2].starts_with(&hdr), "{l:?}");
    assert!(l[3].contains("reported: 1"), "{l:?}");
    // SpamAssassin without a relay: empty client line; without rDNS: "IP\r"
    let a = d.ask(&req(b"cksums grey-off \n\n\n\nunknown\n\n"));
    assert_eq!(&lines(&a)[..2], ["A", "A"]);

    // rspamd: "header", 0.0.0.0 with a host name, test@example.com
    let a = d.ask(&req(
        b"header\n0.0.0.0\rrspamd.example.net\n\ntest@example.com\ntest@example.com\n\n",
    ));
    let l = lines(&a);
    assert_eq!(l.len(), 4, "{l:?}");
    assert_eq!(l[3], "");
    assert!(l[2].starts_with(&hdr));

    // Exim: "HELO localhost" value and "<>" sender; reads the first byte
    let a = d.ask(&req(
        b"header\n192.0.2.77\nlocalhost\n<>\n<bob@example.net>\n\n",
    ));
    assert_eq!(a.first(), Some(&b'A'));

    // Haraka: several recipients joined with CR on one line
    let a = d.ask(&req(
        b"header\n192.0.2.78\rmx.example.org\nmx.example.org\n<a@example.org>\n<b@example.net>\r<c@example.net>\r<d@example.net>\n\n",
    ));
    assert_eq!(&lines(&a)[..2], ["A", "AAA"]);

    // SpamAssassin reporting spam ("IP\r" without rDNS)
    let a = d.ask(&req(
        b"header spam grey-off \n198.51.100.44\r\n\n\nunknown\n\n",
    ));
    let l = lines(&a);
    assert_eq!(&l[..2], ["R", "R"]);
    assert!(l[2].contains("bulk") && l[2].contains("Body=many"), "{l:?}");
}

#[test]
fn malformed_requests_are_closed_and_logged() {
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("malformed", &srv, &[]);
    assert!(d.ask(b"").is_empty());
    assert!(d.ask(b"header\n").is_empty());
    assert!(d
        .ask(b"hambone\n1.2.3.4\nh\n<a@b>\n<c@d>\n\nx\n")
        .is_empty());
    let mut long = b"header\n".to_vec();
    long.extend([b'9'; 100_000]);
    assert!(d.ask(&long).is_empty());
    std::thread::sleep(std::time::Duration::from_millis(100));
    let e = d.stderr();
    assert!(e.contains("truncated request"), "{e}");
    assert!(e.contains("unrecognized option value: \"hambone\""), "{e}");
    assert!(e.contains("request line longer than"), "{e}");
    // still serving
    let a = d.ask(&req(b"\n192.0.2.1\nh\n<a@b.example>\n<c@d.example>\n\n"));
    assert_eq!(a, b"A\nA\n");
}

#[test]
fn tcp_listener_with_acl() {
    use std::io::{Read, Write};
    let srv = FakeDccd::start(1200, "behbrand");
    let (_d, mut s) = Daemon::start_tcp("tcp", &srv, "127.0.0.0/8", &[]);
    s.write_all(&req(
        b"header\n192.0.2.5\nh\n<a@b.example>\n<c@d.example>\n\n",
    ))
    .expect("write");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    assert!(
        out.starts_with(b"A\nA\nX-DCC-behbrand-Metrics: "),
        "{out:?}"
    );
}

#[test]
fn fuzz_entry_on_mutated_recorded_requests() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let dir = common::data().join("cases");
    for e in std::fs::read_dir(dir).expect("cases").flatten() {
        let req = std::fs::read(e.path().join("request.bin")).expect("request");
        for _ in 0..40 {
            let mut m = req.clone();
            for _ in 0..1 + rnd() % 8 {
                if m.is_empty() {
                    break;
                }
                let i = (rnd() % m.len() as u64) as usize;
                match rnd() % 3 {
                    0 => m[i] = rnd() as u8,
                    1 => {
                        m.remove(i);
                    }
                    _ => m.insert(i, [b'\r', b'\n', b'\t', b' ', b'@'][(rnd() % 5) as usize]),
                }
            }
            let cut = (rnd() % (m.len() as u64 + 1)) as usize;
            tally_dccifd::fuzz_request(&m[..cut]);
        }
    }
}

#[test]
fn fuzz_entry_never_panics() {
    for b in [
        &b""[..],
        b"\n\n\n\n\n",
        b"body\n::\r\n\n\n<>\r\r\r\n\nFrom: x\n\n",
        b"header\n999.999.1.1\rx\n\n\n\x00\xff\n\nReceived: from [1.2.3.4]\n\n",
    ] {
        tally_dccifd::fuzz_request(b);
    }
}

#[test]
fn local_domains_give_user_names() {
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("domains", &srv, &["-D", "example.net"]);
    // bob's own whiteclnt trusts friend@example.com; carol has none
    let a = d.ask(&req(
        b"spam header\n192.0.2.90\rmx.example.org\nmx.example.org\n<friend@example.com>\n<bob@example.net>\n<carol@example.net>\n\n",
    ));
    assert_eq!(&lines(&a)[..2], ["A", "AR"]);
    // the per-user log directory of bob found through the domain
    let logs = std::fs::read_dir(d.home.join("userdirs-if/bob/log"))
        .expect("bob's log")
        .count();
    assert_eq!(logs, 1);
    let (c, _, _) = {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_dccifd"))
            .args(["-b", "-D", "a@b"])
            .output()
            .expect("run");
        (o.status.code().unwrap_or(-1), o.stdout, o.stderr)
    };
    // EX_USAGE, as the original's "invalid local-domain"
    assert_eq!(c, 64);
}

#[test]
fn tcp_acl_refuses_other_clients() {
    use std::io::Read;
    let srv = FakeDccd::start(1200, "behbrand");
    let (d, mut s) = Daemon::start_tcp("acl", &srv, "10.0.0.0/8", &[]);
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert!(out.is_empty());
    std::thread::sleep(std::time::Duration::from_millis(50));
    // the original's words: "unauthorized client address IP,port"
    assert!(
        d.stderr()
            .contains("unauthorized client address 127.0.0.1,"),
        "{}",
        d.stderr()
    );
}

#[test]
fn log_file_layout() {
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("logfile", &srv, &[]);
    let a = d.ask(&req(
        b"log header\n192.0.2.61\rmx.example.org\nmx.example.org\n<a@example.org>\n<bob@example.net>\rbob\n<x@example.net>\n\n",
    ));
    assert_eq!(&lines(&a)[..2], ["A", "AA"]);
    let dir = d.home.join("logs/if");
    let f = std::fs::read_dir(&dir)
        .expect("logs")
        .flatten()
        .next()
        .expect("a log file");
    assert!(f.file_name().to_string_lossy().starts_with("msg."));
    let t = std::fs::read_to_string(f.path()).expect("read");
    for want in [
        "VERSION: 3\nDATE: ",
        "\nIP: mx.example.org ::ffff:192.0.2.61\nHELO: mx.example.org\n",
        "env_From: <a@example.org>  mail_host=example.org\n",
        "env_To: <bob@example.net>  addr=bob  dir=userdirs-if/bob\n",
        "env_To: <x@example.net>  addr=  dir=\n\nReceived: from relay",
        "\n### end of message body ########################\n",
        "dccifd  global-log  \n\nX-DCC-behbrand-Metrics: ",
        "reported: 2 ",
        "\nresult: accept\n",
    ] {
        assert!(t.contains(want), "{want:?} not in\n{t}");
    }
    // bob's own copy names only him
    let u = std::fs::read_dir(d.home.join("userdirs-if/bob/log"))
        .expect("bob")
        .flatten()
        .next()
        .expect("bob's log");
    let t = std::fs::read_to_string(u.path()).expect("read");
    assert!(t.contains("env_To: <bob@example.net>  addr=bob"), "{t}");
    assert!(!t.contains("x@example.net"), "{t}");
    assert!(t.contains("dccifd  per-user-log"), "{t}");
}
