//! dccproc's command line, exit codes, output forms and robustness, with
//! no DCC server (no map file), as the original behaves then.

mod common;

use common::{code, run, run_env, scratch, stderr, stdout, testdata};

const MSG: &[u8] = b"Return-Path: <alice@example.com>\n\
Received: from mail.example.com (mail.example.com [192.0.2.10])\n\
\tby mx.example.net (Postfix) with ESMTP id 4ABC123\n\
From: Alice Example <alice@example.com>\n\
To: Bob <bob@example.net>\n\
X-DCC-other-Metrics: old.example 1200; Body=5\n\
\tFuz1=5\n\
Subject: notes\n\
Message-ID: <20240603101458.12345@mail.example.com>\n\
\n\
Hi Bob,\n\
\n\
Thanks for meeting with the team yesterday. I have gathered the notes.\n";

fn without_xdcc(m: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(m);
    s.replace(
        "X-DCC-other-Metrics: old.example 1200; Body=5\n\tFuz1=5\n",
        "",
    )
    .into_bytes()
}

fn home(name: &str) -> (std::path::PathBuf, String) {
    let h = scratch(name);
    let s = h.to_string_lossy().into_owned();
    (h, s)
}

#[test]
fn copies_the_message_and_drops_old_xdcc_headers() {
    let (h, hs) = home("copy");
    let out = run(&["-h", &hs, "-a", "192.0.2.10"], MSG);
    assert_eq!(code(&out), 0);
    assert_eq!(out.stdout, without_xdcc(MSG));
    // no map file: no client context, no header, one complaint
    let map = h.join("map");
    assert_eq!(
        stderr(&out),
        format!("open({}): No such file or directory\n", map.display())
    );
}

#[test]
fn a_removed_xdcc_header_counts_as_a_header_line() {
    // the original counts its own removed header as a header line seen,
    // so a message with no other field is checked, not refused
    let (_h, hs) = home("xdcc-only");
    let m = b"X-DCC-a-Metrics: x\n\nbody\n";
    let out = run(&["-h", &hs, "-Q", "-C", "-a", "192.0.2.1"], m);
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(!err.contains("fatal error"), "{err}");
    let text = stdout(&out);
    assert!(text.contains("\n                       IP: "), "{text}");
    // copied without it
    let out = run(&["-h", &hs, "-Q", "-a", "192.0.2.1"], m);
    assert_eq!(out.stdout, b"\nbody\n");
}

#[test]
fn a_keeps_old_headers() {
    let (_h, hs) = home("keep");
    let out = run(&["-h", &hs, "-A"], MSG);
    assert_eq!(out.stdout, MSG);
}

#[test]
fn header_only_and_checksums_only_without_server() {
    let (_h, hs) = home("hc");
    let out = run(&["-h", &hs, "-H"], MSG);
    assert_eq!(code(&out), 0);
    assert!(out.stdout.is_empty());
    let out = run(&["-h", &hs, "-QC", "-f", "alice@example.com"], MSG);
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("                            reported: 0               checksum")
    );
    assert!(text.contains("\n                 env_From: c160f8cc 69a4f0bf 2b036275 2353d060\n"));
    assert!(text.contains("\n                     From: "));
}

#[test]
fn header_with_unreachable_server() {
    let (h, hs) = home("dead");
    std::fs::write(h.join("map"), b"").expect("map");
    let out = run(&["-h", &hs, "-H"], MSG);
    let text = stdout(&out);
    assert!(text.starts_with("X-DCC--Metrics: "), "{text}");
    assert!(text.contains(" 0; Body="), "{text}");
    let out = run(&["-h", &hs], MSG);
    let text = stdout(&out);
    // inserted at the end of the header, before the blank line
    assert!(text.contains("Message-ID: <20240603101458.12345@mail.example.com>\nX-DCC--Metrics: "));
}

