//! The recorded DNS blacklist scenarios of the original dccm (`-B`)
//! replayed against ours, with the loopback test DNS server serving the
//! recording's zone (tests/data/dnsbl, derived from the recordings: the
//! milter packets, the log files' DNSBL and rejection lines, how many log
//! files were kept, and the questions the recording's DNS server saw).
//! Our resolver caches answers and asks in parallel, so the questions are
//! checked as a set here (every recorded one asked); their order is the
//! crate tally-dnsbl's test.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tally_dnsbl::testserver::TestServer;
use tally_testkit::{closed_port, write_map};

fn dir(name: &str) -> PathBuf {
    common::data().join("dnsbl").join(name)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

fn home(name: &str) -> PathBuf {
    let h = std::env::temp_dir().join(format!(
        "dccm-dnsbl-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(h.join("run")).unwrap();
    std::fs::create_dir_all(h.join("log")).unwrap();
    // no DCC server answers, as in the recordings
    write_map(&h, closed_port());
    let d = dir(name);
    if d.join("whiteclnt").exists() {
        std::fs::copy(d.join("whiteclnt"), h.join("whiteclnt")).unwrap();
    }
    if d.join("userdirs").is_dir() {
        copy_tree(&d.join("userdirs"), &h.join("userdirs"));
    }
    h
}

/// Every line of the kept log files that the recording's list holds
/// (DNSBL lines and rejection messages), sorted, and how many were kept.
fn log_lines(dir: &Path) -> (Vec<String>, usize) {
    let mut out = Vec::new();
    let mut kept = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            kept += 1;
            let t = std::fs::read_to_string(&p).unwrap_or_default();
            for l in t.lines() {
                if (l.contains("DNSBL") && !l.starts_with("Subject:"))
                    || l.starts_with("rejection message:")
                {
                    out.push(mask_log_id(l));
                }
            }
        }
    }
    out.sort();
    (out, kept)
}

/// `id=` and a log file's 6-character name, as `id=LOGID`: the ID of a
/// message without `{i}` (random in the original's log file names and ours).
fn mask_log_id(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("id=") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let w = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        if w == 6 {
            out.push_str("LOGID");
            rest = &rest[6..];
        }
    }
    out.push_str(rest);
    out
}

