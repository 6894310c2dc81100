//! The recorded DNS blacklist exchanges of the original dccifd (`-B`,
//! scenarios 10a with `option DNSBL-on` and 10b without) replayed against
//! ours with the loopback test DNS server serving the recordings' zone:
//! every answer byte for byte (host name localised), the log files'
//! DNSBL lines and how many log files were kept.

mod common;

use common::{data, localise, Daemon};
use std::path::Path;
use std::time::{Duration, Instant};
use tally_dnsbl::testserver::TestServer;
use tally_testkit::{closed_port, map_text};

/// Every DNSBL line of the kept log files, sorted, and how many were kept.
fn log_lines(dir: &Path) -> (Vec<String>, usize) {
    let mut out = Vec::new();
    let mut kept = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if !p.is_file() {
            continue;
        }
        kept += 1;
        let t = std::fs::read_to_string(&p).unwrap_or_default();
        out.extend(
            t.lines()
                .filter(|l| l.contains("DNSBL") && !l.starts_with("Subject:"))
                .map(str::to_string),
        );
    }
    out.sort();
    (out, kept)
}

/// The answer without what we knowingly compute otherwise: the body count
/// of a bulk header for a query (Body=many by the man page,
/// docs/compatibility.md). Fuz1 is compared: like the original dccifd,
/// ours passes the empty line ending the header to the body checksums, so
/// the short "Hello Bob," body has none (with URLs it has one).
fn known_differences(resp: &[u8]) -> String {
    String::from_utf8_lossy(resp)
        .lines()
        .map(|l| {
            if l.starts_with("X-DCC") {
                l.split(' ')
                    .map(|w| if w == "Body=0" { "Body=many" } else { w })
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn replay(scenario: &str, white: bool) -> Vec<String> {
    let dir = data().join("dnsbl").join(scenario);
    let (_rt, server) = TestServer::start_blocking(&data().join("dnsbl/zone.txt")).unwrap();
    let white_file = format!("dnsbl/{scenario}/whiteclnt");
    let files: Vec<&str> = if white { vec![&white_file] } else { vec![] };
    let mut args = vec![
        "-l",
        "logs/if",
        "-B",
        "set:rej-msg=5.7.1 550 dccifd %BTYPE %BTGT",
        "-B",
        "bl.test",
        "-B",
        "dbl.test,127.0.0.2,name",
    ];
    if white {
        args.extend(["-w", "whiteclnt"]);
    }
    let d = Daemon::start_env(
        &format!("dnsbl-{scenario}"),
        &map_text(closed_port()),
        &files,
        &args,
        &[("TALLY_DNSBL_SERVERS", server.addr.to_string())],
    );
    let mut diffs = Vec::new();
    for n in 1.. {
        let Ok(req) = std::fs::read(dir.join(format!("request-{n}.bin"))) else {
            break;
        };
        let want = localise(&std::fs::read(dir.join(format!("response-{n}.bin"))).unwrap());
        let want = known_differences(&want);
        let got = known_differences(&d.ask(&req));
        if got != want {
            diffs.push(format!(
                "{scenario} request {n}:\n want {want:?}\n  got {got:?}"
            ));
        }
    }
    let want: Vec<String> = std::fs::read_to_string(dir.join("log-lines.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let want_kept: usize = std::fs::read_to_string(dir.join("kept-logs.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let logs = d.home.join("logs/if");
    let t0 = Instant::now();
    let mut got = log_lines(&logs);
    while (got.0 != want || got.1 != want_kept) && t0.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(50));
        got = log_lines(&logs);
    }
    if got.0 != want {
        diffs.push(format!(
            "{scenario}: log lines\n want {want:#?}\n  got {:#?}",
            got.0
        ));
    }
    if got.1 != want_kept {
        diffs.push(format!(
            "{scenario}: {} log files kept, want {want_kept}",
            got.1
        ));
    }
    diffs
}

#[test]
fn recorded_10a_dnsbl_on() {
    let d = replay("10a-dccifd-DNSBL-on", true);
    assert!(d.is_empty(), "{}", d.join("\n"));
}

#[test]
fn recorded_10b_no_option() {
    let d = replay("10b-dccifd-no-option", false);
    assert!(d.is_empty(), "{}", d.join("\n"));
}

/// A name server that never answers holds no request past `msg-secs`:
/// nothing is found and the message is accepted.
#[test]
fn silent_name_server_answers_within_msg_secs() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let d = Daemon::start_env(
        "dnsbl-silent",
        &map_text(closed_port()),
        &["dnsbl/10a-dccifd-DNSBL-on/whiteclnt"],
        &[
            "-l",
            "logs/if",
            "-w",
            "whiteclnt",
            "-B",
            "set:msg-secs=2",
            "-B",
            "set:URL-secs=1",
            "-B",
            "bl.test",
        ],
        &[(
            "TALLY_DNSBL_SERVERS",
            silent.local_addr().unwrap().to_string(),
        )],
    );
    let req = std::fs::read(data().join("dnsbl/10a-dccifd-DNSBL-on/request-1.bin")).unwrap();
    let t0 = Instant::now();
    let got = d.ask(&req);
    let took = t0.elapsed();
    assert!(
        got.starts_with(b"A\nA\n"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    // msg-secs (2 s) and a little
    assert!(took < Duration::from_secs(5), "held {took:?}");
}