#[test]
fn blacklist_gives_the_x_exit_code() {
    let (h, hs) = home("black");
    std::fs::write(h.join("whiteclnt"), b"many env_From alice@example.com\n").expect("whiteclnt");
    let args = ["-h", &hs, "-w", "whiteclnt", "-f", "alice@example.com"];
    let out = run(&args, MSG);
    assert_eq!(code(&out), 67);
    assert_eq!(out.stdout, without_xdcc(MSG));
    let mut a = args.to_vec();
    a.extend(["-x", "5"]);
    assert_eq!(code(&run(&a, MSG)), 5);
    let mut a = args.to_vec();
    a.extend(["-x", "0"]);
    assert_eq!(code(&run(&a, MSG)), 0);
    // the log's result line follows the decision, not the exit code
    std::fs::create_dir(h.join("log")).expect("log dir");
    a.extend(["-E", "-l", "log"]);
    assert_eq!(code(&run(&a, MSG)), 0);
    let log = only_log_file(&h.join("log"));
    assert!(log.ends_with("\nresult: reject\n"), "{log}");
    // other senders are not blacklisted
    let out = run(
        &["-h", &hs, "-w", "whiteclnt", "-f", "carol@example.com"],
        MSG,
    );
    assert_eq!(code(&out), 0);
    // the -C table shows the whitelist column
    let out = run(
        &[
            "-h",
            &hs,
            "-w",
            "whiteclnt",
            "-f",
            "alice@example.com",
            "-C",
        ],
        MSG,
    );
    assert_eq!(code(&out), 67);
    let text = stdout(&out);
    assert!(text.contains("checksum         wlist\n"), "{text}");
    assert!(
        text.contains("env_From: c160f8cc 69a4f0bf 2b036275 2353d060          many\n"),
        "{text}"
    );
}

#[test]
fn whitelisted_message() {
    let (h, hs) = home("white");
    std::fs::write(h.join("whiteclnt"), b"ok env_From alice@example.com\n").expect("whiteclnt");
    std::fs::write(h.join("map"), b"").expect("map");
    let out = run(
        &[
            "-h",
            &hs,
            "-w",
            "whiteclnt",
            "-f",
            "alice@example.com",
            "-H",
            "-x",
            "9",
        ],
        MSG,
    );
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.starts_with("X-DCC--Metrics: ") && text.ends_with("; whitelist\n"),
        "{text}"
    );
}

#[test]
fn input_and_output_files() {
    let (h, hs) = home("io");
    let inp = h.join("in.eml");
    let outp = h.join("out.eml");
    std::fs::write(&inp, MSG).expect("input");
    let out = run(
        &[
            "-h",
            &hs,
            "-i",
            &inp.to_string_lossy(),
            "-o",
            &outp.to_string_lossy(),
        ],
        b"not this",
    );
    assert_eq!(code(&out), 0);
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read(&outp).expect("output"), without_xdcc(MSG));
}

#[test]
fn bad_options_print_usage_and_still_deliver() {
    let (_h, hs) = home("usage");
    for args in [
        vec!["-h", &hs, "-z"],
        vec!["-h", &hs, "-a"],
        vec!["-h", &hs, "extra"],
    ] {
        let out = run(&args, MSG);
        // the original exits 0 so that the mail is not rejected
        assert_eq!(code(&out), 0, "{args:?}");
        assert_eq!(out.stdout, MSG, "{args:?}");
        let err = stderr(&out);
        assert!(err.starts_with("unrecognized \""), "{err}");
        assert!(err.contains("\nusage: [-VdAQCHEPR]  [-h homedir]"), "{err}");
        assert!(
            err.ends_with("[-L ltype,facility.level]\n; fatal error\n"),
            "{err}"
        );
    }
    let out = run(&["-h", &hs, "-z"], MSG);
    assert!(stderr(&out).starts_with("unrecognized \"-z\"\n"));
    // with -C nothing but the complaint
    let out = run(&["-h", &hs, "-C", "-z"], MSG);
    assert!(out.stdout.is_empty());
    // a bad -S is fatal too
    let out = run(&["-h", &hs, "-S", "bad:name"], MSG);
    assert_eq!(code(&out), 0);
    assert_eq!(out.stdout, MSG);
    assert!(stderr(&out).ends_with("; fatal error\n"));
}