/// Replay a scenario: the differences found.
fn run(name: &str) -> Vec<String> {
    let d = dir(name);
    let (_rt, server) = TestServer::start_blocking(&common::data().join("dnsbl/zone.txt")).unwrap();
    let h = home(name);
    let cmd = std::fs::read_to_string(d.join("command.txt")).unwrap();
    let args: Vec<String> = common::split_cmd(&cmd).into_iter().skip(1).collect();
    let dccm = common::start_dccm_env(
        &h,
        &args,
        &[("TALLY_DNSBL_SERVERS", server.addr.to_string())],
    );
    let text = std::fs::read_to_string(d.join("transcript.txt")).unwrap();
    let pkts = common::transcript::parse(&text);
    let mut diffs = Vec::new();
    for (n, conn) in common::transcript::connections(&pkts).iter().enumerate() {
        for x in common::replay(&dccm.sock, conn) {
            // a message without {i} is named by its log file (06a)
            let same = x.split_once("\n   got ").is_some_and(|(w, g)| {
                mask_log_id(w.trim_start_matches("after E: want ")) == mask_log_id(g)
            });
            if !same {
                diffs.push(format!("{name} connection {}: {x}", n + 1));
            }
        }
    }
    // the log files are finished after the answer: give dccm a moment
    let want = std::fs::read_to_string(d.join("log-lines.txt")).unwrap();
    let want: Vec<String> = want.lines().map(str::to_string).collect();
    let want_kept: usize = std::fs::read_to_string(d.join("kept-logs.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let t0 = Instant::now();
    let want: Vec<String> = want.iter().map(|l| mask_log_id(l)).collect();
    let mut got = log_lines(&h.join("log"));
    while (got.0 != want || got.1 != want_kept) && t0.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(50));
        got = log_lines(&h.join("log"));
    }
    if got.0 != want {
        diffs.push(format!(
            "{name}: log lines\n want {want:#?}\n  got {:#?}",
            got.0
        ));
    }
    if got.1 != want_kept {
        diffs.push(format!(
            "{name}: {} log files kept, want {want_kept}",
            got.1
        ));
    }
    let recorded: BTreeSet<String> = std::fs::read_to_string(d.join("questions.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    // every question of the original is asked (once: answers are cached;
    // parallel questions can go further than the original's)
    let ours: BTreeSet<String> = server.queries().into_iter().collect();
    for q in recorded.difference(&ours) {
        diffs.push(format!("{name}: question {q} not asked"));
    }
    drop(dccm);
    let _ = std::fs::remove_dir_all(&h);
    diffs
}

fn check(name: &str) {
    let d = run(name);
    assert!(d.is_empty(), "{}", d.join("\n"));
}

macro_rules! scenario {
    ($f:ident, $n:expr) => {
        #[test]
        fn $f() {
            check($n);
        }
    };
}

scenario!(s01a_client_ip_no_option, "01a-client-ip-no-option");
scenario!(s01b_client_ip_dnsbl_on, "01b-client-ip-DNSBL-on");
scenario!(s01c_client_ip_dnsbl1_on, "01c-client-ip-DNSBL1-on");
scenario!(s02a_mail_host, "02a-mail-host");
scenario!(s02b_mail_host_no_mx, "02b-mail-host-no-MX");
scenario!(s02d_no_mail_host_no_client, "02d-no-mail_host-no-client");
scenario!(s02e_mail_host_name_list, "02e-mail-host-name-list");
scenario!(s03a_url_name_list, "03a-url-name-list");
scenario!(s03c_url_ip_mx_ns, "03c-url-ip-mx-ns");
scenario!(s03d_url_no_url, "03d-url-no-URL");
scenario!(s04a_white_list, "04a-white-list");
scenario!(
    s04b_white_list_declared_last,
    "04b-white-list-declared-last"
);
scenario!(s05a_groups_dnsbl2_on, "05a-groups-DNSBL2-on");
scenario!(s05b_groups_dnsbl1_on, "05b-groups-DNSBL1-on");
scenario!(s06a_rej_msg_macros, "06a-rej-msg-macros");
scenario!(s06b_rej_msg_default_first_r, "06b-rej-msg-default-first-r");
scenario!(s07a_range_lo_hi, "07a-range-lo-hi");
scenario!(s07c_any, "07c-any");
scenario!(s08_rpz_dot_name, "08-rpz-dot-name");
scenario!(s09a_timeout_url, "09a-timeout-url");
scenario!(s11a_multi_rcpt, "11a-multi-rcpt-dccm");

/// A name server that never answers holds no message past `msg-secs`: the
/// message is judged on what was found (nothing) and delivered, the log
/// file says `DNSBL(timeout)`.
#[test]
fn silent_name_server_delivers_within_msg_secs() {
    use common::milter::{connect_data, macro_pkt, Client, Reply};
    // a UDP socket nobody reads: every question goes unanswered
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let h = home("silent");
    std::fs::write(h.join("whiteclnt"), "option DNSBL-on\n").unwrap();
    let args = common::local_args(
        &h,
        &[
            "-l",
            "log",
            "-w",
            "whiteclnt",
            "-B",
            "set:msg-secs=2",
            "-B",
            "set:URL-secs=1",
            "-B",
            "bl.test",
        ],
    );
    let dccm = common::start_dccm_env(
        &h,
        &args,
        &[(
            "TALLY_DNSBL_SERVERS",
            silent.local_addr().unwrap().to_string(),
        )],
    );
    let mut c = (0..200)
        .find_map(|_| {
            Client::connect(&dccm.sock).ok().or_else(|| {
                std::thread::sleep(Duration::from_millis(20));
                None
            })
        })
        .expect("connect to dccm");
    c.send(b'C', &connect_data("[192.0.2.66]", "192.0.2.66"))
        .unwrap();
    c.replies().unwrap();
    c.send(b'D', &macro_pkt(b'M', &[("i", "T1000001")]))
        .unwrap();
    c.send(b'M', b"<alice@clean.example>\0").unwrap();
    c.replies().unwrap();
    c.send(b'R', b"<bob@example.net>\0").unwrap();
    c.replies().unwrap();
    c.send(b'L', b"Subject\0hello\0").unwrap();
    c.replies().unwrap();
    c.send(b'N', b"").unwrap();
    c.replies().unwrap();
    c.send(
        b'B',
        b"see http://www.example.com/ and http://www.example.org/\r\n",
    )
    .unwrap();
    c.replies().unwrap();
    let t0 = Instant::now();
    c.send(b'E', b"").unwrap();
    let r = c.replies().unwrap();
    let took = t0.elapsed();
    assert!(r.contains(&Reply::Final('a')), "{r:?}");
    assert!(
        r.iter()
            .any(|x| matches!(x, Reply::AddHeader(_, v) if !v.contains("bulk"))),
        "{r:?}"
    );
    // msg-secs (2 s) from the end of the message, and a little
    assert!(took < Duration::from_secs(5), "held {took:?}");
    let t1 = Instant::now();
    let mut lines = log_lines(&h.join("log")).0;
    while !lines.iter().any(|l| l.starts_with("DNSBL(timeout)"))
        && t1.elapsed() < Duration::from_secs(3)
    {
        std::thread::sleep(Duration::from_millis(50));
        lines = log_lines(&h.join("log")).0;
    }
    assert!(
        lines.iter().any(|l| l.starts_with("DNSBL(timeout)")),
        "{lines:?}"
    );
    drop(dccm);
    let _ = std::fs::remove_dir_all(&h);
}