#[test]
fn version() {
    let out = run(&["-V"], MSG);
    assert_eq!(code(&out), 0);
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("2.3.167"));
}

#[test]
fn missing_body_and_headers_are_fatal_but_delivered() {
    let (_h, hs) = home("fatal");
    let m = b"From: a@example.com\nSubject: no body";
    let out = run(&["-h", &hs], m);
    assert_eq!(code(&out), 0);
    assert_eq!(out.stdout, m);
    assert!(stderr(&out).ends_with("missing message body; fatal error\n"));
    let m = b"\nonly a body\n";
    let out = run(&["-h", &hs], m);
    assert_eq!(out.stdout, m);
    assert!(stderr(&out).ends_with("missing SMTP header lines; fatal error\n"));
    let out = run(&["-h", &hs, "-C"], m);
    assert!(out.stdout.is_empty());
    let out = run(&["-h", &hs, "-C"], b"");
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).ends_with("missing message body; fatal error\n"));
}

/// The text of the only file in a log directory.
fn only_log_file(dir: &std::path::Path) -> String {
    let files: Vec<_> = std::fs::read_dir(dir)
        .expect("read log")
        .flatten()
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    String::from_utf8_lossy(&std::fs::read(files[0].path()).expect("log")).into_owned()
}

#[test]
fn log_files() {
    let (h, hs) = home("log");
    std::fs::create_dir(h.join("log")).expect("log dir");
    // dated in local time: UTC here, as recorded
    let out = run_env(
        &[
            "-h",
            &hs,
            "-l",
            "log",
            "-E",
            "-a",
            "192.0.2.10",
            "-f",
            "alice@example.com",
        ],
        MSG,
        &[("TZ", "UTC".to_string())],
    );
    assert_eq!(code(&out), 0);
    let files: Vec<_> = std::fs::read_dir(h.join("log"))
        .expect("read log")
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().to_string_lossy().into_owned();
    assert!(name.starts_with("msg.") && name.len() == 10, "{name}");
    let text = String::from_utf8_lossy(&std::fs::read(files[0].path()).expect("log")).into_owned();
    // once, as the recorded log vectors/behavior/dnsbl/10c-dccproc/logs has them
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("VERSION: 3"), "{text}");
    let date = lines.next().unwrap_or_default();
    let shape = date.strip_prefix("DATE: ").map(|d| {
        d.bytes()
            .map(|c| if c.is_ascii_digit() { b'9' } else { c })
            .collect::<Vec<u8>>()
    });
    assert_eq!(
        shape.as_deref(),
        Some(&b"99/99/99 99:99:99 UTC"[..]),
        "{text}"
    );
    assert!(
        lines.next().unwrap_or_default().starts_with("IP: "),
        "{text}"
    );
    assert_eq!(text.matches("VERSION: 3\n").count(), 1, "{text}");
    assert_eq!(text.matches("DATE: ").count(), 1, "{text}");
    assert!(text.contains(" UTC\nIP:  ::ffff:192.0.2.10\nenv_From: alice@example.com  mail_host=example.com\n\nReturn-Path:"), "{text}");
    assert!(
        text.contains("\n### end of message body ########################\nopen("),
        "{text}"
    );
    assert!(text.contains("dccproc  \n\n"), "{text}");
    assert!(text.ends_with("\nresult: accept\n"), "{text}");

    // day/hour subdirectories
    std::fs::create_dir(h.join("log2")).expect("log dir");
    run(&["-h", &hs, "-l", "H?log2"], MSG);
    let day: Vec<_> = std::fs::read_dir(h.join("log2"))
        .expect("read")
        .flatten()
        .collect();
    assert_eq!(day.len(), 1);
    assert_eq!(day[0].file_name().len(), 3);
    let hour: Vec<_> = std::fs::read_dir(day[0].path())
        .expect("read")
        .flatten()
        .collect();
    assert_eq!(hour.len(), 1);
    assert_eq!(hour[0].file_name().len(), 2);
}

#[test]
fn relative_tmpdir_is_in_the_home_directory() {
    let (h, hs) = home("tmpdir");
    std::fs::create_dir(h.join("tmpx")).expect("tmp dir");
    // run from elsewhere: the original takes -T in the home directory
    let out = run(&["-h", &hs, "-Q", "-T", "tmpx"], MSG);
    assert_eq!(out.stdout, without_xdcc(MSG));
    let err = stderr(&out);
    assert!(!err.contains("temporary directory"), "{err}");
    let out = run(&["-h", &hs, "-Q", "-T", "nothere"], MSG);
    let want = format!(
        "stat(temporary directory \"{}\"): No such file or directory\n",
        h.join("nothere").display()
    );
    assert!(stderr(&out).starts_with(&want), "{}", stderr(&out));
}

#[test]
fn client_address_is_resolved() {
    // -a goes through the resolver as in the original: "@", names of
    // /etc/hosts and inet_aton's short forms give the same IP checksum
    let (_h, hs) = home("resolve");
    let ip_line = |a: &str| {
        let out = run(&["-h", &hs, "-Q", "-C", "-a", a], MSG);
        let text = stdout(&out);
        let line = text.lines().find(|l| l.trim_start().starts_with("IP: "));
        (line.map(str::to_string), stderr(&out))
    };
    let (want, _) = ip_line("127.0.0.1");
    assert!(want.is_some());
    for a in ["127.1", "@", "localhost"] {
        let (got, err) = ip_line(a);
        assert_eq!(got, want, "-a {a}: {err}");
        assert!(!err.contains("-a "), "-a {a}: {err}");
    }
    // 0.0.0.0 stays ignored: no IP checksum, no complaint
    let (got, err) = ip_line("0.0.0.0");
    assert_eq!(got, None);
    assert!(!err.contains("-a "), "{err}");
}

#[test]
fn never_panics_on_garbage() {
    let (_h, hs) = home("garbage");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..40 {
        let len = (round * 997) % 20000;
        let mut m = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = (x >> 24) as u8;
            // make header-like structure likely
            m.push(match b % 16 {
                0 => b'\n',
                1 => b':',
                2 => b' ',
                3 => b'\r',
                _ => b,
            });
        }
        for args in [vec!["-h", &hs], vec!["-h", &hs, "-C", "-R"]] {
            let out = run(&args, &m);
            assert_eq!(code(&out), 0, "round {round}");
            assert!(
                !stderr(&out).contains("panicked"),
                "round {round}: {}",
                stderr(&out)
            );
            if args.len() == 2 {
                // no server: no header is added, the message passes unchanged
                assert_eq!(out.stdout, m, "round {round}");
            }
        }
    }
    // a corpus message with every option letter that takes no argument
    let msg = std::fs::read(testdata().join("corpus/messages/spamassassin/sample-spam.txt"))
        .expect("msg");
    let out = run(&["-h", &hs, "-dAQEPR"], &msg);
    assert_eq!(code(&out), 0);
}

#[test]
fn a_whiteclnt_file_asking_for_greylisting_is_told_it_is_off() {
    let (h, hs) = home("greyon");
    std::fs::write(h.join("whiteclnt"), b"option greylist-on\n").expect("whiteclnt");
    let out = run(&["-h", &hs, "-w", "whiteclnt", "-Q", "-H"], MSG);
    let want = format!(
        "{} wants greylisting but it is turned off\n",
        h.join("whiteclnt").display()
    );
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
    assert_eq!(code(&out), 0);
}
